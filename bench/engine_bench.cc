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
#include "benchmark/benchmark.h"
#include "processor/domain/engine.h"
#include "tests/support/event_builders.h"
#include "tests/support/in_memory_store.h"

namespace ccstream::domain {
namespace {

namespace tb = ::ccstream::testing;

v1::DomainConfig BenchConfig() {
  v1::DomainConfig config;
  config.set_pseudonymisation_key("bench-key-0123456789abcdef");
  return config;
}

std::unique_ptr<Engine> MakeEngine() {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(BenchConfig());
  if (!engine.ok()) std::abort();
  return std::move(*engine);
}

// One pass: `contacts` contacts, each queued, answered, 8 turns (5 customer with upstream
// sentiment and loudness, 3 agent without text), a hold, a transfer, the end and a survey:
// 15 events per contact, interleaved over 50 concurrent contacts.
std::vector<v1::ContactEvent> LiveMix(int contacts, int pass) {
  std::vector<v1::ContactEvent> events;
  events.reserve(contacts * 15);
  static const char* kQueues[] = {"billing", "sales", "support", "retention"};
  static const v1::Channel kChannels[] = {v1::VOICE, v1::VOICE, v1::CHAT, v1::VOICE};
  const int64_t t0 = 1767603600000 + int64_t{pass} * 86400000;
  constexpr int kConcurrent = 50;
  for (int base = 0; base < contacts; base += kConcurrent) {
    std::vector<std::vector<v1::ContactEvent>> per_contact;
    for (int c = base; c < std::min(contacts, base + kConcurrent); ++c) {
      tb::ContactRef ref;
      ref.contact_id = absl::StrCat("p", pass, "-c", c);
      ref.customer_id = absl::StrCat("cust-", c % 5000);
      ref.queue = kQueues[c % 4];
      ref.channel = kChannels[c % 4];
      int64_t t = t0 + int64_t{c} * 1000;
      std::vector<v1::ContactEvent> seq;
      seq.push_back(tb::MakeQueued(ref, t));
      seq.push_back(tb::MakeAnswered(ref, t += 12000));
      for (int turn = 0; turn < 8; ++turn) {
        tb::TurnSpec spec;
        if (turn % 3 == 2) {
          spec.speaker = v1::AGENT;
        } else {
          spec.upstream_sentiment = ((c + turn) % 7 - 3) / 5.0f;
          spec.loudness_db = 60.0f + static_cast<float>((c * 7 + turn) % 9);
          spec.interruption = (c + turn) % 11 == 0;
        }
        seq.push_back(tb::MakeTurn(ref, t += 8000, spec));
      }
      seq.push_back(tb::MakeHoldStarted(ref, t += 5000));
      seq.push_back(tb::MakeHoldEnded(ref, t += 40000));
      seq.push_back(tb::MakeTransferred(ref, t += 5000, ""));
      seq.push_back(tb::MakeEnded(ref, t += 60000));
      seq.push_back(tb::MakeSurvey(ref, t += 60000, 1 + c % 5));
      per_contact.push_back(std::move(seq));
    }
    for (size_t i = 0; i < per_contact[0].size(); ++i) {
      for (auto& seq : per_contact) events.push_back(std::move(seq[i]));
    }
  }
  return events;
}

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

const std::vector<std::string>& Texts() {
  static const std::vector<std::string> texts = {
      "I have been waiting for three weeks and nobody has called me back about the refund, this "
      "is awful",
      "Thanks, that sorts it out. Could you also confirm the new billing date for next month "
      "please?",
      "This is the third time I've called about the same charge. I want to speak to a manager "
      "right now",
      "If this is not fixed today I will cancel my contract and complain to the ombudsman about "
      "you",
      "Can you tell me how to update my address on the account, I moved house last week and it "
      "still shows",
      "Your engineer never turned up, I took a day off work for nothing. Absolutely useless "
      "service!!",
      "Great, the new plan looks good to me. How long does it take before the discount shows "
      "on my bill?",
      "I'm really disappointed, the product broke after two days and the replacement is also "
      "faulty now.",
  };
  return texts;
}

void BM_CustomerTurnsWithText(benchmark::State& state) {
  const std::unique_ptr<Engine> engine = MakeEngine();
  constexpr int kContacts = 1000;
  constexpr int kTurnsPerPass = 20000;
  int pass = 0;
  int64_t processed = 0;
  const std::vector<std::string>& texts = Texts();
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
      MakeDefaultTextAnalyzer(BenchConfig());
  if (!analyzer.ok()) std::abort();
  const std::vector<std::string>& texts = Texts();
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
