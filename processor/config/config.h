#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config.pb.h"
#include "processor/domain/config_problem.h"

namespace ccstream::config {

// Reads a `ccstream.textproto` file, parses it against v1::ProcessorConfig and validates it.
// On failure the status message holds one line per problem, each `FILE:LINE: message` (or
// `FILE: message` when the problem has no line, e.g. a missing file). Thread-safe.
absl::StatusOr<v1::ProcessorConfig> LoadConfigFile(const std::string& path);

// Parses text-format configuration held in memory; `name` stands for the file in messages.
absl::StatusOr<v1::ProcessorConfig> ParseConfig(const std::string& text, const std::string& name);

// Semantic checks of a parsed configuration (ranges, references), with field paths relative to
// ProcessorConfig (e.g. "processing.commit_interval_ms", "domain.sla.policies[0].name").
std::vector<domain::ConfigProblem> ValidateConfig(const v1::ProcessorConfig& config);

}  // namespace ccstream::config
