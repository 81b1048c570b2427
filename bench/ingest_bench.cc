// Decoding and validating input records (processor/ingest/), as the pipeline does for every
// Kafka record: ingest::DecodeAndValidate on the record's bytes into one reused ContactEvent.
//   BM_DecodeValidate/mix: the live-contact mix of engine_bench (15 events per contact).
//   BM_DecodeValidate/turn100: customer turns carrying ~100 characters of text.
//   BM_DecodeValidate/<kind>: one payload kind at a time.
//   BM_ParseOnly/mix: the protobuf parse alone on the same bytes, to see what validation adds.
// Items are records; bytes are the serialized records' sizes.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/event_mix.h"
#include "benchmark/benchmark.h"
#include "processor/ingest/validate.h"

namespace ccstream::bench {
namespace {

namespace tb = ::ccstream::testing;

enum class Set {
  kMix,
  kTurn100,
  kQueued,
  kAnswered,
  kCustomerTurn,
  kAgentTurn,
  kHoldStarted,
  kHoldEnded,
  kTransferred,
  kAbandoned,
  kEnded,
  kSurvey,
  kCaseAction,
  kComplaintLodged,
};

// 2,000 records of the set (30,000 for the mix), serialized.
std::vector<std::string> Records(Set set) {
  std::vector<v1::ContactEvent> events;
  if (set == Set::kMix) {
    events = LiveMix(2000, 0);
  } else {
    const std::vector<std::string>& texts = Turns100();
    for (int c = 0; c < 2000; ++c) {
      const tb::ContactRef ref = Contact(c, 0);
      const int64_t t = kT0Ms + int64_t{c} * 1000;
      switch (set) {
        case Set::kMix:
          break;
        case Set::kTurn100: {
          tb::TurnSpec spec;
          spec.text = texts[c % texts.size()];
          events.push_back(tb::MakeTurn(ref, t, spec));
          break;
        }
        case Set::kQueued:
          events.push_back(tb::MakeQueued(ref, t));
          break;
        case Set::kAnswered:
          events.push_back(tb::MakeAnswered(ref, t));
          break;
        case Set::kCustomerTurn: {
          tb::TurnSpec spec;
          spec.upstream_sentiment = (c % 7 - 3) / 5.0f;
          spec.loudness_db = 60.0f + static_cast<float>(c % 9);
          events.push_back(tb::MakeTurn(ref, t, spec));
          break;
        }
        case Set::kAgentTurn:
          events.push_back(tb::MakeAgentTurn(ref, t));
          break;
        case Set::kHoldStarted:
          events.push_back(tb::MakeHoldStarted(ref, t));
          break;
        case Set::kHoldEnded:
          events.push_back(tb::MakeHoldEnded(ref, t));
          break;
        case Set::kTransferred:
          events.push_back(tb::MakeTransferred(ref, t, "retention"));
          break;
        case Set::kAbandoned:
          events.push_back(tb::MakeAbandoned(ref, t));
          break;
        case Set::kEnded:
          events.push_back(tb::MakeEnded(ref, t, c % 2 == 0));
          break;
        case Set::kSurvey:
          events.push_back(tb::MakeSurvey(ref, t, 1 + c % 5));
          break;
        case Set::kCaseAction:
          events.push_back(tb::MakeCaseAction(ref, t, v1::CaseAction::ACKNOWLEDGE,
                                              absl::StrCat("case-", c), "lead-7",
                                              "called the customer back"));
          break;
        case Set::kComplaintLodged:
          events.push_back(tb::MakeComplaintLodged(ref, t, "cards"));
          break;
      }
    }
  }
  std::vector<std::string> records;
  records.reserve(events.size());
  for (const v1::ContactEvent& event : events) records.push_back(event.SerializeAsString());
  return records;
}

int64_t TotalBytes(const std::vector<std::string>& records) {
  int64_t bytes = 0;
  for (const std::string& r : records) bytes += static_cast<int64_t>(r.size());
  return bytes;
}

void BM_DecodeValidate(benchmark::State& state, Set set) {
  const std::vector<std::string> records = Records(set);
  const int64_t now_ms = kT0Ms + int64_t{30} * 86400000;
  const ingest::ValidationLimits limits;
  v1::ContactEvent event;  // reused, as the pipeline does
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& record = records[i];
    const ingest::Verdict verdict = ingest::DecodeAndValidate(record, now_ms, limits, &event);
    if (!verdict.ok()) {
      state.SkipWithError(verdict.detail.c_str());
      break;
    }
    benchmark::DoNotOptimize(event);
    bytes += static_cast<int64_t>(record.size());
    if (++i == records.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
  state.counters["bytes_per_record"] =
      static_cast<double>(TotalBytes(records)) / static_cast<double>(records.size());
}
BENCHMARK_CAPTURE(BM_DecodeValidate, mix, Set::kMix);
BENCHMARK_CAPTURE(BM_DecodeValidate, turn100, Set::kTurn100);
BENCHMARK_CAPTURE(BM_DecodeValidate, queued, Set::kQueued);
BENCHMARK_CAPTURE(BM_DecodeValidate, answered, Set::kAnswered);
BENCHMARK_CAPTURE(BM_DecodeValidate, customer_turn, Set::kCustomerTurn);
BENCHMARK_CAPTURE(BM_DecodeValidate, agent_turn, Set::kAgentTurn);
BENCHMARK_CAPTURE(BM_DecodeValidate, hold_started, Set::kHoldStarted);
BENCHMARK_CAPTURE(BM_DecodeValidate, hold_ended, Set::kHoldEnded);
BENCHMARK_CAPTURE(BM_DecodeValidate, transferred, Set::kTransferred);
BENCHMARK_CAPTURE(BM_DecodeValidate, abandoned, Set::kAbandoned);
BENCHMARK_CAPTURE(BM_DecodeValidate, ended, Set::kEnded);
BENCHMARK_CAPTURE(BM_DecodeValidate, survey, Set::kSurvey);
BENCHMARK_CAPTURE(BM_DecodeValidate, case_action, Set::kCaseAction);
BENCHMARK_CAPTURE(BM_DecodeValidate, complaint_lodged, Set::kComplaintLodged);

void BM_ParseOnly(benchmark::State& state, Set set) {
  const std::vector<std::string> records = Records(set);
  v1::ContactEvent event;
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& record = records[i];
    event.Clear();
    if (!event.ParseFromArray(record.data(), static_cast<int>(record.size()))) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(event);
    bytes += static_cast<int64_t>(record.size());
    if (++i == records.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK_CAPTURE(BM_ParseOnly, mix, Set::kMix);
BENCHMARK_CAPTURE(BM_ParseOnly, turn100, Set::kTurn100);

}  // namespace
}  // namespace ccstream::bench
