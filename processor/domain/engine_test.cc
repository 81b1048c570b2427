#include "processor/domain/engine.h"

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "processor/domain/engine_internal.h"
#include "processor/domain/test_util.h"
#include "tests/support/event_builders.h"
#include "tests/support/fake_clock.h"

namespace ccstream::domain {
namespace {

using ::ccstream::testing::ContactRef;
using ::ccstream::testing::FakeClock;
using ::ccstream::testing::TurnSpec;
using testing_util::AlertsOf;
using testing_util::Harness;
using testing_util::OutcomesOf;
using testing_util::TestConfig;
namespace tb = ::ccstream::testing;

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

std::set<std::string> CueNames(const v1::ContactState& contact) {
  std::set<std::string> names;
  for (const v1::AlertReason& r : contact.cues()) names.insert(r.cue());
  return names;
}

v1::ContactState ContactOf(Harness& h, const std::string& id) {
  auto it = h.store().contacts().find(id);
  EXPECT_NE(it, h.store().contacts().end()) << id;
  return it == h.store().contacts().end() ? v1::ContactState() : it->second;
}

TurnSpec Text(std::string text) {
  TurnSpec t;
  t.text = std::move(text);
  return t;
}

// ---- Cues -----------------------------------------------------------------------------------

struct CueCase {
  std::string name;
  std::string cue;
  bool fires;
  // Sends the scenario; contact "c1" of customer "u1" is the one inspected.
  std::function<void(Harness&, FakeClock&)> scenario;
};

void Sentiments(Harness& h, FakeClock& clock, const ContactRef& ref,
                const std::vector<float>& values) {
  for (float v : values) h.Send(tb::MakeCustomerTurn(ref, clock.AdvanceSeconds(5), v));
}

void Loudness(Harness& h, FakeClock& clock, const ContactRef& ref,
              const std::vector<float>& values) {
  for (float v : values) {
    TurnSpec t;
    t.loudness_db = v;
    h.Send(tb::MakeTurn(ref, clock.AdvanceSeconds(5), t));
  }
}

class CueTest : public ::testing::TestWithParam<CueCase> {};

TEST_P(CueTest, FiresExactlyWhenItShould) {
  const CueCase& c = GetParam();
  Harness h;
  FakeClock clock;
  c.scenario(h, clock);
  const v1::ContactState contact = ContactOf(h, "c1");
  EXPECT_EQ(CueNames(contact).count(c.cue), c.fires ? 1u : 0u)
      << c.name << " cues: " << contact.ShortDebugString();
}

const ContactRef kC1{.contact_id = "c1", .customer_id = "u1"};

INSTANTIATE_TEST_SUITE_P(
    AllCues, CueTest,
    ::testing::Values(CueCase{"dissatisfaction_3_of_5", std::string(kCueRepeatedDissatisfaction),
                              true,
                              [](Harness& h, FakeClock& k) {
                                Sentiments(h, k, kC1, {-0.5, -0.4, 0.2, -0.6});
                              }},
                      CueCase{"dissatisfaction_only_2_in_window",
                              std::string(kCueRepeatedDissatisfaction), false,
                              [](Harness& h, FakeClock& k) {
                                Sentiments(h, k, kC1, {-0.5, 0.1, -0.2, 0.5, 0.3, 0.2, -0.5});
                              }},
                      CueCase{"falling_sentiment", std::string(kCueFallingSentiment), true,
                              [](Harness& h, FakeClock& k) {
                                Sentiments(h, k, kC1, {0.8, 0.7, 0.6, 0.0, -0.2, -0.4});
                              }},
                      CueCase{"flat_sentiment", std::string(kCueFallingSentiment), false,
                              [](Harness& h, FakeClock& k) {
                                Sentiments(h, k, kC1, {0.2, 0.2, 0.2, 0.2, 0.2, 0.2});
                              }},
                      CueCase{"complaint_intent", std::string(kCueComplaintIntent), true,
                              [](Harness& h, FakeClock& k) {
                                h.Send(tb::MakeTurn(kC1, k.AdvanceSeconds(1), Text("COMPLAINT")));
                              }},
                      CueCase{"inquiry", std::string(kCueComplaintIntent), false,
                              [](Harness& h, FakeClock& k) {
                                h.Send(tb::MakeTurn(kC1, k.AdvanceSeconds(1),
                                                    Text("when do you open")));
                              }},
                      CueCase{"escalation_phrase", std::string(kCueEscalationPhrase), true,
                              [](Harness& h, FakeClock& k) {
                                h.Send(tb::MakeTurn(kC1, k.AdvanceSeconds(1),
                                                    Text("get me a MANAGER")));
                              }},
                      CueCase{"agent_phrase_ignored", std::string(kCueEscalationPhrase), false,
                              [](Harness& h, FakeClock& k) {
                                TurnSpec t = Text("MANAGER");
                                t.speaker = v1::AGENT;
                                h.Send(tb::MakeTurn(kC1, k.AdvanceSeconds(1), t));
                              }},
                      CueCase{"raised_voice_twice", std::string(kCueRaisedVoice), true,
                              [](Harness& h, FakeClock& k) {
                                Loudness(h, k, kC1, {60, 61, 75, 76});
                              }},
                      CueCase{"raised_voice_once", std::string(kCueRaisedVoice), false,
                              [](Harness& h, FakeClock& k) {
                                Loudness(h, k, kC1, {60, 61, 75, 62});
                              }},
                      CueCase{"interruptions_3", std::string(kCueInterruptions), true,
                              [](Harness& h, FakeClock& k) {
                                TurnSpec t;
                                t.interruption = true;
                                for (int i = 0; i < 3; ++i)
                                  h.Send(tb::MakeTurn(kC1, k.AdvanceSeconds(2), t));
                              }},
                      CueCase{"interruptions_2", std::string(kCueInterruptions), false,
                              [](Harness& h, FakeClock& k) {
                                TurnSpec t;
                                t.interruption = true;
                                for (int i = 0; i < 2; ++i)
                                  h.Send(tb::MakeTurn(kC1, k.AdvanceSeconds(2), t));
                              }},
                      CueCase{"long_hold_121s", std::string(kCueLongHold), true,
                              [](Harness& h, FakeClock& k) {
                                h.Send(tb::MakeAnswered(kC1, k.NowMs()));
                                h.Send(tb::MakeHoldStarted(kC1, k.AdvanceSeconds(10)));
                                h.Send(tb::MakeHoldEnded(kC1, k.AdvanceSeconds(121)));
                              }},
                      CueCase{"short_hold_119s", std::string(kCueLongHold), false,
                              [](Harness& h, FakeClock& k) {
                                h.Send(tb::MakeAnswered(kC1, k.NowMs()));
                                h.Send(tb::MakeHoldStarted(kC1, k.AdvanceSeconds(10)));
                                h.Send(tb::MakeHoldEnded(kC1, k.AdvanceSeconds(119)));
                              }},
                      CueCase{"two_transfers", std::string(kCueRepeatedTransfers), true,
                              [](Harness& h, FakeClock& k) {
                                h.Send(tb::MakeTransferred(kC1, k.AdvanceSeconds(5), "sales"));
                                h.Send(tb::MakeTransferred(kC1, k.AdvanceSeconds(5), "billing"));
                              }},
                      CueCase{"one_transfer", std::string(kCueRepeatedTransfers), false,
                              [](Harness& h, FakeClock& k) {
                                h.Send(tb::MakeTransferred(kC1, k.AdvanceSeconds(5), "sales"));
                              }},
                      CueCase{"repeat_within_7_days", std::string(kCueRepeatContact), true,
                              [](Harness& h, FakeClock& k) {
                                ContactRef first{.contact_id = "c0", .customer_id = "u1"};
                                h.Send(tb::MakeQueued(first, k.NowMs()));
                                h.Send(tb::MakeEnded(first, k.AdvanceSeconds(300)));
                                h.Send(tb::MakeQueued(kC1, k.Advance(6 * kDay)));
                              }},
                      CueCase{"repeat_after_8_days", std::string(kCueRepeatContact), false,
                              [](Harness& h, FakeClock& k) {
                                ContactRef first{.contact_id = "c0", .customer_id = "u1"};
                                h.Send(tb::MakeQueued(first, k.NowMs()));
                                h.Send(tb::MakeEnded(first, k.AdvanceSeconds(300)));
                                h.Send(tb::MakeQueued(kC1, k.Advance(8 * kDay)));
                              }},
                      CueCase{"other_customer_not_repeat", std::string(kCueRepeatContact), false,
                              [](Harness& h, FakeClock& k) {
                                ContactRef first{.contact_id = "c0", .customer_id = "u2"};
                                h.Send(tb::MakeQueued(first, k.NowMs()));
                                h.Send(tb::MakeQueued(kC1, k.Advance(kHour)));
                              }},
                      CueCase{"open_complaint", std::string(kCueOpenComplaint), true,
                              [](Harness& h, FakeClock& k) {
                                ContactRef form{.contact_id = "form-1", .customer_id = "u1"};
                                h.Send(tb::MakeComplaintLodged(form, k.NowMs()));
                                h.Send(tb::MakeQueued(kC1, k.Advance(kHour)));
                              }},
                      CueCase{
                          "no_open_complaint", std::string(kCueOpenComplaint), false,
                          [](Harness& h, FakeClock& k) { h.Send(tb::MakeQueued(kC1, k.NowMs())); }},
                      CueCase{"staff_flag", std::string(kCueStaffFlag), true,
                              [](Harness& h, FakeClock& k) {
                                h.Send(tb::MakeQueued(kC1, k.NowMs()));
                                h.Send(tb::MakeFlagComplaint(kC1, k.AdvanceSeconds(30), "fees"));
                              }}),
    [](const ::testing::TestParamInfo<CueCase>& info) { return info.param.name; });

TEST(CueTest, UpstreamSentimentReplacesTextSentiment) {
  Harness h;
  FakeClock k;
  for (int i = 0; i < 3; ++i) {
    TurnSpec t = Text("POS");
    t.upstream_sentiment = -0.9f;
    h.Send(tb::MakeTurn(kC1, k.AdvanceSeconds(5), t));
  }
  EXPECT_EQ(CueNames(ContactOf(h, "c1")).count(std::string(kCueRepeatedDissatisfaction)), 1u);
}

TEST(CueTest, CueThresholdsAndWeightsAreConfigurable) {
  v1::DomainConfig config = TestConfig();
  config.mutable_cues()->mutable_repeated_transfers()->set_min_transfers(3);
  config.mutable_cues()->mutable_repeated_transfers()->set_weight(0.7);
  Harness h(config);
  FakeClock k;
  h.Send(tb::MakeTransferred(kC1, k.AdvanceSeconds(5)));
  h.Send(tb::MakeTransferred(kC1, k.AdvanceSeconds(5)));
  EXPECT_TRUE(ContactOf(h, "c1").cues().empty());
  const Effects fx = h.Send(tb::MakeTransferred(kC1, k.AdvanceSeconds(5)));
  ASSERT_EQ(ContactOf(h, "c1").cues_size(), 1);
  EXPECT_DOUBLE_EQ(ContactOf(h, "c1").cues(0).weight(), 0.7);
  // 0.7 >= escalate_score 0.6: one level-1 escalation carrying the reason.
  ASSERT_EQ(AlertsOf(fx, v1::ESCALATION).size(), 1u);
  EXPECT_EQ(AlertsOf(fx, v1::ESCALATION)[0]->reasons(0).cue(), kCueRepeatedTransfers);
}

TEST(CueTest, WindowOfSentimentsIsBounded) {
  Harness h;
  FakeClock k;
  for (int i = 0; i < 100; ++i) h.Send(tb::MakeCustomerTurn(kC1, k.AdvanceSeconds(1), 0.1f));
  EXPECT_EQ(ContactOf(h, "c1").sentiments_size(), 24);
  EXPECT_EQ(ContactOf(h, "c1").customer_turns(), 100);
}

// ---- Escalation and cases ---------------------------------------------------------------------

TEST(EscalationTest, OneAlertPerLevelWithReasons) {
  Harness h;
  FakeClock k;
  Effects all;
  auto send = [&](const v1::ContactEvent& e) { Harness::Append(all, h.Send(e)); };
  send(tb::MakeQueued(kC1, k.NowMs()));
  // 0.4 (dissatisfaction) + 0.5 (phrase) = 0.9: level 1.
  for (int i = 0; i < 3; ++i) send(tb::MakeTurn(kC1, k.AdvanceSeconds(5), Text("NEG")));
  send(tb::MakeTurn(kC1, k.AdvanceSeconds(5), Text("NEG MANAGER")));
  for (int i = 0; i < 5; ++i) send(tb::MakeTurn(kC1, k.AdvanceSeconds(5), Text("NEG")));
  std::vector<const v1::Alert*> escalations = AlertsOf(all, v1::ESCALATION);
  ASSERT_EQ(escalations.size(), 1u);
  EXPECT_EQ(escalations[0]->escalation_level(), 1);
  EXPECT_NEAR(escalations[0]->score(), 0.9, 1e-9);
  std::set<std::string> reasons;
  for (const v1::AlertReason& r : escalations[0]->reasons()) {
    reasons.insert(r.cue());
    EXPECT_GT(r.weight(), 0);
  }
  EXPECT_EQ(reasons, (std::set<std::string>{std::string(kCueRepeatedDissatisfaction),
                                            std::string(kCueEscalationPhrase)}));
  EXPECT_TRUE(AlertsOf(all, v1::CASE_OPENED).empty());
  EXPECT_TRUE(h.store().cases().empty());

  // + complaint intent 0.4 = 1.3 >= open_case_score: level 2 and a case.
  Effects fx = h.Send(tb::MakeTurn(kC1, k.AdvanceSeconds(5), Text("COMPLAINT")));
  ASSERT_EQ(AlertsOf(fx, v1::ESCALATION).size(), 1u);
  EXPECT_EQ(AlertsOf(fx, v1::ESCALATION)[0]->escalation_level(), 2);
  ASSERT_EQ(AlertsOf(fx, v1::CASE_OPENED).size(), 1u);
  EXPECT_EQ(h.store().cases().size(), 1u);
  EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kEscalation).size(), 3u);
  // Further turns raise nothing new.
  fx = h.Send(tb::MakeTurn(kC1, k.AdvanceSeconds(5), Text("NEG COMPLAINT")));
  EXPECT_TRUE(AlertsOf(fx, v1::ESCALATION).empty());
  EXPECT_TRUE(AlertsOf(fx, v1::CASE_OPENED).empty());
}

