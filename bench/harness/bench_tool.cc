// ccstream_bench_tool: the Kafka-facing pieces of the end-to-end benchmark harness
// (bench/run.sh). Each subcommand prints one JSON object on stdout as its last line.
//
//   create-topic --bootstrap B --topic T --partitions P [--config k=v,k=v]
//              Creates a topic (replication 1); fine when it exists.
//   consume    --bootstrap B --topic T --expect N [--group G] [--timeout-s S]
//              The baseline: a plain librdkafka consumer with ccstream's consumer settings that
//              reads the topic and does nothing else.
//   load-state --bootstrap B --topic T --keys N [--start-ms MS]
//              N distinct customers, each with a queued contact and a lodged complaint: after
//              processing, N contacts, N cases and N customers in state.
//   latency    --bootstrap B --input T --alerts T [--rate R] [--duration-s S] [--warmup-s W]
//              [--seed K] [--drain-s D] [--escalating-fraction F] [--lead-s L]
//              [--samples-out FILE]
//              Produces generated traffic paced on the wall clock (event time = now), R events
//              per second over the sampled stretch (merged from as many generators as that
//              takes), and
//              measures, for each alert read with read_committed, the time from the produce of
//              the event it names (source_event_id) to the alert being readable. With
//              --samples-out, each sample as a line "<ms from the paced start to the produce>
//              <latency ms>" in produce order, to see when in a run the latency rose.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "alert.pb.h"
#include "config.pb.h"
#include "events.pb.h"
#include "librdkafka/rdkafkacpp.h"
#include "processor/gen/generator.h"
#include "processor/kafka/kafka.h"

namespace {

using Clock = std::chrono::steady_clock;

double SecondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// --name value pairs after the subcommand.
class Args {
 public:
  static absl::StatusOr<Args> Parse(int argc, char** argv) {
    Args args;
    for (int i = 2; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg.rfind("--", 0) != 0 || i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("expected --name value, got '", arg, "'"));
      }
      args.values_[arg.substr(2)] = argv[++i];
    }
    return args;
  }
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  absl::StatusOr<double> Number(const std::string& name, double fallback) const {
    if (!Has(name)) return fallback;
    double value = 0;
    if (!absl::SimpleAtod(Get(name), &value) || !std::isfinite(value) || value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": '", Get(name), "' is not a non-negative number"));
    }
    return value;
  }

 private:
  std::map<std::string, std::string> values_;
};

