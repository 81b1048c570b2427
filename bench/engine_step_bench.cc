// One engine step per event kind: Engine::OnEvent for one payload kind at a time, against the
// in-memory store of tests/support/ holding a realistic state.
//
// Every store holds 1,000 background live contacts (queued, answered, three customer turns) of
// 1,000 customers, their customer records and clock timers. On top of that, 2,000 target
// contacts (of 2,000 other customers) are brought to the state the measured kind expects, e.g.
// queued before `answered`, answered with three turns before a turn, a hold or the end, ended
// before a survey, an open case (from a lodged complaint) before `case_ack`. Each iteration is
// one event on one target contact; after the 2,000th the store is restored from the prepared
// copy with the timer paused, so the time per iteration is the time of one OnEvent (the
// returned effects are destroyed inside the timed region, as the runtime pays for them too).

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/event_mix.h"
#include "benchmark/benchmark.h"
#include "processor/domain/engine.h"
#include "tests/support/event_builders.h"
#include "tests/support/in_memory_store.h"

namespace ccstream::bench {
namespace {

namespace tb = ::ccstream::testing;
using domain::Effects;
using domain::Engine;

constexpr int kBackground = 1000;
constexpr int kTargets = 2000;

enum class Kind {
  kQueued,
  kAnswered,
  kCustomerTurn,
  kCustomerTurnText,
  kAgentTurn,
  kHoldStarted,
  kHoldEnded,
  kTransferred,
  kAbandoned,
  kEnded,
  kSurvey,
  kCaseAck,
  kComplaintLodged,
  kFlagComplaint,
};

// The store before the measured events, and those events (one per target contact).
struct Prepared {
  tb::InMemoryStore store;
  std::vector<v1::ContactEvent> events;
};

void Send(const Engine& engine, const v1::ContactEvent& event, tb::InMemoryStore& store) {
  if (!engine.OnEvent(event, event.event_time_ms(), store).ok()) std::abort();
}

tb::TurnSpec CustomerTurnSpec(int c, int turn) {
  tb::TurnSpec spec;
  spec.upstream_sentiment = ((c + turn) % 7 - 3) / 5.0f;
  spec.loudness_db = 60.0f + static_cast<float>((c * 7 + turn) % 9);
  return spec;
}

Prepared Prepare(const Engine& engine, Kind kind) {
  Prepared p;
  // Background: live contacts in conversation, started in the hour before the targets.
  for (int b = 0; b < kBackground; ++b) {
    const tb::ContactRef ref = Contact(b, 1);
    int64_t t = kT0Ms - 3600000 + int64_t{b} * 1000;
    Send(engine, tb::MakeQueued(ref, t), p.store);
    Send(engine, tb::MakeAnswered(ref, t += 12000), p.store);
    for (int turn = 0; turn < 3; ++turn) {
      Send(engine, tb::MakeTurn(ref, t += 8000, CustomerTurnSpec(b, turn)), p.store);
    }
  }
  // Targets: queued at tq, answered 12 s later, then two customer turns and an agent turn; the
  // measured event comes a minute after the answer.
  const std::vector<std::string>& texts = Turns100();
  for (int c = 0; c < kTargets; ++c) {
    const tb::ContactRef ref = Contact(kBackground + c, 0);
    const int64_t tq = kT0Ms + int64_t{c} * 1000;
    const int64_t ta = tq + 12000;
    const int64_t ts = ta + 60000;
    auto queue = [&] { Send(engine, tb::MakeQueued(ref, tq), p.store); };
    auto converse = [&] {
      queue();
      Send(engine, tb::MakeAnswered(ref, ta), p.store);
      Send(engine, tb::MakeTurn(ref, ta + 8000, CustomerTurnSpec(c, 0)), p.store);
      Send(engine, tb::MakeAgentTurn(ref, ta + 16000), p.store);
      Send(engine, tb::MakeTurn(ref, ta + 24000, CustomerTurnSpec(c, 1)), p.store);
    };
    switch (kind) {
      case Kind::kQueued:
        p.events.push_back(tb::MakeQueued(ref, tq));
        break;
      case Kind::kAnswered:
        queue();
        p.events.push_back(tb::MakeAnswered(ref, ta));
        break;
      case Kind::kCustomerTurn:
        converse();
        p.events.push_back(tb::MakeTurn(ref, ts, CustomerTurnSpec(c, 2)));
        break;
      case Kind::kCustomerTurnText: {
        converse();
        tb::TurnSpec spec;
        spec.text = texts[c % texts.size()];
        p.events.push_back(tb::MakeTurn(ref, ts, spec));
        break;
      }
      case Kind::kAgentTurn:
        converse();
        p.events.push_back(tb::MakeAgentTurn(ref, ts));
        break;
      case Kind::kHoldStarted:
        converse();
        p.events.push_back(tb::MakeHoldStarted(ref, ts));
        break;
      case Kind::kHoldEnded:
        converse();
        Send(engine, tb::MakeHoldStarted(ref, ts - 40000), p.store);
        p.events.push_back(tb::MakeHoldEnded(ref, ts));
        break;
      case Kind::kTransferred:
        converse();
        p.events.push_back(tb::MakeTransferred(ref, ts, "retention"));
        break;
      case Kind::kAbandoned:
        queue();
        p.events.push_back(tb::MakeAbandoned(ref, tq + 30000));
        break;
      case Kind::kEnded:
        converse();
        p.events.push_back(tb::MakeEnded(ref, ts, c % 2 == 0));
        break;
      case Kind::kSurvey:
        converse();
        Send(engine, tb::MakeEnded(ref, ts - 30000), p.store);
        p.events.push_back(tb::MakeSurvey(ref, ts, 1 + c % 5));
        break;
      case Kind::kCaseAck:
        // The case is opened by a lodged complaint; its id is looked up below.
        Send(engine, tb::MakeComplaintLodged(ref, tq, "cards"), p.store);
        break;
      case Kind::kComplaintLodged:
        p.events.push_back(tb::MakeComplaintLodged(ref, ts, "cards"));
        break;
      case Kind::kFlagComplaint:
        converse();
        p.events.push_back(tb::MakeFlagComplaint(ref, ts, "billing"));
        break;
    }
  }
  if (kind == Kind::kCaseAck) {
    std::map<std::string, std::string> case_of_customer;
    for (const auto& [id, c] : p.store.cases()) case_of_customer[c.customer_key()] = id;
    for (int c = 0; c < kTargets; ++c) {
      const tb::ContactRef ref = Contact(kBackground + c, 0);
      auto it = case_of_customer.find(engine.CustomerKey(ref.customer_id));
      if (it == case_of_customer.end()) std::abort();  // the lodged complaint opened no case
      const int64_t t = kT0Ms + int64_t{c} * 1000 + 600000;
      p.events.push_back(
          tb::MakeCaseAction(ref, t, v1::CaseAction::ACKNOWLEDGE, it->second, "lead-1", "called"));
    }
  }
  return p;
}

const Engine& SharedEngine() {
  static const std::unique_ptr<Engine> engine = MakeEngine();
  return *engine;
}

// Prepared once per kind and process (Google Benchmark runs a benchmark several times).
const Prepared& PreparedFor(Kind kind) {
  static std::map<Kind, std::unique_ptr<Prepared>> cache;
  std::unique_ptr<Prepared>& p = cache[kind];
  if (p == nullptr) p = std::make_unique<Prepared>(Prepare(SharedEngine(), kind));
  return *p;
}

void BM_EngineStep(benchmark::State& state, Kind kind) {
  const Engine* engine = &SharedEngine();
  const Prepared& prepared = PreparedFor(kind);
  tb::InMemoryStore store = prepared.store;
  size_t i = 0;
  int64_t alerts = 0;
  int64_t outcomes = 0;
  for (auto _ : state) {
    if (i == prepared.events.size()) {
      // Back to the prepared state; the old one is destroyed with the timer paused too.
      state.PauseTiming();
      store = prepared.store;
      i = 0;
      state.ResumeTiming();
    }
    const v1::ContactEvent& event = prepared.events[i++];
    absl::StatusOr<Effects> fx = engine->OnEvent(event, event.event_time_ms(), store);
    if (!fx.ok()) {
      state.SkipWithError(std::string(fx.status().message()).c_str());
      break;
    }
    alerts += static_cast<int64_t>(fx->alerts.size());
    outcomes += static_cast<int64_t>(fx->outcomes.size());
    benchmark::DoNotOptimize(fx);
  }
  state.SetItemsProcessed(state.iterations());
  const double n = static_cast<double>(std::max<benchmark::IterationCount>(1, state.iterations()));
  state.counters["alerts_per_event"] = static_cast<double>(alerts) / n;
  state.counters["outcomes_per_event"] = static_cast<double>(outcomes) / n;
}
BENCHMARK_CAPTURE(BM_EngineStep, queued, Kind::kQueued);
BENCHMARK_CAPTURE(BM_EngineStep, answered, Kind::kAnswered);
BENCHMARK_CAPTURE(BM_EngineStep, customer_turn, Kind::kCustomerTurn);
BENCHMARK_CAPTURE(BM_EngineStep, customer_turn_text100, Kind::kCustomerTurnText);
BENCHMARK_CAPTURE(BM_EngineStep, agent_turn, Kind::kAgentTurn);
BENCHMARK_CAPTURE(BM_EngineStep, hold_started, Kind::kHoldStarted);
BENCHMARK_CAPTURE(BM_EngineStep, hold_ended, Kind::kHoldEnded);
BENCHMARK_CAPTURE(BM_EngineStep, transferred, Kind::kTransferred);
BENCHMARK_CAPTURE(BM_EngineStep, abandoned, Kind::kAbandoned);
BENCHMARK_CAPTURE(BM_EngineStep, ended, Kind::kEnded);
BENCHMARK_CAPTURE(BM_EngineStep, survey, Kind::kSurvey);
BENCHMARK_CAPTURE(BM_EngineStep, case_ack, Kind::kCaseAck);
BENCHMARK_CAPTURE(BM_EngineStep, complaint_lodged, Kind::kComplaintLodged);
BENCHMARK_CAPTURE(BM_EngineStep, flag_complaint, Kind::kFlagComplaint);

}  // namespace
}  // namespace ccstream::bench