TEST(CaseTest, OneOpenCasePerCustomerAndCategoryAttachesAndCountsRepeats) {
  Harness h;
  FakeClock k;
  Effects fx = h.Send(tb::MakeFlagComplaint(kC1, k.NowMs()));
  ASSERT_EQ(AlertsOf(fx, v1::CASE_OPENED).size(), 1u);
  const std::string case_id = AlertsOf(fx, v1::CASE_OPENED)[0]->case_id();
  EXPECT_EQ(AlertsOf(fx, v1::CASE_OPENED)[0]->category(), "billing");

  ContactRef second{.contact_id = "c2", .customer_id = "u1"};
  fx = h.Send(tb::MakeFlagComplaint(second, k.Advance(kHour)));
  EXPECT_TRUE(AlertsOf(fx, v1::CASE_OPENED).empty());
  ASSERT_EQ(AlertsOf(fx, v1::CASE_UPDATED).size(), 1u);
  EXPECT_EQ(AlertsOf(fx, v1::CASE_UPDATED)[0]->case_id(), case_id);
  ASSERT_EQ(h.store().cases().size(), 1u);
  const v1::ComplaintCase& c = h.store().cases().at(case_id);
  EXPECT_EQ(c.repeat_count(), 1);
  EXPECT_THAT(c.contact_ids(), ::testing::ElementsAre("c1", "c2"));

  // Another category opens a second case.
  ContactRef sales{.contact_id = "c3", .customer_id = "u1", .queue = "sales"};
  fx = h.Send(tb::MakeFlagComplaint(sales, k.Advance(kHour)));
  ASSERT_EQ(AlertsOf(fx, v1::CASE_OPENED).size(), 1u);
  EXPECT_EQ(AlertsOf(fx, v1::CASE_OPENED)[0]->category(), "sales");
  EXPECT_EQ(h.store().cases().size(), 2u);
}

TEST(CaseTest, CategoryFromStaffLodgedOrQueueMapping) {
  v1::DomainConfig config = TestConfig();
  v1::QueueConfig* q = config.add_queues();
  q->set_name("billing");
  q->set_category("charges");
  Harness h(config);
  FakeClock k;
  Effects fx = h.Send(tb::MakeFlagComplaint(kC1, k.NowMs()));
  EXPECT_EQ(AlertsOf(fx, v1::CASE_OPENED)[0]->category(), "charges");
  fx = h.Send(tb::MakeFlagComplaint({.contact_id = "c2", .customer_id = "u2"}, k.NowMs(), "fees"));
  EXPECT_EQ(AlertsOf(fx, v1::CASE_OPENED)[0]->category(), "fees");
  fx = h.Send(
      tb::MakeComplaintLodged({.contact_id = "f", .customer_id = "u3"}, k.NowMs(), "mortgage"));
  EXPECT_EQ(AlertsOf(fx, v1::CASE_OPENED)[0]->category(), "mortgage");
  fx = h.Send(tb::MakeFlagComplaint({.contact_id = "c4", .customer_id = "u4", .queue = "unlisted"},
                                    k.NowMs()));
  EXPECT_EQ(AlertsOf(fx, v1::CASE_OPENED)[0]->category(), "general");
}

struct SeverityCase {
  std::string name;
  std::vector<std::string> turns;  // customer texts after a staff flag (score 1.0)
  v1::Severity expected;
};

class SeverityTest : public ::testing::TestWithParam<SeverityCase> {};

TEST_P(SeverityTest, FollowsScoreAndCues) {
  Harness h;
  FakeClock k;
  h.Send(tb::MakeFlagComplaint(kC1, k.NowMs()));
  for (const std::string& text : GetParam().turns) {
    h.Send(tb::MakeTurn(kC1, k.AdvanceSeconds(5), Text(text)));
  }
  ASSERT_EQ(h.store().cases().size(), 1u);
  EXPECT_EQ(h.store().cases().begin()->second.severity(), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, SeverityTest,
    ::testing::Values(SeverityCase{"flag_alone_low", {}, v1::LOW},
                      // 1.0 + 0.4 complaint = 1.4 >= 1.2
                      SeverityCase{"score_medium", {"COMPLAINT"}, v1::MEDIUM},
                      // 1.0 + 0.4 + 0.5 = 1.9 >= 1.8
                      SeverityCase{"score_high", {"COMPLAINT", "MANAGER"}, v1::HIGH},
                      SeverityCase{"regulator_at_least_high", {"OMBUDSMAN"}, v1::HIGH},
                      SeverityCase{"churn_at_least_medium", {"LEAVE"}, v1::MEDIUM},
                      // 1.0 + 0.4 + 0.5 + 0.4 (3 NEG) + 0.2 (falling) ... >= 2.5
                      SeverityCase{"score_critical",
                                   {"POS", "POS", "COMPLAINT MANAGER", "NEG", "NEG", "NEG"},
                                   v1::CRITICAL}),
    [](const ::testing::TestParamInfo<SeverityCase>& info) { return info.param.name; });

TEST(SeverityTest, RisesNeverFallsAndSwitchesPolicy) {
  Harness h;
  FakeClock k;
  h.Send(tb::MakeFlagComplaint(kC1, k.NowMs()));
  const std::string case_id = h.store().cases().begin()->first;
  EXPECT_EQ(h.store().cases().at(case_id).policy(), "test-standard");
  Effects fx = h.Send(tb::MakeTurn(kC1, k.AdvanceSeconds(5), Text("OMBUDSMAN")));
  const v1::ComplaintCase& raised = h.store().cases().at(case_id);
  EXPECT_EQ(raised.severity(), v1::HIGH);
  EXPECT_EQ(raised.policy(), "test-urgent");
  ASSERT_EQ(OutcomesOf(fx, OutcomeKind::kSeverityChanged).size(), 1u);
  EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kSeverityChanged)[0]->previous_severity, v1::LOW);
  EXPECT_EQ(AlertsOf(fx, v1::CASE_UPDATED).size(), 1u);
  // The acknowledge deadline moved to the urgent target (30 min after opening).
  for (const v1::MilestoneState& m : raised.milestones()) {
    if (m.name() == "acknowledge") {
      EXPECT_EQ(m.deadline_ms(), m.started_ms() + 30 * kMinute);
    }
  }
  // A later low-score attachment does not lower it.
  h.Send(tb::MakeFlagComplaint({.contact_id = "c2", .customer_id = "u1"}, k.Advance(kMinute)));
  EXPECT_EQ(h.store().cases().at(case_id).severity(), v1::HIGH);
}