absl::Status Require(const Args& args, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (!args.Has(name))
      return absl::InvalidArgumentError(absl::StrCat("--", name, " is required"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> MakeConsumer(
    const ccstream::kafka::Properties& properties) {
  auto conf = ccstream::kafka::MakeConf(properties);
  if (!conf.ok()) return conf.status();
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!consumer) return absl::InternalError(absl::StrCat("cannot create consumer: ", error));
  return consumer;
}

absl::Status CreateTopic(const Args& args) {
  if (absl::Status s = Require(args, {"bootstrap", "topic", "partitions"}); !s.ok()) return s;
  auto partitions = args.Number("partitions", 1);
  if (!partitions.ok()) return partitions.status();
  ccstream::kafka::Properties configs;
  for (absl::string_view pair : absl::StrSplit(args.Get("config"), ',', absl::SkipEmpty())) {
    const size_t eq = pair.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("--config: '", pair, "' is not key=value"));
    }
    configs[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
  }
  ccstream::v1::KafkaConfig kafka;
  kafka.set_bootstrap_servers(args.Get("bootstrap"));
  if (absl::Status s = ccstream::kafka::CreateTopic(kafka, args.Get("topic"),
                                                    static_cast<int>(*partitions), configs, 30'000);
      !s.ok()) {
    return s;
  }
  // The broker answers before every listener sees the topic: wait until its metadata does.
  absl::StatusOr<int> count = absl::NotFoundError("");
  for (int attempt = 0; attempt < 100; ++attempt) {
    count = ccstream::kafka::PartitionCount(kafka, args.Get("topic"), 5'000);
    if (count.ok() && *count == static_cast<int>(*partitions)) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return count.ok() ? absl::FailedPreconditionError(
                          absl::StrCat("topic ", args.Get("topic"), " has ", *count, " partitions"))
                    : count.status();
}

// The baseline consumer: ccstream's own consumer settings (read_committed, fetch wait, ...)
// but librdkafka's default prefetch (64 MiB fetches and queue), a fresh group, and nothing done
// per record but counting it: the ceiling of consuming on this machine. ccstream's own bounded
// prefetch (kafka::BoundPrefetch) would lower it: with 1 MiB fetches it read 417,585 events/s
// where 4 MiB fetches read 0.8-1.2 M events/s.
absl::Status Consume(const Args& args) {
  if (absl::Status s = Require(args, {"bootstrap", "topic", "expect"}); !s.ok()) return s;
  auto expect = args.Number("expect", 0);
  auto timeout = args.Number("timeout-s", 600);
  if (!expect.ok()) return expect.status();
  if (!timeout.ok()) return timeout.status();
  const auto wanted = static_cast<int64_t>(*expect);
  ccstream::v1::KafkaConfig kafka;
  kafka.set_bootstrap_servers(args.Get("bootstrap"));
  kafka.set_group_id(args.Get("group", "bench-baseline"));
  kafka.set_client_id("bench-baseline");
  ccstream::kafka::Properties properties = ccstream::kafka::ConsumerProperties(kafka);
  properties["enable.partition.eof"] = "false";
  ccstream::kafka::UnboundPrefetch(properties);
  auto consumer = MakeConsumer(properties);
  if (!consumer.ok()) return consumer.status();
  if (RdKafka::ErrorCode code = (*consumer)->subscribe({args.Get("topic")}); code != 0) {
    return absl::InternalError(absl::StrCat("subscribe: ", RdKafka::err2str(code)));
  }
  int64_t count = 0;
  int64_t bytes = 0;
  std::optional<Clock::time_point> first;
  Clock::time_point at10;
  Clock::time_point at90;
  Clock::time_point last;
  const int64_t mark10 = wanted / 10;
  const int64_t mark90 = wanted - wanted / 10;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(*timeout * 1000));
  while (count < wanted && Clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> message((*consumer)->consume(100));
    if (message->err() == RdKafka::ERR__TIMED_OUT) continue;
    if (message->err() != RdKafka::ERR_NO_ERROR) {
      std::fprintf(stderr, "consume: %s\n", message->errstr().c_str());
      continue;
    }
    const Clock::time_point now = Clock::now();
    if (!first) first = now;
    ++count;
    bytes += static_cast<int64_t>(message->len());
    if (count == mark10) at10 = now;
    if (count == mark90) at90 = now;
    last = now;
  }
  (*consumer)->close();
  if (count < wanted) {
    return absl::DeadlineExceededError(
        absl::StrCat("read ", count, " of ", wanted, " records before the timeout"));
  }
  const double seconds = SecondsBetween(*first, last);
  const double window = SecondsBetween(at10, at90);
  std::printf("{\"events\": %" PRId64 ", \"bytes\": %" PRId64
              ", \"seconds\": %.3f, \"events_per_s\": %.0f, \"sustained_events_per_s\": %.0f}\n",
              count, bytes, seconds, seconds > 0 ? static_cast<double>(count) / seconds : 0.0,
              window > 0 ? static_cast<double>(mark90 - mark10) / window : 0.0);
  return absl::OkStatus();
}

// N customers, each with a queued voice contact and, a second later, a lodged complaint.
absl::Status LoadState(const Args& args) {
  if (absl::Status s = Require(args, {"bootstrap", "topic", "keys"}); !s.ok()) return s;
  auto keys = args.Number("keys", 0);
  auto start = args.Number("start-ms", 1'767'258'000'000.0);
  if (!keys.ok()) return keys.status();
  if (!start.ok()) return start.status();
  ccstream::v1::KafkaConfig kafka;
  kafka.set_bootstrap_servers(args.Get("bootstrap"));
  kafka.set_client_id("bench-load-state");
  auto properties = ccstream::kafka::ProducerProperties(kafka, false);
  properties["linger.ms"] = "20";
  properties["batch.num.messages"] = "10000";
  auto producer = ccstream::kafka::SimpleProducer::Create(properties);
  if (!producer.ok()) return producer.status();
  const std::string topic = args.Get("topic");
  const auto n = static_cast<int64_t>(*keys);
  const auto start_ms = static_cast<int64_t>(*start);
  static constexpr const char* kQueues[] = {"billing", "technical-support", "sales",
                                            "cancellations", "complaints"};
  for (int64_t i = 0; i < n; ++i) {
    ccstream::v1::ContactEvent queued;
    queued.set_event_id(absl::StrCat("load-q-", i));
    queued.set_contact_id(absl::StrCat("load-contact-", i));
    queued.set_customer_id(absl::StrCat("load-customer-", i));
    queued.set_channel(ccstream::v1::VOICE);
    queued.set_queue(kQueues[i % 5]);
    // Spread over time in order, 1 ms apart, so that the event time only moves forward.
    queued.set_event_time_ms(start_ms + i);
    queued.mutable_queued();
    ccstream::v1::ContactEvent lodged = queued;
    lodged.set_event_id(absl::StrCat("load-c-", i));
    lodged.clear_queued();
    lodged.mutable_complaint_lodged()->set_issue("bench");
    for (const ccstream::v1::ContactEvent* event : {&queued, &lodged}) {
      absl::Status s = (*producer)->Produce(
          ccstream::kafka::Record{topic, event->customer_id(), event->SerializeAsString(), {}, -1});
      if (!s.ok()) return s;
    }
  }
  if (absl::Status s = (*producer)->Flush(120'000); !s.ok()) return s;
  std::printf("{\"keys\": %" PRId64 ", \"produced\": %" PRId64 "}\n", n, 2 * n);
  return absl::OkStatus();
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// Produce-to-visible alert latency at a fixed offered load.
absl::Status Latency(const Args& args) {
  if (absl::Status s = Require(args, {"bootstrap", "input", "alerts"}); !s.ok()) return s;
  auto rate = args.Number("rate", 5000);
  auto duration = args.Number("duration-s", 60);
  auto warmup = args.Number("warmup-s", 5);
  auto seed = args.Number("seed", 7);
  auto drain = args.Number("drain-s", 5);
  auto escalating = args.Number("escalating-fraction", 0.25);
  auto lead = args.Number("lead-s", 30);
  for (const absl::Status& s : {rate.status(), duration.status(), warmup.status(), seed.status(),
                                drain.status(), escalating.status()}) {
    if (!s.ok()) return s;
  }
  if (*rate <= 0 || *duration <= 0) {
    return absl::InvalidArgumentError("--rate and --duration-s must be positive");
  }
  ccstream::v1::KafkaConfig kafka;
  kafka.set_bootstrap_servers(args.Get("bootstrap"));
  kafka.set_client_id("bench-latency");
  kafka.set_group_id(absl::StrCat("bench-latency-", WallNowMs()));

  // The alert reader starts first, at the end of the alerts topic.
  ccstream::kafka::Properties consumer_properties = ccstream::kafka::ConsumerProperties(kafka);
  consumer_properties["auto.offset.reset"] = "latest";
  consumer_properties["enable.partition.eof"] = "false";
  // A fetch returns as soon as records are readable; the wait only bounds an empty one (at 5 ms
  // the reader's empty fetches were a large part of the broker's load on a small machine).
  consumer_properties["fetch.wait.max.ms"] = "100";
  consumer_properties["fetch.error.backoff.ms"] = "5";
  auto consumer = MakeConsumer(consumer_properties);
  if (!consumer.ok()) return consumer.status();
  if (RdKafka::ErrorCode code = (*consumer)->subscribe({args.Get("alerts")}); code != 0) {
    return absl::InternalError(absl::StrCat("subscribe: ", RdKafka::err2str(code)));
  }
  // Wait for the assignment (and the end offsets) before producing anything.
  for (int i = 0; i < 300; ++i) {
    std::unique_ptr<RdKafka::Message> message((*consumer)->consume(100));
    std::vector<RdKafka::TopicPartition*> assigned;
    (*consumer)->assignment(assigned);
    const bool ready = !assigned.empty();
    RdKafka::TopicPartition::destroy(assigned);
    if (ready) break;
  }

  std::mutex mu;
  std::unordered_map<std::string, Clock::time_point> produced_at;
  std::vector<double> latencies_ms;
  std::vector<Clock::time_point> sampled_at;  // the produce of each sample, in read order
  std::unordered_map<std::string, bool> seen;
  int64_t alerts = 0;
  int64_t unmatched = 0;
  std::atomic<bool> stop_reading{false};
  Clock::time_point measure_from = Clock::now() + std::chrono::hours(1);

  std::thread reader([&] {
    while (!stop_reading.load()) {
      std::unique_ptr<RdKafka::Message> message((*consumer)->consume(20));
      if (message->err() != RdKafka::ERR_NO_ERROR) continue;
      const Clock::time_point now = Clock::now();
      ccstream::v1::Alert alert;
      if (!alert.ParseFromArray(message->payload(), static_cast<int>(message->len()))) continue;
      std::lock_guard<std::mutex> lock(mu);
      ++alerts;
      auto it = produced_at.find(alert.source_event_id());
      if (it == produced_at.end()) {
        ++unmatched;
        continue;
      }
      // One sample per event: the first alert it raised.
      if (!seen.emplace(alert.source_event_id(), true).second) continue;
      if (it->second < measure_from) continue;
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
      sampled_at.push_back(it->second);
    }
  });

  auto properties = ccstream::kafka::ProducerProperties(kafka, false);
  // As a client library batches by default (librdkafka's linger.ms is 5 ms): a sample includes
  // up to 5 ms of it. Sent one by one (linger 0), 5,000 events/s alone cost the broker ~80 % of
  // a core on a 2-core machine (~40 % batched), taken from the processor it shares them with.
  properties["linger.ms"] = "5";
  auto producer = ccstream::kafka::SimpleProducer::Create(properties);
  if (!producer.ok()) {
    stop_reading = true;
    reader.join();
    return producer.status();
  }
  ccstream::gen::GeneratorOptions options;
  options.seed = static_cast<uint64_t>(*seed);
  // The traffic starts `lead` seconds in the past: that part is sent at once, so that contacts
  // are already in progress (escalations need a minute or so of a contact's life); samples are
  // taken only from `warmup` seconds after the paced part starts.
  options.duration_s = *lead + *duration;
  // More escalating customers than the generator's default (8 %): more alerts, so more latency
  // samples per minute; the processor's work per event barely changes.
  options.escalating_fraction = std::min(1.0, *escalating);
  const int64_t wall_start_ms = WallNowMs();
  options.start_time_ms = wall_start_ms - static_cast<int64_t>(*lead * 1000);
  // One generator reaches its rate only once contacts of every age are in progress: a contact's
  // events spread over minutes, so from a standing start its traffic ramps up for ten minutes
  // or more (at 50 to 80 s in, about a quarter of its rate). A lead that long would be millions
  // of events sent at once; instead the traffic is that of as many generators (seeds seed,
  // seed + 1, ...; distinct contacts, a shared pool of customers) as it takes for the sampled
  // stretch, from `warmup` to the end, to carry `rate` events per second, found by generating
  // one generator's traffic without sending it; their events are merged in event-time order.
  options.events_per_second = *rate;
  const int64_t sampled_from_ms = wall_start_ms + static_cast<int64_t>(*warmup * 1000);
  const double sampled_s = *duration - *warmup;
  if (sampled_s <= 0) return absl::InvalidArgumentError("--warmup-s must be below --duration-s");
  double one_rate = 0;
  {
    ccstream::gen::Generator trial(options);
    int64_t n = 0;
    while (std::optional<ccstream::v1::ContactEvent> event = trial.Next()) {
      if (event->event_time_ms() >= sampled_from_ms) ++n;
    }
    one_rate = static_cast<double>(n) / sampled_s;
  }
  const int generators =
      std::clamp(static_cast<int>(std::ceil(*rate / std::max(one_rate, 1.0))), 1, 64);
  // Each at an equal share, so that their sum is the rate asked for (a generator's traffic
  // scales with its rate while its agents keep up, which at or below its nominal rate they do).
  options.events_per_second = *rate * (*rate / std::max(one_rate * generators, 1.0));
  std::vector<std::unique_ptr<ccstream::gen::Generator>> sources;
  std::vector<std::optional<ccstream::v1::ContactEvent>> heads;
  for (int i = 0; i < generators; ++i) {
    ccstream::gen::GeneratorOptions o = options;
    o.seed = options.seed + static_cast<uint64_t>(i);
    sources.push_back(std::make_unique<ccstream::gen::Generator>(o));
    heads.push_back(sources.back()->Next());
  }
  // The earliest head of all the generators (ties: the lowest generator), or nullopt at the end.
  auto next_event = [&]() -> std::optional<ccstream::v1::ContactEvent> {
    int best = -1;
    for (int i = 0; i < generators; ++i) {
      if (heads[i] && (best < 0 || heads[i]->event_time_ms() < heads[best]->event_time_ms())) {
        best = i;
      }
    }
    if (best < 0) return std::nullopt;
    std::optional<ccstream::v1::ContactEvent> out = std::move(heads[best]);
    heads[best] = sources[best]->Next();
    return out;
  };
  const Clock::time_point started = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    measure_from = started + std::chrono::milliseconds(static_cast<int64_t>(*warmup * 1000));
  }
  int64_t sent = 0;
  int64_t paced = 0;
  int64_t sampled = 0;  // sent from the start of the samples on
  const std::string input = args.Get("input");
  absl::Status status = absl::OkStatus();
  while (std::optional<ccstream::v1::ContactEvent> event = next_event()) {
    const Clock::time_point due =
        started + std::chrono::milliseconds(event->event_time_ms() - wall_start_ms);
    if (due > Clock::now()) std::this_thread::sleep_until(due);
    {
      std::lock_guard<std::mutex> lock(mu);
      produced_at.emplace(event->event_id(), Clock::now());
    }
    status = (*producer)->Produce(
        ccstream::kafka::Record{input, event->customer_id(), event->SerializeAsString(), {}, -1});
    if (!status.ok()) break;
    ++sent;
    if (event->event_time_ms() >= wall_start_ms) ++paced;
    if (event->event_time_ms() >= sampled_from_ms) ++sampled;
  }
  if (status.ok()) status = (*producer)->Flush(30'000);
  const double offered_s = SecondsBetween(started, Clock::now());
  const double sampled_wall_s = offered_s - *warmup;
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(*drain * 1000)));
  stop_reading = true;
  reader.join();
  (*consumer)->close();
  if (!status.ok()) return status;

  std::lock_guard<std::mutex> lock(mu);
  if (args.Has("samples-out")) {
    std::vector<std::pair<double, double>> series;
    series.reserve(latencies_ms.size());
    for (size_t i = 0; i < latencies_ms.size(); ++i) {
      series.emplace_back(
          std::chrono::duration<double, std::milli>(sampled_at[i] - started).count(),
          latencies_ms[i]);
    }
    std::sort(series.begin(), series.end());
    FILE* f = std::fopen(args.Get("samples-out").c_str(), "w");
    if (f == nullptr) {
      return absl::InternalError(absl::StrCat("cannot write ", args.Get("samples-out")));
    }
    for (const auto& [at_ms, latency_ms] : series)
      std::fprintf(f, "%.1f %.2f\n", at_ms, latency_ms);
    std::fclose(f);
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::printf("{\"lead_events\": %" PRId64 ", \"offered_events\": %" PRId64
              ", \"offered_events_per_s\": %.0f, \"sampled_events_per_s\": %.0f"
              ", \"generators\": %d, \"alerts\": %" PRId64
              ", \"samples\": %zu, \"unmatched\": %" PRId64
              ", \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"p999_ms\": %.2f, \"max_ms\": %.2f}\n",
              sent - paced, paced, offered_s > 0 ? static_cast<double>(paced) / offered_s : 0.0,
              sampled_wall_s > 0 ? static_cast<double>(sampled) / sampled_wall_s : 0.0, generators,
              alerts, latencies_ms.size(), unmatched, Percentile(latencies_ms, 0.50),
              Percentile(latencies_ms, 0.99), Percentile(latencies_ms, 0.999),
              latencies_ms.empty() ? 0.0 : latencies_ms.back());
  if (latencies_ms.empty()) {
    return absl::FailedPreconditionError(
        "no alert raised by a produced event became visible in time: is the processor up and "
        "keeping up?");
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: ccstream_bench_tool create-topic|consume|load-state|latency --flag value...\n");
    return 2;
  }
  auto args = Args::Parse(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "ccstream_bench_tool: %s\n", std::string(args.status().message()).c_str());
    return 2;
  }
  const std::string command = argv[1];
  absl::Status status;
  if (command == "create-topic") {
    status = CreateTopic(*args);
  } else if (command == "consume") {
    status = Consume(*args);
  } else if (command == "load-state") {
    status = LoadState(*args);
  } else if (command == "latency") {
    status = Latency(*args);
  } else {
    std::fprintf(stderr, "ccstream_bench_tool: unknown command '%s'\n", command.c_str());
    return 2;
  }
  if (!status.ok()) {
    std::fprintf(stderr, "ccstream_bench_tool %s: %s\n", command.c_str(),
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
