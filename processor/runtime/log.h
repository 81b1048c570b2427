#pragma once

#include <string_view>

namespace ccstream::runtime {

// One line to stderr: "<UTC time> <level> <message>". Thread-safe (one write per line).
void LogInfo(std::string_view message);
void LogWarning(std::string_view message);
void LogError(std::string_view message);

}  // namespace ccstream::runtime
