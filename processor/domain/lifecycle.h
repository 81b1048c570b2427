#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "case.pb.h"
#include "events.pb.h"

namespace ccstream::domain {

// The complaint-case lifecycle: which staff actions are allowed in which state and where they
// lead. Pure functions over the generated enums; thread-safe.
//
//   ACKNOWLEDGE          OPEN, REOPENED               → ACKNOWLEDGED
//   START_INVESTIGATION  ACKNOWLEDGED, REFERRED       → INVESTIGATING
//   REFER                INVESTIGATING                → REFERRED
//   RESOLVE              INVESTIGATING, REFERRED      → RESOLVED
//   FOLLOW_UP            RESOLVED                     → FOLLOWED_UP
//   CLOSE                RESOLVED, FOLLOWED_UP        → CLOSED
//   REOPEN               RESOLVED, FOLLOWED_UP, CLOSED → REOPENED
//   NOTE                 any state                    → unchanged
//   AWAITING_CUSTOMER_ON any state before RESOLVED, when not already awaiting → unchanged
//   AWAITING_CUSTOMER_OFF when awaiting               → unchanged

// The state `action` leads to from `from`, or nullopt when the action is not allowed there.
// Actions that do not change the state (NOTE, AWAITING_CUSTOMER_*) return `from` when allowed.
std::optional<v1::CaseState> NextState(v1::CaseState from, v1::CaseAction::Kind action,
                                       bool awaiting_customer);

// Whether the case is still open (not CLOSED).
inline bool IsOpenState(v1::CaseState state) { return state != v1::CLOSED; }

// What the open-case count needs of a stored case: its state, severity and category.
struct CaseSummary {
  v1::CaseState state = v1::CASE_STATE_UNSPECIFIED;
  v1::Severity severity = v1::SEVERITY_UNSPECIFIED;
  std::string category;
};
// Reads those fields from a serialized ComplaintCase without decoding the rest (milestones,
// audit trail, timers): as ParseFromArray would set them (the last occurrence of a field wins,
// unknown enum values are kept). False when the bytes are not a well-formed message. A task
// taken over counts the open cases it holds by reading every stored case this way.
bool ReadCaseSummary(std::string_view bytes, CaseSummary& out);

}  // namespace ccstream::domain
