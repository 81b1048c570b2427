// Property test: random event sequences (seeded) against the engine. Checks that no invalid
// transition is ever applied, that no warning or breach is raised twice, and that two runs over
// the same events give byte-identical alerts, outcomes and state.

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "processor/domain/lifecycle.h"
#include "processor/domain/test_util.h"
#include "tests/support/event_builders.h"
#include "tests/support/fake_clock.h"

namespace ccstream::domain {
namespace {

namespace tb = ::ccstream::testing;
using testing_util::Harness;

constexpr int kSeeds = 150;
constexpr int kEventsPerRun = 400;

// Generates one random event from the current state of the store.
class EventGenerator {
 public:
  explicit EventGenerator(uint64_t seed) : rng_(seed) {}

  v1::ContactEvent Next(Harness& h, int64_t t) {
    const int customer = Uniform(0, 5);
    const int slot = Uniform(0, 2);
    tb::ContactRef ref;
    ref.customer_id = "cust-" + std::to_string(customer);
    ref.contact_id = "ct-" + std::to_string(customer) + "-" + std::to_string(slot) + "-" +
                     std::to_string(generation_[customer][slot]);
    static const char* kQueues[] = {"billing", "sales", "support"};
    ref.queue = kQueues[Uniform(0, 2)];
    static const v1::Channel kChannels[] = {v1::VOICE, v1::CHAT, v1::SOCIAL, v1::EMAIL};
    ref.channel = kChannels[Uniform(0, 3)];
    v1::ContactEvent event;
    switch (Uniform(0, 15)) {
      case 0:
        event = tb::MakeQueued(ref, t);
        break;
      case 1:
        event = tb::MakeAnswered(ref, t);
        break;
      case 2:
      case 3:
      case 4: {
        tb::TurnSpec turn;
        static const char* kTexts[] = {"NEG",         "POS",         "NEG COMPLAINT",
                                       "MANAGER NEG", "OMBUDSMAN",   "LEAVE",
                                       "AGAIN",       "fine thanks", ""};
        turn.text = kTexts[Uniform(0, 8)];
        turn.speaker = Uniform(0, 3) == 0 ? v1::AGENT : v1::CUSTOMER;
        if (Uniform(0, 2) == 0) turn.upstream_sentiment = Uniform(-10, 10) / 10.0f;
        if (Uniform(0, 1) == 0) turn.loudness_db = static_cast<float>(Uniform(55, 80));
        turn.interruption = Uniform(0, 4) == 0;
        event = tb::MakeTurn(ref, t, turn);
        break;
      }
      case 5:
        event = tb::MakeHoldStarted(ref, t);
        break;
      case 6:
        event = tb::MakeHoldEnded(ref, t);
        break;
      case 7:
        event = tb::MakeTransferred(ref, t, Uniform(0, 1) ? "sales" : "");
        break;
      case 8:
        event = tb::MakeAbandoned(ref, t);
        break;
      case 9:
        event = tb::MakeEnded(ref, t);
        ++generation_[customer][slot];
        break;
      case 10:
        event = tb::MakeSurvey(ref, t, Uniform(1, 5));
        break;
      case 11:
        event = tb::MakeFlagComplaint(ref, t, Uniform(0, 1) ? "" : "fees");
        break;
      case 12:
        event = tb::MakeComplaintLodged(ref, t, Uniform(0, 1) ? "" : "cards");
        break;
      case 13:
        if (Uniform(0, 20) == 0) {
          event = tb::MakeErasure(ref, t);
          break;
        }
        [[fallthrough]];
      default: {
        std::string case_id = "case-missing";
        if (!h.store().cases().empty()) {
          auto it = h.store().cases().begin();
          std::advance(it, Uniform(0, static_cast<int>(h.store().cases().size()) - 1));
          case_id = it->first;
        }
        const auto kind = static_cast<v1::CaseAction::Kind>(Uniform(1, 10));
        event = tb::MakeCaseAction(ref, t, kind, case_id, "staff-" + std::to_string(Uniform(0, 3)),
                                   Uniform(0, 1) ? "a note" : "");
        break;
      }
    }
    event.set_event_id(event.event_id() + "#" + std::to_string(serial_++));
    return event;
  }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  std::mt19937_64 rng_;
  int generation_[6][3] = {};
  int serial_ = 0;
};

std::string Fingerprint(const Effects& fx) {
  std::string out;
  for (const v1::Alert& a : fx.alerts) out += a.SerializeAsString() + "\n";
  for (const Outcome& o : fx.outcomes) {
    out += std::string(OutcomeKindName(o.kind)) + "|" + o.queue + "|" + o.category + "|" +
           o.milestone + "|" + o.cue + "|" + o.detail + "|" + std::to_string(o.severity) + "|" +
           std::to_string(o.state) + "|" + std::to_string(o.delta) + "|" + std::to_string(o.value) +
           "|" + std::to_string(o.fraction) + "\n";
  }
  return out;
}

// Runs one seeded sequence, checking the per-event properties; returns the fingerprint of all
// effects followed by the final state.
std::string RunOnce(uint64_t seed) {
  Harness h;
  EventGenerator gen(seed);
  int64_t t = tb::FakeClock::kDefaultStartMs;
  std::string fingerprint;
  std::set<std::string> alert_ids;
  std::set<std::tuple<std::string, std::string, int64_t, double, std::string, int>> crossings;
  // Live clocks: (contact, clock, limit[, fraction]) of the steps raised and of the breaches.
  std::set<std::tuple<std::string, std::string, int64_t, double>> live_steps;
  std::set<std::tuple<std::string, std::string, int64_t>> live_breached;
  for (int i = 0; i < kEventsPerRun; ++i) {
    t += gen.Uniform(0, 3) == 0 ? gen.Uniform(1, 48) * 3600 * 1000LL : gen.Uniform(0, 600) * 1000LL;
    const v1::ContactEvent event = gen.Next(h, t);

    // Everything due fires first (the runtime's timer wheel), then the event.
    Effects fx = h.FireUntil(t);
    std::optional<v1::ComplaintCase> before;
    if (event.has_case_action() && event.case_action().kind() != v1::CaseAction::FLAG_COMPLAINT) {
      auto it = h.store().cases().find(event.case_action().case_id());
      if (it != h.store().cases().end()) before = it->second;
    }
    absl::StatusOr<Effects> r = h.engine().OnEvent(event, t, h.store());
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return fingerprint;
    if (before.has_value()) {
      const v1::ComplaintCase& after = h.store().cases().at(before->case_id());
      std::optional<v1::CaseState> allowed =
          NextState(before->state(), event.case_action().kind(), before->awaiting_customer());
      bool refused = false;
      for (const Outcome& o : r->outcomes) refused |= o.kind == OutcomeKind::kInvalidTransition;
      if (refused) {
        EXPECT_EQ(after.state(), before->state()) << "seed " << seed << " event " << i;
        EXPECT_EQ(after.invalid_transitions(), before->invalid_transitions() + 1);
      } else {
        EXPECT_TRUE(allowed.has_value())
            << "applied a refused transition: " << v1::CaseState_Name(before->state()) << " + "
            << v1::CaseAction::Kind_Name(event.case_action().kind()) << " seed " << seed;
        if (!allowed.has_value()) return fingerprint;
        EXPECT_EQ(after.state(), *allowed);
      }
    }
    Harness::Append(fx, std::move(*r));
    for (const v1::Alert& a : fx.alerts) {
      EXPECT_TRUE(alert_ids.insert(a.alert_id()).second)
          << "duplicate alert id " << a.ShortDebugString() << " seed " << seed;
      if (a.kind() == v1::SLA_WARNING || a.kind() == v1::SLA_BREACH ||
          a.kind() == v1::SLA_ESCALATION) {
        EXPECT_TRUE(crossings
                        .insert({a.case_id(), a.milestone(), a.deadline_ms(), a.fraction(),
                                 a.rung(), a.kind()})
                        .second)
            << "duplicate crossing " << a.ShortDebugString() << " seed " << seed;
      }
      if (a.kind() == v1::LIVE_SLA_WARNING || a.kind() == v1::LIVE_SLA_BREACH) {
        const auto clock = std::make_tuple(a.contact_id(), a.milestone(), a.deadline_ms());
        EXPECT_FALSE(live_breached.count(clock) > 0)
            << "live alert after the clock's breach " << a.ShortDebugString() << " seed " << seed;
        if (a.kind() == v1::LIVE_SLA_BREACH) live_breached.insert(clock);
        EXPECT_TRUE(
            live_steps.insert({a.contact_id(), a.milestone(), a.deadline_ms(), a.fraction()})
                .second)
            << "duplicate live clock step " << a.ShortDebugString() << " seed " << seed;
      }
    }
    fingerprint += Fingerprint(fx);
  }
  // Every case's audit trail never shows a state the lifecycle does not allow.
  for (const auto& [id, c] : h.store().cases()) {
    EXPECT_NE(c.state(), v1::CASE_STATE_UNSPECIFIED) << id;
  }
  return fingerprint + "\n#state\n" + h.store().Dump();
}

TEST(EnginePropertyTest, RandomSequencesKeepTheInvariantsAndAreDeterministic) {
  for (int seed = 1; seed <= kSeeds; ++seed) {
    const std::string first = RunOnce(seed);
    const std::string second = RunOnce(seed);
    ASSERT_EQ(first, second) << "seed " << seed;
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace ccstream::domain
