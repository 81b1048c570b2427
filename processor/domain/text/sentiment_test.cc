#include "processor/domain/text/sentiment.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "embedded/vader_reference.h"
#include "embedded/vader_reference_datasets.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace ccstream::domain::text {
namespace {

constexpr double kTolerance = 1e-3;

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in{std::string(text)};
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

std::string Unescape(const std::string& escaped) {
  std::string out;
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '\\' || i + 1 == escaped.size()) {
      out.push_back(escaped[i]);
      continue;
    }
    const char next = escaped[++i];
    out.push_back(next == 't' ? '\t' : next == 'n' ? '\n' : next == 'r' ? '\r' : next);
  }
  return out;
}

// Reads a CSV file as Python's csv.reader does (quoted fields, doubled quotes, newlines inside
// quotes) and returns first column -> second column.
std::map<std::string, std::string> ReadCsvFirstTwoColumns(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::string, std::string> result;
  std::vector<std::string> row(1);
  bool quoted = false;
  for (size_t i = 0; i <= data.size(); ++i) {
    if (i == data.size() || (!quoted && (data[i] == '\n' || data[i] == '\r'))) {
      if (row.size() >= 2) result.emplace(row[0], row[1]);
      row.assign(1, std::string());
      if (i + 1 < data.size() && data[i] == '\r' && data[i + 1] == '\n') ++i;
      continue;
    }
    const char c = data[i];
    if (quoted) {
      if (c == '"' && i + 1 < data.size() && data[i + 1] == '"') {
        row.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        row.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.emplace_back();
    } else {
      row.back().push_back(c);
    }
  }
  return result;
}

TEST(SentimentAnalyzerTest, MatchesVaderOnCraftedSentences) {
  const SentimentAnalyzer& analyzer = SentimentAnalyzer::Default();
  const std::vector<std::string> lines = SplitLines(ccstream::embedded::vader_reference());
  ASSERT_GE(lines.size(), 60u);
  for (const std::string& line : lines) {
    const std::vector<std::string> fields = SplitTabs(line);
    ASSERT_EQ(fields.size(), 2u) << line;
    const std::string text = Unescape(fields[1]);
    EXPECT_NEAR(analyzer.Score(text), std::stod(fields[0]), kTolerance) << "text: " << text;
  }
}

// Real customer-care texts, referenced by key and read from the shared datasets (they are not
// copied into the repository; see the datasets' README).
TEST(SentimentAnalyzerTest, MatchesVaderOnRealCustomerCareTexts) {
  const std::string datasets = CCSTREAM_DATASETS_DIR;
  std::ifstream probe(datasets + "/conversations_ibm/dev.json");
  if (!probe) GTEST_SKIP() << "shared datasets not found at " << datasets;
  std::map<std::string, std::string> texts;
  for (auto& [id, text] :
       ReadCsvFirstTwoColumns(datasets + "/complaint_labels/complaints_train.csv")) {
    texts.emplace("complaint_labels\t" + id, text);
  }
  const nlohmann::json conversations = nlohmann::json::parse(probe);
  for (const auto& conversation : conversations) {
    const std::string session = conversation["dialogHeader"]["sessionID"];
    int turn = 0;
    for (const auto& content : conversation["dialogContent"]) {
      texts.emplace("conversations_ibm\t" + session + ":" + std::to_string(turn++),
                    content["message"].get<std::string>());
    }
  }
  const SentimentAnalyzer& analyzer = SentimentAnalyzer::Default();
  const std::vector<std::string> lines = SplitLines(ccstream::embedded::vader_reference_datasets());
  ASSERT_GE(lines.size(), 60u);
  for (const std::string& line : lines) {
    const std::vector<std::string> fields = SplitTabs(line);
    ASSERT_EQ(fields.size(), 3u) << line;
    const auto it = texts.find(fields[0] + "\t" + fields[1]);
    ASSERT_NE(it, texts.end()) << "missing from the datasets: " << fields[1];
    EXPECT_NEAR(analyzer.Score(it->second), std::stod(fields[2]), kTolerance)
        << fields[0] << " " << fields[1] << ": " << it->second;
  }
}

// A one-word lexicon makes the arithmetic of each rule visible.
TEST(SentimentAnalyzerTest, AppliesRulesToCustomLexicon) {
  const SentimentAnalyzer analyzer("good\t2.0\t0.5\t[2, 2]\nbad\t-2.0\t0.5\t[-2, -2]\n");
  auto normalize = [](double x) { return x / std::sqrt(x * x + 15.0); };
  struct Case {
    std::string text;
    double raw_sum;
  };
  const Case cases[] = {
      {"good", 2.0},
      {"bad", -2.0},
      {"very good", 2.0 + 0.293},
      {"very bad", -2.0 - 0.293},
      {"not good", 2.0 * -0.74},
      {"good!", 2.0 + 0.292},
      {"good!!!!!!", 2.0 + 4 * 0.292},
      {"good??", 2.0 + 2 * 0.18},
      {"good????", 2.0 + 0.96},
      {"GOOD day", 2.0 + 0.733},
      {"GOOD DAY", 2.0},
      {"good but bad", 2.0 * 0.5 - 2.0 * 1.5},
      {"nothing here", 0.0},
  };
  for (const Case& c : cases) {
    EXPECT_NEAR(analyzer.Score(c.text), normalize(c.raw_sum), 1e-12) << c.text;
  }
  EXPECT_EQ(analyzer.lexicon_size(), 2u);
}

// Every lexicon word must get past the filter in front of the word table: each word of a
// 2,000-word lexicon, alone, scores its own valence (x / sqrt(x^2 + 15)), and words not in it
// score 0.
TEST(SentimentAnalyzerTest, FindsEveryLexiconWordAndNoOther) {
  std::string lexicon;
  for (int i = 0; i < 2000; ++i) {
    lexicon += "w" + std::to_string(i) + "x\t" + std::to_string(1 + i % 3) + ".0\n";
  }
  const SentimentAnalyzer analyzer(lexicon);
  ASSERT_EQ(analyzer.lexicon_size(), 2000u);
  for (int i = 0; i < 2000; ++i) {
    const double valence = 1 + i % 3;
    const std::string word = "w" + std::to_string(i) + "x";
    EXPECT_DOUBLE_EQ(analyzer.Score(word), valence / std::sqrt(valence * valence + 15)) << word;
    EXPECT_EQ(analyzer.Score("w" + std::to_string(i) + "y"), 0.0) << word;
  }
}

TEST(SentimentAnalyzerTest, SkipsUnparsableAndUpperCaseLexiconLines) {
  const SentimentAnalyzer analyzer("Good\t2.0\nfine\tabc\n\nok\n");
  EXPECT_EQ(analyzer.lexicon_size(), 0u);
  EXPECT_EQ(analyzer.Score("good fine ok"), 0.0);
}

TEST(SentimentAnalyzerTest, ReplacesEmojiWithDescriptions) {
  const SentimentAnalyzer analyzer("happy\t2.0\n", "\xF0\x9F\x98\x80\thappy face\n");
  EXPECT_GT(analyzer.Score("\xF0\x9F\x98\x80"), 0.0);
  EXPECT_EQ(analyzer.Score("face"), 0.0);
}

TEST(SentimentAnalyzerTest, DefaultIsOneInstanceAndScoresConsistentlyAcrossThreads) {
  EXPECT_EQ(&SentimentAnalyzer::Default(), &SentimentAnalyzer::Default());
  const std::string text = "The agent was NOT helpful at all, but the refund arrived!";
  const double expected = SentimentAnalyzer::Default().Score(text);
  std::vector<std::thread> threads;
  std::vector<double> results(4);
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) results[t] = SentimentAnalyzer::Default().Score(text);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (double result : results) EXPECT_EQ(result, expected);
}

}  // namespace
}  // namespace ccstream::domain::text
