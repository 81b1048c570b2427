#pragma once

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "domain_config.pb.h"

namespace ccstream::domain {

// The text signals of one customer turn. Plain value type.
struct TextSignals {
  double sentiment = 0;              // -1 (most negative) .. 1 (most positive)
  double complaint_probability = 0;  // 0 .. 1
  bool manager_request = false;      // asks for a manager or supervisor
  bool churn_threat = false;         // threatens to leave or cancel
  bool regulator_or_legal = false;   // mentions a regulator, ombudsman or legal action
  bool repeat_contact = false;       // says they have contacted before ("third time I call")

  bool AnyPhrase() const {
    return manager_request || churn_threat || regulator_or_legal || repeat_contact;
  }
};

// Turns the text of a customer turn into signals. The engine owns one through a shared_ptr;
// implementations must be immutable after construction and thread-safe for concurrent Analyze
// calls. Tests substitute a fake with chosen values.
class TextAnalyzer {
 public:
  virtual ~TextAnalyzer() = default;
  virtual TextSignals Analyze(std::string_view text) const = 0;
};

// The production analyzer: VADER sentiment, the complaint classifier and the escalation-phrase
// matcher of text/ and complaint/, built from the domain configuration.
absl::StatusOr<std::shared_ptr<const TextAnalyzer>> MakeDefaultTextAnalyzer(
    const v1::DomainConfig& config);

}  // namespace ccstream::domain
