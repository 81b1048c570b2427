#include "processor/ingest/validate.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace ccstream::ingest {
namespace {

Verdict Refuse(RefusalReason reason, std::string detail) {
  return Verdict{reason, std::move(detail)};
}

Verdict CheckPayload(const v1::ContactEvent& event) {
  using E = v1::ContactEvent;
  switch (event.payload_case()) {
    case E::kTurn: {
      const v1::Turn& turn = event.turn();
      if (turn.speaker() != v1::CUSTOMER && turn.speaker() != v1::AGENT) {
        return Refuse(RefusalReason::kInvalidField,
                      absl::StrCat("turn.speaker ", turn.speaker(), " is not CUSTOMER or AGENT"));
      }
      if (turn.has_upstream_sentiment() &&
          !(turn.upstream_sentiment() >= -1.0f && turn.upstream_sentiment() <= 1.0f)) {
        return Refuse(RefusalReason::kInvalidField,
                      absl::StrCat("turn.upstream_sentiment ", turn.upstream_sentiment(),
                                   " is outside -1..1"));
      }
      if (turn.has_loudness_db() && !std::isfinite(turn.loudness_db())) {
        return Refuse(RefusalReason::kInvalidField, "turn.loudness_db is not a finite number");
      }
      return {};
    }
    case E::kSurvey:
      if (event.survey().csat() < 1 || event.survey().csat() > 5) {
        return Refuse(RefusalReason::kInvalidField,
                      absl::StrCat("survey.csat ", event.survey().csat(), " is outside 1..5"));
      }
      return {};
    case E::kCaseAction: {
      const v1::CaseAction& action = event.case_action();
      if (!v1::CaseAction::Kind_IsValid(action.kind()) ||
          action.kind() == v1::CaseAction::KIND_UNSPECIFIED) {
        return Refuse(RefusalReason::kInvalidField,
                      absl::StrCat("case_action.kind ", action.kind(), " is unknown"));
      }
      if (action.actor().empty()) {
        return Refuse(RefusalReason::kInvalidField, "case_action.actor is empty");
      }
      if (action.kind() != v1::CaseAction::FLAG_COMPLAINT && action.case_id().empty()) {
        return Refuse(RefusalReason::kInvalidField,
                      absl::StrCat("case_action.case_id is required for ",
                                   v1::CaseAction::Kind_Name(action.kind())));
      }
      return {};
    }
    case E::PAYLOAD_NOT_SET:
      return Refuse(RefusalReason::kUnknownPayload,
                    event.GetReflection()->GetUnknownFields(event).empty()
                        ? "no payload set"
                        : "payload of a kind this version does not know");
    default:
      return {};
  }
}

}  // namespace

std::string_view RefusalReasonName(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::kNone:
      return "none";
    case RefusalReason::kOversized:
      return "oversized";
    case RefusalReason::kUndecodable:
      return "undecodable";
    case RefusalReason::kMissingEventId:
      return "missing_event_id";
    case RefusalReason::kMissingContactId:
      return "missing_contact_id";
    case RefusalReason::kMissingCustomerId:
      return "missing_customer_id";
    case RefusalReason::kMissingEventTime:
      return "missing_event_time";
    case RefusalReason::kEventTimeTooOld:
      return "event_time_too_old";
    case RefusalReason::kEventTimeInFuture:
      return "event_time_in_future";
    case RefusalReason::kUnknownPayload:
      return "unknown_payload";
    case RefusalReason::kInvalidField:
      return "invalid_field";
  }
  return "unknown";
}

Verdict Validate(const v1::ContactEvent& event, int64_t now_ms, const ValidationLimits& limits) {
  if (event.event_id().empty()) return Refuse(RefusalReason::kMissingEventId, "event_id is empty");
  if (event.contact_id().empty()) {
    return Refuse(RefusalReason::kMissingContactId, "contact_id is empty");
  }
  if (event.customer_id().empty()) {
    return Refuse(RefusalReason::kMissingCustomerId, "customer_id is empty");
  }
  if (event.event_time_ms() == 0) {
    return Refuse(RefusalReason::kMissingEventTime, "event_time_ms is not set");
  }
  if (event.event_time_ms() < kMinEventTimeMs) {
    return Refuse(RefusalReason::kEventTimeTooOld,
                  absl::StrCat("event_time_ms ", event.event_time_ms(), " is before 2000-01-01"));
  }
  if (event.event_time_ms() > now_ms + limits.max_future_skew_ms) {
    return Refuse(RefusalReason::kEventTimeInFuture,
                  absl::StrCat("event_time_ms ", event.event_time_ms(), " is ",
                               event.event_time_ms() - now_ms, " ms ahead of the clock (limit ",
                               limits.max_future_skew_ms, ")"));
  }
  if (!v1::Channel_IsValid(event.channel())) {
    return Refuse(RefusalReason::kInvalidField,
                  absl::StrCat("channel ", event.channel(), " is unknown"));
  }
  const bool staff_or_admin =
      event.has_case_action() || event.has_erasure_request() || event.has_complaint_lodged();
  if (event.channel() == v1::CHANNEL_UNSPECIFIED && !staff_or_admin) {
    return Refuse(RefusalReason::kInvalidField, "channel is not set");
  }
  return CheckPayload(event);
}

Verdict DecodeAndValidate(std::string_view bytes, int64_t now_ms, const ValidationLimits& limits,
                          v1::ContactEvent* event) {
  if (bytes.size() > limits.max_message_bytes) {
    return Refuse(RefusalReason::kOversized,
                  absl::StrCat("record of ", bytes.size(), " bytes exceeds the limit of ",
                               limits.max_message_bytes));
  }
  event->Clear();
  if (!event->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Refuse(RefusalReason::kUndecodable,
                  absl::StrCat("not a ccstream.v1.ContactEvent (", bytes.size(), " bytes)"));
  }
  return Validate(*event, now_ms, limits);
}

}  // namespace ccstream::ingest
