#include "processor/runtime/log.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ccstream::runtime {
namespace {

void Write(std::string_view level, std::string_view message) {
  const std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ",
                   std::string(level), " ", std::string(message), "\n");
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace

void LogInfo(std::string_view message) { Write("INFO", message); }
void LogWarning(std::string_view message) { Write("WARN", message); }
void LogError(std::string_view message) { Write("ERROR", message); }

}  // namespace ccstream::runtime
