#include "processor/domain/complaint/trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ccstream::domain::complaint {
namespace {

constexpr uint32_t kDropped = std::numeric_limits<uint32_t>::max();

// splitmix64: a portable, fully specified generator for the fold shuffle.
uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double Sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

// log(1 + exp(-m)) without overflow.
double LogLoss(double margin) {
  return margin > 0 ? std::log1p(std::exp(-margin)) : -margin + std::log1p(std::exp(margin));
}

double SafeDiv(double a, double b) { return b > 0 ? a / b : 0.0; }

// Training rows re-indexed onto the columns that survive min_df, values already scaled by the
// naive-Bayes ratios. Column `columns.size()` is the intercept.
struct Problem {
  std::vector<uint32_t> columns;  // compact column → feature index
  std::vector<double> scale;      // compact column → value scale (NB ratio or 1)
  std::vector<uint32_t> compact;  // feature index → compact column or kDropped
  std::vector<size_t> start;
  std::vector<uint32_t> index;
  std::vector<double> value;
  std::vector<double> target;         // 0 or 1
  std::vector<double> sample_weight;  // class weight of the row
  int hashed_columns = 0;
};

Problem BuildProblem(const FeatureMatrix& matrix, const std::vector<size_t>& rows,
                     const TrainOptions& options) {
  const uint32_t dimension = matrix.dimension();
  const uint32_t hashed = matrix.hashed_size();
  std::vector<int> df(dimension, 0);
  std::vector<double> positive(dimension, 0.0);
  std::vector<double> negative(dimension, 0.0);
  int positives = 0;
  for (size_t row : rows) {
    const bool label = matrix.label(row);
    positives += label ? 1 : 0;
    const uint32_t* idx = matrix.indices(row);
    for (size_t k = 0; k < matrix.size(row); ++k) {
      ++df[idx[k]];
      (label ? positive : negative)[idx[k]] += 1.0;
    }
  }
  Problem problem;
  problem.compact.assign(dimension, kDropped);
  for (uint32_t f = 0; f < dimension; ++f) {
    if (df[f] == 0) continue;
    if (f < hashed && df[f] < options.min_df) continue;
    problem.compact[f] = static_cast<uint32_t>(problem.columns.size());
    problem.columns.push_back(f);
    if (f < hashed) ++problem.hashed_columns;
  }
  // Log-count ratios over the kept hashed columns (binarised counts, Laplace smoothing).
  double positive_total = 0;
  double negative_total = 0;
  for (uint32_t f : problem.columns) {
    if (f >= hashed) continue;
    positive_total += positive[f] + options.nb_alpha;
    negative_total += negative[f] + options.nb_alpha;
  }
  problem.scale.assign(problem.columns.size(), 1.0);
  for (size_t c = 0; c < problem.columns.size(); ++c) {
    const uint32_t f = problem.columns[c];
    if (f >= hashed) {
      problem.scale[c] = options.dense_scale;
      continue;
    }
    const double group = f >= hashed / 2 ? options.char_scale : options.word_scale;
    const double ratio = options.nb_weighting
                             ? std::log(((positive[f] + options.nb_alpha) / positive_total) /
                                        ((negative[f] + options.nb_alpha) / negative_total))
                             : 1.0;
    problem.scale[c] = group * ratio;
  }
  const int n = static_cast<int>(rows.size());
  const int negatives = n - positives;
  const double positive_weight =
      options.balanced_classes && positives > 0 ? n / (2.0 * positives) : 1.0;
  const double negative_weight =
      options.balanced_classes && negatives > 0 ? n / (2.0 * negatives) : 1.0;
  problem.start.push_back(0);
  for (size_t row : rows) {
    const uint32_t* idx = matrix.indices(row);
    const float* val = matrix.values(row);
    for (size_t k = 0; k < matrix.size(row); ++k) {
      const uint32_t c = problem.compact[idx[k]];
      if (c == kDropped) continue;
      problem.index.push_back(c);
      problem.value.push_back(val[k] * problem.scale[c]);
    }
    problem.start.push_back(problem.index.size());
    problem.target.push_back(matrix.label(row) ? 1.0 : 0.0);
    problem.sample_weight.push_back(matrix.label(row) ? positive_weight : negative_weight);
  }
  return problem;
}

// C * sum_i w_i logloss_i + |w|^2 / 2 (intercept not penalised) and its gradient.
double Objective(const Problem& problem, double c, const std::vector<double>& w,
                 std::vector<double>* gradient) {
  const size_t bias = problem.columns.size();
  double regulariser = 0;
  for (size_t j = 0; j < bias; ++j) {
    regulariser += w[j] * w[j];
    (*gradient)[j] = w[j];
  }
  (*gradient)[bias] = 0;
  double loss = 0;
  for (size_t r = 0; r + 1 < problem.start.size(); ++r) {
    double z = w[bias];
    for (size_t k = problem.start[r]; k < problem.start[r + 1]; ++k) {
      z += w[problem.index[k]] * problem.value[k];
    }
    const double y = problem.target[r];
    const double sw = problem.sample_weight[r];
    loss += sw * LogLoss(y > 0.5 ? z : -z);
    const double g = c * sw * (Sigmoid(z) - y);
    for (size_t k = problem.start[r]; k < problem.start[r + 1]; ++k) {
      (*gradient)[problem.index[k]] += g * problem.value[k];
    }
    (*gradient)[bias] += g;
  }
  return c * loss + 0.5 * regulariser;
}

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Minimises Objective by L-BFGS (memory 10) with a backtracking Armijo line search, starting
// from *w. Deterministic: a fixed sequence of floating-point operations.
void Minimise(const Problem& problem, double c, int max_iterations, std::vector<double>* w) {
  constexpr int kMemory = 10;
  const size_t n = w->size();
  std::vector<double> gradient(n), next_gradient(n), direction(n), next(n);
  std::vector<std::vector<double>> s_list, y_list;
  std::vector<double> rho_list;
  double f = Objective(problem, c, *w, &gradient);
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    const double gradient_norm = std::sqrt(Dot(gradient, gradient));
    if (gradient_norm <= 1e-6 * std::max(1.0, std::sqrt(Dot(*w, *w)))) break;
    // Two-loop recursion.
    direction = gradient;
    std::vector<double> alpha(s_list.size());
    for (int k = static_cast<int>(s_list.size()) - 1; k >= 0; --k) {
      alpha[k] = rho_list[k] * Dot(s_list[k], direction);
      for (size_t i = 0; i < n; ++i) direction[i] -= alpha[k] * y_list[k][i];
    }
    double gamma = 1.0;
    if (!s_list.empty()) {
      gamma = Dot(s_list.back(), y_list.back()) / Dot(y_list.back(), y_list.back());
    } else {
      gamma = 1.0 / gradient_norm;
    }
    for (size_t i = 0; i < n; ++i) direction[i] *= gamma;
    for (size_t k = 0; k < s_list.size(); ++k) {
      const double beta = rho_list[k] * Dot(y_list[k], direction);
      for (size_t i = 0; i < n; ++i) direction[i] += s_list[k][i] * (alpha[k] - beta);
    }
    for (size_t i = 0; i < n; ++i) direction[i] = -direction[i];
    double slope = Dot(gradient, direction);
    if (slope >= 0) {
      // Not a descent direction: restart from steepest descent.
      s_list.clear();
      y_list.clear();
      rho_list.clear();
      for (size_t i = 0; i < n; ++i) direction[i] = -gradient[i] / gradient_norm;
      slope = Dot(gradient, direction);
    }
    double step = 1.0;
    double next_f = 0;
    bool accepted = false;
    for (int tries = 0; tries < 40; ++tries) {
      for (size_t i = 0; i < n; ++i) next[i] = (*w)[i] + step * direction[i];
      next_f = Objective(problem, c, next, &next_gradient);
      if (next_f <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    std::vector<double> s(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      s[i] = next[i] - (*w)[i];
      y[i] = next_gradient[i] - gradient[i];
    }
    const double sy = Dot(s, y);
    const double relative_decrease = (f - next_f) / std::max(1.0, std::fabs(f));
    w->swap(next);
    gradient.swap(next_gradient);
    f = next_f;
    if (sy > 1e-12) {
      if (static_cast<int>(s_list.size()) == kMemory) {
        s_list.erase(s_list.begin());
        y_list.erase(y_list.begin());
        rho_list.erase(rho_list.begin());
      }
      s_list.push_back(std::move(s));
      y_list.push_back(std::move(y));
      rho_list.push_back(1.0 / sy);
    }
    if (relative_decrease < 1e-10) break;
  }
}

// Weights over the full feature space (NB scale folded in) and the intercept.
void ExpandWeights(const Problem& problem, const std::vector<double>& w, uint32_t dimension,
                   std::vector<float>* weights, double* bias) {
  weights->assign(dimension, 0.0f);
  for (size_t c = 0; c < problem.columns.size(); ++c) {
    (*weights)[problem.columns[c]] = static_cast<float>(w[c] * problem.scale[c]);
  }
  *bias = w[problem.columns.size()];
}

double PredictRow(const FeatureMatrix& matrix, size_t row, const std::vector<float>& weights,
                  double bias) {
  double z = bias;
  const uint32_t* idx = matrix.indices(row);
  const float* val = matrix.values(row);
  for (size_t k = 0; k < matrix.size(row); ++k) {
    z += static_cast<double>(weights[idx[k]]) * val[k];
  }
  return Sigmoid(z);
}

// The threshold in [0.10, 0.90] (step 0.01) with the best macro-F1 averaged over its ±0.02
// neighbourhood, which keeps the choice off isolated spikes; returns {threshold, macro-F1 at it}.
std::pair<double, double> TuneThreshold(const std::vector<double>& probabilities,
                                        const std::vector<bool>& labels) {
  constexpr int kLow = 10;
  constexpr int kHigh = 90;
  std::vector<double> macro(kHigh + 1, 0.0);
  for (int t = kLow - 2; t <= kHigh + 2 && t <= kHigh; ++t) {
    macro[t] = Evaluate(probabilities, labels, t / 100.0).MacroF1();
  }
  int best = 50;
  double best_smoothed = -1;
  for (int t = kLow; t <= kHigh; ++t) {
    double sum = 0;
    int count = 0;
    for (int d = -2; d <= 2; ++d) {
      if (t + d < kLow || t + d > kHigh) continue;
      sum += macro[t + d];
      ++count;
    }
    const double smoothed = sum / count;
    if (smoothed > best_smoothed + 1e-12) {
      best_smoothed = smoothed;
      best = t;
    }
  }
  return {best / 100.0, macro[best]};
}

}  // namespace

absl::StatusOr<std::vector<Example>> ParseLabelledCsv(std::string_view csv) {
  std::vector<Example> examples;
  std::vector<std::string> fields;
  std::string field;
  bool in_quotes = false;
  bool field_was_quoted = false;
  int line = 1;
  int record_line = 1;
  auto finish_record = [&]() -> absl::Status {
    fields.push_back(std::move(field));
    field.clear();
    field_was_quoted = false;
    if (fields.size() == 1 && fields[0].empty()) {
      fields.clear();
      return absl::OkStatus();
    }
    if (fields.size() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", record_line, ": ", fields.size(), " fields, expected 4"));
    }
    if (fields[2] != "0" && fields[2] != "1") {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", record_line, ": label \"", fields[2], "\" is not 0 or 1"));
    }
    Example example;
    example.id = std::move(fields[0]);
    example.text = std::move(fields[1]);
    example.is_complaint = fields[2] == "1";
    example.domain = std::move(fields[3]);
    examples.push_back(std::move(example));
    fields.clear();
    return absl::OkStatus();
  };
  for (size_t i = 0; i < csv.size(); ++i) {
    const char c = csv[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < csv.size() && csv[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      if (!field.empty() || field_was_quoted) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", line, ": quote inside an unquoted field"));
      }
      in_quotes = true;
      field_was_quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      field_was_quoted = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < csv.size() && csv[i + 1] == '\n') ++i;
      absl::Status status = finish_record();
      if (!status.ok()) return status;
      ++line;
      record_line = line;
    } else {
      field.push_back(c);
    }
  }
  if (in_quotes) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", record_line, ": quoted field not closed at end of input"));
  }
  if (!field.empty() || !fields.empty() || field_was_quoted) {
    absl::Status status = finish_record();
    if (!status.ok()) return status;
  }
  return examples;
}

