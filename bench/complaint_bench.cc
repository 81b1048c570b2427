// Speed of the complaint classifier (embedded model) on customer texts of about 100 and 400
// characters: the engine's budget is about 1 us per 100 characters. Figures and history:
// docs/complaint-classifier.md, "Complaint classifier speed".
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "processor/domain/complaint/classifier.h"
#include "processor/domain/complaint/features.h"

namespace {

using ccstream::domain::complaint::ComplaintClassifier;
using ccstream::domain::complaint::FeatureBuffer;
using ccstream::domain::complaint::FeatureExtractor;
using ccstream::domain::complaint::FeatureOptions;

// Texts of our own in the style of the corpus, cut or repeated to `length` characters.
std::vector<std::string> Texts(size_t length) {
  const std::vector<std::string> seeds = {
      "@airline my flight was delayed 5 hours and nobody told us anything, worst service ever! ",
      "@store what time do you open on Sunday? I need to pick up an order before noon please. ",
      "Been on hold for 2 hours and the app keeps crashing. Ridiculous. https://t.co/abc123 ",
      "Thanks @support, the new router fixed it and the speed is great now. Have a nice day :) ",
  };
  std::vector<std::string> out;
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::string text;
    for (size_t k = 0; text.size() < length; ++k) text += seeds[(i + k) % seeds.size()];
    text.resize(length);
    out.push_back(text);
  }
  return out;
}

void BM_Probability(benchmark::State& state) {
  const ComplaintClassifier& model = ComplaintClassifier::Default();
  const std::vector<std::string> texts = Texts(static_cast<size_t>(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(model.Probability(texts[i]));
    i = (i + 1) % texts.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Probability)->Arg(100)->Arg(400);

// Feature extraction alone (the part of Probability before the weight lookups).
void BM_ExtractFeatures(benchmark::State& state) {
  const FeatureExtractor extractor{FeatureOptions{}};
  const std::vector<std::string> texts = Texts(static_cast<size_t>(state.range(0)));
  FeatureBuffer buffer;
  size_t i = 0;
  for (auto _ : state) {
    extractor.Extract(texts[i], &buffer);
    benchmark::DoNotOptimize(buffer.features.data());
    i = (i + 1) % texts.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ExtractFeatures)->Arg(100)->Arg(400);

}  // namespace
