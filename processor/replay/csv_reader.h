#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ccstream::replay {

// One CSV record: its fields (quotes removed, doubled quotes collapsed) and the 1-based line of
// the input on which it starts (a record with quoted newlines spans several lines).
struct CsvRecord {
  std::vector<std::string> fields;
  int64_t line = 0;
};

// Reads RFC 4180 CSV from a text held in memory: fields separated by commas, records by LF or
// CRLF, fields optionally enclosed in double quotes, which may contain commas, CR, LF and
// doubled quotes (""). A UTF-8 byte-order mark at the very start is skipped. Blank lines carry
// no record and are passed over. Quoted newlines are kept as they appear in the input.
//
// A malformed record is returned as an error with its line. After characters between a closing
// quote and the next separator the reader resumes at the next line; an unterminated quoted
// field runs to the end of the input (there is no telling where it should have ended), so it
// is the last record. Does not own the text, which must outlive
// the reader. Not thread-safe (one reader per thread).
class CsvReader {
 public:
  explicit CsvReader(std::string_view text);

  // Reads the next record into `*record`. Returns true when a record was read, false at the end
  // of the input, or an InvalidArgument status saying why a record is malformed; in that case
  // `record->line` is the line of the fault.
  absl::StatusOr<bool> Next(CsvRecord* record);

 private:
  // Moves the position past the end of the current physical line.
  void SkipRestOfLine();

  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

}  // namespace ccstream::replay