double Metrics::Precision() const { return SafeDiv(true_positive, true_positive + false_positive); }
double Metrics::Recall() const { return SafeDiv(true_positive, true_positive + false_negative); }
double Metrics::F1() const {
  return SafeDiv(2.0 * true_positive, 2.0 * true_positive + false_positive + false_negative);
}
double Metrics::NegativeF1() const {
  return SafeDiv(2.0 * true_negative, 2.0 * true_negative + false_positive + false_negative);
}
double Metrics::MacroF1() const { return (F1() + NegativeF1()) / 2.0; }
double Metrics::Accuracy() const {
  return SafeDiv(true_positive + true_negative,
                 true_positive + true_negative + false_positive + false_negative);
}

Metrics Evaluate(const std::vector<double>& probabilities, const std::vector<bool>& labels,
                 double threshold) {
  Metrics m;
  for (size_t i = 0; i < probabilities.size(); ++i) {
    const bool predicted = probabilities[i] >= threshold;
    if (predicted && labels[i]) ++m.true_positive;
    if (predicted && !labels[i]) ++m.false_positive;
    if (!predicted && labels[i]) ++m.false_negative;
    if (!predicted && !labels[i]) ++m.true_negative;
  }
  return m;
}

FeatureMatrix::FeatureMatrix(const std::vector<Example>& examples, const FeatureOptions& options) {
  const FeatureExtractor extractor(options);
  dimension_ = extractor.dimension();
  hashed_size_ = uint32_t{1} << options.hash_bits;
  FeatureBuffer buffer;
  row_start_.push_back(0);
  for (const Example& example : examples) {
    extractor.Extract(example.text, &buffer);
    FeatureVector& features = buffer.features;
    std::sort(features.begin(), features.end(),
              [](const Feature& a, const Feature& b) { return a.index < b.index; });
    for (size_t k = 0; k < features.size(); ++k) {
      if (!indices_.empty() && indices_.size() > row_start_.back() &&
          indices_.back() == features[k].index) {
        values_.back() += features[k].value;
      } else {
        indices_.push_back(features[k].index);
        values_.push_back(features[k].value);
      }
    }
    row_start_.push_back(indices_.size());
    labels_.push_back(example.is_complaint);
  }
}

