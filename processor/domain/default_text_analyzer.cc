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
  // Builds the process-wide sentiment analyzer and classifier here (once per process), so that
  // the first turn an engine sees does not pay for loading their lexicon and model.
  explicit DefaultTextAnalyzer(text::EscalationPhraseMatcher matcher)
      : matcher_(std::move(matcher)),
        sentiment_(text::SentimentAnalyzer::Default()),
        classifier_(complaint::ComplaintClassifier::Default()) {}

  TextSignals Analyze(std::string_view text) const override {
    TextSignals signals;
    signals.sentiment = sentiment_.Score(text);
    signals.complaint_probability = classifier_.Probability(text);
    const text::PhraseMatches matches = matcher_.Match(text);
    signals.manager_request = matches.Has(text::PhraseClass::kManagerRequest);
    signals.churn_threat = matches.Has(text::PhraseClass::kChurnThreat);
    signals.regulator_or_legal = matches.Has(text::PhraseClass::kRegulatorOrLegal);
    signals.repeat_contact = matches.Has(text::PhraseClass::kRepeatContact);
    return signals;
  }

 private:
  text::EscalationPhraseMatcher matcher_;
  const text::SentimentAnalyzer& sentiment_;
  const complaint::ComplaintClassifier& classifier_;
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
