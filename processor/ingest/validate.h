#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events.pb.h"

namespace ccstream::ingest {

// Why an input record was refused. Each value is a bounded metric label and the
// `ccstream.reason` header of the dead letter; the names never change once published.
enum class RefusalReason {
  kNone = 0,
  kOversized,    // record larger than validation.max_message_bytes
  kUndecodable,  // not a serialized ContactEvent
  kMissingEventId,
  kMissingContactId,
  kMissingCustomerId,
  kMissingEventTime,
  kEventTimeTooOld,    // before 2000-01-01T00:00:00Z
  kEventTimeInFuture,  // further ahead of the processor clock than the configured skew
  kUnknownPayload,     // no payload this version knows (e.g. a newer producer's)
  kInvalidField,  // an enum value outside its range, CSAT outside 1..5, sentiment outside -1..1 …
};

// The stable label of a reason, e.g. "missing_event_id".
std::string_view RefusalReasonName(RefusalReason reason);

// Limits applied by the validator; mirrors v1::ValidationConfig.
struct ValidationLimits {
  // Events further than this ahead of the processor clock are refused, in ms. Default: 300000.
  int64_t max_future_skew_ms = 300'000;
  // Records larger than this are refused, in bytes. Default: 1048576.
  uint32_t max_message_bytes = 1u << 20;
};

// The verdict on one record: the decoded event, or why it was refused with a human detail.
struct Verdict {
  RefusalReason reason = RefusalReason::kNone;
  std::string detail;  // e.g. "event_time_ms 946684799999 is before 2000-01-01"; empty when valid
  bool ok() const { return reason == RefusalReason::kNone; }
};

// The earliest event time accepted: 2000-01-01T00:00:00Z in ms since the epoch.
inline constexpr int64_t kMinEventTimeMs = 946'684'800'000;

// Decodes `bytes` into `*event` and checks it. `now_ms` is the processor clock (wall clock
// live, stream time in a replay). Pure function; thread-safe.
Verdict DecodeAndValidate(std::string_view bytes, int64_t now_ms, const ValidationLimits& limits,
                          v1::ContactEvent* event);

// Checks an already decoded event (used by the replay and the generator before producing).
Verdict Validate(const v1::ContactEvent& event, int64_t now_ms, const ValidationLimits& limits);

}  // namespace ccstream::ingest