std::vector<int> AssignFolds(const std::vector<bool>& labels, int folds, uint64_t seed) {
  std::vector<int> fold(labels.size(), 0);
  uint64_t state = seed;
  int next_fold = 0;
  for (bool cls : {true, false}) {
    std::vector<size_t> members;
    for (size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] == cls) members.push_back(i);
    }
    for (size_t i = members.size(); i > 1; --i) {
      const size_t j = SplitMix(&state) % i;
      std::swap(members[i - 1], members[j]);
    }
    for (size_t member : members) {
      fold[member] = next_fold;
      next_fold = (next_fold + 1) % folds;
    }
  }
  return fold;
}

FitResult Fit(const FeatureMatrix& matrix, const std::vector<size_t>& rows,
              const TrainOptions& options) {
  std::vector<double> c_grid = options.c_grid;
  std::sort(c_grid.begin(), c_grid.end());
  std::vector<double> scale_grid = options.char_scale_grid;
  if (scale_grid.empty()) scale_grid.push_back(options.char_scale);
  // Candidates in order: for each character scale, every C ascending (warm-started).
  std::vector<std::pair<double, double>> candidates;  // {char scale, C}
  for (double scale : scale_grid) {
    for (double c : c_grid) candidates.emplace_back(scale, c);
  }
  std::vector<bool> labels;
  for (size_t row : rows) labels.push_back(matrix.label(row));

  // Inner cross-validation: out-of-fold probabilities of every candidate.
  std::vector<std::vector<double>> oof(candidates.size(), std::vector<double>(rows.size(), 0.0));
  if (options.inner_folds >= 2) {
    const std::vector<int> inner = AssignFolds(labels, options.inner_folds, options.seed + 1);
    for (int f = 0; f < options.inner_folds; ++f) {
      std::vector<size_t> held;
      std::vector<size_t> train_rows;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (inner[i] == f) {
          held.push_back(i);
        } else {
          train_rows.push_back(rows[i]);
        }
      }
      for (size_t s = 0; s < scale_grid.size(); ++s) {
        TrainOptions scaled = options;
        scaled.char_scale = scale_grid[s];
        const Problem problem = BuildProblem(matrix, train_rows, scaled);
        std::vector<double> w(problem.columns.size() + 1, 0.0);
        std::vector<float> weights;
        double bias = 0;
        for (size_t g = 0; g < c_grid.size(); ++g) {
          const size_t k = s * c_grid.size() + g;
          Minimise(problem, c_grid[g], options.max_iterations, &w);
          ExpandWeights(problem, w, matrix.dimension(), &weights, &bias);
          for (size_t i : held) oof[k][i] = PredictRow(matrix, rows[i], weights, bias);
        }
      }
    }
  }
  FitResult result;
  double threshold = 0.5;
  size_t best = 0;
  result.inner_macro_f1 = -1;
  if (options.inner_folds >= 2) {
    // The candidate by inner log-loss (smoother than F1 at a tuned threshold, so a steadier
    // choice), then the threshold by inner macro-F1 for that candidate.
    double best_loss = std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < candidates.size(); ++k) {
      double loss = 0;
      for (size_t i = 0; i < rows.size(); ++i) {
        const double p = std::clamp(oof[k][i], 1e-12, 1.0 - 1e-12);
        loss -= labels[i] ? std::log(p) : std::log(1.0 - p);
      }
      if (options.select_c_by_f1) loss = -TuneThreshold(oof[k], labels).second;
      if (loss < best_loss - 1e-12) {
        best_loss = loss;
        best = k;
      }
    }
    std::tie(threshold, result.inner_macro_f1) = TuneThreshold(oof[best], labels);
  }
  result.char_scale = candidates[best].first;
  result.c = candidates[best].second;

  TrainOptions chosen = options;
  chosen.char_scale = result.char_scale;
  const Problem problem = BuildProblem(matrix, rows, chosen);
  std::vector<double> w(problem.columns.size() + 1, 0.0);
  Minimise(problem, result.c, options.max_iterations, &w);
  result.model.options = options.features;
  result.model.threshold = threshold;
  ExpandWeights(problem, w, matrix.dimension(), &result.model.weights, &result.model.bias);
  result.used_features = problem.hashed_columns;
  return result;
}

