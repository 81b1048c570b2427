#include "processor/domain/text/sentiment.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "absl/base/attributes.h"
#include "embedded/vader_emoji_lexicon.h"
#include "embedded/vader_lexicon.h"

namespace ccstream::domain::text {
namespace {

// Constants of vaderSentiment 3.3.2 (vaderSentiment.py).
constexpr double kBoosterIncrement = 0.293;
constexpr double kBoosterDecrement = -0.293;
constexpr double kAllCapsIncrement = 0.733;
constexpr double kNegationScalar = -0.74;
constexpr double kNormalizeAlpha = 15.0;

constexpr std::string_view kNegations[] = {
    "aint",   "arent",    "cannot",  "cant",     "couldnt",  "darent",   "didnt",   "doesnt",
    "ain't",  "aren't",   "can't",   "couldn't", "daren't",  "didn't",   "doesn't", "dont",
    "hadnt",  "hasnt",    "havent",  "isnt",     "mightnt",  "mustnt",   "neither", "don't",
    "hadn't", "hasn't",   "haven't", "isn't",    "mightn't", "mustn't",  "neednt",  "needn't",
    "never",  "none",     "nope",    "nor",      "not",      "nothing",  "nowhere", "oughtnt",
    "shant",  "shouldnt", "uhuh",    "wasnt",    "werent",   "oughtn't", "shan't",  "shouldn't",
    "uh-uh",  "wasn't",   "weren't", "without",  "wont",     "wouldnt",  "won't",   "wouldn't",
    "rarely", "seldom",   "despite"};

// Single-word boosters and dampeners (BOOSTER_DICT without its multi-word entries).
constexpr std::string_view kBoosters[] = {
    "absolutely",    "amazingly",    "awfully",       "completely", "considerable", "considerably",
    "decidedly",     "deeply",       "effing",        "enormous",   "enormously",   "entirely",
    "especially",    "exceptional",  "exceptionally", "extreme",    "extremely",    "fabulously",
    "flipping",      "flippin",      "frackin",       "fracking",   "fricking",     "frickin",
    "frigging",      "friggin",      "fully",         "fuckin",     "fucking",      "fuggin",
    "fugging",       "greatly",      "hella",         "highly",     "hugely",       "incredible",
    "incredibly",    "intensely",    "major",         "majorly",    "more",         "most",
    "particularly",  "purely",       "quite",         "really",     "remarkably",   "so",
    "substantially", "thoroughly",   "total",         "totally",    "tremendous",   "tremendously",
    "uber",          "unbelievably", "unusually",     "utter",      "utterly",      "very"};
constexpr std::string_view kDampeners[] = {
    "almost",   "barely",   "hardly",     "kinda",      "kindof",       "kind-of", "less",
    "little",   "marginal", "marginally", "occasional", "occasionally", "partly",  "scarce",
    "scarcely", "slight",   "slightly",   "somewhat",   "sorta",        "sortof",  "sort-of"};

// SPECIAL_CASES entries that can match (keys of two or three words), as word sequences.
struct SpecialCase {
  std::array<std::string_view, 3> words;
  int size;
  double valence;
};
constexpr SpecialCase kSpecialCases[] = {
    {{"the", "shit", ""}, 2, 3.0},    {{"the", "bomb", ""}, 2, 3.0},
    {{"bad", "ass", ""}, 2, 1.5},     {{"bus", "stop", ""}, 2, 0.0},
    {{"yeah", "right", ""}, 2, -2.0}, {{"kiss", "of", "death"}, 3, -1.5},
    {{"to", "die", "for"}, 3, 3.0},   {{"beating", "heart", ""}, 2, 3.5}};
// Multi-word BOOSTER_DICT entries, all dampeners.
constexpr SpecialCase kBoosterNgrams[] = {{{"just", "enough", ""}, 2, kBoosterDecrement},
                                          {{"kind", "of", ""}, 2, kBoosterDecrement},
                                          {{"sort", "of", ""}, 2, kBoosterDecrement}};

// Byte classes for the tokenizer.
constexpr uint8_t kSpace = 1;  // ASCII whitespace as Python's str.split() sees it.
constexpr uint8_t kPunct = 2;  // Python's string.punctuation.
constexpr uint8_t kUpper = 4;  // A-Z.
constexpr uint8_t kLower = 8;  // a-z.
constexpr uint8_t kHigh = 16;  // Part of a multi-byte UTF-8 sequence.
constexpr uint8_t kMark = 32;  // '!' or '?', counted for punctuation emphasis.

constexpr std::array<uint8_t, 256> MakeCharClass() {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    uint8_t cls = 0;
    if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) cls |= kSpace;
    if ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
        (c >= '{' && c <= '~')) {
      cls |= kPunct;
    }
    if (c >= 'A' && c <= 'Z') cls |= kUpper;
    if (c >= 'a' && c <= 'z') cls |= kLower;
    if (c >= 0x80) cls |= kHigh;
    if (c == '!' || c == '?') cls |= kMark;
    table[c] = cls;
  }
  return table;
}
constexpr std::array<uint8_t, 256> kCharClass = MakeCharClass();

