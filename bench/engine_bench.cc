// Engine throughput with the in-memory store.
//   BM_EventsWithoutText: the live-contact mix without transcript text (queue, answer, turns with
//     upstream sentiment, hold, transfer, end, survey). Target: >= 1,000,000 events/s per core.
//   BM_CustomerTurnsWithText: customer turns of ~100 characters through the production analyzer
//     (VADER sentiment, complaint classifier, escalation phrases). Target: >= 300,000 turns/s.
//   BM_TextAnalyzerOnly: the analyzer alone on the same texts, to see where turn time goes.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/event_mix.h"
#include "benchmark/benchmark.h"
#include "processor/domain/engine.h"
#include "tests/support/event_builders.h"
#include "tests/support/in_memory_store.h"

namespace ccstream::domain {
namespace {

namespace tb = ::ccstream::testing;
using ::ccstream::bench::LiveMix;
using ::ccstream::bench::MakeEngine;

void BM_EventsWithoutText(benchmark::State& state) {
  const std::unique_ptr<Engine> engine = MakeEngine();
  int pass = 0;
  int64_t processed = 0;
  // Built and destroyed outside the timed region.
  auto store = std::make_unique<tb::InMemoryStore>();
  std::vector<v1::ContactEvent> events;
  for (auto _ : state) {
    state.PauseTiming();
    store = std::make_unique<tb::InMemoryStore>();
    events = LiveMix(2000, pass++);
    state.ResumeTiming();
    for (const v1::ContactEvent& event : events) {
      absl::StatusOr<Effects> fx = engine->OnEvent(event, event.event_time_ms(), *store);
      benchmark::DoNotOptimize(fx);
    }
    processed += static_cast<int64_t>(events.size());
  }
  state.SetItemsProcessed(processed);
}
BENCHMARK(BM_EventsWithoutText)->Unit(benchmark::kMillisecond);

void BM_CustomerTurnsWithText(benchmark::State& state) {
  const std::unique_ptr<Engine> engine = MakeEngine();
  constexpr int kContacts = 1000;
  constexpr int kTurnsPerPass = 20000;
  int pass = 0;
  int64_t processed = 0;
  const std::vector<std::string>& texts = ::ccstream::bench::Turns100();
  // Built and destroyed outside the timed region.
  auto owned_store = std::make_unique<tb::InMemoryStore>();
  std::vector<v1::ContactEvent> events;
  for (auto _ : state) {
    state.PauseTiming();
    owned_store = std::make_unique<tb::InMemoryStore>();
    tb::InMemoryStore& store = *owned_store;
    events.clear();
    events.reserve(kTurnsPerPass);
    const int64_t t0 = 1767603600000 + int64_t{pass} * 86400000;
    for (int c = 0; c < kContacts; ++c) {
      tb::ContactRef ref;
      ref.contact_id = absl::StrCat("p", pass, "-c", c);
      ref.customer_id = absl::StrCat("cust-", c);
      (void)engine->OnEvent(tb::MakeAnswered(ref, t0), t0, store);
    }
    for (int i = 0; i < kTurnsPerPass; ++i) {
      tb::ContactRef ref;
      const int c = i % kContacts;
      ref.contact_id = absl::StrCat("p", pass, "-c", c);
      ref.customer_id = absl::StrCat("cust-", c);
      tb::TurnSpec spec;
      spec.text = texts[(i * 7 + c) % texts.size()];
      events.push_back(tb::MakeTurn(ref, t0 + 1000 + i, spec));
    }
    ++pass;
    state.ResumeTiming();
    for (const v1::ContactEvent& event : events) {
      absl::StatusOr<Effects> fx = engine->OnEvent(event, event.event_time_ms(), store);
      benchmark::DoNotOptimize(fx);
    }
    processed += kTurnsPerPass;
  }
  state.SetItemsProcessed(processed);
}
BENCHMARK(BM_CustomerTurnsWithText)->Unit(benchmark::kMillisecond);

void BM_TextAnalyzerOnly(benchmark::State& state) {
  absl::StatusOr<std::shared_ptr<const TextAnalyzer>> analyzer =
      MakeDefaultTextAnalyzer(::ccstream::bench::BenchConfig());
  if (!analyzer.ok()) std::abort();
  const std::vector<std::string>& texts = ::ccstream::bench::Turns100();
  size_t i = 0;
  for (auto _ : state) {
    TextSignals s = (*analyzer)->Analyze(texts[i++ % texts.size()]);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TextAnalyzerOnly);

}  // namespace
}  // namespace ccstream::domain
