#include "processor/gen/generator.h"

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "processor/ingest/validate.h"

namespace ccstream::gen {
namespace {

std::vector<v1::ContactEvent> Generate(const GeneratorOptions& options) {
  Generator generator(options);
  std::vector<v1::ContactEvent> events;
  while (auto e = generator.Next()) events.push_back(std::move(*e));
  return events;
}

GeneratorOptions Small(uint64_t seed) {
  GeneratorOptions o;
  o.seed = seed;
  o.events_per_second = 20;
  o.duration_s = 0;
  o.max_events = 20000;
  return o;
}

// A long run with fast repeat contacts, shared by the tests that look at rare behaviours.
GeneratorOptions LongRunOptions() {
  GeneratorOptions o;
  o.seed = 42;
  o.events_per_second = 20;
  o.duration_s = 3 * 3600;
  o.num_customers = 200000;
  o.repeat_delay_min_s = 600;
  o.repeat_delay_max_s = 3 * 3600;
  return o;
}

const std::vector<v1::ContactEvent>& LongRun() {
  static const std::vector<v1::ContactEvent>* events =
      new std::vector<v1::ContactEvent>(Generate(LongRunOptions()));
  return *events;
}

TEST(GeneratorTest, SameSeedGivesByteIdenticalEvents) {
  const auto a = Generate(Small(7));
  const auto b = Generate(Small(7));
  ASSERT_EQ(a.size(), 20000u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].SerializeAsString(), b[i].SerializeAsString()) << i;
  }
}

TEST(GeneratorTest, DifferentSeedsGiveDifferentEvents) {
  const auto a = Generate(Small(7));
  const auto b = Generate(Small(8));
  size_t same = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    v1::ContactEvent x = a[i], y = b[i];
    x.clear_event_id();
    y.clear_event_id();
    x.clear_contact_id();
    y.clear_contact_id();
    if (x.SerializeAsString() == y.SerializeAsString()) ++same;
  }
  EXPECT_LT(same, a.size() / 100);
}

TEST(GeneratorTest, EventsAreTimeOrderedUniqueAndValid) {
  GeneratorOptions o = Small(3);
  o.start_time_ms = 1'767'258'000'000;
  const auto events = Generate(o);
  std::set<std::string> ids;
  ingest::ValidationLimits limits;
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::ContactEvent& e = events[i];
    if (i > 0) {
      ASSERT_LE(events[i - 1].event_time_ms(), e.event_time_ms()) << i;
    }
    ASSERT_GE(e.event_time_ms(), o.start_time_ms);
    ASSERT_TRUE(ids.insert(e.event_id()).second) << e.event_id();
    ASSERT_FALSE(e.event_id().empty());
    ASSERT_FALSE(e.contact_id().empty());
    ASSERT_EQ(e.customer_id().rfind("cust-", 0), 0u) << e.customer_id();
    ASSERT_NE(e.channel(), v1::CHANNEL_UNSPECIFIED);
    ASSERT_GT(e.event_time_ms(), 0);
    ASSERT_NE(e.payload_case(), v1::ContactEvent::PAYLOAD_NOT_SET);
    const ingest::Verdict verdict = ingest::Validate(e, e.event_time_ms(), limits);
    ASSERT_TRUE(verdict.ok()) << e.ShortDebugString() << ": " << verdict.detail;
  }
}