constexpr std::array<uint8_t, 256> MakeLowerCase() {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = static_cast<uint8_t>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  }
  return table;
}
constexpr std::array<uint8_t, 256> kLowerCase = MakeLowerCase();

// Decodes the UTF-8 code point at text[pos]; sets `length` to its byte length. Invalid bytes
// decode as themselves with length 1.
char32_t DecodeUtf8(std::string_view text, size_t pos, size_t& length) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  auto continuation = [&](size_t k) {
    return pos + k < text.size() && (static_cast<unsigned char>(text[pos + k]) & 0xC0) == 0x80;
  };
  auto byte = [&](size_t k) { return static_cast<char32_t>(text[pos + k] & 0x3F); };
  if (b0 >= 0xC2 && b0 <= 0xDF && continuation(1)) {
    length = 2;
    return (static_cast<char32_t>(b0 & 0x1F) << 6) | byte(1);
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && continuation(1) && continuation(2)) {
    length = 3;
    return (static_cast<char32_t>(b0 & 0x0F) << 12) | (byte(1) << 6) | byte(2);
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && continuation(1) && continuation(2) && continuation(3)) {
    length = 4;
    return (static_cast<char32_t>(b0 & 0x07) << 18) | (byte(1) << 12) | (byte(2) << 6) | byte(3);
  }
  length = 1;
  return b0;
}

// Python's str.isspace() for one code point.
bool IsUnicodeSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// Length in bytes of the whitespace character at text[pos], or 0 if it is not whitespace.
size_t SpaceLength(std::string_view text, size_t pos) {
  const auto c = static_cast<unsigned char>(text[pos]);
  if (c < 0x80) return IsUnicodeSpace(c) ? 1 : 0;
  size_t length;
  const char32_t code_point = DecodeUtf8(text, pos, length);
  return length > 1 && IsUnicodeSpace(code_point) ? length : 0;
}

size_t CodePointCount(std::string_view text) {
  size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

// Python's str.isupper() for ASCII and Latin-1 letters (other letters count as uncased): true if
// there is at least one upper-case letter and no lower-case one.
bool IsUpper(std::string_view word) {
  bool any_upper = false;
  for (size_t i = 0; i < word.size(); ++i) {
    const auto c = static_cast<unsigned char>(word[i]);
    if (c >= 'a' && c <= 'z') return false;
    if (c >= 'A' && c <= 'Z') {
      any_upper = true;
    } else if (c == 0xC3 && i + 1 < word.size()) {
      const auto next = static_cast<unsigned char>(word[i + 1]);
      if (next >= 0x80 && next <= 0x9E && next != 0x97) any_upper = true;
      if (next >= 0x9F && next <= 0xBF && next != 0xB7) return false;
    } else if (c == 0xC2 && i + 1 < word.size() &&
               static_cast<unsigned char>(word[i + 1]) == 0xB5) {
      return false;  // U+00B5 MICRO SIGN is lower case.
    }
  }
  return any_upper;
}

// True if `word` has letters that Python's str.lower() would change (ASCII or Latin-1).
bool HasUpperCase(std::string_view word) {
  for (size_t i = 0; i < word.size(); ++i) {
    const auto c = static_cast<unsigned char>(word[i]);
    if (c >= 'A' && c <= 'Z') return true;
    if (c == 0xC3 && i + 1 < word.size()) {
      const auto next = static_cast<unsigned char>(word[i + 1]);
      if (next >= 0x80 && next <= 0x9E && next != 0x97) return true;
    }
  }
  return false;
}

std::string_view StripAscii(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || (s.front() >= '\t' && s.front() <= '\r'))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || (s.back() >= '\t' && s.back() <= '\r'))) {
    s.remove_suffix(1);
  }
  return s;
}