// The severity rise that moves a case to the urgent policy keeps the time the case spent
// awaiting the customer (and a wait in progress) on its pausable milestones.
TEST(SeverityTest, PolicySwitchKeepsTheTimePaused) {
  Harness h;
  FakeClock k;
  h.Send(tb::MakeFlagComplaint(kC1, k.NowMs()));
  const std::string case_id = h.store().cases().begin()->first;
  const int64_t opened = h.store().cases().at(case_id).opened_ms();
  h.Send(
      tb::MakeCaseAction(kC1, k.Advance(kMinute), v1::CaseAction::AWAITING_CUSTOMER_ON, case_id));
  h.Send(tb::MakeCaseAction(kC1, k.Advance(10 * kMinute), v1::CaseAction::AWAITING_CUSTOMER_OFF,
                            case_id));
  h.Send(
      tb::MakeCaseAction(kC1, k.Advance(kMinute), v1::CaseAction::AWAITING_CUSTOMER_ON, case_id));
  const int64_t second_pause = k.NowMs();
  h.Send(tb::MakeTurn(kC1, k.Advance(kMinute), Text("OMBUDSMAN")));
  const v1::ComplaintCase& raised = h.store().cases().at(case_id);
  ASSERT_EQ(raised.policy(), "test-urgent");
  bool seen = false;
  for (const v1::MilestoneState& m : raised.milestones()) {
    if (m.name() != "resolve") continue;
    seen = true;
    EXPECT_EQ(m.paused_total_ms(), 10 * kMinute) << "the first wait is kept";
    EXPECT_TRUE(m.paused());
    EXPECT_EQ(m.paused_since_ms(), second_pause) << "the wait in progress began before the rise";
    EXPECT_EQ(m.deadline_ms(), opened + 4 * kHour + 10 * kMinute);
  }
  EXPECT_TRUE(seen);
  h.Send(tb::MakeCaseAction(kC1, second_pause + 20 * kMinute, v1::CaseAction::AWAITING_CUSTOMER_OFF,
                            case_id));
  for (const v1::MilestoneState& m : h.store().cases().at(case_id).milestones()) {
    if (m.name() == "resolve") {
      EXPECT_EQ(m.deadline_ms(), opened + 4 * kHour + 30 * kMinute) << "both waits count";
    }
  }
}

TEST(SeverityTest, RepeatCountMakesHigh) {
  Harness h;
  FakeClock k;
  for (int i = 0; i < 3; ++i) {
    h.Send(tb::MakeFlagComplaint({.contact_id = absl::StrCat("c", i), .customer_id = "u1"},
                                 k.Advance(kMinute)));
  }
  ASSERT_EQ(h.store().cases().size(), 1u);
  EXPECT_EQ(h.store().cases().begin()->second.repeat_count(), 2);
  EXPECT_EQ(h.store().cases().begin()->second.severity(), v1::HIGH);
}

TEST(CaseTest, LodgedComplaintOpensMediumCaseWithReason) {
  Harness h;
  FakeClock k;
  Effects fx = h.Send(tb::MakeComplaintLodged(kC1, k.NowMs(), "cards"));
  ASSERT_EQ(AlertsOf(fx, v1::CASE_OPENED).size(), 1u);
  const v1::Alert& a = *AlertsOf(fx, v1::CASE_OPENED)[0];
  EXPECT_EQ(a.severity(), v1::MEDIUM);
  ASSERT_EQ(a.reasons_size(), 1);
  EXPECT_EQ(a.reasons(0).cue(), kCueComplaintLodged);
  EXPECT_TRUE(h.store().contacts().empty());
}

// ---- Lifecycle --------------------------------------------------------------------------------

using Kind = v1::CaseAction::Kind;
constexpr Kind kAck = v1::CaseAction::ACKNOWLEDGE;
constexpr Kind kInv = v1::CaseAction::START_INVESTIGATION;
constexpr Kind kRefer = v1::CaseAction::REFER;
constexpr Kind kResolve = v1::CaseAction::RESOLVE;
constexpr Kind kFollow = v1::CaseAction::FOLLOW_UP;
constexpr Kind kClose = v1::CaseAction::CLOSE;
constexpr Kind kReopen = v1::CaseAction::REOPEN;
constexpr Kind kNote = v1::CaseAction::NOTE;
constexpr Kind kAwaitOn = v1::CaseAction::AWAITING_CUSTOMER_ON;
constexpr Kind kAwaitOff = v1::CaseAction::AWAITING_CUSTOMER_OFF;

struct TransitionCase {
  std::string name;
  std::vector<Kind> path;  // valid actions bringing the case to the state under test
  Kind action;
  std::optional<v1::CaseState> expected;  // nullopt: refused
};

class LifecycleTest : public ::testing::TestWithParam<TransitionCase> {};

TEST_P(LifecycleTest, AppliesValidAndRefusesInvalid) {
  const TransitionCase& tc = GetParam();
  Harness h;
  FakeClock k;
  h.Send(tb::MakeFlagComplaint(kC1, k.NowMs()));
  const std::string case_id = h.store().cases().begin()->first;
  for (Kind step : tc.path) {
    Effects fx = h.Send(tb::MakeCaseAction(kC1, k.Advance(kMinute), step, case_id));
    ASSERT_TRUE(OutcomesOf(fx, OutcomeKind::kInvalidTransition).empty())
        << v1::CaseAction::Kind_Name(step);
  }
  const v1::ComplaintCase before = h.store().cases().at(case_id);
  const v1::ContactEvent event =
      tb::MakeCaseAction(kC1, k.Advance(kMinute), tc.action, case_id, "lead-7");
  Effects fx = h.Send(event);
  const v1::ComplaintCase& after = h.store().cases().at(case_id);
  const v1::AuditEntry& last = after.audit(after.audit_size() - 1);
  EXPECT_EQ(last.event_id(), event.event_id());
  EXPECT_EQ(last.actor(), "lead-7");
  EXPECT_EQ(last.time_ms(), event.event_time_ms());
  if (tc.expected.has_value()) {
    EXPECT_EQ(after.state(), *tc.expected);
    EXPECT_EQ(after.invalid_transitions(), 0);
    EXPECT_TRUE(OutcomesOf(fx, OutcomeKind::kInvalidTransition).empty());
    if (*tc.expected != before.state()) {
      ASSERT_EQ(OutcomesOf(fx, OutcomeKind::kCaseTransition).size(), 1u);
      EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kCaseTransition)[0]->state, *tc.expected);
    }
  } else {
    EXPECT_EQ(after.state(), before.state());
    EXPECT_EQ(after.awaiting_customer(), before.awaiting_customer());
    EXPECT_EQ(after.invalid_transitions(), 1);
    EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kInvalidTransition).size(), 1u);
    EXPECT_THAT(last.what(), ::testing::StartsWith("refused "));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, LifecycleTest,
    ::testing::Values(
        TransitionCase{"open_ack", {}, kAck, v1::ACKNOWLEDGED},
        TransitionCase{"open_investigate_refused", {}, kInv, std::nullopt},
        TransitionCase{"open_resolve_refused", {}, kResolve, std::nullopt},
        TransitionCase{"open_close_refused", {}, kClose, std::nullopt},
        TransitionCase{"open_reopen_refused", {}, kReopen, std::nullopt},
        TransitionCase{"open_note", {}, kNote, v1::OPEN},
        TransitionCase{"ack_investigate", {kAck}, kInv, v1::INVESTIGATING},
        TransitionCase{"ack_ack_refused", {kAck}, kAck, std::nullopt},
        TransitionCase{"ack_refer_refused", {kAck}, kRefer, std::nullopt},
        TransitionCase{"investigating_refer", {kAck, kInv}, kRefer, v1::REFERRED},
        TransitionCase{"investigating_resolve", {kAck, kInv}, kResolve, v1::RESOLVED},
        TransitionCase{"investigating_follow_up_refused", {kAck, kInv}, kFollow, std::nullopt},
        TransitionCase{"referred_investigate", {kAck, kInv, kRefer}, kInv, v1::INVESTIGATING},
        TransitionCase{"referred_resolve", {kAck, kInv, kRefer}, kResolve, v1::RESOLVED},
        TransitionCase{"resolved_follow_up", {kAck, kInv, kResolve}, kFollow, v1::FOLLOWED_UP},
        TransitionCase{"resolved_close", {kAck, kInv, kResolve}, kClose, v1::CLOSED},
        TransitionCase{"resolved_reopen", {kAck, kInv, kResolve}, kReopen, v1::REOPENED},
        TransitionCase{"resolved_await_refused", {kAck, kInv, kResolve}, kAwaitOn, std::nullopt},
        TransitionCase{"followed_up_close", {kAck, kInv, kResolve, kFollow}, kClose, v1::CLOSED},
        TransitionCase{
            "followed_up_reopen", {kAck, kInv, kResolve, kFollow}, kReopen, v1::REOPENED},
        TransitionCase{"closed_reopen", {kAck, kInv, kResolve, kClose}, kReopen, v1::REOPENED},
        TransitionCase{"closed_ack_refused", {kAck, kInv, kResolve, kClose}, kAck, std::nullopt},
        TransitionCase{
            "closed_close_refused", {kAck, kInv, kResolve, kClose}, kClose, std::nullopt},
        TransitionCase{"reopened_ack", {kAck, kInv, kResolve, kReopen}, kAck, v1::ACKNOWLEDGED},
        TransitionCase{
            "reopened_resolve_refused", {kAck, kInv, kResolve, kReopen}, kResolve, std::nullopt},
        TransitionCase{"await_on", {kAck}, kAwaitOn, v1::ACKNOWLEDGED},
        TransitionCase{"await_on_twice_refused", {kAck, kAwaitOn}, kAwaitOn, std::nullopt},
        TransitionCase{"await_off", {kAck, kAwaitOn}, kAwaitOff, v1::ACKNOWLEDGED},
        TransitionCase{"await_off_not_waiting_refused", {kAck}, kAwaitOff, std::nullopt}),
    [](const ::testing::TestParamInfo<TransitionCase>& info) { return info.param.name; });

