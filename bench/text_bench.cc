// Speed of the text signals on realistic customer turns. Budgets: about 1 us per 100-character
// text for sentiment and under 1 us for phrase matching.
#include <string>
#include <string_view>

#include "benchmark/benchmark.h"
#include "embedded/vader_emoji_lexicon.h"
#include "embedded/vader_lexicon.h"
#include "processor/domain/text/phrases.h"
#include "processor/domain/text/sentiment.h"

namespace {

using ccstream::domain::text::EscalationPhraseMatcher;
using ccstream::domain::text::SentimentAnalyzer;

// Customer turns in the style of the customer-care tweets in the shared datasets.
constexpr std::string_view kTurns100[] = {
    "@AcmeCare third time I've called about my broadband and it's STILL not fixed. Really "
    "annoyed!!",
    "Hi, my parcel was meant to arrive on Monday but tracking hasn't updated since. Can you help?",
    "Thanks so much for sorting the refund so quickly, the agent on chat was lovely and very "
    "helpful :)",
    "Been on hold for 45 minutes. Absolutely ridiculous. I want to speak to a manager right now.",
};
constexpr std::string_view kTurns400[] = {
    "@AcmeCare I have now called you three times this week about the same fault on my line and "
    "every "
    "time I am told an engineer will call me back within 24 hours. Nobody has. The broadband drops "
    "every evening, I work from home and this is costing me money. If this isn't sorted by Friday "
    "I "
    "will cancel my contract and take my business elsewhere, and I'll be going to the ombudsman "
    "too.",
    "Hello, I ordered a sofa on the 3rd of March and was given a delivery date of the 20th. The "
    "day "
    "came and went and nobody turned up, no call, no email. When I phoned I was told it had been "
    "rescheduled but nobody could tell me when. I'm not angry, just disappointed, because your "
    "staff "
    "in store were great. Could someone please look at order 55821 and let me know what's "
    "happening?",
};

template <size_t N>
void RunSentiment(benchmark::State& state, const std::string_view (&turns)[N]) {
  const SentimentAnalyzer& analyzer = SentimentAnalyzer::Default();
  size_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string_view turn = turns[i++ % N];
    benchmark::DoNotOptimize(analyzer.Score(turn));
    bytes += turn.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

template <size_t N>
void RunPhrases(benchmark::State& state, const std::string_view (&turns)[N]) {
  const EscalationPhraseMatcher& matcher = EscalationPhraseMatcher::Default();
  size_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string_view turn = turns[i++ % N];
    benchmark::DoNotOptimize(matcher.Match(turn));
    bytes += turn.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_Sentiment100(benchmark::State& state) { RunSentiment(state, kTurns100); }
void BM_Sentiment400(benchmark::State& state) { RunSentiment(state, kTurns400); }
void BM_Phrases100(benchmark::State& state) { RunPhrases(state, kTurns100); }
void BM_Phrases400(benchmark::State& state) { RunPhrases(state, kTurns400); }

// One-off start-up costs: parsing the embedded lexicons, compiling the built-in patterns.
void BM_SentimentAnalyzerBuild(benchmark::State& state) {
  for (auto _ : state) {
    const SentimentAnalyzer analyzer(ccstream::embedded::vader_lexicon(),
                                     ccstream::embedded::vader_emoji_lexicon());
    benchmark::DoNotOptimize(analyzer.lexicon_size());
  }
}

void BM_PhraseMatcherBuild(benchmark::State& state) {
  for (auto _ : state) {
    auto matcher = EscalationPhraseMatcher::Create(ccstream::v1::TextConfig());
    benchmark::DoNotOptimize(matcher.ok());
  }
}

BENCHMARK(BM_Sentiment100);
BENCHMARK(BM_Sentiment400);
BENCHMARK(BM_Phrases100);
BENCHMARK(BM_Phrases400);
BENCHMARK(BM_SentimentAnalyzerBuild)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PhraseMatcherBuild)->Unit(benchmark::kMillisecond);

}  // namespace
