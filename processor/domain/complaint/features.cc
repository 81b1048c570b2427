#include "processor/domain/complaint/features.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <initializer_list>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_map.h"
#include "embedded/complaint_vader_lexicon.h"

namespace ccstream::domain::complaint {
namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

// Seeds that keep the hashed groups apart.
constexpr uint64_t kSeedUnigram = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kSeedNegatedUnigram = 0xc2b2ae3d27d4eb4full;
constexpr uint64_t kSeedWordNgram = 0x165667b19e3779f9ull;
constexpr uint64_t kStartMarker = 0x27d4eb2f165667c5ull;
constexpr uint64_t kFibonacci = 0x9e3779b97f4a7c15ull;

// The shift of a character n-gram hash with the default 18 hash bits (upper half of 2^18).
constexpr int kDefaultCharacterShift = 64 - 18 + 1;

// kByteMasks[n] keeps the low n bytes of a word (n <= 7).
constexpr uint64_t kByteMasks[8] = {0,
                                    0xffull,
                                    0xffffull,
                                    0xffffffull,
                                    0xffffffffull,
                                    0xffffffffffull,
                                    0xffffffffffffull,
                                    0xffffffffffffffull};

// VADER scales a negated word's valence by this factor.
constexpr float kNegationScale = -0.74f;

constexpr uint64_t Fnv(std::string_view bytes) {
  uint64_t h = kFnvOffset;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return h;
}

// The hashes of the placeholder tokens.
constexpr uint64_t kUrlHash = Fnv("url");
constexpr uint64_t kMentionHash = Fnv("@user");
constexpr uint64_t kQuestionHash = Fnv("?");
constexpr uint64_t kExclamationHash = Fnv("!");

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

inline bool IsAsciiAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
inline bool IsAsciiUpper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsAsciiLetter(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline bool IsSpaceOrControl(unsigned char c) { return c <= ' '; }
inline bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool IsHandleByte(unsigned char c) { return IsAsciiAlnum(c) || c == '_'; }
inline char Lower(unsigned char c) { return IsAsciiUpper(c) ? static_cast<char>(c + 32) : c; }

// Length of the UTF-8 sequence led by `c` (1 for ASCII and stray continuation bytes).
inline size_t SequenceLength(unsigned char c) {
  if (c < 0xC0) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

// A right single quotation mark (U+2019) or left one (U+2018) at `i`.
inline bool IsCurlyApostrophe(std::string_view text, size_t i) {
  return i + 2 < text.size() && static_cast<unsigned char>(text[i]) == 0xE2 &&
         static_cast<unsigned char>(text[i + 1]) == 0x80 &&
         (static_cast<unsigned char>(text[i + 2]) == 0x99 ||
          static_cast<unsigned char>(text[i + 2]) == 0x98);
}

// What the normaliser does with a byte. A multi-byte sequence is part of a word when its lead
// byte is a letter of another script (C3..EF), except Latin-1 punctuation (C2), general
// punctuation (E2) and variation selectors and specials (EF); 4-byte sequences (emoji, F0+) are
// tokens of their own.
enum ByteClass : uint8_t {
  kOtherByte = 0,    // separator: space, punctuation other than below, stray UTF-8 bytes
  kLowerByte,        // a-z except h and w
  kLowerUrlByte,     // h, w (may start a link)
  kUpperByte,        // A-Z except H and W
  kUpperUrlByte,     // H, W
  kDigitByte,        // 0-9
  kUnderscoreByte,   // _
  kWordLeadByte,     // lead byte of a multi-byte letter (C3..EF except E2 and EF)
  kHashByte,         // #
  kAtByte,           // @
  kQuestionByte,     // ?
  kExclamationByte,  // !
  kClauseByte,       // . ; :
  kCommaByte,        // ,
  kEmojiByte,        // 4-byte UTF-8 lead (F0 and above)
};

constexpr std::array<uint8_t, 256> MakeByteClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t k = kOtherByte;
    if (c >= 'a' && c <= 'z') k = (c == 'h' || c == 'w') ? kLowerUrlByte : kLowerByte;
    if (c >= 'A' && c <= 'Z') k = (c == 'H' || c == 'W') ? kUpperUrlByte : kUpperByte;
    if (c >= '0' && c <= '9') k = kDigitByte;
    if (c == '_') k = kUnderscoreByte;
    if (c >= 0xC3 && c < 0xF0 && c != 0xE2 && c != 0xEF) k = kWordLeadByte;
    if (c == '#') k = kHashByte;
    if (c == '@') k = kAtByte;
    if (c == '?') k = kQuestionByte;
    if (c == '!') k = kExclamationByte;
    if (c == '.' || c == ';' || c == ':') k = kClauseByte;
    if (c == ',') k = kCommaByte;
    if (c >= 0xF0) k = kEmojiByte;
    t[static_cast<size_t>(c)] = k;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kByteClass = MakeByteClasses();

bool StartsWithUrl(std::string_view text, size_t i) {
  auto starts = [&](std::string_view prefix) {
    if (text.size() - i < prefix.size()) return false;
    for (size_t k = 0; k < prefix.size(); ++k) {
      if (Lower(static_cast<unsigned char>(text[i + k])) != prefix[k]) return false;
    }
    return true;
  };
  return starts("http://") || starts("https://") || starts("www.");
}

// Appends to a buffer known to be large enough.
struct NormalizedWriter {
  char* base;
  char* end;
  size_t size() const { return static_cast<size_t>(end - base); }
  bool empty() const { return end == base; }
  char back() const { return end[-1]; }
  void push_back(char c) { *end++ = c; }
  void pop_back() { --end; }
  void append(std::string_view bytes) {
    std::memcpy(end, bytes.data(), bytes.size());
    end += bytes.size();
  }
};

// What the word tables know about one normalised word.
struct WordInfo {
  float valence = 0;      // VADER mean valence, 0 when not in the lexicon
  bool negation = false;  // opens a negation scope
  bool cue = false;       // complaint cue word
  bool opener = false;    // question opener when first in a clause
};

// Process-wide immutable word table, keyed by TokenHash of the normalised word, with a 4 KiB
// one-hash filter in front so that most words (not in any list) skip the hash-map probe.
struct WordTable {
  static constexpr int kFilterBits = 15;
  static size_t FilterBit(uint64_t hash) { return (hash * kFibonacci) >> (64 - kFilterBits); }
  const WordInfo* Find(uint64_t hash) const {
    const size_t bit = FilterBit(hash);
    if ((filter[bit >> 6] & (uint64_t{1} << (bit & 63))) == 0) return nullptr;
    auto it = words.find(hash);
    return it == words.end() ? nullptr : &it->second;
  }
  absl::flat_hash_map<uint64_t, WordInfo> words;
  uint64_t filter[(size_t{1} << kFilterBits) / 64] = {};
};

// Normalises a lexicon entry like a word token: lower case, apostrophes dropped; entries with
// any other non-alphanumeric byte (emoticons, phrases) cannot match a word token and are skipped.
bool NormaliseLexiconWord(std::string_view entry, std::string* out) {
  out->clear();
  for (unsigned char c : entry) {
    if (c == '\'') continue;
    if (!IsAsciiAlnum(c)) return false;
    out->push_back(Lower(c));
  }
  return !out->empty();
}

WordTable* BuildTable() {
  auto* result = new WordTable;
  absl::flat_hash_map<uint64_t, WordInfo>& table = result->words;
  std::string word;
  std::string_view lexicon = embedded::complaint_vader_lexicon();
  while (!lexicon.empty()) {
    const size_t end = std::min(lexicon.find('\n'), lexicon.size());
    const std::string_view line = lexicon.substr(0, end);
    lexicon.remove_prefix(std::min(end + 1, lexicon.size()));
    // token <TAB> mean valence <TAB> ...
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    const std::string_view rest = line.substr(tab + 1);
    float valence = 0;
    const auto [ptr, error] = std::from_chars(rest.data(), rest.data() + rest.size(), valence);
    if (error != std::errc() || ptr == rest.data()) continue;
    if (!NormaliseLexiconWord(line.substr(0, tab), &word)) continue;
    table[TokenHash(word)].valence = valence;
  }
  for (std::string_view w :
       {"not",    "no",      "never",    "dont",    "cant",   "wont",   "isnt",
        "arent",  "didnt",   "doesnt",   "havent",  "hasnt",  "hadnt",  "wasnt",
        "werent", "couldnt", "shouldnt", "wouldnt", "aint",   "cannot", "nothing",
        "nobody", "none",    "nor",      "neither", "without"}) {
    table[TokenHash(w)].negation = true;
  }
  for (std::string_view w :
       {"still",       "never",     "again",        "worst",        "waiting",       "waited",
        "wait",        "hours",     "days",         "weeks",        "months",        "refund",
        "cancel",      "cancelled", "canceled",     "delayed",      "delay",         "broken",
        "broke",       "charged",   "overcharged",  "disappointed", "disappointing", "terrible",
        "horrible",    "awful",     "unacceptable", "ridiculous",   "rude",          "useless",
        "poor",        "problem",   "problems",     "issue",        "issues",        "error",
        "wrong",       "missing",   "lost",         "nobody",       "fail",          "failed",
        "fails",       "complaint", "complain",     "supposed",     "stuck",         "frustrated",
        "frustrating", "annoyed",   "sucks",        "scam",         "yet",           "received",
        "ordered",     "paid",      "keeps",        "stopped",      "late"}) {
    table[TokenHash(w)].cue = true;
  }
  for (std::string_view w :
       {"how", "what", "when", "where", "which", "who", "can", "could", "would", "will", "is",
        "are", "do", "does", "any", "anyone", "should", "may"}) {
    table[TokenHash(w)].opener = true;
  }
  for (const auto& [hash, info] : table) {
    const size_t bit = WordTable::FilterBit(hash);
    result->filter[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
  return result;
}

const WordTable& GetTable() {
  static const WordTable* const kTable = BuildTable();
  return *kTable;
}

// Emit sink of Extract: appends the features to a FeatureVector. Borrows the vector; one per
// call, not shared between threads.
class FeatureWriter {
 public:
  static constexpr bool kSumsCharacterWeights = false;
  explicit FeatureWriter(FeatureVector* features) : features_(features) { features_->clear(); }
  void Add(uint32_t index, float value) { features_->push_back({index, value}); }
  // Appends `count` features of the same value, the j-th at index_of(j); sized once, written
  // through a pointer.
  template <typename IndexFn>
  void AddRun(size_t count, float value, IndexFn index_of) {
    const size_t first = features_->size();
    features_->resize(first + count);
    Feature* out = features_->data() + first;
    for (size_t j = 0; j < count; ++j) out[j] = {index_of(j), value};
  }

 private:
  FeatureVector* features_;
};

// Emit sink of Dot: accumulates weights[index] * value without materialising the features.
// Within a run every feature has the same value, so the run's int16 weights are summed exactly
// in an integer and multiplied by the value once; the runs and the single features are summed
// in double. Borrows the weights; one per call, not shared between threads.
class DotSink {
 public:
  static constexpr bool kSumsCharacterWeights = true;
  explicit DotSink(const int16_t* weights) : weights_(weights) {}
  const int16_t* weights() const { return weights_; }
  // Adds value * sum, sum being the (exact) sum of the weights of features of that value.
  void AddSum(int64_t sum, float value) {
    total_ += static_cast<double>(sum) * static_cast<double>(value);
  }
  void Add(uint32_t index, float value) {
    total_ += static_cast<double>(weights_[index]) * static_cast<double>(value);
  }
  template <typename IndexFn>
  void AddRun(size_t count, float value, IndexFn index_of) {
    int64_t a0 = 0;
    int64_t a1 = 0;
    size_t j = 0;
    for (; j + 2 <= count; j += 2) {
      a0 += weights_[index_of(j)];
      a1 += weights_[index_of(j + 1)];
    }
    if (j < count) a0 += weights_[index_of(j)];
    total_ += static_cast<double>(a0 + a1) * static_cast<double>(value);
  }
  double Total() const { return total_; }

 private:
  const int16_t* weights_;
  double total_ = 0;
};

}  // namespace

uint64_t TokenHash(std::string_view bytes) { return Fnv(bytes); }

bool ValidFeatureOptions(const FeatureOptions& options) {
  if (options.hash_bits < 10 || options.hash_bits > 24) return false;
  if (options.word_ngram_max < 1 || options.word_ngram_max > 4) return false;
  if (options.char_ngram_max == 0) return true;
  return options.char_ngram_min >= 1 && options.char_ngram_min <= options.char_ngram_max &&
         options.char_ngram_max <= 7;
}

FeatureGroup FeatureExtractor::GroupOf(uint32_t index) const {
  if (index >= hashed_size_) return FeatureGroup::kDense;
  return index >= (hashed_size_ >> 1) ? FeatureGroup::kCharacter : FeatureGroup::kWord;
}

FeatureExtractor::FeatureExtractor(const FeatureOptions& options)
    : options_(options),
      hashed_size_(uint32_t{1} << options.hash_bits),
      shift_(64 - options.hash_bits) {
  GetTable();
}

void FeatureExtractor::Normalize(std::string_view text, FeatureBuffer* buffer, int* question_runs,
                                 int* exclamation_runs, int* caps_words, int* long_words) const {
  const WordTable& table = GetTable();
  // Sized once for the worst case (a 2-byte "@x" becomes " @user": 3 bytes out per byte in) and
  // written through a raw pointer, so appending neither re-checks capacity nor reloads the size.
  std::string& normalized = buffer->normalized;
  normalized.resize(3 * text.size() + 8);
  NormalizedWriter out{normalized.data(), normalized.data()};
  std::vector<FeatureBuffer::Token>& tokens = buffer->tokens;
  tokens.clear();
  bool negation = false;
  bool clause_start = true;

  auto begin_token = [&]() -> uint32_t {
    if (!out.empty()) out.push_back(' ');
    return static_cast<uint32_t>(out.size());
  };
  // `hash` is TokenHash of the token's bytes, computed while they were written.
  // Inlined, so that the writer and the scope flags stay in registers.
  auto end_token = [&](uint32_t begin, bool is_word, uint64_t hash) ABSL_ATTRIBUTE_ALWAYS_INLINE {
    // Built in place: a stack temporary copied in costs a store-forwarding stall per token.
    FeatureBuffer::Token& token = tokens.emplace_back();
    token.begin = begin;
    token.length = static_cast<uint32_t>(out.size() - begin);
    token.hash = hash;
    token.is_word = is_word;
    token.negated = is_word && negation;
    token.clause_start = is_word && clause_start;
    if (is_word) {
      clause_start = false;
      if (const WordInfo* info = table.Find(token.hash)) {
        token.valence = token.negated ? info->valence * kNegationScale : info->valence;
        token.cue = info->cue;
        token.opener = info->opener;
        if (info->negation) negation = true;
      }
    }
  };
  auto add_placeholder = [&](std::string_view placeholder, uint64_t hash) {
    uint32_t begin = begin_token();
    out.append(placeholder);
    end_token(begin, /*is_word=*/false, hash);
  };

  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const uint8_t kind = kByteClass[c];
    if (kind == kOtherByte) {
      i += SequenceLength(c);
      continue;
    }
    if (kind == kAtByte) {
      if (i + 1 < n && IsHandleByte(static_cast<unsigned char>(text[i + 1]))) {
        ++i;
        while (i < n && IsHandleByte(static_cast<unsigned char>(text[i]))) ++i;
        add_placeholder("@user", kMentionHash);
      } else {
        ++i;
      }
      continue;
    }
    if ((kind == kLowerUrlByte || kind == kUpperUrlByte) && StartsWithUrl(text, i)) {
      while (i < n && !IsSpaceOrControl(static_cast<unsigned char>(text[i]))) ++i;
      add_placeholder("url", kUrlHash);
      continue;
    }
    if (kind == kQuestionByte || kind == kExclamationByte) {
      while (i < n && (text[i] == '?' || text[i] == '!')) ++i;
      if (kind == kQuestionByte) {
        add_placeholder("?", kQuestionHash);
        ++*question_runs;
      } else {
        add_placeholder("!", kExclamationHash);
        ++*exclamation_runs;
      }
      negation = false;
      clause_start = true;
      continue;
    }
    if (kind == kClauseByte || kind == kCommaByte) {
      negation = false;
      if (kind == kClauseByte) clause_start = true;
      ++i;
      continue;
    }
    if (kind == kEmojiByte) {
      const size_t length = std::min(SequenceLength(c), n - i);
      uint32_t begin = begin_token();
      out.append(text.substr(i, length));
      end_token(begin, /*is_word=*/false, Fnv(text.substr(i, length)));
      i += length;
      continue;
    }
    // A word: letters, digits, '_', letters of other scripts, or a hashtag.
    if (kind == kHashByte) ++i;
    uint32_t begin = begin_token();
    int letters = 0;
    int upper = 0;
    uint64_t hash = kFnvOffset;
    // The word's bytes go through a local pointer, stored back after the word: the writer's own
    // pointer lives in memory, and a byte store through it would force a reload per byte.
    char* const word_begin = out.end;
    char* w = word_begin;
    auto put = [&](char byte) {
      *w++ = byte;
      hash = (hash ^ static_cast<unsigned char>(byte)) * kFnvPrime;
    };
    while (i < n) {
      const unsigned char d = static_cast<unsigned char>(text[i]);
      const uint8_t k = kByteClass[d];
      if (k <= kLowerUrlByte && k != kOtherByte) {
        // The common case first: a lower-case letter is a letter, kept as it is.
        ++letters;
        put(static_cast<char>(d));
        ++i;
      } else if (k == kDigitByte) {
        if (w == word_begin || w[-1] != '0' || !IsDigit(static_cast<unsigned char>(text[i - 1]))) {
          put('0');
        }
        ++i;
      } else if (k == kUpperByte || k == kUpperUrlByte) {
        ++letters;
        ++upper;
        put(static_cast<char>(d + 32));
        ++i;
      } else if (k == kUnderscoreByte) {
        ++letters;
        put('_');
        ++i;
      } else if (k == kWordLeadByte) {
        const size_t length = std::min(SequenceLength(d), n - i);
        for (size_t m = 0; m < length; ++m) put(text[i + m]);
        ++letters;
        i += length;
      } else if (d == '\'' && w > word_begin && i + 1 < n &&
                 IsAsciiLetter(static_cast<unsigned char>(text[i + 1]))) {
        ++i;
      } else if (d == 0xE2 && IsCurlyApostrophe(text, i) && w > word_begin && i + 3 < n &&
                 IsAsciiLetter(static_cast<unsigned char>(text[i + 3]))) {
        i += 3;
      } else {
        break;
      }
    }
    out.end = w;
    if (out.size() == begin) {
      // A lone '#': drop the separator added for it.
      if (!out.empty()) out.pop_back();
      continue;
    }
    if (letters >= 2) {
      ++*long_words;
      if (upper == letters) ++*caps_words;
    }
    end_token(begin, /*is_word=*/true, hash);
  }
  normalized.resize(out.size());
}

template <typename Sink>
void FeatureExtractor::Emit(std::string_view text, FeatureBuffer* buffer, Sink& sink) const {
  int question_runs = 0;
  int exclamation_runs = 0;
  int caps_words = 0;
  int long_words = 0;
  Normalize(text, buffer, &question_runs, &exclamation_runs, &caps_words, &long_words);
  const std::vector<FeatureBuffer::Token>& tokens = buffer->tokens;
  const size_t token_count = tokens.size();
  // Word features take the lower half of the hashed space, character n-grams the upper half.
  auto index = [this](uint64_t h) { return static_cast<uint32_t>(Mix(h) >> (shift_ + 1)); };

  if (token_count > 0) {
    // Word unigrams.
    const float unigram_value = 1.0f / std::sqrt(static_cast<float>(token_count));
    const FeatureBuffer::Token* const token_data = tokens.data();
    const bool mark_negation = options_.mark_negation;
    sink.AddRun(token_count, unigram_value, [&](size_t j) {
      const FeatureBuffer::Token& token = token_data[j];
      return index(token.hash ^
                   (mark_negation && token.negated ? kSeedNegatedUnigram : kSeedUnigram));
    });
    // Word n-grams from 2 to word_ngram_max; position -1 is the start marker.
    for (int len = 2; len <= options_.word_ngram_max; ++len) {
      const int count = static_cast<int>(token_count) - len + 2;
      if (count <= 0) break;
      const float value = 1.0f / std::sqrt(static_cast<float>(count));
      // The n-gram starting at token j - 1 (j = 0: the start marker first).
      if (len == 2) {
        const uint64_t seed = kSeedWordNgram + 2;
        sink.AddRun(static_cast<size_t>(count), value, [&](size_t j) {
          const uint64_t first = j == 0 ? kStartMarker : token_data[j - 1].hash;
          return index(Mix(Mix(seed ^ first) ^ token_data[j].hash));
        });
        continue;
      }
      sink.AddRun(static_cast<size_t>(count), value, [&](size_t j) {
        const int start = static_cast<int>(j) - 1;
        uint64_t h = kSeedWordNgram + static_cast<uint64_t>(len);
        for (int k = start; k < start + len; ++k) {
          h = Mix(h ^ (k < 0 ? kStartMarker : token_data[k].hash));
        }
        return index(h);
      });
    }
    // Character n-grams of " " + normalized + " ".
    if (options_.char_ngram_max > 0) {
      const std::string& s = buffer->normalized;
      const size_t padded = s.size() + 2;
      size_t count = 0;
      for (int len = options_.char_ngram_min; len <= options_.char_ngram_max; ++len) {
        if (padded >= static_cast<size_t>(len)) count += padded - len + 1;
      }
      const float value = count > 0 ? 1.0f / std::sqrt(static_cast<float>(count)) : 0.0f;
      // The bytes of an n-gram are packed into a word and hashed multiplicatively (independent
      // per n-gram, so the loop pipelines). No length tag is needed: the text holds no zero
      // bytes, so n-grams of different lengths pack into disjoint ranges of integers.
      const uint32_t half = hashed_size_ >> 1;
      const int shift = shift_ + 1;
      const size_t min_len = static_cast<size_t>(options_.char_ngram_min);
      const size_t max_len = std::min(static_cast<size_t>(options_.char_ngram_max), padded);
      if constexpr (Sink::kSumsCharacterWeights) {
        // Position by position: the window of the (up to) 8 bytes ending at the position is
        // shifted along, and every n-gram ending there is looked up at once.
        uint64_t masks[8] = {};
        for (size_t len = min_len; len <= max_len; ++len) {
          masks[len] = kByteMasks[len];
        }
        const int16_t* const w = sink.weights() + half;
        auto at = [&](uint64_t window, size_t len) {
          return w[((window & masks[len]) * kFibonacci) >> shift];
        };
        int64_t sum = 0;
        uint64_t window = 0;
        size_t p = 0;
        // The first positions, where not every length fits yet.
        for (; p == 0 || p + 1 < max_len; ++p) {
          window = (window << 8) | (p == 0 ? ' ' : static_cast<unsigned char>(s[p - 1]));
          for (size_t len = min_len; len <= p + 1 && len <= max_len; ++len) {
            sum += at(window, len);
          }
        }
        const unsigned char* const bytes = reinterpret_cast<const unsigned char*>(s.data());
        if (min_len == 2 && max_len == 5 && shift == kDefaultCharacterShift) {
          // The default options, with the masks and shift as constants (no spills).
          constexpr int k = kDefaultCharacterShift;
          int64_t s0 = 0;
          int64_t s1 = 0;
          for (; p + 1 < padded; ++p) {
            window = (window << 8) | bytes[p - 1];
            s0 += w[((window & kByteMasks[2]) * kFibonacci) >> k];
            s1 += w[((window & kByteMasks[3]) * kFibonacci) >> k];
            s0 += w[((window & kByteMasks[4]) * kFibonacci) >> k];
            s1 += w[((window & kByteMasks[5]) * kFibonacci) >> k];
          }
          sum += s0 + s1;
        } else {
          for (; p + 1 < padded; ++p) {
            window = (window << 8) | bytes[p - 1];
            for (size_t len = min_len; len <= max_len; ++len) {
              sum += at(window, len);
            }
          }
        }
        // The closing space.
        if (p + 1 == padded && p >= 1) {
          window = (window << 8) | ' ';
          for (size_t len = min_len; len <= max_len && len <= p + 1; ++len) {
            sum += at(window, len);
          }
        }
        sink.AddSum(sum, value);
      } else {
        // windows[p]: the (up to) 8 bytes of the padded text ending at p, packed into a word.
        std::vector<uint64_t>& windows = buffer->windows;
        windows.resize(padded);
        uint64_t* const window_out = windows.data();
        uint64_t window = ' ';
        window_out[0] = window;
        for (size_t k = 0; k < s.size(); ++k) {
          window = (window << 8) | static_cast<unsigned char>(s[k]);
          window_out[k + 1] = window;
        }
        window_out[padded - 1] = (window << 8) | ' ';
        const uint64_t* const window_data = windows.data();
        for (size_t len = min_len; len <= max_len; ++len) {
          const uint64_t mask = kByteMasks[len];
          const uint64_t* const ending = window_data + (len - 1);
          sink.AddRun(padded - len + 1, value, [=](size_t j) {
            return static_cast<uint32_t>(((ending[j] & mask) * kFibonacci) >> shift) | half;
          });
        }
      }
    }
  }

  if (!options_.dense_features) return;
  int words = 0;
  int cues = 0;
  int openers = 0;
  float positive = 0;
  float negative = 0;
  float most_negative = 0;
  bool has_url = false;
  for (const FeatureBuffer::Token& token : tokens) {
    if (!token.is_word) {
      has_url = has_url || token.hash == kUrlHash;
      continue;
    }
    ++words;
    cues += token.cue ? 1 : 0;
    openers += token.clause_start && token.opener ? 1 : 0;
    const float valence = token.valence;
    if (valence > 0) positive += valence;
    if (valence < 0) negative -= valence;
    most_negative = std::min(most_negative, valence);
  }
  const bool only_placeholders = words == 0;
  const uint32_t base = hashed_size_;
  auto dense = [&](DenseFeature feature, float value) {
    if (value != 0) sink.Add(base + static_cast<uint32_t>(feature), value);
  };
  const float word_norm = words > 0 ? 4.0f * std::sqrt(static_cast<float>(words)) : 1.0f;
  dense(kHasQuestion, question_runs > 0 ? 1.0f : 0.0f);
  dense(kEndsWithQuestion, token_count > 0 && buffer->normalized.back() == '?' ? 1.0f : 0.0f);
  dense(kExclamations, static_cast<float>(std::min(exclamation_runs, 3)) / 3.0f);
  dense(kCapsWords,
        long_words > 0 ? static_cast<float>(caps_words) / static_cast<float>(long_words) : 0.0f);
  dense(kLexPositive, positive / word_norm);
  dense(kLexNegative, negative / word_norm);
  dense(kLexHasNegative, negative > 0 ? 1.0f : 0.0f);
  dense(kLexMostNegative, most_negative / 4.0f);
  dense(kCueWords, static_cast<float>(std::min(cues, 3)) / 3.0f);
  dense(kQuestionWords, static_cast<float>(std::min(openers, 3)) / 3.0f);
  dense(kHasUrl, has_url ? 1.0f : 0.0f);
  dense(kMentionOnly, token_count > 0 && only_placeholders ? 1.0f : 0.0f);
  dense(kLogLength, std::log1p(static_cast<float>(words)) / 4.0f);
}

void FeatureExtractor::Extract(std::string_view text, FeatureBuffer* buffer) const {
  FeatureWriter writer(&buffer->features);
  Emit(text, buffer, writer);
}

double FeatureExtractor::Dot(std::string_view text, const int16_t* weights,
                             FeatureBuffer* buffer) const {
  DotSink sink(weights);
  Emit(text, buffer, sink);
  return sink.Total();
}

}  // namespace ccstream::domain::complaint