TEST(LifecycleTest, UnknownCaseIsCountedNotApplied) {
  Harness h;
  FakeClock k;
  Effects fx = h.Send(tb::MakeCaseAction(kC1, k.NowMs(), kAck, "case-nope"));
  EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kUnknownCase).size(), 1u);
  EXPECT_TRUE(h.store().cases().empty());
}

struct AttachCase {
  std::string name;
  std::vector<Kind> path;  // actions bringing the case to the state under test
  v1::CaseState expected;  // state after a new complaint of the same category attaches
};

class AttachStateTest : public ::testing::TestWithParam<AttachCase> {};

// A new complaint attaches to the customer's open case of the category; a resolved (or followed
// up) case is reopened by it, with an audit entry and its clocks restarted.
TEST_P(AttachStateTest, NewComplaintReopensAResolvedCase) {
  const AttachCase& tc = GetParam();
  Harness h;
  FakeClock k;
  h.Send(tb::MakeFlagComplaint(kC1, k.NowMs()));
  const std::string id = h.store().cases().begin()->first;
  for (Kind step : tc.path) h.Send(tb::MakeCaseAction(kC1, k.Advance(kMinute), step, id));
  const v1::CaseState before = h.store().cases().at(id).state();

  Effects fx =
      h.Send(tb::MakeFlagComplaint({.contact_id = "c2", .customer_id = "u1"}, k.Advance(kMinute)));
  ASSERT_EQ(h.store().cases().size(), 1u);
  const v1::ComplaintCase& c = h.store().cases().at(id);
  EXPECT_EQ(c.repeat_count(), 1);
  EXPECT_EQ(c.state(), tc.expected);
  const std::vector<const Outcome*> transitions = OutcomesOf(fx, OutcomeKind::kCaseTransition);
  bool audited = false;
  for (const v1::AuditEntry& entry : c.audit()) audited |= entry.what() == "transition REOPENED";
  if (tc.expected == before) {
    EXPECT_TRUE(transitions.empty());
    EXPECT_FALSE(audited);
    return;
  }
  ASSERT_EQ(transitions.size(), 1u);
  EXPECT_EQ(transitions[0]->state, v1::REOPENED);
  EXPECT_TRUE(audited);
  int open_delta = 0;  // it was never closed: the open-case gauge moves only between labels
  for (const Outcome* o : OutcomesOf(fx, OutcomeKind::kOpenCasesDelta)) open_delta += o->delta;
  EXPECT_EQ(open_delta, 0);
  bool acknowledge_running = false;
  for (const v1::MilestoneState& m : c.milestones()) {
    if (m.name() == "acknowledge") acknowledge_running = !m.completed();
    if (m.name() == "follow_up") {
      EXPECT_TRUE(m.completed());
    }
  }
  EXPECT_TRUE(acknowledge_running);
  // The reopened case takes the usual actions again.
  fx = h.Send(tb::MakeCaseAction(kC1, k.Advance(kMinute), kAck, id));
  EXPECT_TRUE(OutcomesOf(fx, OutcomeKind::kInvalidTransition).empty());
  EXPECT_EQ(h.store().cases().at(id).state(), v1::ACKNOWLEDGED);
}

INSTANTIATE_TEST_SUITE_P(
    States, AttachStateTest,
    ::testing::Values(AttachCase{"open", {}, v1::OPEN},
                      AttachCase{"acknowledged", {kAck}, v1::ACKNOWLEDGED},
                      AttachCase{"investigating", {kAck, kInv}, v1::INVESTIGATING},
                      AttachCase{"resolved", {kAck, kInv, kResolve}, v1::REOPENED},
                      AttachCase{"followed_up", {kAck, kInv, kResolve, kFollow}, v1::REOPENED}),
    [](const ::testing::TestParamInfo<AttachCase>& info) { return info.param.name; });

TEST(LifecycleTest, ReopenRefusedWhenAnotherCaseOfTheCategoryIsOpen) {
  Harness h;
  FakeClock k;
  h.Send(tb::MakeFlagComplaint(kC1, k.NowMs()));
  const std::string first = h.store().cases().begin()->first;
  for (Kind step : {kAck, kInv, kResolve, kClose}) {
    h.Send(tb::MakeCaseAction(kC1, k.Advance(kMinute), step, first));
  }
  h.Send(tb::MakeFlagComplaint({.contact_id = "c2", .customer_id = "u1"}, k.Advance(kMinute)));
  ASSERT_EQ(h.store().cases().size(), 2u);
  Effects fx = h.Send(tb::MakeCaseAction(kC1, k.Advance(kMinute), kReopen, first));
  EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kInvalidTransition).size(), 1u);
  EXPECT_EQ(h.store().cases().at(first).state(), v1::CLOSED);
}

TEST(LifecycleTest, OpenCaseGaugeDeltasBalance) {
  Harness h;
  FakeClock k;
  Effects all;
  auto send = [&](const v1::ContactEvent& e) { Harness::Append(all, h.Send(e)); };
  send(tb::MakeFlagComplaint(kC1, k.NowMs()));
  const std::string id = h.store().cases().begin()->first;
  send(tb::MakeTurn(kC1, k.AdvanceSeconds(5), Text("OMBUDSMAN")));  // LOW -> HIGH
  for (Kind step : {kAck, kInv, kResolve, kClose, kReopen, kAck, kInv, kResolve, kClose}) {
    send(tb::MakeCaseAction(kC1, k.Advance(kMinute), step, id));
  }
  std::map<std::pair<int, std::string>, int> gauge;
  for (const Outcome* o : OutcomesOf(all, OutcomeKind::kOpenCasesDelta)) {
    gauge[{o->severity, o->category}] += o->delta;
  }
  for (const auto& [key, value] : gauge) EXPECT_EQ(value, 0) << key.first;
  EXPECT_EQ(OutcomesOf(all, OutcomeKind::kCaseClosed).size(), 2u);
}

// ---- Case SLA milestones ------------------------------------------------------------------------

TEST(CaseSlaTest, WarningsBreachAndLadderEachOnce) {
  Harness h;
  FakeClock k;
  const int64_t opened = k.NowMs();
  h.Send(tb::MakeFlagComplaint(kC1, opened));
  const std::string id = h.store().cases().begin()->first;
  EXPECT_FALSE(h.store().timers().empty());
  Effects fx = h.FireUntil(opened + 3 * kHour);
  std::vector<std::pair<std::string, double>> ack;
  for (const v1::Alert& a : fx.alerts) {
    EXPECT_EQ(a.case_id(), id);
    if (a.milestone() == "acknowledge")
      ack.emplace_back(v1::AlertKind_Name(a.kind()), a.fraction());
  }
  // 0.5, 0.75, 0.9 of 1h, the breach, then the ladder (team_lead at once, manager +30m).
  ASSERT_EQ(ack.size(), 6u);
  EXPECT_EQ(ack[0], std::make_pair(std::string("SLA_WARNING"), 0.5));
  EXPECT_EQ(ack[1], std::make_pair(std::string("SLA_WARNING"), 0.75));
  EXPECT_EQ(ack[2], std::make_pair(std::string("SLA_WARNING"), 0.9));
  EXPECT_EQ(ack[3].first, "SLA_BREACH");
  EXPECT_EQ(ack[4].first, "SLA_ESCALATION");
  EXPECT_EQ(ack[5].first, "SLA_ESCALATION");
  for (const v1::Alert* a : AlertsOf(fx, v1::SLA_BREACH)) {
    if (a->milestone() == "acknowledge") {
      EXPECT_EQ(a->deadline_ms(), opened + kHour);
    }
  }
  std::set<std::string> ids;
  for (const v1::Alert& a : fx.alerts) EXPECT_TRUE(ids.insert(a.alert_id()).second);
  EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kSlaBreach).size(), AlertsOf(fx, v1::SLA_BREACH).size());
  // Firing again raises nothing for acknowledge.
  Effects again = h.FireUntil(opened + 3 * kHour);
  EXPECT_TRUE(again.alerts.empty());
}

TEST(CaseSlaTest, AcknowledgeInTimeStopsItsClock) {
  Harness h;
  FakeClock k;
  const int64_t opened = k.NowMs();
  h.Send(tb::MakeFlagComplaint(kC1, opened));
  const std::string id = h.store().cases().begin()->first;
  Effects fx = h.Send(tb::MakeCaseAction(kC1, opened + 20 * kMinute, kAck, id));
  ASSERT_EQ(OutcomesOf(fx, OutcomeKind::kSlaMet).size(), 1u);
  EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kSlaMet)[0]->milestone, "acknowledge");
  fx = h.FireUntil(opened + 5 * kHour);
  for (const v1::Alert& a : fx.alerts) EXPECT_NE(a.milestone(), "acknowledge");
  // Keep-informed restarted at the acknowledgement: its breach is 2h after it.
  bool keep_breach = false;
  for (const v1::Alert* a : AlertsOf(fx, v1::SLA_BREACH)) {
    if (a->milestone() == "keep_informed") {
      EXPECT_EQ(a->deadline_ms(), opened + 20 * kMinute + 2 * kHour);
      keep_breach = true;
    }
  }
  EXPECT_TRUE(keep_breach);
}

