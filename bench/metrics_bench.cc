// The cost of a Prometheus scrape of ccstream with every label set populated (target: under
// 5 ms), and whether scrapes stall the pipeline's metric recording.
//
//   BM_ScrapeSerialize  Collect + text serialization of the whole registry (what /metrics does)
//   BM_ScrapeHttp       a full GET /metrics over a TCP connection to the service's HTTP server
//   BM_RecordOutcomes   the pipeline side: recording a realistic mix of outcomes, alone
//                       (arg 0) and while another thread scrapes without pause (arg 1)
#include <benchmark/benchmark.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "config.pb.h"
#include "domain_config.pb.h"
#include "processor/domain/outcomes.h"
#include "processor/http/server.h"
#include "processor/runtime/domain_probe.h"
#include "processor/runtime/exposition.h"
#include "processor/runtime/probe.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace {

using ccstream::domain::Outcome;
using ccstream::domain::OutcomeKind;
namespace v1 = ccstream::v1;

constexpr int kQueues = 24;
constexpr int kCategories = 12;
constexpr int kPartitions = 12;

const v1::Channel kChannels[] = {v1::VOICE, v1::CHAT, v1::EMAIL, v1::SOCIAL};
const char* kMilestones[] = {"acknowledge", "keep_informed", "resolve", "follow_up"};
const char* kCues[] = {"repeated_dissatisfaction",
                       "escalation_phrase",
                       "negative_trend",
                       "long_hold",
                       "loudness",
                       "repeat_contact"};
const char* kClocks[] = {"queue_wait", "first_response", "hold"};

// The outcomes that populate every label set the probes have.
std::vector<Outcome> AllLabelSets() {
  std::vector<Outcome> out;
  for (int q = 0; q < kQueues; ++q) {
    for (v1::Channel channel : kChannels) {
      Outcome o;
      o.queue = "queue-" + std::to_string(q);
      o.channel = channel;
      o.value = 17;
      for (OutcomeKind kind :
           {OutcomeKind::kContactOffered, OutcomeKind::kContactAnswered,
            OutcomeKind::kAnsweredWithinThreshold, OutcomeKind::kContactAbandoned,
            OutcomeKind::kWaitTime, OutcomeKind::kHandleTime, OutcomeKind::kRepeatContact}) {
        o.kind = kind;
        out.push_back(o);
      }
      o.kind = OutcomeKind::kCsatResponse;
      for (int score = 1; score <= 5; ++score) {
        o.score = score;
        out.push_back(o);
      }
    }
  }
  for (int c = 0; c < kCategories; ++c) {
    Outcome o;
    o.category = "category-" + std::to_string(c);
    o.kind = OutcomeKind::kCaseOpened;
    out.push_back(o);
    o.kind = OutcomeKind::kOpenCasesDelta;
    o.delta = 1;
    for (v1::Severity s : {v1::LOW, v1::MEDIUM, v1::HIGH, v1::CRITICAL}) {
      o.severity = s;
      out.push_back(o);
    }
  }
  for (v1::CaseState state : {v1::ACKNOWLEDGED, v1::INVESTIGATING, v1::RESOLVED, v1::CLOSED}) {
    Outcome o;
    o.kind = OutcomeKind::kCaseTransition;
    o.state = state;
    out.push_back(o);
  }
  for (const char* m : kMilestones) {
    Outcome o;
    o.milestone = m;
    o.kind = OutcomeKind::kSlaWarning;
    out.push_back(o);
    o.kind = OutcomeKind::kSlaBreach;
    out.push_back(o);
  }
  for (const char* cue : kCues) {
    Outcome o;
    o.kind = OutcomeKind::kEscalation;
    o.cue = cue;
    out.push_back(o);
  }
  for (const char* clock : kClocks) {
    Outcome o;
    o.kind = OutcomeKind::kLiveSlaBreach;
    o.milestone = clock;
    out.push_back(o);
  }
  return out;
}

