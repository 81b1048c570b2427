#include "processor/domain/complaint/features.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ccstream::domain::complaint {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Tokens(const FeatureBuffer& buffer) {
  std::vector<std::string> out;
  for (const FeatureBuffer::Token& t : buffer.tokens) {
    out.push_back(buffer.normalized.substr(t.begin, t.length));
  }
  return out;
}

// Features summed per index, so two extractions can be compared regardless of order.
std::map<uint32_t, float> Summed(const FeatureBuffer& buffer) {
  std::map<uint32_t, float> out;
  for (const Feature& f : buffer.features) out[f.index] += f.value;
  return out;
}

float Dense(const FeatureBuffer& buffer, const FeatureExtractor& extractor, DenseFeature which) {
  const uint32_t index = extractor.dimension() - kNumDenseFeatures + which;
  float sum = 0;
  for (const Feature& f : buffer.features) {
    if (f.index == index) sum += f.value;
  }
  return sum;
}

TEST(FeaturesTest, NormalisesHandlesLinksNumbersAndApostrophes) {
  const FeatureExtractor extractor(FeatureOptions{});
  FeatureBuffer buffer;
  extractor.Extract("@Delta_Air I DON'T like it: 3 hrs, 45min!!! https://t.co/AbC #fail ??",
                    &buffer);
  EXPECT_THAT(Tokens(buffer), ElementsAre("@user", "i", "dont", "like", "it", "0", "hrs", "0min",
                                          "!", "url", "fail", "?"));
  EXPECT_EQ(buffer.normalized, "@user i dont like it 0 hrs 0min ! url fail ?");
}

TEST(FeaturesTest, CurlyApostrophesAndEmoji) {
  const FeatureExtractor extractor(FeatureOptions{});
  FeatureBuffer buffer;
  extractor.Extract("It\xE2\x80\x99s broken \xF0\x9F\x98\xA1\xF0\x9F\x98\xA1 caf\xC3\xA9", &buffer);
  EXPECT_THAT(Tokens(buffer),
              ElementsAre("its", "broken", "\xF0\x9F\x98\xA1", "\xF0\x9F\x98\xA1", "caf\xC3\xA9"));
}

TEST(FeaturesTest, NegationScopeEndsAtClausePunctuation) {
  const FeatureExtractor extractor(FeatureOptions{});
  FeatureBuffer buffer;
  extractor.Extract("this is not good at all. but fine", &buffer);
  std::vector<bool> negated;
  for (const FeatureBuffer::Token& t : buffer.tokens) negated.push_back(t.negated);
  EXPECT_THAT(negated, ElementsAre(false, false, false, true, true, true, false, false));
}

TEST(FeaturesTest, NegationMarkingChangesTheUnigramFeature) {
  FeatureOptions marked;
  FeatureOptions unmarked;
  unmarked.mark_negation = false;
  FeatureBuffer a;
  FeatureBuffer b;
  FeatureExtractor(marked).Extract("not working", &a);
  FeatureExtractor(unmarked).Extract("not working", &b);
  EXPECT_NE(Summed(a), Summed(b));
  FeatureExtractor(marked).Extract("working", &a);
  FeatureExtractor(unmarked).Extract("working", &b);
  EXPECT_EQ(Summed(a), Summed(b));
}

TEST(FeaturesTest, DifferentHandlesAndLinksGiveTheSameFeatures) {
  const FeatureExtractor extractor(FeatureOptions{});
  FeatureBuffer a;
  FeatureBuffer b;
  extractor.Extract("@AmericanAir where is my bag? http://t.co/abc", &a);
  extractor.Extract("@SouthwestAir where is my bag? https://bit.ly/x", &b);
  EXPECT_EQ(Summed(a), Summed(b));
  extractor.Extract("@SouthwestAir where is my suitcase? https://bit.ly/x", &b);
  EXPECT_NE(Summed(a), Summed(b));
}