TEST(CaseSlaTest, PauseWhileAwaitingCustomerMovesTheDeadline) {
  Harness h;
  FakeClock k;
  const int64_t opened = k.NowMs();
  h.Send(tb::MakeFlagComplaint(kC1, opened));
  const std::string id = h.store().cases().begin()->first;
  h.Send(tb::MakeCaseAction(kC1, opened + 10 * kMinute, kAck, id));
  h.Send(tb::MakeCaseAction(kC1, opened + 20 * kMinute, kInv, id));
  h.Send(tb::MakeCaseAction(kC1, opened + 1 * kHour, kAwaitOn, id));
  Effects paused = h.FireUntil(opened + 30 * kHour);
  EXPECT_TRUE(AlertsOf(paused, v1::SLA_BREACH).empty());
  h.Send(tb::MakeCaseAction(kC1, opened + 30 * kHour, kAwaitOff, id));
  Effects fx = h.FireUntil(opened + 60 * kHour);
  bool resolve_breach = false;
  for (const v1::Alert* a : AlertsOf(fx, v1::SLA_BREACH)) {
    if (a->milestone() == "resolve") {
      // 10h target, 29h paused.
      EXPECT_EQ(a->deadline_ms(), opened + 39 * kHour);
      resolve_breach = true;
    }
  }
  EXPECT_TRUE(resolve_breach);
}

TEST(CaseSlaTest, FollowUpStartsAtResolvedAndCompletesOnFollowUp) {
  Harness h;
  FakeClock k;
  const int64_t opened = k.NowMs();
  h.Send(tb::MakeFlagComplaint(kC1, opened));
  const std::string id = h.store().cases().begin()->first;
  auto has_follow_up = [&]() {
    for (const v1::MilestoneState& m : h.store().cases().at(id).milestones()) {
      if (m.name() == "follow_up") return true;
    }
    return false;
  };
  EXPECT_FALSE(has_follow_up());
  h.Send(tb::MakeCaseAction(kC1, opened + 5 * kMinute, kAck, id));
  h.Send(tb::MakeCaseAction(kC1, opened + 6 * kMinute, kInv, id));
  Effects fx = h.Send(tb::MakeCaseAction(kC1, opened + 2 * kHour, kResolve, id));
  EXPECT_TRUE(has_follow_up());
  bool resolve_met = false;
  for (const Outcome* o : OutcomesOf(fx, OutcomeKind::kSlaMet)) {
    resolve_met |= o->milestone == "resolve";
  }
  EXPECT_TRUE(resolve_met);
  fx = h.Send(tb::MakeCaseAction(kC1, opened + 3 * kHour, kFollow, id));
  ASSERT_EQ(OutcomesOf(fx, OutcomeKind::kSlaMet).size(), 1u);
  EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kSlaMet)[0]->milestone, "follow_up");
  // Nothing left running: no timers for the case.
  for (const auto& [key, timer] : h.store().timers()) EXPECT_NE(timer.case_id(), id);
}

TEST(CaseSlaTest, RetentionDeletesClosedCase) {
  v1::DomainConfig config = TestConfig();
  config.set_closed_case_retention_s(3600);
  Harness h(config);
  FakeClock k;
  const int64_t opened = k.NowMs();
  h.Send(tb::MakeFlagComplaint(kC1, opened));
  const std::string id = h.store().cases().begin()->first;
  for (Kind step : {kAck, kInv, kResolve, kClose}) {
    h.Send(tb::MakeCaseAction(kC1, k.Advance(kMinute), step, id));
  }
  const int64_t closed = k.NowMs();
  h.FireUntil(closed + 3599 * kSecond);
  EXPECT_EQ(h.store().cases().count(id), 1u);
  Effects fx = h.FireUntil(closed + kHour);
  EXPECT_EQ(h.store().cases().count(id), 0u);
  EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kCaseExpired).size(), 1u);
  for (const auto& [key, timer] : h.store().timers()) EXPECT_NE(timer.case_id(), id);
  for (const auto& [key, customer] : h.store().customers()) {
    EXPECT_TRUE(customer.case_ids().empty());
  }
}

// ---- Live-contact clocks --------------------------------------------------------------------

struct LiveCase {
  std::string name;
  v1::Channel channel;
  std::function<void(Harness&, const ContactRef&, int64_t)> scenario;
  std::vector<std::string> breaches;  // clocks expected to breach by t0 + 2h
  std::vector<std::string> warnings;  // "<clock>@<fraction>" expected, in order
};

class LiveSlaTest : public ::testing::TestWithParam<LiveCase> {};

TEST_P(LiveSlaTest, BreachesOnlyWhileTheConditionLasts) {
  const LiveCase& lc = GetParam();
  Harness h;
  const int64_t t0 = FakeClock::kDefaultStartMs;
  ContactRef ref{.contact_id = "c1", .customer_id = "u1", .channel = lc.channel};
  lc.scenario(h, ref, t0);
  h.FireUntil(t0 + 2 * kHour);
  const Effects& all = h.log();
  std::vector<std::string> clocks;
  for (const v1::Alert* a : AlertsOf(all, v1::LIVE_SLA_BREACH)) clocks.push_back(a->milestone());
  EXPECT_EQ(clocks, lc.breaches);
  EXPECT_EQ(OutcomesOf(all, OutcomeKind::kLiveSlaBreach).size(), lc.breaches.size());
  // Each breach's alert outcome carries the same queue label as its breach outcome.
  std::vector<std::string> breach_queues;
  for (const Outcome* o : OutcomesOf(all, OutcomeKind::kLiveSlaBreach)) {
    EXPECT_FALSE(o->queue.empty());
    breach_queues.push_back(o->queue);
  }
  std::vector<std::string> alert_queues;
  for (const Outcome* o : OutcomesOf(all, OutcomeKind::kAlert)) {
    if (o->alert_kind == v1::LIVE_SLA_BREACH) alert_queues.push_back(o->queue);
  }
  EXPECT_EQ(alert_queues, breach_queues);

  // Warnings at 50 %, 75 % and 90 % of the limit (the default fractions) while the condition
  // lasts, each once, before the breach; each with its deadline and an outcome of its own.
  std::vector<std::string> warnings;
  for (const v1::Alert* a : AlertsOf(all, v1::LIVE_SLA_WARNING)) {
    warnings.push_back(absl::StrCat(a->milestone(), "@", a->fraction()));
    EXPECT_EQ(a->contact_id(), "c1");
    EXPECT_GT(a->deadline_ms(), a->event_time_ms()) << "a warning comes before the deadline";
  }
  EXPECT_EQ(warnings, lc.warnings);
  std::vector<std::string> warning_outcomes;
  for (const Outcome* o : OutcomesOf(all, OutcomeKind::kLiveSlaWarning)) {
    warning_outcomes.push_back(absl::StrCat(o->milestone, "@", o->fraction));
  }
  EXPECT_EQ(warning_outcomes, lc.warnings);
  // A live clock keeps one pending timer at most.
  int live_timers = 0;
  for (const auto& [key, timer] : h.store().timers()) {
    if (timer.kind() == v1::CONTACT_LIVE_SLA) ++live_timers;
  }
  EXPECT_EQ(live_timers, 0) << "every clock ended or breached by t0 + 2h";
}

INSTANTIATE_TEST_SUITE_P(
    Clocks, LiveSlaTest,
    ::testing::Values(LiveCase{"queue_wait_breach",
                               v1::VOICE,
                               [](Harness& h, const ContactRef& r, int64_t t) {
                                 h.Send(tb::MakeQueued(r, t));
                                 h.Send(tb::MakeAnswered(r, t + 25 * kSecond));
                               },
                               {"queue_wait"},
                               {"queue_wait@0.5", "queue_wait@0.75", "queue_wait@0.9"}},
                      LiveCase{"queue_wait_met",
                               v1::VOICE,
                               [](Harness& h, const ContactRef& r, int64_t t) {
                                 h.Send(tb::MakeQueued(r, t));
                                 h.Send(tb::MakeAnswered(r, t + 15 * kSecond));
                               },
                               {},
                               {"queue_wait@0.5", "queue_wait@0.75"}},
                      LiveCase{"abandoned_cancels",
                               v1::VOICE,
                               [](Harness& h, const ContactRef& r, int64_t t) {
                                 h.Send(tb::MakeQueued(r, t));
                                 h.Send(tb::MakeAbandoned(r, t + 10 * kSecond));
                               },
                               {},
                               {"queue_wait@0.5"}},
                      LiveCase{"chat_first_response_breach",
                               v1::CHAT,
                               [](Harness& h, const ContactRef& r, int64_t t) {
                                 h.Send(tb::MakeAnswered(r, t));
                                 h.Send(tb::MakeAgentTurn(r, t + 90 * kSecond));
                               },
                               {"chat_first_response"},
                               {"chat_first_response@0.5", "chat_first_response@0.75",
                                "chat_first_response@0.9"}},
                      LiveCase{"chat_first_response_met",
                               v1::CHAT,
                               [](Harness& h, const ContactRef& r, int64_t t) {
                                 h.Send(tb::MakeAnswered(r, t));
                                 h.Send(tb::MakeAgentTurn(r, t + 30 * kSecond));
                               },
                               {},
                               {"chat_first_response@0.5"}},
                      LiveCase{"social_first_response_breach",
                               v1::SOCIAL,
                               [](Harness& h, const ContactRef& r, int64_t t) {
                                 h.Send(tb::MakeCustomerTurn(r, t, 0.0f));
                               },
                               {"social_first_response"},
                               {"social_first_response@0.5", "social_first_response@0.75",
                                "social_first_response@0.9"}},
                      LiveCase{"social_first_response_met",
                               v1::SOCIAL,
                               [](Harness& h, const ContactRef& r, int64_t t) {
                                 h.Send(tb::MakeCustomerTurn(r, t, 0.0f));
                                 h.Send(tb::MakeAgentTurn(r, t + 30 * kMinute));
                               },
                               {},
                               {"social_first_response@0.5"}},
                      LiveCase{"hold_breach",
                               v1::VOICE,
                               [](Harness& h, const ContactRef& r, int64_t t) {
                                 h.Send(tb::MakeAnswered(r, t));
                                 h.Send(tb::MakeHoldStarted(r, t + kSecond));
                                 h.Send(tb::MakeHoldEnded(r, t + 200 * kSecond));
                               },
                               {"hold"},
                               {"hold@0.5", "hold@0.75", "hold@0.9"}},
                      LiveCase{"hold_short",
                               v1::VOICE,
                               [](Harness& h, const ContactRef& r, int64_t t) {
                                 h.Send(tb::MakeAnswered(r, t));
                                 h.Send(tb::MakeHoldStarted(r, t + kSecond));
                                 h.Send(tb::MakeHoldEnded(r, t + 60 * kSecond));
                               },
                               {},
                               {}}),
    [](const ::testing::TestParamInfo<LiveCase>& info) { return info.param.name; });

