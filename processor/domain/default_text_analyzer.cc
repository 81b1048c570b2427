#include <memory>
#include <string_view>
#include <utility>

#include "processor/domain/complaint/classifier.h"
#include "processor/domain/engine.h"
#include "processor/domain/text/phrases.h"
#include "processor/domain/text/sentiment.h"
#include "processor/domain/text_analyzer.h"

namespace ccstream::domain {
namespace {

// TextAnalyzer over the VADER sentiment analyzer, the complaint classifier and a phrase matcher
// built from configuration. Immutable; thread-safe.
class DefaultTextAnalyzer final : public TextAnalyzer {
 public:
  explicit DefaultTextAnalyzer(text::EscalationPhraseMatcher matcher)
      : matcher_(std::move(matcher)) {}

  TextSignals Analyze(std::string_view text) const override {
    TextSignals signals;
    signals.sentiment = text::SentimentAnalyzer::Default().Score(text);
    signals.complaint_probability = complaint::ComplaintClassifier::Default().Probability(text);
    const text::PhraseMatches matches = matcher_.Match(text);
    signals.manager_request = matches.Has(text::PhraseClass::kManagerRequest);
    signals.churn_threat = matches.Has(text::PhraseClass::kChurnThreat);
    signals.regulator_or_legal = matches.Has(text::PhraseClass::kRegulatorOrLegal);
    signals.repeat_contact = matches.Has(text::PhraseClass::kRepeatContact);
    return signals;
  }

 private:
  text::EscalationPhraseMatcher matcher_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const TextAnalyzer>> MakeDefaultTextAnalyzer(
    const v1::DomainConfig& config) {
  absl::StatusOr<text::EscalationPhraseMatcher> matcher =
      text::EscalationPhraseMatcher::Create(config.text());
  if (!matcher.ok()) return matcher.status();
  return std::shared_ptr<const TextAnalyzer>(
      std::make_shared<DefaultTextAnalyzer>(std::move(*matcher)));
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const v1::DomainConfig& config) {
  absl::StatusOr<std::shared_ptr<const TextAnalyzer>> analyzer = MakeDefaultTextAnalyzer(config);
  if (!analyzer.ok()) return analyzer.status();
  return Create(config, std::move(*analyzer));
}

}  // namespace ccstream::domain
