// The commands that bring traffic: `gen` (synthetic), `replay` (real data sets) and `demo`
// (generator and processor in one process on an embedded broker).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "processor/cli/commands.h"
#include "processor/cli/flags.h"
#include "processor/cli/service.h"
#include "processor/config/config.h"
#include "processor/gen/generator.h"
#include "processor/kafka/kafka.h"
#include "processor/replay/replay.h"
#include "processor/runtime/log.h"

namespace ccstream::cli {
namespace {

int64_t WallNowMs() { return absl::ToUnixMillis(absl::Now()); }

// A temporary directory, removed with everything in it when this goes out of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int Fail(const char* command, const absl::Status& status, int code) {
  std::fprintf(stderr, "ccstream %s: %s\n", command, std::string(status.message()).c_str());
  return code;
}

// The pseudonymisation key of the embedded demo and replays when no --config is given: these
// runs keep their state in a scratch folder, never in production.
constexpr char kDemoConfig[] =
    R"(domain { pseudonymisation_key: "ccstream-demo-key-not-for-production" })";

// The configuration of the file given with --config, or the defaults with the demo key.
absl::StatusOr<v1::ProcessorConfig> BaseConfig(const Flags& flags) {
  if (flags.Has("config")) return config::LoadConfigFile(flags.Get("config"));
  return config::ParseConfig(kDemoConfig, "<defaults>");
}

std::vector<kafka::EmbeddedCluster::Topic> EmbeddedTopics(const v1::KafkaConfig& kafka) {
  return {{kafka.input_topic(), 6},
          {kafka.alerts_topic(), 6},
          {kafka.dead_letter_topic(), 1},
          {kafka.changelog_topic(), 6}};
}

kafka::Record EventRecord(const std::string& topic, const v1::ContactEvent& event) {
  return kafka::Record{topic, event.customer_id(), event.SerializeAsString(), {}, -1};
}

// Sends `events` to `topic`, pacing by event time divided by `speed` when speed > 0.
absl::Status SendPaced(kafka::SimpleProducer& producer, const std::string& topic,
                       const std::vector<v1::ContactEvent>& events, double speed,
                       const std::atomic<bool>& stop) {
  const auto wall_start = std::chrono::steady_clock::now();
  const int64_t first_event_ms = events.empty() ? 0 : events.front().event_time_ms();
  for (const v1::ContactEvent& event : events) {
    if (stop.load()) break;
    if (speed > 0) {
      const auto due = wall_start + std::chrono::microseconds(static_cast<int64_t>(
                                        (event.event_time_ms() - first_event_ms) * 1000.0 / speed));
      std::this_thread::sleep_until(due);
    }
    if (absl::Status s = producer.Produce(EventRecord(topic, event)); !s.ok()) return s;
  }
  return producer.Flush(60'000);
}

// Runs the service on an embedded broker while `feed` produces into it; returns the report.
int RunEmbedded(const char* command, v1::ProcessorConfig config, bool serve_metrics,
                v1::ProcessingConfig::Clock clock, const std::string& metrics_out,
                const std::function<absl::Status(kafka::SimpleProducer&, const std::string&,
                                                 const std::atomic<bool>&)>& feed) {
  auto cluster = kafka::EmbeddedCluster::Start(EmbeddedTopics(config.kafka()));
  if (!cluster.ok()) return Fail(command, cluster.status(), kExitFailure);
  // The embedded broker lives as long as this process, and so does the state built on it.
  ScratchDir scratch("ccstream-embedded");
  if (scratch.path().empty()) {
    return Fail(command, absl::UnavailableError("cannot create a scratch state directory"),
                kExitFailure);
  }
  config.mutable_state()->set_dir(scratch.path());
  config.mutable_kafka()->set_bootstrap_servers((*cluster)->bootstrap_servers());
  // The embedded broker implements neither transactional offsets nor fencing.
  config.mutable_processing()->set_guarantee(v1::ProcessingConfig::AT_LEAST_ONCE);
  config.mutable_processing()->set_clock(clock);

  static std::atomic<bool> stop{false};
  InstallStopSignals(&stop);
  std::atomic<bool> input_done{false};
  ServiceOptions options;
  options.serve_metrics = serve_metrics;
  options.status_line = true;
  options.pipeline.drain_when = &input_done;
  auto service = Service::Create(config, options);
  if (!service.ok()) return Fail(command, service.status(), kExitFailure);

  auto producer = kafka::SimpleProducer::Create(kafka::ProducerProperties(config.kafka(), false));
  if (!producer.ok()) return Fail(command, producer.status(), kExitFailure);
  absl::Status feed_status;
  std::thread feeder([&] {
    feed_status = feed(**producer, config.kafka().input_topic(), stop);
    input_done = true;
  });
  const absl::Status status = (*service)->Run(stop);
  stop = true;
  feeder.join();
  if (!feed_status.ok()) return Fail(command, feed_status, kExitFailure);
  if (!status.ok()) return Fail(command, status, kExitFailure);
  if (!metrics_out.empty()) {
    if (absl::Status s = WriteFile(metrics_out, (*service)->MetricsText()); !s.ok()) {
      return Fail(command, s, kExitFailure);
    }
  }
  std::printf("%s\n", (*service)->Report().ToJson().c_str());
  std::fflush(stdout);
  return kExitOk;
}

// Generator options from the flags. The traffic starts `--warmup-s` in the past (sent at once)
// so that contacts are already in progress when the live part begins.
absl::StatusOr<gen::GeneratorOptions> GeneratorOptionsFrom(const Flags& flags,
                                                           double default_warmup_s) {
  gen::GeneratorOptions options;
  auto seed = flags.GetInt("seed", 1);
  auto rate = flags.GetDouble("rate", 200);
  auto duration = flags.GetDouble("duration-s", 30);
  auto max_events = flags.GetInt("max-events", 0);
  auto warmup = flags.GetDouble("warmup-s", default_warmup_s);
  if (!warmup.ok()) return warmup.status();
  auto start = flags.GetInt("start-ms", WallNowMs() - static_cast<int64_t>(*warmup * 1000));
  for (const absl::Status& s :
       {seed.status(), rate.status(), duration.status(), max_events.status(), start.status()}) {
    if (!s.ok()) return s;
  }
  if (*rate <= 0) return absl::InvalidArgumentError("--rate must be positive");
  if (*duration <= 0 && *max_events <= 0) {
    return absl::InvalidArgumentError("--duration-s or --max-events must be positive");
  }
  options.seed = static_cast<uint64_t>(*seed);
  options.events_per_second = *rate;
  options.duration_s = *duration + *warmup;
  options.max_events = *max_events;
  options.start_time_ms = *start;
  return options;
}

// Produces the generator's events; paced on the wall clock (each event is sent when the wall
// clock reaches its event time) unless `paced` is off.
absl::Status SendGenerated(const gen::GeneratorOptions& options, bool paced,
                           kafka::SimpleProducer& producer, const std::string& topic,
                           const std::atomic<bool>& stop, int64_t* sent) {
  gen::Generator generator(options);
  while (!stop.load()) {
    std::optional<v1::ContactEvent> event = generator.Next();
    if (!event) break;
    if (paced) {
      const int64_t due = event->event_time_ms();
      while (!stop.load() && WallNowMs() < due) {
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::min<int64_t>(50, due - WallNowMs())));
      }
    }
    if (absl::Status s = producer.Produce(EventRecord(topic, *event)); !s.ok()) return s;
    ++*sent;
  }
  return producer.Flush(60'000);
}

}  // namespace

