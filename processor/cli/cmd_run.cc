#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "processor/cli/commands.h"
#include "processor/cli/flags.h"
#include "processor/cli/service.h"
#include "processor/config/config.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/log.h"

namespace ccstream::cli {

int CheckConfigCommand(int argc, char** argv) {
  auto flags = Flags::Parse(argc, argv, 2, {});
  if (!flags.ok() || flags->positional().size() != 1) {
    std::fprintf(stderr, "usage: ccstream check-config FILE\n");
    return kExitUsage;
  }
  const std::string& path = flags->positional()[0];
  auto config = config::LoadConfigFile(path);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return kExitUsage;
  }
  std::printf("%s: OK\n", path.c_str());
  return kExitOk;
}

int RunCommand(int argc, char** argv) {
  auto flags = Flags::Parse(argc, argv, 2, {"config", "bootstrap", "metrics-port"}, {"drain"});
  if (!flags.ok()) {
    std::fprintf(stderr, "ccstream run: %s\n", std::string(flags.status().message()).c_str());
    return kExitUsage;
  }
  if (!flags->Has("config")) {
    std::fprintf(stderr, "ccstream run: --config FILE is required\n");
    return kExitUsage;
  }
  auto config = config::LoadConfigFile(flags->Get("config"));
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return kExitUsage;
  }
  if (flags->Has("bootstrap"))
    config->mutable_kafka()->set_bootstrap_servers(flags->Get("bootstrap"));
  auto port = flags->GetInt("metrics-port", config->http().port());
  if (!port.ok() || *port < 0 || *port > 65535) {
    std::fprintf(stderr, "ccstream run: --metrics-port must be 0..65535\n");
    return kExitUsage;
  }
  config->mutable_http()->set_port(static_cast<uint32_t>(*port));

  const int timeout_ms = static_cast<int>(config->kafka().connect_timeout_ms());
  if (absl::Status reachable = kafka::CheckReachable(config->kafka(), timeout_ms);
      !reachable.ok()) {
    std::fprintf(stderr, "ccstream run: %s\n", std::string(reachable.message()).c_str());
    return kExitUnreachable;
  }
  for (const std::string& topic : {config->kafka().input_topic(), config->kafka().alerts_topic(),
                                   config->kafka().dead_letter_topic()}) {
    if (auto count = kafka::PartitionCount(config->kafka(), topic, timeout_ms); !count.ok()) {
      std::fprintf(stderr, "ccstream run: %s\n", std::string(count.status().message()).c_str());
      return kExitUnreachable;
    }
  }

  static std::atomic<bool> stop{false};
  InstallStopSignals(&stop);
  ServiceOptions options;
  // --drain: stop once every assigned partition has been read to its end (batch jobs, tests).
  static std::atomic<bool> drain{true};
  if (flags->Has("drain")) options.pipeline.drain_when = &drain;
  auto service = Service::Create(*config, options);
  if (!service.ok()) {
    std::fprintf(stderr, "ccstream run: %s\n", std::string(service.status().message()).c_str());
    return kExitFailure;
  }
  runtime::LogInfo(
      absl::StrCat("ccstream running: group ", config->kafka().group_id(), " on ",
                   config->kafka().input_topic(), " at ", config->kafka().bootstrap_servers(), ", ",
                   v1::ProcessingConfig::Guarantee_Name(config->processing().guarantee())));
  const absl::Status status = (*service)->Run(stop);
  const ServiceReport report = (*service)->Report();
  if (!status.ok()) {
    runtime::LogError(absl::StrCat("stopped on error: ", status.message()));
    std::printf("%s\n", report.ToJson().c_str());
    return kExitFailure;
  }
  runtime::LogInfo("stopped cleanly: batch in flight committed");
  std::printf("%s\n", report.ToJson().c_str());
  return kExitOk;
}

}  // namespace ccstream::cli
