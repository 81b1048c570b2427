#include "processor/gen/texts.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace ccstream::gen {
namespace {

constexpr Mood kMoods[] = {Mood::kSatisfied, Mood::kNeutral, Mood::kAnnoyed, Mood::kAngry};
constexpr const char* kQueues[] = {"billing",       "technical-support", "sales",
                                   "cancellations", "complaints",        "some-other-queue"};

TEST(TextsTest, AtLeastFortyTemplatesPerMoodAllDistinct) {
  std::mt19937_64 rng(1);
  for (const Mood mood : kMoods) {
    ASSERT_GE(CustomerTemplateCount(mood), 40);
    std::set<std::string> seen;
    for (int i = 0; i < CustomerTemplateCount(mood); ++i) {
      seen.insert(CustomerText(mood, i, "billing", rng));
    }
    EXPECT_EQ(static_cast<int>(seen.size()), CustomerTemplateCount(mood));
  }
}

TEST(TextsTest, EveryTemplateIsFilledAndFitsFortyToTwoHundredCharacters) {
  std::mt19937_64 rng(2);
  for (const char* queue : kQueues) {
    for (const Mood mood : kMoods) {
      for (int i = 0; i < CustomerTemplateCount(mood); ++i) {
        for (int draw = 0; draw < 5; ++draw) {
          const std::string text = CustomerText(mood, i, queue, rng);
          EXPECT_GE(text.size(), 40u) << text;
          EXPECT_LE(text.size(), 200u) << text;
          EXPECT_EQ(text.find('{'), std::string::npos) << text;
        }
      }
    }
  }
}

TEST(TextsTest, EscalationLinesSayWhatTheyAreFor) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    const std::string manager = EscalationText(Escalation::kManager, "billing", 1, rng);
    EXPECT_TRUE(manager.find("manager") != std::string::npos ||
                manager.find("supervisor") != std::string::npos ||
                manager.find("team leader") != std::string::npos)
        << manager;
    const std::string regulator = EscalationText(Escalation::kRegulator, "billing", 1, rng);
    EXPECT_TRUE(regulator.find("ombudsman") != std::string::npos ||
                regulator.find("regulator") != std::string::npos)
        << regulator;
    EXPECT_NE(EscalationText(Escalation::kRepeat, "sales", 3, rng).find("third"),
              std::string::npos);
    EXPECT_NE(EscalationText(Escalation::kRepeat, "sales", 2, rng).find("second"),
              std::string::npos);
    EXPECT_EQ(AgentText(AgentMove::kGreeting, "sales", rng).find('{'), std::string::npos);
  }
}

TEST(TextsTest, TopicsFollowTheQueue) {
  std::mt19937_64 rng(4);
  bool billing_topic = false, technical_topic = false;
  for (int i = 0; i < 200; ++i) {
    const std::string b = RandomCustomerText(Mood::kNeutral, "billing", rng);
    const std::string t = RandomCustomerText(Mood::kNeutral, "technical-support", rng);
    billing_topic |= b.find("bill") != std::string::npos || b.find("invoice") != std::string::npos;
    technical_topic |=
        t.find("router") != std::string::npos || t.find("broadband") != std::string::npos;
    EXPECT_EQ(t.find("invoice"), std::string::npos) << t;
  }
  EXPECT_TRUE(billing_topic);
  EXPECT_TRUE(technical_topic);
}

TEST(TextsTest, DispositionReflectsResolution) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20; ++i) {
    const std::string open = Disposition("billing", false, rng);
    EXPECT_TRUE(open == "callback-promised" || open == "escalated-to-manager" ||
                open == "pending-investigation" || open == "customer-to-call-back")
        << open;
    const std::string done = Disposition("billing", true, rng);
    EXPECT_TRUE(done == "billing-adjusted" || done == "refund-issued") << done;
  }
}

}  // namespace
}  // namespace ccstream::gen
