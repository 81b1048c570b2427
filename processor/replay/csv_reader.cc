#include "processor/replay/csv_reader.h"

#include "absl/status/status.h"

namespace ccstream::replay {

CsvReader::CsvReader(std::string_view text) : text_(text) {
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

void CsvReader::SkipRestOfLine() {
  while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
  if (pos_ < text_.size()) {
    ++pos_;
    ++line_;
  }
}

absl::StatusOr<bool> CsvReader::Next(CsvRecord* record) {
  record->fields.clear();
  // Pass over blank lines (LF or CRLF alone).
  while (pos_ < text_.size()) {
    if (text_[pos_] == '\n') {
      ++pos_;
      ++line_;
    } else if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
    } else {
      break;
    }
  }
  if (pos_ >= text_.size()) return false;

  record->line = line_;
  std::string field;
  while (true) {
    field.clear();
    if (pos_ < text_.size() && text_[pos_] == '"') {
      // Quoted field: runs to the closing quote; "" stands for one quote.
      const int64_t quote_line = line_;
      ++pos_;
      bool closed = false;
      while (pos_ < text_.size()) {
        const char c = text_[pos_];
        if (c == '"') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
            field.push_back('"');
            pos_ += 2;
            continue;
          }
          ++pos_;
          closed = true;
          break;
        }
        if (c == '\n') ++line_;
        field.push_back(c);
        ++pos_;
      }
      if (!closed) {
        record->line = quote_line;
        return absl::InvalidArgumentError("unterminated quoted field");
      }
      // After the closing quote only a separator or the end of the record may follow.
      const bool at_end = pos_ >= text_.size();
      const char next = at_end ? '\0' : text_[pos_];
      const bool crlf = next == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n';
      if (!at_end && next != ',' && next != '\n' && !crlf) {
        record->line = line_;
        SkipRestOfLine();
        return absl::InvalidArgumentError("unexpected character after a closing quote");
      }
    } else {
      // Unquoted field: runs to the next comma or end of line. A quote inside is kept as is.
      while (pos_ < text_.size()) {
        const char c = text_[pos_];
        if (c == ',' || c == '\n') break;
        if (c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') break;
        field.push_back(c);
        ++pos_;
      }
    }
    record->fields.push_back(field);
    if (pos_ >= text_.size()) return true;
    if (text_[pos_] == ',') {
      ++pos_;
      continue;
    }
    // End of record: LF or CRLF.
    if (text_[pos_] == '\r') ++pos_;
    ++pos_;
    ++line_;
    return true;
  }
}

}  // namespace ccstream::replay
