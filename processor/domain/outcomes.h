#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "alert.pb.h"
#include "case.pb.h"
#include "events.pb.h"

namespace ccstream::domain {

// What an outcome counts. Every label it carries is bounded (queue, channel, severity,
// category, milestone, cue, state, score): never a customer, case or contact id.
enum class OutcomeKind {
  // Live-contact KPIs, labelled by queue and channel.
  kContactOffered,           // a contact was first seen (queued, or any contact event)
  kContactAnswered,          // an agent answered; value = wait in seconds
  kAnsweredWithinThreshold,  // answered with wait <= service_level_threshold_s
  kContactAbandoned,         // the customer left the queue; value = wait in seconds
  kWaitTime,                 // queue wait of an answered contact; value = seconds
  kHandleTime,               // answer to end, hold included; value = seconds
  kRepeatContact,            // a contact started within the repeat-contact window
  kAnonymousContact,         // a contact offered with an anonymous customer id (its own customer)
  kCsatResponse,             // a survey answer; score = CSAT 1..5
  kLiveSlaWarning,           // a live clock reached a warning fraction; milestone, fraction
  kLiveSlaBreach,            // a live clock passed its limit; milestone = clock name
  // Cues and escalation.
  kCueFired,    // a cue fired on a contact; cue = its name
  kEscalation,  // one per cue behind an ESCALATION alert; cue = its name
  // Cases, labelled by category and severity.
  kCaseOpened,         // a case was opened
  kCaseAttached,       // a complaint attached to an open case
  kCaseTransition,     // a valid transition was applied; state = the target state
  kInvalidTransition,  // a staff action was refused; state = the case's state
  kUnknownCase,        // a staff action named a case that is not stored
  kSeverityChanged,    // severity rose from previous_severity to severity
  kCaseClosed,         // a case reached CLOSED
  kCaseExpired,        // a closed case was deleted at the end of its retention
  kContactEnded,       // a contact ended (answered, abandoned or not); subject = contact id
  kOpenCasesDelta,     // the open-case gauge {severity, category} changes by `delta`
  kSlaWarning,         // milestone reached a warning fraction; fraction set
  kSlaBreach,          // milestone passed its deadline
  kSlaEscalation,      // a ladder rung after a breach; rung in `detail`
  kSlaMet,             // a milestone completed before its deadline
  kSlaMissed,          // a milestone completed after its deadline
  // Alerts and data protection.
  kAlert,    // an alert was emitted; alert_kind set
  kErasure,  // a customer's state was erased; value = records removed
};

std::string_view OutcomeKindName(OutcomeKind kind);

// One KPI or case outcome returned by the engine for the metrics layer (the runtime's probes
// turn them into counters, histograms and gauges). Plain value type, thread-compatible.
struct Outcome {
  OutcomeKind kind = OutcomeKind::kContactOffered;
  std::string queue;                                          // queue label ("none" if unknown)
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;              // channel label
  std::string category;                                       // case category
  v1::Severity severity = v1::SEVERITY_UNSPECIFIED;           // case severity (new one on changes)
  v1::Severity previous_severity = v1::SEVERITY_UNSPECIFIED;  // kSeverityChanged only
  v1::CaseState state = v1::CASE_STATE_UNSPECIFIED;  // transition target / refused-in state
  std::string milestone;                             // SLA milestone or live clock name
  std::string cue;                                   // cue name
  std::string detail;                                // bounded detail (ladder rung, action)
  v1::AlertKind alert_kind = v1::ALERT_KIND_UNSPECIFIED;
  int score = 0;        // CSAT score 1..5
  int64_t delta = 0;    // kOpenCasesDelta: +1 or -1 (a task taken over or let go: its count)
  double fraction = 0;  // kSlaWarning, kLiveSlaWarning: the fraction
  double value = 0;     // seconds, counts (see the kind)
  // Not a label (never exported as one): the case id of case outcomes and the contact id of
  // kContactEnded, for sinks that follow one case or contact (the Alertmanager delivery).
  std::string subject;
  int64_t at_ms = 0;  // with `subject`: the engine's time of the outcome (event or timer time)
};

}  // namespace ccstream::domain
