#include "processor/domain/lifecycle.h"

#include <optional>
#include <string>
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

// A case as the engine stores one: every kind of field around the three the summary reads.
v1::ComplaintCase FullCase() {
  v1::ComplaintCase c;
  c.set_case_id("case-7");
  c.set_customer_key("a1b2c3");
  c.set_category("billing");
  c.set_state(v1::INVESTIGATING);
  c.set_severity(v1::HIGH);
  c.set_opened_ms(1'767'258'000'000);
  c.set_queue("billing");
  c.set_channel(v1::VOICE);
  v1::MilestoneState* m = c.add_milestones();
  m->set_name("acknowledge");
  m->add_warnings_sent(0.5);
  m->add_warnings_sent(0.75);
  for (int i = 0; i < 3; ++i) {
    v1::AuditEntry* a = c.add_audit();
    a->set_time_ms(1'767'258'000'000 + i);
    a->set_what("transition ACKNOWLEDGED");
    a->set_actor("lead-1");
  }
  c.add_contact_ids("contact-1");
  v1::Timer* t = c.add_timers();
  t->set_due_ms(1'767'258'060'000);
  t->set_timer_id("case/case-7/acknowledge/1767258060000");
  t->set_fraction(0.9);
  c.set_score(0.87);
  c.add_cues("repeated_dissatisfaction");
  return c;
}

void ExpectSameAsParse(const std::string& bytes) {
  v1::ComplaintCase parsed;
  CaseSummary summary;
  const bool ok = ReadCaseSummary(bytes, summary);
  ASSERT_EQ(ok, parsed.ParseFromString(bytes)) << bytes.size() << " bytes";
  if (!ok) return;
  EXPECT_EQ(summary.state, parsed.state());
  EXPECT_EQ(summary.severity, parsed.severity());
  EXPECT_EQ(summary.category, parsed.category());
}

TEST(ReadCaseSummaryTest, ReadsStateSeverityAndCategoryOfAStoredCase) {
  CaseSummary summary;
  ASSERT_TRUE(ReadCaseSummary(FullCase().SerializeAsString(), summary));
  EXPECT_EQ(summary.state, v1::INVESTIGATING);
  EXPECT_EQ(summary.severity, v1::HIGH);
  EXPECT_EQ(summary.category, "billing");
}

TEST(ReadCaseSummaryTest, FieldsAbsentReadAsTheirDefaults) {
  CaseSummary summary;
  summary.category = "left over";
  summary.state = v1::CLOSED;
  ASSERT_TRUE(ReadCaseSummary("", summary));
  EXPECT_EQ(summary.state, v1::CASE_STATE_UNSPECIFIED);
  EXPECT_EQ(summary.severity, v1::SEVERITY_UNSPECIFIED);
  EXPECT_EQ(summary.category, "");
}

TEST(ReadCaseSummaryTest, AgreesWithAFullParseOnEveryPrefixOfACase) {
  // Cut at a field boundary both read the fields before it; cut inside a field both refuse.
  const std::string bytes = FullCase().SerializeAsString();
  for (size_t n = 0; n <= bytes.size(); ++n) ExpectSameAsParse(bytes.substr(0, n));
}

TEST(ReadCaseSummaryTest, LastOccurrenceWinsUnknownFieldsAndValuesAreKeptOrSkipped) {
  v1::ComplaintCase later;
  later.set_category("sales");
  later.set_state(static_cast<v1::CaseState>(42));  // an enum value this build does not know
  std::string bytes = FullCase().SerializeAsString() + later.SerializeAsString();
  // Unknown fields of every wire type: 99 varint, 100 length-delimited, 101 fixed64, 102 fixed32.
  bytes += std::string("\x98\x06\x07", 3);
  bytes += std::string("\xa2\x06\x03xyz", 6);
  bytes += std::string("\xa9\x06", 2) + std::string(8, '\x01');
  bytes += std::string("\xb5\x06", 2) + std::string(4, '\x02');
  ExpectSameAsParse(bytes);
  CaseSummary summary;
  ASSERT_TRUE(ReadCaseSummary(bytes, summary));
  EXPECT_EQ(summary.category, "sales");
  EXPECT_EQ(static_cast<int>(summary.state), 42);
  EXPECT_EQ(summary.severity, v1::HIGH);
}

TEST(ReadCaseSummaryTest, RefusesBytesThatAreNotACase) {
  CaseSummary summary;
  EXPECT_FALSE(ReadCaseSummary(std::string("\x1a\x10short", 7), summary));  // length past the end
  EXPECT_FALSE(ReadCaseSummary(std::string("\x00\x01", 2), summary));       // field number 0
  EXPECT_FALSE(ReadCaseSummary(std::string("\x20\xff", 2), summary));       // varint cut short
  EXPECT_FALSE(ReadCaseSummary(std::string("\x0c", 1), summary));           // stray end of group
  ExpectSameAsParse(std::string("\x1a\x10short", 7));
  ExpectSameAsParse(std::string("\x20\xff", 2));
}

}  // namespace
}  // namespace ccstream::domain
