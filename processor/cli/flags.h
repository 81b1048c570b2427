#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ccstream::cli {

// Parsed command-line flags of one subcommand: `--name value`, `--name=value` or a bare
// `--name` (boolean). Positional arguments are kept in order. Thread-compatible.
class Flags {
 public:
  // Parses argv[first..argc); `known` lists the flag names this subcommand accepts and
  // `boolean` the ones that take no value. An unknown flag or a missing value is an error.
  static absl::StatusOr<Flags> Parse(int argc, char** argv, int first,
                                     const std::vector<std::string>& known,
                                     const std::vector<std::string>& boolean = {});

  bool Has(const std::string& name) const { return values_.contains(name); }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback) const;
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace ccstream::cli
