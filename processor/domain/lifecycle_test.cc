#include "processor/domain/lifecycle.h"

#include <optional>
#include <vector>

#include "gtest/gtest.h"

namespace ccstream::domain {
namespace {

using Kind = v1::CaseAction::Kind;

struct Row {
  v1::CaseState from;
  Kind action;
  bool awaiting;
  std::optional<v1::CaseState> to;
};

TEST(NextStateTest, FollowsTheLifecycleTable) {
  const std::vector<Row> rows = {
      {v1::OPEN, v1::CaseAction::ACKNOWLEDGE, false, v1::ACKNOWLEDGED},
      {v1::REOPENED, v1::CaseAction::ACKNOWLEDGE, false, v1::ACKNOWLEDGED},
      {v1::ACKNOWLEDGED, v1::CaseAction::ACKNOWLEDGE, false, std::nullopt},
      {v1::ACKNOWLEDGED, v1::CaseAction::START_INVESTIGATION, false, v1::INVESTIGATING},
      {v1::REFERRED, v1::CaseAction::START_INVESTIGATION, false, v1::INVESTIGATING},
      {v1::OPEN, v1::CaseAction::START_INVESTIGATION, false, std::nullopt},
      {v1::INVESTIGATING, v1::CaseAction::REFER, false, v1::REFERRED},
      {v1::ACKNOWLEDGED, v1::CaseAction::REFER, false, std::nullopt},
      {v1::INVESTIGATING, v1::CaseAction::RESOLVE, false, v1::RESOLVED},
      {v1::REFERRED, v1::CaseAction::RESOLVE, false, v1::RESOLVED},
      {v1::OPEN, v1::CaseAction::RESOLVE, false, std::nullopt},
      {v1::RESOLVED, v1::CaseAction::FOLLOW_UP, false, v1::FOLLOWED_UP},
      {v1::INVESTIGATING, v1::CaseAction::FOLLOW_UP, false, std::nullopt},
      {v1::RESOLVED, v1::CaseAction::CLOSE, false, v1::CLOSED},
      {v1::FOLLOWED_UP, v1::CaseAction::CLOSE, false, v1::CLOSED},
      {v1::OPEN, v1::CaseAction::CLOSE, false, std::nullopt},
      {v1::CLOSED, v1::CaseAction::CLOSE, false, std::nullopt},
      {v1::RESOLVED, v1::CaseAction::REOPEN, false, v1::REOPENED},
      {v1::FOLLOWED_UP, v1::CaseAction::REOPEN, false, v1::REOPENED},
      {v1::CLOSED, v1::CaseAction::REOPEN, false, v1::REOPENED},
      {v1::OPEN, v1::CaseAction::REOPEN, false, std::nullopt},
      {v1::CLOSED, v1::CaseAction::NOTE, false, v1::CLOSED},
      {v1::INVESTIGATING, v1::CaseAction::NOTE, true, v1::INVESTIGATING},
      {v1::INVESTIGATING, v1::CaseAction::AWAITING_CUSTOMER_ON, false, v1::INVESTIGATING},
      {v1::INVESTIGATING, v1::CaseAction::AWAITING_CUSTOMER_ON, true, std::nullopt},
      {v1::RESOLVED, v1::CaseAction::AWAITING_CUSTOMER_ON, false, std::nullopt},
      {v1::INVESTIGATING, v1::CaseAction::AWAITING_CUSTOMER_OFF, true, v1::INVESTIGATING},
      {v1::INVESTIGATING, v1::CaseAction::AWAITING_CUSTOMER_OFF, false, std::nullopt},
      {v1::OPEN, v1::CaseAction::FLAG_COMPLAINT, false, std::nullopt},
      {v1::OPEN, v1::CaseAction::KIND_UNSPECIFIED, false, std::nullopt},
      {v1::CASE_STATE_UNSPECIFIED, v1::CaseAction::NOTE, false, std::nullopt},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(NextState(row.from, row.action, row.awaiting), row.to)
        << v1::CaseState_Name(row.from) << " + " << v1::CaseAction::Kind_Name(row.action);
  }
}

}  // namespace
}  // namespace ccstream::domain