// A registry as a busy instance has it: pipeline and domain probes with every label set.
struct Populated {
  Populated() : pipeline(registry), domain(registry, v1::DomainConfig()) {
    for (const Outcome& o : AllLabelSets()) domain.Record(o);
    for (int p = 0; p < kPartitions; ++p) pipeline.ConsumerLag(p, 100 + p);
    for (int kind = 1; kind <= 7; ++kind) {
      pipeline.AlertCommitted(static_cast<v1::AlertKind>(kind), 0.05 * kind);
    }
    for (int r = 1; r <= 10; ++r) {
      pipeline.DeadLettered(static_cast<ccstream::ingest::RefusalReason>(r));
    }
    pipeline.BatchCommitted(0.004, 2500, false);
  }
  // What GET /metrics serves (processor/cli/service.cc).
  std::string Scrape() { return ccstream::runtime::SerializeText(registry.Collect()); }
  prometheus::Registry registry;
  ccstream::runtime::PipelineProbe pipeline;
  ccstream::runtime::DomainProbe domain;
};

size_t SeriesCount(const std::string& text) {
  size_t lines = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((i == 0 || text[i - 1] == '\n') && text[i] != '#' && text[i] != '\n') ++lines;
  }
  return lines;
}

void BM_ScrapeSerialize(benchmark::State& state) {
  Populated p;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = p.Scrape();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  const std::string text = p.Scrape();
  state.counters["series"] = static_cast<double>(SeriesCount(text));
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ScrapeSerialize)->Unit(benchmark::kMillisecond);

// For comparison: the same scrape serialized by prometheus-cpp's TextSerializer (iostreams).
void BM_ScrapeSerializePrometheusCpp(benchmark::State& state) {
  Populated p;
  for (auto _ : state) {
    benchmark::DoNotOptimize(prometheus::TextSerializer().Serialize(p.registry.Collect()));
  }
}
BENCHMARK(BM_ScrapeSerializePrometheusCpp)->Unit(benchmark::kMillisecond);

// Collect alone: copying the registry's series out under their locks.
void BM_ScrapeCollectOnly(benchmark::State& state) {
  Populated p;
  for (auto _ : state) benchmark::DoNotOptimize(p.registry.Collect());
}
BENCHMARK(BM_ScrapeCollectOnly)->Unit(benchmark::kMillisecond);

void BM_ScrapeHttp(benchmark::State& state) {
  Populated p;
  ccstream::http::ServerOptions options;
  options.port = 0;
  ccstream::http::Server server(options);
  server.Handle("/metrics", [&p](const ccstream::http::Request&) {
    return ccstream::http::Response::Text(p.Scrape());
  });
  if (!server.Start().ok()) {
    state.SkipWithError("cannot start the HTTP server");
    return;
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/metrics";
  for (auto _ : state) {
    auto response = ccstream::http::Fetch("GET", url);
    if (!response.ok() || response->status != 200) {
      state.SkipWithError("scrape failed");
      return;
    }
    benchmark::DoNotOptimize(response->body);
  }
}
BENCHMARK(BM_ScrapeHttp)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RecordOutcomes(benchmark::State& state) {
  Populated p;
  const std::vector<Outcome> outcomes = AllLabelSets();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> scrapes{0};
  std::thread scraper;
  if (state.range(0) == 1) {
    scraper = std::thread([&] {
      while (!stop.load()) {
        benchmark::DoNotOptimize(p.Scrape());
        ++scrapes;
      }
    });
  }
  size_t i = 0;
  for (auto _ : state) {
    p.domain.Record(outcomes[i]);
    p.pipeline.EventsProcessed(1);
    if (++i == outcomes.size()) i = 0;
  }
  stop = true;
  if (scraper.joinable()) scraper.join();
  state.SetItemsProcessed(state.iterations());
  state.counters["scrapes"] = static_cast<double>(scrapes.load());
}
BENCHMARK(BM_RecordOutcomes)->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
