#pragma once

// Shared by the engine's unit and property tests: a fake text analyzer driven by marker words,
// a test configuration with simple 24x7 SLA policies, and a harness that feeds events and fires
// due timers against an InMemoryStore.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain_config.pb.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "processor/domain/engine.h"
#include "processor/domain/text_analyzer.h"
#include "tests/support/in_memory_store.h"

namespace ccstream::domain::testing_util {

// Signals from marker words in the text: NEG/POS (sentiment -0.8/0.8), COMPLAINT (probability
// 0.9), MANAGER, LEAVE, OMBUDSMAN, AGAIN (phrase classes). Immutable; thread-safe.
class FakeAnalyzer final : public TextAnalyzer {
 public:
  TextSignals Analyze(std::string_view text) const override {
    TextSignals s;
    auto has = [text](std::string_view word) { return text.find(word) != std::string_view::npos; };
    if (has("NEG")) s.sentiment = -0.8;
    if (has("POS")) s.sentiment = 0.8;
    s.complaint_probability = has("COMPLAINT") ? 0.9 : 0.1;
    s.manager_request = has("MANAGER");
    s.churn_threat = has("LEAVE");
    s.regulator_or_legal = has("OMBUDSMAN");
    s.repeat_contact = has("AGAIN");
    return s;
  }
};

// SLA policies on the 24x7 calendar with round targets:
//   "test-standard" (LOW, MEDIUM): acknowledge 1h (ladder team_lead +0s, manager +30m),
//     keep_informed 2h, resolve 10h, follow_up 5h
//   "test-urgent" (HIGH, CRITICAL): acknowledge 30m, keep_informed 1h, resolve 4h, follow_up 2h
// Warning fractions are the defaults 0.5, 0.75, 0.9.
inline v1::DomainConfig TestConfig() {
  v1::DomainConfig config;
  const bool ok = google::protobuf::TextFormat::ParseFromString(
      R"pb(
        pseudonymisation_key: "test-key-0123456789abcdef"
        sla {
          preset: "none"
          policies {
            name: "test-standard"
            severities: [ LOW, MEDIUM ]
            milestones {
              kind: ACKNOWLEDGE
              calendar_time: "1h"
              ladder { name: "team_lead" after: "0s" }
              ladder { name: "manager" after: "30m" }
            }
            milestones { kind: KEEP_INFORMED calendar_time: "2h" }
            milestones { kind: RESOLVE calendar_time: "10h" }
            milestones { kind: FOLLOW_UP calendar_time: "5h" }
          }
          policies {
            name: "test-urgent"
            severities: [ HIGH, CRITICAL ]
            milestones { kind: ACKNOWLEDGE calendar_time: "30m" }
            milestones { kind: KEEP_INFORMED calendar_time: "1h" }
            milestones { kind: RESOLVE calendar_time: "4h" }
            milestones { kind: FOLLOW_UP calendar_time: "2h" }
          }
        }
      )pb",
      &config);
  EXPECT_TRUE(ok);
  return config;
}

// Feeds events and due timers to one engine over one InMemoryStore, collecting every effect.
class Harness {
 public:
  explicit Harness(const v1::DomainConfig& config = TestConfig()) {
    absl::StatusOr<std::unique_ptr<Engine>> engine =
        Engine::Create(config, std::make_shared<FakeAnalyzer>());
    EXPECT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }

  // Fires the timers due up to the event's time, then the event (now = event time).
  Effects Send(const v1::ContactEvent& event) {
    Effects fx = FireUntil(event.event_time_ms());
    absl::StatusOr<Effects> r = engine_->OnEvent(event, event.event_time_ms(), store_);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      Effects copy = *r;
      Append(log_, std::move(copy));
      Append(fx, std::move(*r));
    }
    return fx;
  }

  // Fires every timer due at or before t_ms, each at its due time, in (due, id) order.
  Effects FireUntil(int64_t t_ms) {
    Effects fx;
    for (int guard = 0; guard < 100000; ++guard) {
      std::optional<v1::Timer> next = store_.NextTimer();
      if (!next.has_value() || next->due_ms() > t_ms) break;
      absl::StatusOr<Effects> r = engine_->OnTimer(*next, next->due_ms(), store_);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) break;
      Effects copy = *r;
      Append(log_, std::move(copy));
      Append(fx, std::move(*r));
    }
    return fx;
  }

  static void Append(Effects& into, Effects from) {
    for (v1::Alert& a : from.alerts) {
      into.alerts.push_back(std::move(a));
    }
    for (Outcome& o : from.outcomes) into.outcomes.push_back(std::move(o));
  }

  const Engine& engine() const { return *engine_; }
  testing::InMemoryStore& store() { return store_; }
  // Everything Send and FireUntil produced so far (timers fired inside Send included once).
  const Effects& log() const { return log_; }

 private:
  std::unique_ptr<Engine> engine_;
  testing::InMemoryStore store_;
  Effects log_;
};

inline std::vector<const v1::Alert*> AlertsOf(const Effects& fx, v1::AlertKind kind) {
  std::vector<const v1::Alert*> out;
  for (const v1::Alert& a : fx.alerts) {
    if (a.kind() == kind) out.push_back(&a);
  }
  return out;
}

inline std::vector<const Outcome*> OutcomesOf(const Effects& fx, OutcomeKind kind) {
  std::vector<const Outcome*> out;
  for (const Outcome& o : fx.outcomes) {
    if (o.kind == kind) out.push_back(&o);
  }
  return out;
}

}  // namespace ccstream::domain::testing_util