int GenCommand(int argc, char** argv) {
  auto flags = Flags::Parse(argc, argv, 2,
                            {"bootstrap", "config", "rate", "duration-s", "seed", "topic",
                             "max-events", "start-ms", "warmup-s"},
                            {"no-pace"});
  if (!flags.ok()) return Fail("gen", flags.status(), kExitUsage);
  if (!flags->Has("bootstrap") && !flags->Has("config")) {
    return Fail("gen",
                absl::InvalidArgumentError("--bootstrap HOST:PORT or --config FILE is required"),
                kExitUsage);
  }
  auto options = GeneratorOptionsFrom(*flags, 0);
  if (!options.ok()) return Fail("gen", options.status(), kExitUsage);
  // A service configuration gives the cluster, its input topic and the producer's properties (a
  // secured cluster's credentials); --bootstrap and --topic override it.
  auto config = BaseConfig(*flags);
  if (!config.ok()) return Fail("gen", config.status(), kExitUsage);
  v1::KafkaConfig& kafka = *config->mutable_kafka();
  if (flags->Has("bootstrap")) kafka.set_bootstrap_servers(flags->Get("bootstrap"));
  if (absl::Status s = kafka::CheckReachable(kafka, 10'000); !s.ok()) {
    return Fail("gen", s, kExitUnreachable);
  }
  auto producer = kafka::SimpleProducer::Create(kafka::ProducerProperties(kafka, false));
  if (!producer.ok()) return Fail("gen", producer.status(), kExitFailure);
  static std::atomic<bool> stop{false};
  InstallStopSignals(&stop);
  int64_t sent = 0;
  const absl::Status status = SendGenerated(*options, !flags->Has("no-pace"), **producer,
                                            flags->Get("topic", kafka.input_topic()), stop, &sent);
  if (!status.ok()) return Fail("gen", status, kExitFailure);
  std::printf("{\"produced\": %lld}\n", static_cast<long long>(sent));
  return kExitOk;
}

int ReplayCommand(int argc, char** argv) {
  auto flags = Flags::Parse(
      argc, argv, 2,
      {"format", "file", "bootstrap", "speed", "config", "metrics-out", "metrics-port", "topic"},
      {"embedded"});
  if (!flags.ok()) return Fail("replay", flags.status(), kExitUsage);
  if (!flags->Has("format") || !flags->Has("file") ||
      flags->Has("embedded") == flags->Has("bootstrap")) {
    return Fail("replay",
                absl::InvalidArgumentError(
                    "--format, --file and exactly one of --embedded or --bootstrap are required"),
                kExitUsage);
  }
  auto format = replay::ParseReplayFormat(flags->Get("format"));
  if (!format.ok()) return Fail("replay", format.status(), kExitUsage);
  auto speed = flags->GetDouble("speed", 0);
  if (!speed.ok() || *speed < 0) {
    return Fail("replay", absl::InvalidArgumentError("--speed must be a positive number"),
                kExitUsage);
  }
  auto config = BaseConfig(*flags);
  if (!config.ok()) return Fail("replay", config.status(), kExitUsage);
  auto loaded = replay::LoadReplay(*format, flags->Get("file"));
  if (!loaded.ok()) return Fail("replay", loaded.status(), kExitFailure);
  for (const std::string& skipped : loaded->stats.skipped) {
    runtime::LogWarning(absl::StrCat("skipped ", skipped));
  }
  runtime::LogInfo(
      absl::StrCat("replaying ", loaded->events.size(), " events from ", flags->Get("file")));
  const std::vector<v1::ContactEvent>& events = loaded->events;

  if (flags->Has("bootstrap")) {
    config->mutable_kafka()->set_bootstrap_servers(flags->Get("bootstrap"));
    if (absl::Status s = kafka::CheckReachable(config->kafka(), 10'000); !s.ok()) {
      return Fail("replay", s, kExitUnreachable);
    }
    auto producer =
        kafka::SimpleProducer::Create(kafka::ProducerProperties(config->kafka(), false));
    if (!producer.ok()) return Fail("replay", producer.status(), kExitFailure);
    static std::atomic<bool> stop{false};
    InstallStopSignals(&stop);
    const absl::Status status = SendPaced(
        **producer, flags->Get("topic", config->kafka().input_topic()), events, *speed, stop);
    if (!status.ok()) return Fail("replay", status, kExitFailure);
    std::printf("{\"produced\": %lld, \"skipped_rows\": %zu}\n",
                static_cast<long long>((*producer)->delivered()), loaded->stats.skipped.size());
    return kExitOk;
  }

  auto port = flags->GetInt("metrics-port", 0);
  if (!port.ok() || *port < 0 || *port > 65535) {
    return Fail("replay", absl::InvalidArgumentError("--metrics-port must be 0..65535"),
                kExitUsage);
  }
  config->mutable_http()->set_port(static_cast<uint32_t>(*port));
  return RunEmbedded("replay", *config, *port != 0, v1::ProcessingConfig::EVENT_TIME,
                     flags->Get("metrics-out"),
                     [&](kafka::SimpleProducer& producer, const std::string& topic,
                         const std::atomic<bool>& stop) {
                       return SendPaced(producer, topic, events, *speed, stop);
                     });
}

int DemoCommand(int argc, char** argv) {
  auto flags = Flags::Parse(
      argc, argv, 2,
      {"duration-s", "rate", "seed", "metrics-port", "metrics-out", "config", "warmup-s"});
  if (!flags.ok()) return Fail("demo", flags.status(), kExitUsage);
  auto options = GeneratorOptionsFrom(*flags, 120);
  if (!options.ok()) return Fail("demo", options.status(), kExitUsage);
  auto config = BaseConfig(*flags);
  if (!config.ok()) return Fail("demo", config.status(), kExitUsage);
  auto port = flags->GetInt("metrics-port", 9464);
  if (!port.ok() || *port < 0 || *port > 65535) {
    return Fail("demo", absl::InvalidArgumentError("--metrics-port must be 0..65535"), kExitUsage);
  }
  config->mutable_http()->set_port(static_cast<uint32_t>(*port));
  runtime::LogInfo(absl::StrFormat("demo: %.0f events/s for %.0f s on an embedded broker",
                                   options->events_per_second, options->duration_s));
  return RunEmbedded("demo", *config, true, v1::ProcessingConfig::WALL_CLOCK,
                     flags->Get("metrics-out"),
                     [&](kafka::SimpleProducer& producer, const std::string& topic,
                         const std::atomic<bool>& stop) {
                       int64_t sent = 0;
                       return SendGenerated(*options, true, producer, topic, stop, &sent);
                     });
}

}  // namespace ccstream::cli