// A live clock's timer fired late (the service was down, or the event-time clock jumped)
// raises only the latest step already due, then waits for the next one.
TEST(LiveSlaTest, ALateTimerRaisesOnlyTheLatestStepDue) {
  Harness h;
  const int64_t t0 = FakeClock::kDefaultStartMs;
  ContactRef ref{.contact_id = "c1", .customer_id = "u1", .queue = "billing"};
  h.Send(tb::MakeQueued(ref, t0));
  std::optional<v1::Timer> first = h.store().NextTimer();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->due_ms(), t0 + 10 * kSecond) << "the 50 % warning of the 20 s threshold";

  absl::StatusOr<Effects> late = h.engine().OnTimer(*first, t0 + 19 * kSecond, h.store());
  ASSERT_TRUE(late.ok()) << late.status();
  ASSERT_EQ(late->alerts.size(), 1u) << "one warning, not three";
  EXPECT_EQ(late->alerts[0].kind(), v1::LIVE_SLA_WARNING);
  EXPECT_DOUBLE_EQ(late->alerts[0].fraction(), 0.9);
  EXPECT_EQ(late->alerts[0].deadline_ms(), t0 + 20 * kSecond);
  EXPECT_EQ(late->alerts[0].queue(), "billing");
  std::optional<v1::Timer> next = h.store().NextTimer();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->due_ms(), t0 + 20 * kSecond) << "then the breach";

  absl::StatusOr<Effects> breach = h.engine().OnTimer(*next, t0 + 25 * kSecond, h.store());
  ASSERT_TRUE(breach.ok()) << breach.status();
  ASSERT_EQ(breach->alerts.size(), 1u);
  EXPECT_EQ(breach->alerts[0].kind(), v1::LIVE_SLA_BREACH);
  EXPECT_EQ(breach->alerts[0].event_time_ms(), t0 + 20 * kSecond);
  EXPECT_FALSE(h.store().NextTimer().has_value()) << "nothing left after the breach";

  // Past the deadline, a warning timer raises the breach straight away.
  ContactRef other{.contact_id = "c2", .customer_id = "u2"};
  h.Send(tb::MakeQueued(other, t0 + kHour));
  std::optional<v1::Timer> warning = h.store().NextTimer();
  ASSERT_TRUE(warning.has_value());
  absl::StatusOr<Effects> very_late = h.engine().OnTimer(*warning, t0 + 2 * kHour, h.store());
  ASSERT_TRUE(very_late.ok()) << very_late.status();
  ASSERT_EQ(very_late->alerts.size(), 1u);
  EXPECT_EQ(very_late->alerts[0].kind(), v1::LIVE_SLA_BREACH);
  EXPECT_FALSE(h.store().NextTimer().has_value());
}

// A live clock's timer that no longer matches its contact (the contact is gone, or holds
// another timer) raises nothing and leaves the store as it was: no write of the contact, and the
// contact is not left taken (the next event of the batch reads it as usual).
TEST(LiveSlaTest, AStaleTimerLeavesTheContactAsItWas) {
  Harness h;
  const int64_t t0 = FakeClock::kDefaultStartMs;
  ContactRef ref{.contact_id = "c1", .customer_id = "u1", .queue = "billing"};
  h.Send(tb::MakeQueued(ref, t0));
  std::optional<v1::Timer> held = h.store().NextTimer();
  ASSERT_TRUE(held.has_value());
  const std::string before = h.store().Dump();
  const int64_t puts = h.store().contact_puts();

  // Each under a timer key of its own (the engine deletes the timer it fires).
  v1::Timer of_a_gone_contact = *held;
  of_a_gone_contact.set_contact_id("gone");
  of_a_gone_contact.set_timer_id("contact/gone/queue_wait/1");
  v1::Timer not_held = *held;
  not_held.set_timer_id(held->timer_id() + "-earlier");
  for (const v1::Timer& stale : {of_a_gone_contact, not_held}) {
    absl::StatusOr<Effects> fx = h.engine().OnTimer(stale, t0 + 9 * kSecond, h.store());
    ASSERT_TRUE(fx.ok()) << fx.status();
    EXPECT_TRUE(fx->alerts.empty());
    EXPECT_EQ(h.store().contact_puts(), puts) << stale.contact_id();
    EXPECT_EQ(h.store().Dump(), before) << stale.contact_id();
  }

  // The batch goes on: the contact is answered and its queue clock stops.
  h.Send(tb::MakeAnswered(ref, t0 + 9 * kSecond));
  EXPECT_GT(h.store().contact_puts(), puts);
  EXPECT_FALSE(h.store().NextTimer().has_value() &&
               h.store().NextTimer()->kind() == v1::CONTACT_LIVE_SLA);
}

TEST(LiveSlaTest, WarningsFollowTheLiveConfiguration) {
  const int64_t t0 = FakeClock::kDefaultStartMs;
  ContactRef ref{.contact_id = "c1", .customer_id = "u1"};
  struct Case {
    std::string name;
    std::function<void(v1::LiveSlaConfig&)> configure;
    std::vector<double> fractions;
  };
  const std::vector<Case> cases = {
      {"own fractions", [](v1::LiveSlaConfig& l) { l.add_warning_fractions(0.8); }, {0.8}},
      {"warn false", [](v1::LiveSlaConfig& l) { l.set_warn(false); }, {}},
  };
  for (const Case& c : cases) {
    v1::DomainConfig config = TestConfig();
    c.configure(*config.mutable_sla()->mutable_live());
    Harness h(config);
    h.Send(tb::MakeQueued(ref, t0));
    h.FireUntil(t0 + kHour);
    std::vector<double> fractions;
    for (const v1::Alert* a : AlertsOf(h.log(), v1::LIVE_SLA_WARNING)) {
      fractions.push_back(a->fraction());
    }
    EXPECT_EQ(fractions, c.fractions) << c.name;
    EXPECT_EQ(AlertsOf(h.log(), v1::LIVE_SLA_BREACH).size(), 1u) << c.name;
  }
}

// The queue-wait clock runs on the service-level threshold unless it is set on its own.
TEST(LiveSlaTest, QueueWaitFollowsTheServiceLevelThreshold) {
  const int64_t t0 = FakeClock::kDefaultStartMs;
  v1::DomainConfig config = TestConfig();
  config.set_service_level_threshold_s(30);
  config.mutable_sla()->mutable_live()->set_warn(false);
  Harness h(config);
  h.Send(tb::MakeQueued({.contact_id = "c1", .customer_id = "u1"}, t0));
  h.FireUntil(t0 + kHour);
  const std::vector<const v1::Alert*> breaches = AlertsOf(h.log(), v1::LIVE_SLA_BREACH);
  ASSERT_EQ(breaches.size(), 1u);
  EXPECT_EQ(breaches[0]->deadline_ms(), t0 + 30 * kSecond);
}

// ---- KPIs ------------------------------------------------------------------------------------

TEST(KpiTest, ContactOutcomes) {
  Harness h;
  const int64_t t = FakeClock::kDefaultStartMs;
  ContactRef fast{.contact_id = "fast", .customer_id = "u1", .queue = "billing"};
  ContactRef slow{.contact_id = "slow", .customer_id = "u2", .queue = "billing"};
  ContactRef gone{.contact_id = "gone", .customer_id = "u3", .queue = "sales", .channel = v1::CHAT};
  Effects all;
  auto send = [&](const v1::ContactEvent& e) { Harness::Append(all, h.Send(e)); };
  send(tb::MakeQueued(fast, t));
  send(tb::MakeQueued(slow, t));
  send(tb::MakeQueued(gone, t));
  send(tb::MakeAnswered(fast, t + 10 * kSecond));
  send(tb::MakeAbandoned(gone, t + 15 * kSecond));
  send(tb::MakeAnswered(slow, t + 30 * kSecond));
  send(tb::MakeHoldStarted(fast, t + 40 * kSecond));
  send(tb::MakeHoldEnded(fast, t + 70 * kSecond));
  send(tb::MakeEnded(fast, t + 310 * kSecond));
  send(tb::MakeSurvey(fast, t + 400 * kSecond, 4));
  send(tb::MakeSurvey({.contact_id = "expired", .customer_id = "u9", .queue = "sales"},
                      t + 400 * kSecond, 2));
  send(tb::MakeQueued({.contact_id = "again", .customer_id = "u1"}, t + kDay));

  EXPECT_EQ(OutcomesOf(all, OutcomeKind::kContactOffered).size(), 4u);
  ASSERT_EQ(OutcomesOf(all, OutcomeKind::kContactAnswered).size(), 2u);
  ASSERT_EQ(OutcomesOf(all, OutcomeKind::kAnsweredWithinThreshold).size(), 1u);
  EXPECT_DOUBLE_EQ(OutcomesOf(all, OutcomeKind::kAnsweredWithinThreshold)[0]->value, 10);
  std::vector<double> waits;
  for (const Outcome* o : OutcomesOf(all, OutcomeKind::kWaitTime)) waits.push_back(o->value);
  EXPECT_THAT(waits, ::testing::ElementsAre(10, 30));
  ASSERT_EQ(OutcomesOf(all, OutcomeKind::kContactAbandoned).size(), 1u);
  EXPECT_EQ(OutcomesOf(all, OutcomeKind::kContactAbandoned)[0]->queue, "sales");
  EXPECT_EQ(OutcomesOf(all, OutcomeKind::kContactAbandoned)[0]->channel, v1::CHAT);
  ASSERT_EQ(OutcomesOf(all, OutcomeKind::kHandleTime).size(), 1u);
  EXPECT_DOUBLE_EQ(OutcomesOf(all, OutcomeKind::kHandleTime)[0]->value, 300);  // hold included
  ASSERT_EQ(OutcomesOf(all, OutcomeKind::kCsatResponse).size(), 2u);
  EXPECT_EQ(OutcomesOf(all, OutcomeKind::kCsatResponse)[0]->score, 4);
  EXPECT_EQ(OutcomesOf(all, OutcomeKind::kCsatResponse)[0]->queue, "billing");
  EXPECT_EQ(OutcomesOf(all, OutcomeKind::kCsatResponse)[1]->score, 2);
  EXPECT_EQ(OutcomesOf(all, OutcomeKind::kCsatResponse)[1]->queue, "sales");
  ASSERT_EQ(OutcomesOf(all, OutcomeKind::kRepeatContact).size(), 1u);
  EXPECT_EQ(OutcomesOf(all, OutcomeKind::kRepeatContact)[0]->queue, "billing");
}

