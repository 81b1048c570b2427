#include <cstdio>
#include <iostream>
#include <string>

#include "processor/cli/commands.h"
#include "processor/domain/complaint/classifier.h"
#include "processor/domain/text/sentiment.h"

namespace ccstream::cli {

int ClassifyCommand(int argc, char** argv) {
  (void)argv;
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: ccstream classify < texts\n"
                 "reads one text per line; prints <is_complaint 0|1>\\t<probability>\\t"
                 "<sentiment>\n");
    return kExitUsage;
  }
  const auto& classifier = domain::complaint::ComplaintClassifier::Default();
  const auto& sentiment = domain::text::SentimentAnalyzer::Default();
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const double probability = classifier.Probability(line);
    std::printf("%d\t%.4f\t%.4f\n", probability >= classifier.threshold() ? 1 : 0, probability,
                sentiment.Score(line));
  }
  return kExitOk;
}

}  // namespace ccstream::cli