// Calls fn(line) for each '\n'-separated line of `text`.
template <typename Fn>
void ForEachLine(std::string_view text, Fn fn) {
  while (!text.empty()) {
    const size_t end = text.find('\n');
    fn(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

// One token of VADER's words_and_emoticons, with what the rules need to know about it.
struct Token {
  std::string_view lower;  // Lower-cased token (a view into the scratch buffer).
  const void* info;        // WordInfo*, or nullptr if the word is neither in the lexicon nor a
                           // booster nor a negation.
  bool upper;              // str.isupper() of the token as written.
  bool phrase_word;        // WordInfo::in_phrase.
};

// Per-thread buffers reused between calls, so scoring allocates only while they grow.
struct Scratch {
  std::string emoji_free;
  std::string lower;
  std::vector<Token> tokens;
  std::vector<double> sentiments;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

double Normalize(double score) {
  const double norm = score / std::sqrt(score * score + kNormalizeAlpha);
  return std::clamp(norm, -1.0, 1.0);
}

}  // namespace

const SentimentAnalyzer& SentimentAnalyzer::Default() {
  static const SentimentAnalyzer* const kDefault = new SentimentAnalyzer(
      ccstream::embedded::vader_lexicon(), ccstream::embedded::vader_emoji_lexicon());
  return *kDefault;
}

SentimentAnalyzer::SentimentAnalyzer(std::string_view lexicon_text, std::string_view emoji_text) {
  ForEachLine(lexicon_text, [this](std::string_view line) {
    line = StripAscii(line);
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos || tab == 0) return;
    const std::string_view word = line.substr(0, tab);
    std::string_view measure = line.substr(tab + 1);
    measure = measure.substr(0, measure.find('\t'));
    const std::string number(measure);
    char* end = nullptr;
    const double valence = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size()) return;
    if (HasUpperCase(word)) return;
    WordInfo& info = words_[std::string(word)];
    if (!info.in_lexicon) ++lexicon_size_;
    info.in_lexicon = true;
    info.valence = valence;
  });
  for (std::string_view word : kBoosters) {
    WordInfo& info = words_[std::string(word)];
    info.is_booster = true;
    info.booster = kBoosterIncrement;
  }
  for (std::string_view word : kDampeners) {
    WordInfo& info = words_[std::string(word)];
    info.is_booster = true;
    info.booster = kBoosterDecrement;
  }
  for (std::string_view word : kNegations) words_[std::string(word)].negates = true;
  auto mark_phrase_words = [this](const auto& phrases) {
    for (const SpecialCase& phrase : phrases) {
      for (int k = 0; k < phrase.size; ++k) {
        words_[std::string(phrase.words[k])].in_phrase = true;
      }
    }
  };
  mark_phrase_words(kSpecialCases);
  mark_phrase_words(kBoosterNgrams);
  for (const auto& [word, info] : words_) {
    const size_t bit = FilterBit(WordHash()(word));
    filter_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }

  ForEachLine(emoji_text, [this](std::string_view line) {
    line = StripAscii(line);
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos || tab == 0) return;
    const std::string_view emoji = line.substr(0, tab);
    size_t length;
    const char32_t code_point = DecodeUtf8(emoji, 0, length);
    if (length != emoji.size()) return;  // Keys of several code points never match in VADER.
    std::string_view description = line.substr(tab + 1);
    description = description.substr(0, description.find('\t'));
    emoji_.emplace(code_point, std::string(description));
  });
}

