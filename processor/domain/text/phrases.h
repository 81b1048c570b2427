#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "processor/domain/config_problem.h"
#include "re2/set.h"
#include "text_config.pb.h"

namespace ccstream::domain::text {

// The classes of escalation phrase the matcher recognises. Values are bit positions in
// PhraseMatches::mask; new classes are only ever appended.
enum class PhraseClass : uint8_t {
  kManagerRequest = 0,    // "manager_request": asks for a manager, supervisor, escalation.
  kChurnThreat = 1,       // "churn_threat": threatens to cancel, close, switch or leave.
  kRegulatorOrLegal = 2,  // "regulator_or_legal": ombudsman, regulator, lawyer, court.
  kRepeatContact = 3,     // "repeat_contact": "third time I've called", "still not fixed".
};

// Number of PhraseClass values.
inline constexpr int kPhraseClassCount = 4;

// All phrase classes in enum order.
inline constexpr PhraseClass kAllPhraseClasses[kPhraseClassCount] = {
    PhraseClass::kManagerRequest, PhraseClass::kChurnThreat, PhraseClass::kRegulatorOrLegal,
    PhraseClass::kRepeatContact};

// Stable configuration / metric-label name of a class, e.g. "manager_request".
std::string_view PhraseClassName(PhraseClass phrase_class);

// Parses a class name as written by PhraseClassName(); false if unknown.
bool ParsePhraseClass(std::string_view name, PhraseClass* phrase_class);

// Which phrase classes matched a text. Plain value type.
struct PhraseMatches {
  // Bit (1 << PhraseClass) set for each class that matched. Default: 0 (none).
  uint32_t mask = 0;

  bool Has(PhraseClass phrase_class) const {
    return (mask >> static_cast<uint32_t>(phrase_class)) & 1u;
  }
  bool Any() const { return mask != 0; }
  void Add(PhraseClass phrase_class) { mask |= 1u << static_cast<uint32_t>(phrase_class); }
  // The matched classes in enum order.
  std::vector<PhraseClass> Classes() const;

  friend bool operator==(const PhraseMatches&, const PhraseMatches&) = default;
};

// Finds escalation phrases (manager request, churn threat, regulator or legal threat, repeat
// contact) in a customer's text in one pass with an RE2::Set: every pattern is matched
// case-insensitively, unanchored, between word boundaries.
//
// Immutable after Create(); Match() is const and safe to call from any number of threads.
// Movable (a moved-from matcher must not be used), not copyable. Default() is a process-wide
// instance owned by the library; others are owned by their creator.
class EscalationPhraseMatcher {
 public:
  // Builds a matcher from `config`: for each class, the configured patterns if any, else the
  // built-in ones. Returns InvalidArgument naming the class and pattern if a class name is
  // unknown or a pattern does not compile.
  static absl::StatusOr<EscalationPhraseMatcher> Create(const v1::TextConfig& config);

  // The process-wide matcher with the built-in patterns only. Thread-safe.
  static const EscalationPhraseMatcher& Default();

  // The built-in patterns of a class (RE2 syntax, before case folding and word boundaries).
  static const std::vector<std::string_view>& DefaultPatterns(PhraseClass phrase_class);

  EscalationPhraseMatcher(EscalationPhraseMatcher&&) noexcept;
  EscalationPhraseMatcher& operator=(EscalationPhraseMatcher&&) noexcept;
  ~EscalationPhraseMatcher();

  // Which classes have a phrase somewhere in `text` (UTF-8), in one pass of the pattern set.
  PhraseMatches Match(std::string_view text) const;

 private:
  EscalationPhraseMatcher();

  std::unique_ptr<re2::RE2::Set> set_;
  // Class of each pattern, indexed by the pattern's index in `set_`.
  std::vector<PhraseClass> pattern_class_;
};

// Checks `config` without building a matcher: unknown or empty class names and patterns that
// do not compile. Paths are relative to TextConfig, e.g. "phrase_patterns[1].patterns[0]".
// Empty when the configuration is valid.
std::vector<ccstream::domain::ConfigProblem> ValidateTextConfig(const v1::TextConfig& config);

}  // namespace ccstream::domain::text
