// `ccstream cases`: the complaint cases held in this instance's local stores, one JSON object
// per line, sorted by case id. Reads the stores read-only, so it works beside a running service.
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "case.pb.h"
#include "google/protobuf/util/json_util.h"
#include "processor/cli/commands.h"
#include "processor/cli/flags.h"
#include "processor/config/config.h"
#include "state/task_store.h"

namespace ccstream::cli {

int CasesCommand(int argc, char** argv) {
  auto flags = Flags::Parse(argc, argv, 2, {"config", "state-dir", "state"}, {"with-audit"});
  if (!flags.ok() || !flags->Has("config")) {
    std::fprintf(stderr,
                 "usage: ccstream cases --config FILE [--state-dir DIR] [--state OPEN|...] "
                 "[--with-audit]\n");
    return kExitUsage;
  }
  auto config = config::LoadConfigFile(flags->Get("config"));
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return kExitUsage;
  }
  v1::CaseState wanted = v1::CASE_STATE_UNSPECIFIED;
  if (flags->Has("state") && !v1::CaseState_Parse(flags->Get("state"), &wanted)) {
    std::fprintf(stderr, "ccstream cases: unknown case state '%s'\n", flags->Get("state").c_str());
    return kExitUsage;
  }
  const std::filesystem::path root =
      std::filesystem::path(flags->Get("state-dir", config->state().dir())) /
      config->kafka().group_id();
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    std::fprintf(stderr, "ccstream cases: no state under %s\n", root.c_str());
    return kExitFailure;
  }
  const std::string prefix = config->kafka().input_topic() + "-";
  std::map<std::string, std::string> lines;  // case id → JSON, for a stable order
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    if (!entry.is_directory() || entry.path().filename().string().rfind(prefix, 0) != 0) continue;
    state::TaskStoreOptions options;
    options.read_only = true;
    auto store = state::TaskStore::Open(entry.path().string(), options);
    if (!store.ok()) {
      std::fprintf(stderr, "ccstream cases: %s\n", std::string(store.status().message()).c_str());
      return kExitFailure;
    }
    absl::Status status = (*store)->Scan(
        state::Family::kCases, "", [&](std::string_view key, std::string_view value) {
          v1::ComplaintCase c;
          if (!c.ParseFromArray(value.data(), static_cast<int>(value.size()))) return true;
          if (wanted != v1::CASE_STATE_UNSPECIFIED && c.state() != wanted) return true;
          if (!flags->Has("with-audit")) c.clear_audit();
          std::string line;
          (void)google::protobuf::util::MessageToJsonString(c, &line, json);
          lines[std::string(key)] = std::move(line);
          return true;
        });
    if (!status.ok()) {
      std::fprintf(stderr, "ccstream cases: %s\n", std::string(status.message()).c_str());
      return kExitFailure;
    }
  }
  for (const auto& [id, line] : lines) std::printf("%s\n", line.c_str());
  return kExitOk;
}

}  // namespace ccstream::cli