TEST(FeaturesTest, IndicesStayInsideTheDimension) {
  for (int bits : {10, 14, 18}) {
    FeatureOptions options;
    options.hash_bits = bits;
    options.word_ngram_max = 3;
    const FeatureExtractor extractor(options);
    EXPECT_EQ(extractor.dimension(), (1u << bits) + kNumDenseFeatures);
    FeatureBuffer buffer;
    extractor.Extract(
        "Why is my refund STILL not here?! Three weeks... @help #bad \xF0\x9F\x98\xA1", &buffer);
    ASSERT_FALSE(buffer.features.empty());
    for (const Feature& f : buffer.features) EXPECT_LT(f.index, extractor.dimension());
  }
}

TEST(FeaturesTest, GroupsOwnSeparateIndexRanges) {
  FeatureOptions options;
  options.hash_bits = 12;
  const FeatureExtractor extractor(options);
  FeatureBuffer buffer;
  extractor.Extract("my refund is STILL missing?!", &buffer);
  int words = 0;
  int characters = 0;
  int dense = 0;
  for (const Feature& f : buffer.features) {
    switch (extractor.GroupOf(f.index)) {
      case FeatureGroup::kWord:
        EXPECT_LT(f.index, 2048u);
        ++words;
        break;
      case FeatureGroup::kCharacter:
        EXPECT_GE(f.index, 2048u);
        EXPECT_LT(f.index, 4096u);
        ++characters;
        break;
      case FeatureGroup::kDense:
        EXPECT_GE(f.index, 4096u);
        ++dense;
        break;
    }
  }
  // 6 tokens ("?!" is one): 6 unigrams + 6 bigrams (the first with the start marker).
  EXPECT_EQ(words, 12);
  EXPECT_GT(characters, 50);
  EXPECT_GT(dense, 3);
}

TEST(FeaturesTest, GroupValuesAreOneOverRootOfTheirCount) {
  FeatureOptions options;
  options.char_ngram_max = 0;
  options.word_ngram_max = 1;
  options.dense_features = false;
  const FeatureExtractor extractor(options);
  FeatureBuffer buffer;
  extractor.Extract("one two three four", &buffer);
  ASSERT_EQ(buffer.features.size(), 4u);
  for (const Feature& f : buffer.features) EXPECT_FLOAT_EQ(f.value, 0.5f);
}

TEST(FeaturesTest, CharacterNgramCountMatchesTheOptions) {
  FeatureOptions options;
  options.word_ngram_max = 1;
  options.dense_features = false;
  options.char_ngram_min = 2;
  options.char_ngram_max = 3;
  const FeatureExtractor extractor(options);
  FeatureBuffer buffer;
  extractor.Extract("abc", &buffer);
  // One unigram; " abc " has 4 bigrams and 3 trigrams.
  EXPECT_EQ(buffer.features.size(), 1u + 4u + 3u);
}

TEST(FeaturesTest, DenseFeaturesSeePunctuationCapitalsLexiconAndCues) {
  const FeatureExtractor extractor(FeatureOptions{});
  FeatureBuffer buffer;
  extractor.Extract("How do I reset my password?", &buffer);
  EXPECT_EQ(Dense(buffer, extractor, kHasQuestion), 1.0f);
  EXPECT_EQ(Dense(buffer, extractor, kEndsWithQuestion), 1.0f);
  EXPECT_GT(Dense(buffer, extractor, kQuestionWords), 0.0f);
  EXPECT_EQ(Dense(buffer, extractor, kLexNegative), 0.0f);
  EXPECT_EQ(Dense(buffer, extractor, kCueWords), 0.0f);

  extractor.Extract("WORST SERVICE EVER, still waiting for my refund!!", &buffer);
  EXPECT_EQ(Dense(buffer, extractor, kHasQuestion), 0.0f);
  EXPECT_GT(Dense(buffer, extractor, kExclamations), 0.0f);
  EXPECT_GT(Dense(buffer, extractor, kCapsWords), 0.0f);
  EXPECT_GT(Dense(buffer, extractor, kLexNegative), 0.0f);
  EXPECT_EQ(Dense(buffer, extractor, kLexHasNegative), 1.0f);
  EXPECT_LT(Dense(buffer, extractor, kLexMostNegative), 0.0f);
  EXPECT_GT(Dense(buffer, extractor, kCueWords), 0.0f);

  // Negation flips valence: "not good" counts as negative, "good" as positive.
  extractor.Extract("good", &buffer);
  EXPECT_GT(Dense(buffer, extractor, kLexPositive), 0.0f);
  EXPECT_EQ(Dense(buffer, extractor, kLexNegative), 0.0f);
  extractor.Extract("not good", &buffer);
  EXPECT_GT(Dense(buffer, extractor, kLexNegative), 0.0f);

  extractor.Extract("@someone https://t.co/x", &buffer);
  EXPECT_EQ(Dense(buffer, extractor, kMentionOnly), 1.0f);
  EXPECT_EQ(Dense(buffer, extractor, kHasUrl), 1.0f);
}

