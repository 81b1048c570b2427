#include "processor/domain/outcomes.h"

namespace ccstream::domain {

std::string_view OutcomeKindName(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::kContactOffered:
      return "contact_offered";
    case OutcomeKind::kContactAnswered:
      return "contact_answered";
    case OutcomeKind::kAnsweredWithinThreshold:
      return "answered_within_threshold";
    case OutcomeKind::kContactAbandoned:
      return "contact_abandoned";
    case OutcomeKind::kWaitTime:
      return "wait_time";
    case OutcomeKind::kHandleTime:
      return "handle_time";
    case OutcomeKind::kRepeatContact:
      return "repeat_contact";
    case OutcomeKind::kAnonymousContact:
      return "anonymous_contact";
    case OutcomeKind::kCsatResponse:
      return "csat_response";
    case OutcomeKind::kLiveSlaWarning:
      return "live_sla_warning";
    case OutcomeKind::kLiveSlaBreach:
      return "live_sla_breach";
    case OutcomeKind::kCueFired:
      return "cue_fired";
    case OutcomeKind::kEscalation:
      return "escalation";
    case OutcomeKind::kCaseOpened:
      return "case_opened";
    case OutcomeKind::kCaseAttached:
      return "case_attached";
    case OutcomeKind::kCaseTransition:
      return "case_transition";
    case OutcomeKind::kInvalidTransition:
      return "invalid_transition";
    case OutcomeKind::kUnknownCase:
      return "unknown_case";
    case OutcomeKind::kSeverityChanged:
      return "severity_changed";
    case OutcomeKind::kCaseClosed:
      return "case_closed";
    case OutcomeKind::kCaseExpired:
      return "case_expired";
    case OutcomeKind::kContactEnded:
      return "contact_ended";
    case OutcomeKind::kOpenCasesDelta:
      return "open_cases_delta";
    case OutcomeKind::kSlaWarning:
      return "sla_warning";
    case OutcomeKind::kSlaBreach:
      return "sla_breach";
    case OutcomeKind::kSlaEscalation:
      return "sla_escalation";
    case OutcomeKind::kSlaMet:
      return "sla_met";
    case OutcomeKind::kSlaMissed:
      return "sla_missed";
    case OutcomeKind::kAlert:
      return "alert";
    case OutcomeKind::kErasure:
      return "erasure";
  }
  return "unknown";
}

}  // namespace ccstream::domain
