#include "processor/domain/lifecycle.h"

namespace ccstream::domain {

std::optional<v1::CaseState> NextState(v1::CaseState from, v1::CaseAction::Kind action,
                                       bool awaiting_customer) {
  using v1::CaseAction;
  switch (action) {
    case CaseAction::ACKNOWLEDGE:
      if (from == v1::OPEN || from == v1::REOPENED) return v1::ACKNOWLEDGED;
      return std::nullopt;
    case CaseAction::START_INVESTIGATION:
      if (from == v1::ACKNOWLEDGED || from == v1::REFERRED) return v1::INVESTIGATING;
      return std::nullopt;
    case CaseAction::REFER:
      if (from == v1::INVESTIGATING) return v1::REFERRED;
      return std::nullopt;
    case CaseAction::RESOLVE:
      if (from == v1::INVESTIGATING || from == v1::REFERRED) return v1::RESOLVED;
      return std::nullopt;
    case CaseAction::FOLLOW_UP:
      if (from == v1::RESOLVED) return v1::FOLLOWED_UP;
      return std::nullopt;
    case CaseAction::CLOSE:
      if (from == v1::RESOLVED || from == v1::FOLLOWED_UP) return v1::CLOSED;
      return std::nullopt;
    case CaseAction::REOPEN:
      if (from == v1::RESOLVED || from == v1::FOLLOWED_UP || from == v1::CLOSED) {
        return v1::REOPENED;
      }
      return std::nullopt;
    case CaseAction::NOTE:
      if (from == v1::CASE_STATE_UNSPECIFIED) return std::nullopt;
      return from;
    case CaseAction::AWAITING_CUSTOMER_ON:
      if (awaiting_customer || from == v1::RESOLVED || from == v1::FOLLOWED_UP ||
          from == v1::CLOSED || from == v1::CASE_STATE_UNSPECIFIED) {
        return std::nullopt;
      }
      return from;
    case CaseAction::AWAITING_CUSTOMER_OFF:
      if (!awaiting_customer || from == v1::CASE_STATE_UNSPECIFIED) return std::nullopt;
      return from;
    default:
      return std::nullopt;
  }
}

}  // namespace ccstream::domain
