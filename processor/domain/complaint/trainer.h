// Training and cross-validation of the complaint classifier. Used by the trainer program
// (train_main.cc) and by its unit test; not linked into the service.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "processor/domain/complaint/features.h"
#include "processor/domain/complaint/model_format.h"

namespace ccstream::domain::complaint {

// One labelled text.
struct Example {
  std::string id;    // tweet id (or any key)
  std::string text;  // the customer's text
  bool is_complaint = false;
  std::string domain;  // the source's domain column (kept for reports)
};

// Parses the labelled corpus: RFC 4180 CSV without header, `id,text,is_complaint(0/1),domain`
// (quoted fields, doubled quotes, line breaks inside quotes, LF or CRLF records).
absl::StatusOr<std::vector<Example>> ParseLabelledCsv(std::string_view csv);

// How a model is fitted. Hyper-parameters with more than one candidate are chosen by an inner
// cross-validation on the training rows only.
struct TrainOptions {
  // Feature extraction (stored with the model). Default: FeatureOptions{}.
  FeatureOptions features;
  // Candidate inverse L2 strengths C (loss is C * sum of log-losses + |w|^2 / 2); the one with
  // the lowest inner-CV log-loss wins. Default: {3, 10, 30}.
  std::vector<double> c_grid = {3, 10, 30};
  // Folds of the inner cross-validation that picks C and the threshold. Default: 5.
  int inner_folds = 5;
  // Scale hashed features by their naive-Bayes log-count ratio (NB-LR). Default: true.
  bool nb_weighting = true;
  // Scale of the word features before the regularised fit (in effect a per-group
  // regularisation strength; folded into the stored weights). Default: 1.
  double word_scale = 1.0;
  // Scale of the character n-gram features, likewise. Default: 1.
  double char_scale = 1.0;
  // Scale of the dense features, likewise. Default: 1.
  double dense_scale = 1.0;
  // Candidate character-group scales chosen by inner CV together with C; empty means
  // char_scale alone. Default: {}.
  std::vector<double> char_scale_grid;
  // Laplace smoothing of the log-count ratios. Default: 1.0.
  double nb_alpha = 1.0;
  // Hashed features present in fewer training texts are dropped. Default: 2.
  int min_df = 2;
  // Choose C by inner-CV macro-F1 at the tuned threshold instead of inner-CV log-loss.
  // Default: false.
  bool select_c_by_f1 = false;
  // Weigh the classes inversely to their frequency in the loss. Default: false.
  bool balanced_classes = false;
  // L-BFGS iteration cap. Default: 400.
  int max_iterations = 400;
  // Seed of the stratified fold assignment (inner folds derive from it). Default: 20190728.
  uint64_t seed = 20190728;
};

// Binary classification figures, the complaint class being positive.
struct Metrics {
  int true_positive = 0;
  int false_positive = 0;
  int true_negative = 0;
  int false_negative = 0;
  double Precision() const;
  double Recall() const;
  double F1() const;          // complaint-class F1
  double NegativeF1() const;  // non-complaint-class F1
  double MacroF1() const;     // mean of the two class F1s
  double Accuracy() const;
};

// Metrics of probabilities thresholded at `threshold`.
Metrics Evaluate(const std::vector<double>& probabilities, const std::vector<bool>& labels,
                 double threshold);

// A fitted model with how its hyper-parameters were chosen.
struct FitResult {
  ModelData model;            // weights over the full feature space
  double c = 0;               // chosen C
  double char_scale = 1;      // chosen character-group scale
  double inner_macro_f1 = 0;  // inner-CV macro-F1 of the chosen C at the chosen threshold
  int used_features = 0;      // hashed features kept after min_df
};

// The features of every example, extracted once and reused by Fit and CrossValidate (feature
// extraction does not depend on the training rows; NB ratios and min_df do, and are computed
// per fit). Owns its rows; immutable after construction, so concurrent reads are safe.
class FeatureMatrix {
 public:
  FeatureMatrix(const std::vector<Example>& examples, const FeatureOptions& options);

  size_t rows() const { return row_start_.size() - 1; }
  uint32_t dimension() const { return dimension_; }
  uint32_t hashed_size() const { return hashed_size_; }
  // Feature indices and values of `row`, sorted by index, duplicates summed.
  const uint32_t* indices(size_t row) const { return indices_.data() + row_start_[row]; }
  const float* values(size_t row) const { return values_.data() + row_start_[row]; }
  size_t size(size_t row) const { return row_start_[row + 1] - row_start_[row]; }
  bool label(size_t row) const { return labels_[row]; }

 private:
  std::vector<uint32_t> indices_;
  std::vector<float> values_;
  std::vector<size_t> row_start_;
  std::vector<bool> labels_;
  uint32_t dimension_;
  uint32_t hashed_size_;
};

// Fits a model on `rows` of `matrix`: picks C (and the character scale, given a grid) by inner-CV
// log-loss and the decision threshold by inner-CV macro-F1 on those rows, then trains on all of
// them.
FitResult Fit(const FeatureMatrix& matrix, const std::vector<size_t>& rows,
              const TrainOptions& options);

// One outer fold of a cross-validation.
struct FoldReport {
  int fold = 0;
  int test_rows = 0;
  double c = 0;           // C chosen inside the fold
  double char_scale = 1;  // character-group scale chosen inside the fold
  double threshold = 0;   // threshold chosen inside the fold
  Metrics metrics;        // on the held-out rows
};

// Per-fold results and their means.
struct CrossValidationReport {
  std::vector<FoldReport> folds;
  std::vector<double> out_of_fold;  // held-out probability of every example
  double MeanMacroF1() const;
  double MeanF1() const;
  double MeanPrecision() const;
  double MeanRecall() const;
};

// Stratified fold of each row (0..folds-1): each class is shuffled with `seed` and dealt round
// robin, so the assignment depends only on the labels, `folds` and `seed`.
std::vector<int> AssignFolds(const std::vector<bool>& labels, int folds, uint64_t seed);

// Nested k-fold cross-validation: for each outer fold, Fit on the others (hyper-parameters
// chosen inside), evaluate on it.
CrossValidationReport CrossValidate(const std::vector<Example>& examples,
                                    const TrainOptions& options, int folds);

}  // namespace ccstream::domain::complaint
