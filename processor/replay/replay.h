#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "events.pb.h"

namespace ccstream::replay {

// The public data sets a replay can read. See docs/replay.md for each mapping.
enum class ReplayFormat {
  kPwcCalls,          // "pwc-calls": per-call records of a call centre (CSV)
  kIbmConversations,  // "ibm-conversations": customer-care conversations on Twitter (JSON)
  kCfpbComplaints,    // "cfpb-complaints": CFPB consumer complaint records (CSV)
};

// Parses a format name: "pwc-calls", "ibm-conversations" or "cfpb-complaints". Any other name
// is an InvalidArgument error listing the accepted names.
absl::StatusOr<ReplayFormat> ParseReplayFormat(std::string_view name);

// The name ParseReplayFormat accepts for `format`, e.g. "pwc-calls".
std::string_view ReplayFormatName(ReplayFormat format);

// What a load read and what it left out.
struct ReplayStats {
  // Data rows (CSV records after the header, or conversations of the JSON array) read.
  int64_t rows_read = 0;
  // Rows that produced no events because they were malformed.
  int64_t rows_skipped = 0;
  // One entry per skipped row: "file:line: why". Same order as the file.
  std::vector<std::string> skipped;
};

// The events of one replayed file, sorted by event time (stable: events of equal time keep the
// order in which the mapping produced them, so one contact's events stay in order).
struct ReplayResult {
  std::vector<v1::ContactEvent> events;
  ReplayStats stats;
};

// Reads the file at `path` and maps it to ContactEvents in `format`. The events keep the data's
// own event times; event ids are derived from the source ids, so two loads of one file give
// identical events. Errors: NotFound when the file cannot be read; InvalidArgument when it is
// not of the format (wrong CSV header, not a JSON array of conversations). Both name the file.
// A malformed row is never an error: it is counted in stats.rows_skipped with its reason.
// Pure function of the file's contents; thread-safe.
absl::StatusOr<ReplayResult> LoadReplay(ReplayFormat format, const std::string& path);

// As LoadReplay, for a text already in memory. `file_name` is only used in messages.
absl::StatusOr<ReplayResult> ParseReplay(ReplayFormat format, std::string_view text,
                                         std::string_view file_name);

}  // namespace ccstream::replay
