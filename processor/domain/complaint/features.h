// Feature extraction for the complaint classifier: the one definition of the features, used by
// inference (classifier.cc) and by the trainer (trainer.cc), so the two cannot drift apart.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ccstream::domain::complaint {

// Bumped whenever the mapping from text to features changes; stored in the weights file, and a
// model trained for another version is refused.
inline constexpr int kFeatureVersion = 2;

// How text is turned into features. Stored with the weights, so a model always runs with the
// options it was trained with.
struct FeatureOptions {
  // Hashed features live in [0, 2^hash_bits): words in the lower half, characters in the upper.
  // Default: 18.
  int hash_bits = 18;
  // Shortest character n-gram over the normalised text. Default: 2.
  int char_ngram_min = 2;
  // Longest character n-gram (at most 7); 0 turns character n-grams off. Default: 5.
  int char_ngram_max = 5;
  // Longest word n-gram (1 = unigrams only, 2 adds bigrams, 3 trigrams). Default: 2.
  int word_ngram_max = 2;
  // Whether words after a negation ("not", "never", "dont"…) up to the next clause punctuation
  // get their own unigram features. Default: true.
  bool mark_negation = true;
  // Whether the dense features (punctuation, capitals, lexicon valence, cue words…) are used.
  // Default: true.
  bool dense_features = true;
};

// The dense features, stored after the hashed space at index 2^hash_bits + DenseFeature.
enum DenseFeature : int {
  kHasQuestion = 0,   // any '?'
  kEndsWithQuestion,  // the last token is '?'
  kExclamations,      // number of '!' runs, capped at 3, over 3
  kCapsWords,         // share of words of 2+ letters written in capitals
  kLexPositive,       // VADER positive valence sum / (4 * sqrt(words))
  kLexNegative,       // VADER negative valence sum / (4 * sqrt(words))
  kLexHasNegative,    // any word with negative valence (after negation flipping)
  kLexMostNegative,   // most negative valence / 4 (0 when none)
  kCueWords,          // complaint cue words, capped at 3, over 3
  kQuestionWords,     // question openers (how, what, when, can…), capped at 3, over 3
  kHasUrl,            // a link
  kMentionOnly,       // nothing but @mentions, links and punctuation
  kLogLength,         // log(1 + words) / 4
  kNumDenseFeatures,
};

// The kind of a feature index: word n-grams hash into the lower half of the hashed space,
// character n-grams into the upper half, dense features follow it.
enum class FeatureGroup { kWord, kCharacter, kDense };

// One feature occurrence. An index may occur more than once; values then add up. Left
// uninitialised by default so that FeatureBuffer can grow without zeroing.
struct Feature {
  uint32_t index;
  float value;
};

// An allocator that default-initialises (for Feature: leaves alone) the elements a resize adds,
// so that Extract can size its output once and fill it through a pointer.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}  // NOLINT: converting
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

using FeatureVector = std::vector<Feature, DefaultInitAllocator<Feature>>;

// Reusable scratch space for FeatureExtractor::Extract. Keep one per thread (or per caller) so
// that extraction does not allocate once the buffers have grown.
struct FeatureBuffer {
  struct Token {
    uint32_t begin = 0;         // offset in `normalized`
    uint32_t length = 0;        // bytes
    uint64_t hash = 0;          // TokenHash of the token text
    bool negated = false;       // inside a negation scope
    bool is_word = false;       // a word (not '?', '!', url or mention placeholder)
    bool clause_start = false;  // the first word of the text or of a sentence
    bool cue = false;           // a complaint cue word
    bool opener = false;        // a question opener (counts when clause_start)
    float valence = 0;          // VADER valence, flipped and damped inside a negation scope
  };
  std::string normalized;         // tokens joined by single spaces
  std::vector<Token> tokens;      // the tokens of `normalized`
  std::vector<uint64_t> windows;  // packed character windows (scratch)
  FeatureVector features;         // the output of Extract (not written by Dot)
};

// 64-bit FNV-1a of `bytes`; the hash under which tokens and lexicon entries are looked up.
uint64_t TokenHash(std::string_view bytes);

// Turns a text into hashed sparse features.
//
// Normalisation: ASCII lower-casing; @handles become "@user", links become "url", digit runs
// become "0", apostrophes inside words are dropped ("don't" → "dont"), '#' is dropped from
// hashtags, runs of '?' or '!' become one token, 4-byte UTF-8 sequences (emoji) are tokens of
// their own; everything else is a separator. Features: word unigrams (negation-marked when
// enabled), word n-grams up to word_ngram_max with a start marker, character n-grams of the
// normalised text padded with spaces, and the dense features above. Each hashed group's values
// are 1/sqrt(occurrences in the group) so that long and short texts weigh alike.
//
// Ownership: holds only its options; the VADER lexicon and the cue lists are process-wide
// immutable tables initialised on first use. Thread-safe: Extract is const and writes only to
// the caller's buffer.
class FeatureExtractor {
 public:
  explicit FeatureExtractor(const FeatureOptions& options);

  const FeatureOptions& options() const { return options_; }

  // Number of feature indices: 2^hash_bits hashed slots plus the dense features.
  uint32_t dimension() const { return hashed_size_ + kNumDenseFeatures; }

  // Which group a feature index belongs to.
  FeatureGroup GroupOf(uint32_t index) const;

  // Fills buffer->features (cleared first) with the features of `text`.
  void Extract(std::string_view text, FeatureBuffer* buffer) const;

  // The dot product of `weights` (dimension() entries, indexed by feature index) with the
  // features of `text`, computed while they are extracted (buffer->features is left alone).
  // Equals the dot product over Extract's output up to double rounding: the weights of each
  // group of equal-valued features are summed exactly as integers and scaled once.
  double Dot(std::string_view text, const int16_t* weights, FeatureBuffer* buffer) const;

 private:
  // Runs the extraction, handing every feature in order to sink.Add(index, value) or, for a run
  // of features of one value, sink.AddRun(count, value, index_of). Defined in features.cc only.
  template <typename Sink>
  void Emit(std::string_view text, FeatureBuffer* buffer, Sink& sink) const;

  void Normalize(std::string_view text, FeatureBuffer* buffer, int* question_runs,
                 int* exclamation_runs, int* caps_words, int* long_words) const;

  FeatureOptions options_;
  uint32_t hashed_size_;
  int shift_;  // 64 - hash_bits: hashed indices are the top bits of a 64-bit hash
};

// Checks that options are usable (bit count and n-gram ranges); used when parsing weights.
bool ValidFeatureOptions(const FeatureOptions& options);

}  // namespace ccstream::domain::complaint