TEST(KpiTest, UnknownQueuesAreLabelledOtherWhenQueuesAreListed) {
  v1::DomainConfig config = TestConfig();
  config.add_queues()->set_name("billing");
  Harness h(config);
  Effects fx = h.Send(tb::MakeQueued({.contact_id = "c", .customer_id = "u", .queue = "x-123"},
                                     FakeClock::kDefaultStartMs));
  ASSERT_EQ(OutcomesOf(fx, OutcomeKind::kContactOffered).size(), 1u);
  EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kContactOffered)[0]->queue, "other");
}

// ---- Data protection ----------------------------------------------------------------------------

TEST(PrivacyTest, NoRawCustomerIdOrTextInStateOrAlerts) {
  Harness h;
  FakeClock k;
  const std::string raw = "CUSTOMER-RAW-ID-4242";
  const std::string secret_text = "NEG COMPLAINT MANAGER my card 4111111111111111";
  ContactRef ref{.contact_id = "c1", .customer_id = raw};
  Effects all;
  auto send = [&](const v1::ContactEvent& e) { Harness::Append(all, h.Send(e)); };
  send(tb::MakeQueued(ref, k.NowMs()));
  for (int i = 0; i < 4; ++i) send(tb::MakeTurn(ref, k.AdvanceSeconds(5), Text(secret_text)));
  send(tb::MakeComplaintLodged(ref, k.AdvanceSeconds(5), "cards"));
  send(tb::MakeCaseAction(ref, k.AdvanceSeconds(5), kNote, h.store().cases().begin()->first, "lead",
                          secret_text));
  Harness::Append(all, h.FireUntil(k.Advance(3 * kDay)));
  ASSERT_FALSE(all.alerts.empty());
  const std::string dump = h.store().Dump();
  EXPECT_EQ(dump.find(raw), std::string::npos);
  EXPECT_EQ(dump.find("4111111111111111"), std::string::npos);
  for (const v1::Alert& a : all.alerts) {
    const std::string bytes = a.SerializeAsString();
    EXPECT_EQ(bytes.find(raw), std::string::npos);
    EXPECT_EQ(bytes.find("4111111111111111"), std::string::npos);
    EXPECT_EQ(a.customer_key(), h.engine().CustomerKey(raw));
  }
  EXPECT_EQ(h.store().customers().begin()->first, h.engine().CustomerKey(raw));
}

TEST(PrivacyTest, ErasureRemovesAllOfOneCustomer) {
  Harness h;
  FakeClock k;
  ContactRef a1{.contact_id = "a1", .customer_id = "alice"};
  ContactRef a2{.contact_id = "a2", .customer_id = "alice", .queue = "sales"};
  ContactRef b1{.contact_id = "b1", .customer_id = "bob"};
  h.Send(tb::MakeQueued(a1, k.NowMs()));
  h.Send(tb::MakeFlagComplaint(a1, k.AdvanceSeconds(10)));
  h.Send(tb::MakeQueued(a2, k.AdvanceSeconds(10)));
  h.Send(tb::MakeFlagComplaint(a2, k.AdvanceSeconds(10)));
  const std::string sales_case = [&] {
    for (const auto& [id, c] : h.store().cases()) {
      if (c.category() == "sales") return id;
    }
    return std::string();
  }();
  for (Kind step : {kAck, kInv, kResolve, kClose}) {
    h.Send(tb::MakeCaseAction(a2, k.Advance(kMinute), step, sales_case));
  }
  h.Send(tb::MakeQueued(b1, k.AdvanceSeconds(10)));
  h.Send(tb::MakeFlagComplaint(b1, k.AdvanceSeconds(10)));
  const std::string alice = h.engine().CustomerKey("alice");
  const std::string bob = h.engine().CustomerKey("bob");
  const std::string bob_before = h.store().Dump();

  Effects fx = h.Send(
      tb::MakeErasure({.contact_id = "erasure-1", .customer_id = "alice"}, k.AdvanceSeconds(10)));
  ASSERT_EQ(OutcomesOf(fx, OutcomeKind::kErasure).size(), 1u);
  EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kErasure)[0]->value, 5);  // 2 contacts, 2 cases, record
  for (const auto& [id, c] : h.store().contacts()) EXPECT_NE(c.customer_key(), alice);
  for (const auto& [id, c] : h.store().cases()) EXPECT_NE(c.customer_key(), alice);
  EXPECT_EQ(h.store().customers().count(alice), 0u);
  for (const auto& [key, t] : h.store().timers()) {
    EXPECT_EQ(t.timer_id().find("contact/a1/"), std::string::npos);
    EXPECT_EQ(t.timer_id().find("contact/a2/"), std::string::npos);
    EXPECT_EQ(t.timer_id().find(alice), std::string::npos);
    EXPECT_EQ(t.timer_id().find(sales_case), std::string::npos);
  }
  EXPECT_EQ(h.store().Dump().find(alice), std::string::npos);
  EXPECT_EQ(h.store().customers().count(bob), 1u);
  EXPECT_EQ(h.store().contacts().count("b1"), 1u);
  EXPECT_EQ(h.store().cases().size(), 1u);
  // One open case of alice (billing) leaves the open-case gauge.
  int delta = 0;
  for (const Outcome* o : OutcomesOf(fx, OutcomeKind::kOpenCasesDelta)) delta += o->delta;
  EXPECT_EQ(delta, -1);
}

TEST(ExpiryTest, EndedContactAndIdleCustomerExpire) {
  v1::DomainConfig config = TestConfig();
  config.set_contact_retention_s(600);
  config.set_repeat_contact_window_s(3600);
  Harness h(config);
  FakeClock k;
  h.Send(tb::MakeQueued(kC1, k.NowMs()));
  h.Send(tb::MakeEnded(kC1, k.AdvanceSeconds(60)));
  const int64_t ended = k.NowMs();
  h.FireUntil(ended + 599 * kSecond);
  EXPECT_EQ(h.store().contacts().size(), 1u);
  h.FireUntil(ended + 600 * kSecond);
  EXPECT_TRUE(h.store().contacts().empty());
  // The customer record stays for repeat-contact detection, then goes.
  EXPECT_EQ(h.store().customers().size(), 1u);
  h.FireUntil(ended + kHour);
  EXPECT_TRUE(h.store().customers().empty());
  EXPECT_TRUE(h.store().timers().empty());
}

TEST(ExpiryTest, ContactFirstSeenThroughAFlagExpires) {
  v1::DomainConfig config = TestConfig();
  config.set_contact_retention_s(600);
  Harness h(config);
  FakeClock k;
  h.Send(tb::MakeFlagComplaint(kC1, k.NowMs()));
  ASSERT_EQ(h.store().contacts().count("c1"), 1u);
  EXPECT_TRUE(h.store().contacts().at("c1").ended());
  h.FireUntil(k.NowMs() + 600 * kSecond);
  EXPECT_EQ(h.store().contacts().count("c1"), 0u);
  EXPECT_EQ(h.store().cases().size(), 1u);
}

// ---- Anonymous customer ids ------------------------------------------------------------------

v1::DomainConfig AnonymousConfig() {
  v1::DomainConfig config = TestConfig();
  config.add_anonymous_customer_ids(" Anonymous ");
  config.set_contact_retention_s(600);
  config.set_repeat_contact_window_s(7 * 24 * 3600);
  return config;
}

// Two callers a source could not identify, both sent as "anonymous", are two customers: the
// second is no repeat contact of the first, and their complaints open a case each. The same
// two contacts with a customer id not listed ("withheld") are one customer's, as before.
TEST(AnonymousCustomerTest, EachContactIsItsOwnCustomer) {
  Harness h(AnonymousConfig());
  FakeClock k;
  const auto two_contacts = [&](const std::string& customer_id) {
    const ContactRef first{.contact_id = customer_id + "-1", .customer_id = customer_id};
    const ContactRef second{.contact_id = customer_id + "-2", .customer_id = customer_id};
    h.Send(tb::MakeQueued(first, k.NowMs()));
    h.Send(tb::MakeFlagComplaint(first, k.AdvanceSeconds(30)));
    h.Send(tb::MakeEnded(first, k.AdvanceSeconds(30)));
    h.Send(tb::MakeQueued(second, k.AdvanceSeconds(60)));
    h.Send(tb::MakeFlagComplaint(second, k.AdvanceSeconds(30)));
    std::set<std::string> case_ids;
    for (const auto& [id, c] : h.store().cases()) {
      for (const std::string& contact : c.contact_ids()) {
        if (contact.starts_with(customer_id + "-")) case_ids.insert(id);
      }
    }
    return std::make_pair(CueNames(ContactOf(h, second.contact_id)).count("repeat_contact"),
                          case_ids.size());
  };
  // Matched without regard to case or surrounding white space.
  EXPECT_EQ(two_contacts("ANONYMOUS"), std::make_pair(size_t{0}, size_t{2}));
  EXPECT_EQ(OutcomesOf(h.log(), OutcomeKind::kAnonymousContact).size(), 2u);
  EXPECT_EQ(two_contacts("withheld"), std::make_pair(size_t{1}, size_t{1}));
  EXPECT_EQ(OutcomesOf(h.log(), OutcomeKind::kAnonymousContact).size(), 2u);  // none more
  EXPECT_TRUE(h.engine().IsAnonymousCustomer("anonymous"));
  EXPECT_FALSE(h.engine().IsAnonymousCustomer("anonymous-2"));
  // No one customer record gathers the anonymous contacts.
  EXPECT_EQ(h.store().customers().count(h.engine().CustomerKey("ANONYMOUS")), 0u);
  EXPECT_EQ(h.store().customers().count(h.engine().CustomerKey("anonymous")), 0u);
}

