// Complaint-vs-inquiry classifier for short customer texts (tweets, chat lines, call-transcript
// turns). A complaint is a text in which the customer says their expectations were breached; a
// question or a neutral remark is not.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"

namespace ccstream::domain::complaint {

struct Model;

// A trained linear model over hashed text features (see features.h) with its decision threshold.
//
// Default() returns the model compiled into the binary (trained by train.sh on the complaint
// corpus of Preotiuc-Pietro et al., ACL 2019); FromWeights() parses any weights blob in the same
// format, refusing a malformed one with a clear error.
//
// Ownership: the classifier owns its weights; copies share them (immutable, reference counted).
// Thread safety: all const methods are safe to call concurrently from any number of threads;
// Default() is initialised once, on first use, in a thread-safe way.
class ComplaintClassifier {
 public:
  // The embedded model, parsed once. Aborts the process with a message if the embedded blob is
  // corrupt (a build defect that the unit tests catch).
  static const ComplaintClassifier& Default();

  // Parses a weights blob as written by the trainer (ccstream_train_complaint).
  static absl::StatusOr<ComplaintClassifier> FromWeights(std::string_view blob);

  // Probability in [0, 1] that `text` is a complaint. Empty text is allowed.
  double Probability(std::string_view text) const;

  // True when Probability(text) >= threshold().
  bool IsComplaint(std::string_view text) const;

  // The decision threshold tuned by the trainer and stored with the weights.
  double threshold() const;

  // The raw linear score (log-odds) behind Probability(); exposed for the trainer and tests.
  double Score(std::string_view text) const;

 private:
  explicit ComplaintClassifier(std::shared_ptr<const Model> model);

  std::shared_ptr<const Model> model_;
};

}  // namespace ccstream::domain::complaint
