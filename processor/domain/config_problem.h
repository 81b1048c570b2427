#pragma once

#include <string>

namespace ccstream::domain {

// One problem found while validating a configuration message. `field_path` names the field
// relative to the validated message, with proto field names and `[i]` for repeated elements
// (e.g. "policies[2].milestones[0].warning_fractions[1]"); callers prefix it with the path of
// the message they passed in and map it to a FILE:LINE. Plain value type, thread-compatible.
struct ConfigProblem {
  std::string field_path;
  std::string message;
};

}  // namespace ccstream::domain