// An anonymous contact's customer record goes with its last contact: no repeat contact is to be
// detected for it, so it does not wait out the repeat-contact window (7 days here).
TEST(AnonymousCustomerTest, TheCustomerRecordGoesWithTheContact) {
  Harness h(AnonymousConfig());
  FakeClock k;
  const ContactRef anonymous{.contact_id = "a1", .customer_id = "anonymous"};
  const ContactRef known{.contact_id = "k1", .customer_id = "u1"};
  for (const ContactRef& ref : {anonymous, known}) h.Send(tb::MakeQueued(ref, k.NowMs()));
  for (const ContactRef& ref : {anonymous, known}) h.Send(tb::MakeEnded(ref, k.AdvanceSeconds(60)));
  ASSERT_EQ(h.store().customers().size(), 2u);
  const std::string own_key = h.store().contacts().at("a1").customer_key();
  EXPECT_TRUE(h.store().customers().at(own_key).single_contact());
  h.FireUntil(k.NowMs() + 600 * kSecond);
  EXPECT_TRUE(h.store().contacts().empty());
  ASSERT_EQ(h.store().customers().size(), 1u);
  EXPECT_EQ(h.store().customers().begin()->first, h.engine().CustomerKey("u1"));
  for (const auto& [key, t] : h.store().timers()) {
    EXPECT_EQ(t.timer_id().find(own_key), std::string::npos) << t.ShortDebugString();
  }
  h.FireUntil(k.NowMs() + 8 * kDay);
  EXPECT_TRUE(h.store().customers().empty());
}

// An erasure request with an anonymous customer id erases the contact it names, and no other
// anonymous contact.
TEST(AnonymousCustomerTest, AnErasureErasesTheContactItNames) {
  Harness h(AnonymousConfig());
  FakeClock k;
  const ContactRef a1{.contact_id = "a1", .customer_id = "anonymous"};
  const ContactRef a2{.contact_id = "a2", .customer_id = "anonymous"};
  h.Send(tb::MakeQueued(a1, k.NowMs()));
  h.Send(tb::MakeFlagComplaint(a1, k.AdvanceSeconds(10)));
  h.Send(tb::MakeQueued(a2, k.AdvanceSeconds(10)));
  Effects fx = h.Send(tb::MakeErasure(a1, k.AdvanceSeconds(10)));
  ASSERT_EQ(OutcomesOf(fx, OutcomeKind::kErasure).size(), 1u);
  EXPECT_EQ(OutcomesOf(fx, OutcomeKind::kErasure)[0]->value, 3);  // contact, case, record
  EXPECT_EQ(h.store().contacts().count("a1"), 0u);
  EXPECT_TRUE(h.store().cases().empty());
  EXPECT_EQ(h.store().contacts().count("a2"), 1u);
  EXPECT_EQ(h.store().customers().size(), 1u);
}

TEST(CaseTest, AuditTrailIsBoundedAndKeepsTheOpening) {
  v1::DomainConfig config = TestConfig();
  config.set_max_audit_entries(5);
  Harness h(config);
  FakeClock k;
  h.Send(tb::MakeFlagComplaint(kC1, k.NowMs()));
  const std::string id = h.store().cases().begin()->first;
  for (int i = 0; i < 20; ++i) h.Send(tb::MakeCaseAction(kC1, k.Advance(kMinute), kNote, id));
  const v1::ComplaintCase& c = h.store().cases().at(id);
  EXPECT_EQ(c.audit_size(), 5);
  EXPECT_EQ(c.audit(0).what(), "opened");
  EXPECT_EQ(c.audit(4).time_ms(), k.NowMs());
}

// ---- Determinism and robustness ---------------------------------------------------------------

TEST(DeterminismTest, CaseAndAlertIdsAreStableAcrossRuns) {
  auto run = [](std::vector<std::string>* alert_ids) {
    Harness h;
    FakeClock k;
    h.Send(tb::MakeQueued(kC1, k.NowMs()));
    Effects fx = h.Send(tb::MakeFlagComplaint(kC1, k.AdvanceSeconds(30)));
    Harness::Append(fx, h.FireUntil(k.Advance(kDay)));
    for (const v1::Alert& a : fx.alerts) alert_ids->push_back(a.alert_id());
    return h.store().Dump();
  };
  std::vector<std::string> first;
  std::vector<std::string> second;
  EXPECT_EQ(run(&first), run(&second));
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, second);

  Harness h;
  const v1::ContactEvent flag = tb::MakeFlagComplaint(kC1, FakeClock::kDefaultStartMs);
  h.Send(flag);
  const std::string expected =
      absl::StrCat("case-", HashId({h.engine().CustomerKey("u1"), "billing", flag.event_id()}, 24));
  EXPECT_EQ(h.store().cases().begin()->first, expected);
}

TEST(RobustnessTest, StoreFailureIsReturned) {
  Harness h;
  h.store().set_fail(true);
  absl::StatusOr<Effects> r =
      h.engine().OnEvent(tb::MakeQueued(kC1, FakeClock::kDefaultStartMs), 0, h.store());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
}

TEST(RobustnessTest, OddInputDoesNotCrash) {
  Harness h;
  v1::ContactEvent empty;
  EXPECT_TRUE(h.engine().OnEvent(empty, 0, h.store()).ok());
  v1::ContactEvent hold_end = tb::MakeHoldEnded(kC1, 5);
  EXPECT_TRUE(h.engine().OnEvent(hold_end, 5, h.store()).ok());
  v1::Timer stale;
  stale.set_kind(v1::CASE_MILESTONE);
  stale.set_case_id("missing");
  EXPECT_TRUE(h.engine().OnTimer(stale, 10, h.store()).ok());
  v1::ContactEvent turn = tb::MakeCustomerTurn(kC1, 6, std::nanf(""));
  EXPECT_TRUE(h.engine().OnEvent(turn, 6, h.store()).ok());
}

TEST(EngineCreateTest, RefusesInvalidConfiguration) {
  v1::DomainConfig config = TestConfig();
  config.set_pseudonymisation_key("short");
  EXPECT_EQ(Engine::Create(config, std::make_shared<testing_util::FakeAnalyzer>()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ccstream::domain

namespace ccstream::domain {
namespace {

// The reference store holds the engine to TakeContact's contract (see StateStore): a taken
// contact cannot be read, nor another taken, until it is put back or deleted.
TEST(InMemoryStoreTest, ATakenContactCannotBeReadUntilPutBack) {
  tb::InMemoryStore store;
  v1::ContactState c;
  c.set_contact_id("c1");
  ASSERT_TRUE(store.PutContact(c).ok());
  v1::ContactState taken;
  absl::StatusOr<bool> found = store.TakeContact("c1", taken);
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ(taken.contact_id(), "c1");
  EXPECT_EQ(store.GetContact("c1").status().code(), absl::StatusCode::kFailedPrecondition);
  v1::ContactState other;
  EXPECT_EQ(store.ReadContact("c1", other).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.TakeContact("c2", other).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store.ReadContact("c2", other).ok());  // other contacts read as usual
  ASSERT_TRUE(store.PutContact(std::move(taken)).ok());
  EXPECT_TRUE(store.ReadContact("c1", other).ok());
  ASSERT_TRUE(store.TakeContact("c2", other).ok());  // absent, taken all the same
  EXPECT_EQ(store.GetContact("c2").status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store.DeleteContact("c2").ok());
  EXPECT_TRUE(store.GetContact("c2").ok());
  // Returned unchanged: readable again, nothing written; only the contact taken is returned.
  EXPECT_EQ(store.ReturnContact("c1", v1::ContactState()).code(),
            absl::StatusCode::kFailedPrecondition);
  const int64_t puts = store.contact_puts();
  ASSERT_TRUE(store.TakeContact("c1", taken).ok());
  EXPECT_EQ(store.ReturnContact("c2", v1::ContactState()).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store.ReturnContact("c1", std::move(taken)).ok());
  EXPECT_TRUE(store.ReadContact("c1", other).ok());
  EXPECT_EQ(store.contact_puts(), puts);
}

// The in-memory store's hash indexes and recycled messages must not change what it stores:
// moved and copied puts, gets after replacement, deletes and copies of the whole store.
TEST(InMemoryStoreTest, MovedPutsGetsDeletesAndCopies) {
  tb::InMemoryStore store;
  v1::ContactState first;
  first.set_contact_id("c1");
  first.set_queue("a-queue-name-longer-than-sso");
  first.add_cues()->set_cue("repeat_contact");
  ASSERT_TRUE(store.PutContact(v1::ContactState(first)).ok());
  v1::ContactState second;
  second.set_contact_id("c1");
  second.set_queue("billing");
  ASSERT_TRUE(store.PutContact(std::move(second)).ok());
  absl::StatusOr<std::optional<v1::ContactState>> got = store.GetContact("c1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->queue(), "billing");
  EXPECT_EQ((*got)->cues_size(), 0);
  ASSERT_TRUE(store.PutContact(first).ok());
  got = store.GetContact("c1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->SerializeAsString(), first.SerializeAsString());

  tb::InMemoryStore copy = store;
  ASSERT_TRUE(store.DeleteContact("c1").ok());
  EXPECT_FALSE(store.GetContact("c1")->has_value());
  EXPECT_TRUE(store.contacts().empty());
  got = copy.GetContact("c1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->queue(), first.queue());
  v1::ContactState third;
  third.set_contact_id("c1");
  ASSERT_TRUE(copy.PutContact(std::move(third)).ok());
  EXPECT_EQ(copy.contacts().size(), 1u);
  EXPECT_EQ(copy.GetContact("c1").value()->queue(), "");
}

}  // namespace
}  // namespace ccstream::domain
