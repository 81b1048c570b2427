// ccstream: the real-time contact-centre event processor. One binary, several subcommands.
#include <cstdio>
#include <cstring>
#include <string>

#include "processor/cli/commands.h"

// Read by jemalloc (linked into this binary, processor/cli/CMakeLists.txt) when it starts: a
// background thread hands pages freed for a second back to the system, where by default an
// arena keeps them for 10 s and returns them only when it next allocates. While 1,000,000 keys
// of state were built that held tens of MiB freed by librdkafka's and RocksDB's threads in the
// resident set (docs/performance.md). MALLOC_CONF in the environment overrides it.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): jemalloc's interface.
extern "C" const char* malloc_conf;
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000";

namespace {

constexpr char kUsage[] = R"(usage: ccstream <command> [flags]

commands:
  run --config FILE [--bootstrap HOST:PORT] [--metrics-port N] [--drain]
        consume cc.contact-events, detect escalations, keep cases and SLA clocks, publish alerts
        (--drain: exit once caught up with the input)
  demo [--duration-s S] [--rate N] [--seed K] [--metrics-port N] [--metrics-out FILE]
        everything in one process on an embedded broker: generator + processor + /metrics
  replay --format pwc-calls|ibm-conversations|cfpb-complaints --file PATH
         (--embedded | --bootstrap HOST:PORT) [--speed X] [--config FILE] [--metrics-out FILE]
        turn a real data set into ContactEvents and process or publish them
  gen (--bootstrap HOST:PORT | --config FILE) [--topic T] [--rate N] [--duration-s S] [--seed K]
      [--max-events N] [--no-pace]
        publish realistic synthetic contact-centre traffic (--config: the cluster, input topic
        and producer properties of a service configuration, e.g. a secured cluster's)
  cases --config FILE [--state-dir DIR] [--state OPEN|ACKNOWLEDGED|...] [--with-audit]
        the complaint cases in this instance's local stores, one JSON object per line
  check-config FILE
        validate a ccstream.textproto; prints FILE:LINE: message for each problem
  classify
        read one text per line on stdin; print <is_complaint>\t<probability>\t<sentiment>
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? ccstream::cli::kExitUsage : ccstream::cli::kExitOk;
  }
  const std::string command = argv[1];
  if (command == "run") return ccstream::cli::RunCommand(argc, argv);
  if (command == "check-config") return ccstream::cli::CheckConfigCommand(argc, argv);
  if (command == "demo") return ccstream::cli::DemoCommand(argc, argv);
  if (command == "replay") return ccstream::cli::ReplayCommand(argc, argv);
  if (command == "gen") return ccstream::cli::GenCommand(argc, argv);
  if (command == "classify") return ccstream::cli::ClassifyCommand(argc, argv);
  if (command == "cases") return ccstream::cli::CasesCommand(argc, argv);
  std::fprintf(stderr, "ccstream: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return ccstream::cli::kExitUsage;
}