TEST(FeaturesTest, EmptyTextHasNoFeatures) {
  const FeatureExtractor extractor(FeatureOptions{});
  FeatureBuffer buffer;
  extractor.Extract("", &buffer);
  EXPECT_TRUE(buffer.features.empty());
  extractor.Extract(" ,.;: ", &buffer);
  EXPECT_TRUE(buffer.features.empty());
}

// Dot must give the dot product over Extract's output (up to double rounding), for odd and even
// feature counts, several option sets and weights of both signs.
TEST(FeaturesTest, DotEqualsTheDotProductOverExtract) {
  std::vector<FeatureOptions> option_sets(6);
  option_sets[4].char_ngram_min = 1;
  option_sets[4].char_ngram_max = 1;
  option_sets[5].char_ngram_min = 1;
  option_sets[5].char_ngram_max = 7;
  option_sets[1].char_ngram_max = 0;
  option_sets[2].char_ngram_min = 3;
  option_sets[2].word_ngram_max = 3;
  option_sets[3].dense_features = false;
  option_sets[3].hash_bits = 12;
  const std::vector<std::string> texts = {
      "",
      "a",
      "ok",
      "Why?",
      "@airline my flight was DELAYED 5 hours and nobody told us anything, worst service!!",
      "what time do you open on Sunday? I don't know https://t.co/x 🙂 thanks",
      "still no refund. not good, never again: terrible #fail",
  };
  int remainders[2] = {0, 0};
  for (const FeatureOptions& options : option_sets) {
    const FeatureExtractor extractor(options);
    std::vector<int16_t> weights(extractor.dimension());
    for (size_t i = 0; i < weights.size(); ++i) {
      weights[i] = static_cast<int16_t>(static_cast<int>((i * 2654435761u) % 20011) - 10005);
    }
    for (const std::string& text : texts) {
      for (size_t cut = 0; cut <= text.size(); cut += std::max<size_t>(1, text.size() / 7)) {
        const std::string_view part = std::string_view(text).substr(0, cut);
        FeatureBuffer buffer;
        extractor.Extract(part, &buffer);
        const FeatureVector& f = buffer.features;
        double expected = 0;
        double magnitude = 0;
        for (const Feature& feature : f) {
          const double term = static_cast<double>(weights[feature.index]) * feature.value;
          expected += term;
          magnitude += std::fabs(term);
        }
        ++remainders[f.size() % 2];
        const double tolerance = 1e-12 * (1 + magnitude);
        FeatureBuffer other;
        EXPECT_NEAR(extractor.Dot(part, weights.data(), &other), expected, tolerance)
            << "\"" << part << "\"";
        EXPECT_NEAR(extractor.Dot(part, weights.data(), &buffer), expected, tolerance)
            << "\"" << part << "\"";
      }
    }
  }
  for (int r : remainders) EXPECT_GT(r, 0);
}

TEST(FeaturesTest, ValidatesOptions) {
  EXPECT_TRUE(ValidFeatureOptions(FeatureOptions{}));
  FeatureOptions bad;
  bad.hash_bits = 30;
  EXPECT_FALSE(ValidFeatureOptions(bad));
  bad = FeatureOptions{};
  bad.char_ngram_min = 6;
  bad.char_ngram_max = 5;
  EXPECT_FALSE(ValidFeatureOptions(bad));
  bad = FeatureOptions{};
  bad.word_ngram_max = 0;
  EXPECT_FALSE(ValidFeatureOptions(bad));
}

}  // namespace
}  // namespace ccstream::domain::complaint