double CrossValidationReport::MeanMacroF1() const {
  double s = 0;
  for (const FoldReport& f : folds) s += f.metrics.MacroF1();
  return folds.empty() ? 0 : s / folds.size();
}
double CrossValidationReport::MeanF1() const {
  double s = 0;
  for (const FoldReport& f : folds) s += f.metrics.F1();
  return folds.empty() ? 0 : s / folds.size();
}
double CrossValidationReport::MeanPrecision() const {
  double s = 0;
  for (const FoldReport& f : folds) s += f.metrics.Precision();
  return folds.empty() ? 0 : s / folds.size();
}
double CrossValidationReport::MeanRecall() const {
  double s = 0;
  for (const FoldReport& f : folds) s += f.metrics.Recall();
  return folds.empty() ? 0 : s / folds.size();
}

CrossValidationReport CrossValidate(const std::vector<Example>& examples,
                                    const TrainOptions& options, int folds) {
  const FeatureMatrix matrix(examples, options.features);
  std::vector<bool> labels;
  for (const Example& e : examples) labels.push_back(e.is_complaint);
  const std::vector<int> fold = AssignFolds(labels, folds, options.seed);
  CrossValidationReport report;
  report.out_of_fold.assign(examples.size(), 0.0);
  for (int f = 0; f < folds; ++f) {
    std::vector<size_t> train;
    std::vector<size_t> test;
    for (size_t i = 0; i < examples.size(); ++i) (fold[i] == f ? test : train).push_back(i);
    const FitResult fit = Fit(matrix, train, options);
    std::vector<double> probabilities;
    std::vector<bool> test_labels;
    for (size_t i : test) {
      const double p = PredictRow(matrix, i, fit.model.weights, fit.model.bias);
      report.out_of_fold[i] = p;
      probabilities.push_back(p);
      test_labels.push_back(labels[i]);
    }
    FoldReport fold_report;
    fold_report.fold = f;
    fold_report.test_rows = static_cast<int>(test.size());
    fold_report.c = fit.c;
    fold_report.char_scale = fit.char_scale;
    fold_report.threshold = fit.model.threshold;
    fold_report.metrics = Evaluate(probabilities, test_labels, fit.model.threshold);
    report.folds.push_back(fold_report);
  }
  return report;
}

}  // namespace ccstream::domain::complaint
