#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace ccstream::domain::text {

// VADER sentiment: a C++ port of vaderSentiment's
// SentimentIntensityAnalyzer.polarity_scores(text)["compound"] (Hutto & Gilbert 2014), using the
// VADER lexicons compiled into the binary. Score() works in per-thread scratch buffers, so once
// they have grown to the longest text seen it allocates nothing.
//
// Immutable after construction; Score() is const and safe to call from any number of threads.
// Default() is a process-wide instance owned by the library (built once, never destroyed);
// other instances are owned by whoever constructs them.
class SentimentAnalyzer {
 public:
  // The process-wide analyzer built from the embedded VADER lexicon. Thread-safe.
  static const SentimentAnalyzer& Default();

  // Builds an analyzer from a lexicon in VADER's format, one entry per line,
  // "token<TAB>mean valence<TAB>...", and optionally VADER's emoji lexicon, one entry per line,
  // "emoji<TAB>description". Lines that do not parse are skipped, and so are lexicon tokens with
  // upper-case letters (VADER looks words up in lower case, so it never finds them).
  explicit SentimentAnalyzer(std::string_view lexicon_text, std::string_view emoji_text = {});

  SentimentAnalyzer(const SentimentAnalyzer&) = delete;
  SentimentAnalyzer& operator=(const SentimentAnalyzer&) = delete;
  SentimentAnalyzer(SentimentAnalyzer&&) = default;
  SentimentAnalyzer& operator=(SentimentAnalyzer&&) = default;

  // VADER's normalised compound score of `text`, in [-1, 1]; 0 for a text with no sentiment.
  // `text` is UTF-8; emoji are replaced by their descriptions as VADER does. The value is not
  // rounded (VADER's polarity_scores rounds it to 4 decimals).
  double Score(std::string_view text) const;

  // Number of lexicon entries loaded.
  size_t lexicon_size() const { return lexicon_size_; }

 private:
  // What the scorer needs to know about one lower-case word, found with a single lookup.
  struct WordInfo {
    double valence = 0.0;     // Lexicon valence, if in_lexicon.
    double booster = 0.0;     // Booster (+0.293) or dampener (-0.293) increment, if is_booster.
    bool in_lexicon = false;  // The word is in the sentiment lexicon.
    bool is_booster = false;  // The word is a booster or dampener.
    bool negates = false;     // The word is in VADER's negation list.
    bool in_phrase = false;   // The word is part of a special case or a multi-word booster.
  };

  const WordInfo* Find(std::string_view lower_word) const;
  // Writes `text` with emoji replaced by their descriptions into `out`; false (and `out`
  // untouched) if `text` contains no emoji from the emoji lexicon.
  bool ReplaceEmoji(std::string_view text, std::string& out) const;

  // A cheap hash of a word's length and first and last eight bytes (words are short).
  struct WordHash {
    using is_transparent = void;
    size_t operator()(std::string_view word) const;
  };
  struct WordEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };

  // A one-hash filter over the keys of words_ (8 KiB): most words of a text are in none of the
  // lists, and the filter turns them away without probing the map.
  static constexpr int kFilterBits = 16;
  static size_t FilterBit(size_t hash) { return hash >> (64 - kFilterBits); }

  absl::flat_hash_map<std::string, WordInfo, WordHash, WordEq> words_;
  std::array<uint64_t, (size_t{1} << kFilterBits) / 64> filter_ = {};
  absl::flat_hash_map<char32_t, std::string> emoji_;
  size_t lexicon_size_ = 0;
};

}  // namespace ccstream::domain::text
