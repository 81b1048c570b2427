#include "processor/replay/csv_reader.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ccstream::replay {
namespace {

using ::testing::ElementsAre;

// Reads every record; malformed ones appear as {"<error>", message} with their line.
std::vector<CsvRecord> ReadAll(std::string_view text) {
  CsvReader reader(text);
  std::vector<CsvRecord> out;
  CsvRecord record;
  while (true) {
    absl::StatusOr<bool> got = reader.Next(&record);
    if (!got.ok()) {
      const absl::string_view message = got.status().message();
      out.push_back({{"<error>", std::string(message.data(), message.size())}, record.line});
      continue;
    }
    if (!*got) break;
    out.push_back(record);
  }
  return out;
}

TEST(CsvReaderTest, SplitsPlainFieldsOnLfAndCrlf) {
  const auto records = ReadAll("a,b,c\r\n1,,3\n4,5,6");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_THAT(records[1].fields, ElementsAre("1", "", "3"));
  EXPECT_THAT(records[2].fields, ElementsAre("4", "5", "6"));
  EXPECT_EQ(records[2].line, 3);
}

TEST(CsvReaderTest, QuotedFieldsKeepCommasQuotesAndNewlines) {
  const auto records =
      ReadAll("id,text\n1,\"Smith, \"\"Jr\"\"\"\n2,\"line one\r\nline two\nline three\"\n3,x\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_THAT(records[1].fields, ElementsAre("1", "Smith, \"Jr\""));
  EXPECT_THAT(records[2].fields, ElementsAre("2", "line one\r\nline two\nline three"));
  EXPECT_EQ(records[2].line, 3);
  EXPECT_THAT(records[3].fields, ElementsAre("3", "x"));
  EXPECT_EQ(records[3].line, 6);
}

TEST(CsvReaderTest, EmptyTrailingFieldAndEmptyQuotedField) {
  const auto records = ReadAll("a,\"\",\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "", ""));
}

TEST(CsvReaderTest, SkipsByteOrderMarkAndBlankLines) {
  const auto records = ReadAll("\xEF\xBB\xBFh1,h2\r\n\r\n\nv1,v2\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("h1", "h2"));
  EXPECT_THAT(records[1].fields, ElementsAre("v1", "v2"));
  EXPECT_EQ(records[1].line, 4);
}

TEST(CsvReaderTest, CharactersAfterClosingQuoteAreAnErrorAndReadingResumes) {
  const auto records = ReadAll("a,b\n\"x\"y,2\n3,4\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].fields[0], "<error>");
  EXPECT_EQ(records[1].line, 2);
  EXPECT_THAT(records[2].fields, ElementsAre("3", "4"));
  EXPECT_EQ(records[2].line, 3);
}

TEST(CsvReaderTest, UnterminatedQuoteIsAnErrorAtItsLineAndEndsTheInput) {
  const auto records = ReadAll("a,b\n1,2\n3,\"never closed\n4,5\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].fields[0], "<error>");
  EXPECT_EQ(records[2].fields[1], "unterminated quoted field");
  EXPECT_EQ(records[2].line, 3);
}

}  // namespace
}  // namespace ccstream::replay