TEST(GeneratorTest, StopsAtMaxEventsAndAtTheEndOfTheDuration) {
  GeneratorOptions o;
  o.max_events = 123;
  EXPECT_EQ(Generate(o).size(), 123u);
  o.max_events = 0;
  o.duration_s = 120;
  const auto events = Generate(o);
  ASSERT_FALSE(events.empty());
  EXPECT_LT(events.back().event_time_ms(), o.start_time_ms + 120'000);
}

TEST(GeneratorTest, EveryPayloadKindAppearsInALongRun) {
  std::map<v1::ContactEvent::PayloadCase, int64_t> kinds;
  for (const auto& e : LongRun()) ++kinds[e.payload_case()];
  for (const auto kind :
       {v1::ContactEvent::kQueued, v1::ContactEvent::kAnswered, v1::ContactEvent::kTurn,
        v1::ContactEvent::kHoldStarted, v1::ContactEvent::kHoldEnded,
        v1::ContactEvent::kTransferred, v1::ContactEvent::kAbandoned, v1::ContactEvent::kEnded,
        v1::ContactEvent::kSurvey, v1::ContactEvent::kCaseAction, v1::ContactEvent::kErasureRequest,
        v1::ContactEvent::kComplaintLodged}) {
    EXPECT_GT(kinds[kind], 0) << "payload case " << kind;
  }
  std::map<v1::Channel, int64_t> channels;
  for (const auto& e : LongRun()) {
    if (e.has_queued()) ++channels[e.channel()];
  }
  EXPECT_GT(channels[v1::VOICE], channels[v1::CHAT]);
  EXPECT_GT(channels[v1::CHAT], channels[v1::EMAIL]);
  EXPECT_GT(channels[v1::EMAIL], 0);
  EXPECT_GT(channels[v1::SOCIAL], 0);
}

TEST(GeneratorTest, RateIsRoughlyAsAsked) {
  for (const double eps : {5.0, 50.0}) {
    GeneratorOptions o;
    o.seed = 11;
    o.events_per_second = eps;
    o.duration_s = 2 * 3600;
    const auto events = Generate(o);
    const double rate = static_cast<double>(events.size()) / o.duration_s;
    EXPECT_NEAR(rate, eps, eps * 0.15) << "asked " << eps;
  }
}

TEST(GeneratorTest, ContactsHaveRealisticShapes) {
  std::map<std::string, int64_t> queued_at, hold_from, transfers;
  std::map<std::string, v1::Speaker> last_speaker;
  int64_t long_waits = 0, long_holds = 0, multi_transfers = 0, flags = 0;
  for (const auto& e : LongRun()) {
    const std::string& c = e.contact_id();
    if (e.has_queued()) queued_at[c] = e.event_time_ms();
    if (e.has_answered() && e.event_time_ms() - queued_at[c] > 20'000) ++long_waits;
    if (e.has_hold_started()) hold_from[c] = e.event_time_ms();
    if (e.has_hold_ended() && e.event_time_ms() - hold_from[c] > 120'000) ++long_holds;
    if (e.has_transferred() && ++transfers[c] == 2) ++multi_transfers;
    if (e.has_case_action()) {
      ++flags;
      EXPECT_EQ(e.case_action().kind(), v1::CaseAction::FLAG_COMPLAINT);
      EXPECT_EQ(e.case_action().actor(), e.agent_id());
      EXPECT_TRUE(e.case_action().case_id().empty());
    }
    if (e.has_turn()) {
      // Two customer turns never follow each other: the agent always answers.
      if (e.turn().speaker() == v1::CUSTOMER) {
        EXPECT_NE(last_speaker[c], v1::CUSTOMER) << c;
        EXPECT_GE(e.turn().text().size(), 40u) << e.turn().text();
        EXPECT_LE(e.turn().text().size(), 200u) << e.turn().text();
      }
      last_speaker[c] = e.turn().speaker();
      EXPECT_EQ(e.turn().has_loudness_db(), e.channel() == v1::VOICE);
      EXPECT_FALSE(e.turn().text().empty());
    }
  }
  EXPECT_GT(long_waits, 0);
  EXPECT_GT(long_holds, 0);
  EXPECT_GT(multi_transfers, 0);
  EXPECT_GT(flags, 0);
}

// Mean VADER valence of the words of a text (0 when none is in the lexicon).
class Vader {
 public:
  Vader() {
    std::ifstream in(std::string(CCSTREAM_DATASETS_DIR) + "/lexicons/vader/vader_lexicon.txt");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string token;
      double valence = 0;
      if (std::getline(fields, token, '\t') && fields >> valence) lexicon_[token] = valence;
    }
  }
  bool loaded() const { return lexicon_.size() > 1000; }
  double Score(const std::string& text) const {
    double sum = 0;
    int n = 0;
    std::string word;
    for (size_t i = 0; i <= text.size(); ++i) {
      const char c = i < text.size() ? text[i] : ' ';
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '\'') {
        word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        continue;
      }
      const auto it = lexicon_.find(word);
      if (it != lexicon_.end()) {
        sum += it->second;
        ++n;
      }
      word.clear();
    }
    return n == 0 ? 0.0 : sum / n;
  }

 private:
  std::map<std::string, double> lexicon_;
};

bool Mentions(const std::string& text, const std::vector<std::string>& words) {
  for (const auto& w : words) {
    if (text.find(w) != std::string::npos) return true;
  }
  return false;
}

TEST(GeneratorTest, EscalatingCustomersAreNegativeAskForManagersAndCallBack) {
  const Vader vader;
  ASSERT_TRUE(vader.loaded());
  Generator probe(LongRunOptions());
  struct Side {
    double valence = 0;
    int64_t turns = 0;
    double loudness = 0;
    int64_t voice_turns = 0;
    std::set<std::string> contacts_with_turns, contacts_with_manager, customers;
    std::map<std::string, std::set<std::string>> contacts_of;
    int64_t repeat_mentions = 0, threats = 0;
    double csat = 0;
    int64_t surveys = 0;
  };
  Side esc, calm;
  for (const auto& e : LongRun()) {
    Side& side = probe.IsEscalating(e.customer_id()) ? esc : calm;
    side.customers.insert(e.customer_id());
    if (e.has_queued()) side.contacts_of[e.customer_id()].insert(e.contact_id());
    if (e.has_survey()) {
      side.csat += e.survey().csat();
      ++side.surveys;
    }
    if (!e.has_turn() || e.turn().speaker() != v1::CUSTOMER) continue;
    const std::string& text = e.turn().text();
    side.valence += vader.Score(text);
    ++side.turns;
    if (e.turn().has_loudness_db()) {
      side.loudness += e.turn().loudness_db();
      ++side.voice_turns;
    }
    side.contacts_with_turns.insert(e.contact_id());
    if (Mentions(text, {"manager", "supervisor", "team leader"})) {
      side.contacts_with_manager.insert(e.contact_id());
    }
    if (Mentions(text, {"second time", "third time", "fourth time", "third call"})) {
      ++side.repeat_mentions;
    }
    if (Mentions(text, {"ombudsman", "regulator", "cancel", "leaving", "switching"})) {
      ++side.threats;
    }
  }
  ASSERT_GT(esc.turns, 100);
  ASSERT_GT(calm.turns, 1000);
  EXPECT_LT(esc.valence / esc.turns, -0.5);
  EXPECT_LT(esc.valence / esc.turns, calm.valence / calm.turns - 0.5);
  EXPECT_GT(esc.loudness / esc.voice_turns, calm.loudness / calm.voice_turns + 4.0);
  EXPECT_GT(esc.csat / esc.surveys, 0.0);
  EXPECT_LT(esc.csat / esc.surveys, calm.csat / calm.surveys - 1.0);
  // Nearly every escalating conversation asks for a manager; calm ones never do.
  EXPECT_GT(esc.contacts_with_manager.size(), esc.contacts_with_turns.size() * 9 / 10);
  EXPECT_EQ(calm.contacts_with_manager.size(), 0u);
  EXPECT_GT(esc.threats, 0);
  EXPECT_GT(esc.repeat_mentions, 0);
  EXPECT_EQ(calm.repeat_mentions, 0);
  // Escalating customers come back: more contacts per customer than the others.
  auto per_customer = [](const Side& s) {
    int64_t n = 0;
    for (const auto& [customer, contacts] : s.contacts_of) n += contacts.size();
    return static_cast<double>(n) / std::max<size_t>(s.contacts_of.size(), 1);
  };
  EXPECT_GT(per_customer(esc), per_customer(calm) * 1.3);
}

TEST(GeneratorTest, CustomQueuesAndMediaAreHonoured) {
  GeneratorOptions o = Small(9);
  o.start_time_ms = 1'700'000'000'000;
  QueueSpec chat;
  chat.name = "web-chat";
  chat.voice_share = 0;
  chat.chat_share = 1;
  chat.email_share = 0;
  chat.social_share = 0;
  o.queues = {chat};
  const auto events = Generate(o);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().event_time_ms(), o.start_time_ms);
  for (const auto& e : events) {
    if (e.has_complaint_lodged()) continue;  // formal complaints arrive by e-mail
    ASSERT_EQ(e.channel(), v1::CHAT) << e.ShortDebugString();
    ASSERT_EQ(e.queue(), "web-chat");
    if (e.has_turn()) {
      EXPECT_FALSE(e.turn().has_loudness_db());
    }
  }
}

TEST(GeneratorTest, EscalatingFractionZeroMeansNoEscalation) {
  GeneratorOptions o = Small(5);
  o.escalating_fraction = 0;
  for (const auto& e : Generate(o)) {
    if (e.has_turn()) {
      EXPECT_FALSE(Mentions(e.turn().text(), {"manager", "supervisor", "ombudsman"}))
          << e.turn().text();
    }
  }
}

}  // namespace
}  // namespace ccstream::gen