inline size_t SentimentAnalyzer::WordHash::operator()(std::string_view word) const {
  const char* p = word.data();
  const size_t n = word.size();
  uint64_t head = 0;
  uint64_t tail = 0;
  if (n >= 8) {
    std::memcpy(&head, p, 8);
    std::memcpy(&tail, p + n - 8, 8);
  } else if (n >= 4) {
    uint32_t h;
    uint32_t t;
    std::memcpy(&h, p, 4);
    std::memcpy(&t, p + n - 4, 4);
    head = h;
    tail = t;
  } else if (n > 0) {
    head = static_cast<unsigned char>(p[0]) |
           (static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
           (static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
  }
  uint64_t x = (head * 0x9E3779B97F4A7C15ull) ^ ((tail + n) * 0xC2B2AE3D27D4EB4Full);
  x ^= x >> 32;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 29;
  return static_cast<size_t>(x);
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline const SentimentAnalyzer::WordInfo* SentimentAnalyzer::Find(
    std::string_view lower_word) const {
  const size_t hash = WordHash()(lower_word);
  const size_t bit = FilterBit(hash);
  if ((filter_[bit >> 6] & (uint64_t{1} << (bit & 63))) == 0) return nullptr;
  const auto it = words_.find(lower_word, hash);
  return it == words_.end() ? nullptr : &it->second;
}

bool SentimentAnalyzer::ReplaceEmoji(std::string_view text, std::string& out) const {
  if (emoji_.empty()) return false;
  size_t first = text.size();
  for (size_t pos = 0; pos < text.size();) {
    size_t length = 1;
    if (static_cast<unsigned char>(text[pos]) >= 0x80 &&
        emoji_.contains(DecodeUtf8(text, pos, length))) {
      first = pos;
      break;
    }
    pos += length;
  }
  if (first == text.size()) return false;
  out.assign(text.substr(0, first));
  bool previous_space = first == 0 || text[first - 1] == ' ';
  for (size_t pos = first; pos < text.size();) {
    size_t length = 1;
    const auto c = static_cast<unsigned char>(text[pos]);
    if (c >= 0x80) {
      const auto it = emoji_.find(DecodeUtf8(text, pos, length));
      if (it != emoji_.end()) {
        if (!previous_space) out.push_back(' ');
        out.append(it->second);
        previous_space = false;
        pos += length;
        continue;
      }
    }
    out.append(text.substr(pos, length));
    previous_space = c == ' ';
    pos += length;
  }
  return true;
}

double SentimentAnalyzer::Score(std::string_view text) const {
  Scratch& scratch = ThreadScratch();
  std::string& lower = scratch.lower;
  std::vector<Token>& tokens = scratch.tokens;
  size_t exclamations = 0;
  size_t questions = 0;
  // One pass: a lower-case copy (ASCII; the lexicon and the rule words are ASCII), the counts of
  // '!' and '?', and SentiText._words_and_emoticons: split on whitespace, strip surrounding
  // punctuation unless that leaves two characters or fewer. Returns whether the text has
  // non-ASCII bytes (and so perhaps emoji, which are replaced before tokenizing again).
  auto tokenize = [&](std::string_view input) {
    // Raw pointers and local counters: the byte stores into the lower-case copy may alias
    // anything reached through memory, so the loop keeps all its state in registers.
    const char* const in = input.data();
    const size_t size = input.size();
    lower.resize(size);
    char* const out = lower.data();
    tokens.clear();
    size_t exclamation_count = 0;
    size_t question_count = 0;
    bool has_non_ascii = false;
    for (size_t pos = 0; pos < size;) {
      const auto c = static_cast<unsigned char>(in[pos]);
      if (kCharClass[c] & kSpace) {
        ++pos;
        continue;
      }
      size_t space = 0;
      if (c >= 0x80 && (space = SpaceLength(input, pos)) > 0) {
        has_non_ascii = true;
        pos += space;
        continue;
      }
      // A token: up to the next whitespace.
      const size_t start = pos;
      uint8_t seen = 0;
      while (pos < size) {
        const auto b = static_cast<unsigned char>(in[pos]);
        const uint8_t cls = kCharClass[b];
        if (cls & (kSpace | kHigh | kMark)) {
          if (cls & kSpace) break;
          if ((cls & kHigh) && SpaceLength(input, pos) > 0) break;
          exclamation_count += b == '!';
          question_count += b == '?';
        }
        seen |= cls;
        out[pos] = static_cast<char>(kLowerCase[b]);
        ++pos;
      }
      has_non_ascii |= (seen & kHigh) != 0;
      size_t begin = start;
      size_t end = pos;
      if (seen & kPunct) {
        while (begin < end && (kCharClass[static_cast<unsigned char>(in[begin])] & kPunct)) {
          ++begin;
        }
        while (end > begin && (kCharClass[static_cast<unsigned char>(in[end - 1])] & kPunct)) {
          --end;
        }
        const size_t length =
            (seen & kHigh) ? CodePointCount(input.substr(begin, end - begin)) : end - begin;
        if (length <= 2) {
          begin = start;
          end = pos;
        }
      }
      // Punctuation is uncased, so the stripped and unstripped token agree on str.isupper().
      const bool upper = (seen & kHigh) ? IsUpper(input.substr(start, pos - start))
                                        : (seen & kUpper) && !(seen & kLower);
      const std::string_view word(out + begin, end - begin);
      const WordInfo* info = Find(word);
      tokens.push_back(Token{word, info, upper, info != nullptr && info->in_phrase});
    }
    exclamations = exclamation_count;
    questions = question_count;
    return has_non_ascii;
  };
  if (tokenize(text) && ReplaceEmoji(text, scratch.emoji_free)) {
    text = scratch.emoji_free;
    tokenize(text);
  }
  const size_t n = tokens.size();
  if (n == 0) return 0.0;

  size_t upper_count = 0;
  for (const Token& token : tokens) upper_count += token.upper;
  const bool cap_differential = upper_count > 0 && upper_count < n;

  auto info = [&](size_t i) { return static_cast<const WordInfo*>(tokens[i].info); };
  auto word = [&](size_t i) { return tokens[i].lower; };
  auto in_lexicon = [&](size_t i) { return info(i) != nullptr && info(i)->in_lexicon; };
  auto negated = [&](size_t i) {
    return (info(i) != nullptr && info(i)->negates) ||
           word(i).find("n't") != std::string_view::npos;
  };
  // scalar_inc_dec: the increment a booster or dampener at `i` gives to `valence`.
  auto scalar = [&](size_t i, double valence) {
    const WordInfo* w = info(i);
    if (w == nullptr || !w->is_booster) return 0.0;
    double s = w->booster;
    if (valence < 0) s *= -1;
    if (tokens[i].upper && cap_differential)
      s += valence > 0 ? kAllCapsIncrement : -kAllCapsIncrement;
    return s;
  };
  // True if every word at `positions` is part of some special case or multi-word booster.
  auto phrase_words = [&](std::initializer_list<size_t> positions) {
    for (size_t p : positions) {
      if (!tokens[p].phrase_word) return false;
    }
    return true;
  };
  // True if the words at `positions` spell `sequence`.
  auto spells = [&](const SpecialCase& sequence, std::initializer_list<size_t> positions) {
    if (static_cast<int>(positions.size()) != sequence.size) return false;
    int k = 0;
    for (size_t p : positions) {
      if (word(p) != sequence.words[k++]) return false;
    }
    return true;
  };

  std::vector<double>& sentiments = scratch.sentiments;
  sentiments.clear();
  for (size_t i = 0; i < n; ++i) {
    const WordInfo* item = info(i);
    if ((item != nullptr && item->is_booster) ||
        (i + 1 < n && word(i) == "kind" && word(i + 1) == "of") || !in_lexicon(i)) {
      sentiments.push_back(0.0);
      continue;
    }
    double valence = item->valence;
    if (word(i) == "no" && i != n - 1 && in_lexicon(i + 1)) valence = 0.0;
    if ((i > 0 && word(i - 1) == "no") || (i > 1 && word(i - 2) == "no") ||
        (i > 2 && word(i - 3) == "no" && (word(i - 1) == "or" || word(i - 1) == "nor"))) {
      valence = item->valence * kNegationScalar;
    }
    if (tokens[i].upper && cap_differential) {
      valence += valence > 0 ? kAllCapsIncrement : -kAllCapsIncrement;
    }
    for (size_t start = 0; start < 3; ++start) {
      if (i <= start || in_lexicon(i - (start + 1))) continue;
      double s = scalar(i - (start + 1), valence);
      if (start == 1 && s != 0) s *= 0.95;
      if (start == 2 && s != 0) s *= 0.9;
      valence += s;
      // _negation_check
      if (start == 0) {
        if (negated(i - 1)) valence *= kNegationScalar;
      } else if (start == 1) {
        if (word(i - 2) == "never" && (word(i - 1) == "so" || word(i - 1) == "this")) {
          valence *= 1.25;
        } else if (word(i - 2) == "without" && word(i - 1) == "doubt") {
        } else if (negated(i - 2)) {
          valence *= kNegationScalar;
        }
      } else {
        if ((word(i - 3) == "never" && (word(i - 2) == "so" || word(i - 2) == "this")) ||
            (word(i - 1) == "so" || word(i - 1) == "this")) {
          valence *= 1.25;
        } else if (word(i - 3) == "without" && (word(i - 2) == "doubt" || word(i - 1) == "doubt")) {
        } else if (negated(i - 3)) {
          valence *= kNegationScalar;
        }
        // _special_idioms_check (i >= 3 here).
        bool found = false;
        for (const auto& positions : {std::initializer_list<size_t>{i - 1, i},
                                      {i - 2, i - 1, i},
                                      {i - 2, i - 1},
                                      {i - 3, i - 2, i - 1},
                                      {i - 3, i - 2}}) {
          if (!phrase_words(positions)) continue;
          for (const SpecialCase& special : kSpecialCases) {
            if (spells(special, positions)) {
              valence = special.valence;
              found = true;
              break;
            }
          }
          if (found) break;
        }
        if (n - 1 > i && phrase_words({i, i + 1})) {
          for (const SpecialCase& special : kSpecialCases) {
            if (spells(special, {i, i + 1})) valence = special.valence;
          }
        }
        if (n - 1 > i + 1 && phrase_words({i, i + 1, i + 2})) {
          for (const SpecialCase& special : kSpecialCases) {
            if (spells(special, {i, i + 1, i + 2})) valence = special.valence;
          }
        }
        for (const auto& positions :
             {std::initializer_list<size_t>{i - 3, i - 2, i - 1}, {i - 3, i - 2}, {i - 2, i - 1}}) {
          if (!phrase_words(positions)) continue;
          for (const SpecialCase& ngram : kBoosterNgrams) {
            if (spells(ngram, positions)) valence += ngram.valence;
          }
        }
      }
    }
    // _least_check
    if (i > 1 && !in_lexicon(i - 1) && word(i - 1) == "least") {
      if (word(i - 2) != "at" && word(i - 2) != "very") valence *= kNegationScalar;
    } else if (i > 0 && !in_lexicon(i - 1) && word(i - 1) == "least") {
      valence *= kNegationScalar;
    }
    sentiments.push_back(valence);
  }

  // _but_check, including its use of list.index(value) (the first equal value, which is not
  // always the element being visited).
  for (size_t b = 0; b < n; ++b) {
    if (word(b) != "but") continue;
    for (size_t k = 0; k < n; ++k) {
      const double sentiment = sentiments[k];
      const size_t si = static_cast<size_t>(
          std::find(sentiments.begin(), sentiments.end(), sentiment) - sentiments.begin());
      if (si < b) {
        sentiments[si] = sentiment * 0.5;
      } else if (si > b) {
        sentiments[si] = sentiment * 1.5;
      }
    }
    break;
  }

  double sum = 0.0;
  for (double sentiment : sentiments) sum += sentiment;
  // _punctuation_emphasis
  double emphasis = static_cast<double>(std::min<size_t>(exclamations, 4)) * 0.292;
  if (questions > 1) emphasis += questions <= 3 ? static_cast<double>(questions) * 0.18 : 0.96;
  if (sum > 0) {
    sum += emphasis;
  } else if (sum < 0) {
    sum -= emphasis;
  }
  return Normalize(sum);
}

}  // namespace ccstream::domain::text
