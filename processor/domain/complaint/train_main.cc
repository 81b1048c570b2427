// ccstream_train_complaint: cross-validates and trains the complaint classifier.
//
//   ccstream_train_complaint --csv=complaints_train.csv [--out_dir=processor/domain/complaint/data]
//       [--folds=10] [--cv=1] [--hash_bits=18] [--char_min=2] [--char_max=5] [--word_max=2]
//       [--negation=1] [--dense=1] [--nb=1] [--nb_alpha=1] [--min_df=2] [--balanced=0]
//       [--word_scale=1] [--char_scale=1] [--char_scale_grid=] [--dense_scale=1]
//       [--select_c_by_f1=0]
//       [--c_grid=3,10,30] [--inner_folds=5] [--seed=20190728]
//
// Prints per-fold and mean nested cross-validation figures, then fits the final model on every
// row and, with --out_dir, writes complaint_model.bin and reference_probabilities.tsv there.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "processor/domain/complaint/classifier.h"
#include "processor/domain/complaint/model_format.h"
#include "processor/domain/complaint/trainer.h"

namespace {

using ccstream::domain::complaint::ComplaintClassifier;
using ccstream::domain::complaint::CrossValidate;
using ccstream::domain::complaint::CrossValidationReport;
using ccstream::domain::complaint::Example;
using ccstream::domain::complaint::FeatureMatrix;
using ccstream::domain::complaint::Fit;
using ccstream::domain::complaint::FitResult;
using ccstream::domain::complaint::FoldReport;
using ccstream::domain::complaint::ParseLabelledCsv;
using ccstream::domain::complaint::SerializeModel;
using ccstream::domain::complaint::TrainOptions;

// Texts of our own whose probabilities are recorded beside the weights, so that the unit tests
// notice when inference no longer reproduces what the trainer saw.
constexpr const char* kProbeTexts[] = {
    "@airline my flight was delayed 5 hours and nobody told us anything, worst service ever",
    "My package still hasn't arrived after three weeks. I want a refund!",
    "Been on hold for 2 hours and the app keeps crashing. Ridiculous.",
    "@bank you charged me twice for the same order and won't fix it",
    "@store what time do you open on Sunday?",
    "Does the new phone come in blue? https://example.com/phone",
    "Thanks @support, that fixed it. Have a great day!",
    "",
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "ccstream_train_complaint: %s\n", message.c_str());
  return 2;
}

bool ParseBool(const std::string& v, bool* out) {
  if (v == "1" || v == "true") {
    *out = true;
    return true;
  }
  if (v == "0" || v == "false") {
    *out = false;
    return true;
  }
  return false;
}

std::string FormatNumber(double v) { return absl::StrFormat("%.17g", v); }

}  // namespace

int main(int argc, char** argv) {
  std::string csv_path;
  std::string out_dir;
  int folds = 10;
  bool run_cv = true;
  TrainOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (arg.substr(0, 2) != "--" || eq == std::string::npos) {
      return Fail(absl::StrFormat("argument \"%s\" is not --name=value", arg));
    }
    const std::string name = arg.substr(2, eq - 2);
    const std::string value = arg.substr(eq + 1);
    bool ok = true;
    if (name == "csv") {
      csv_path = value;
    } else if (name == "out_dir") {
      out_dir = value;
    } else if (name == "folds") {
      ok = absl::SimpleAtoi(value, &folds) && folds >= 2;
    } else if (name == "cv") {
      ok = ParseBool(value, &run_cv);
    } else if (name == "hash_bits") {
      ok = absl::SimpleAtoi(value, &options.features.hash_bits);
    } else if (name == "char_min") {
      ok = absl::SimpleAtoi(value, &options.features.char_ngram_min);
    } else if (name == "char_max") {
      ok = absl::SimpleAtoi(value, &options.features.char_ngram_max);
    } else if (name == "word_max") {
      ok = absl::SimpleAtoi(value, &options.features.word_ngram_max);
    } else if (name == "negation") {
      ok = ParseBool(value, &options.features.mark_negation);
    } else if (name == "dense") {
      ok = ParseBool(value, &options.features.dense_features);
    } else if (name == "nb") {
      ok = ParseBool(value, &options.nb_weighting);
    } else if (name == "nb_alpha") {
      ok = absl::SimpleAtod(value, &options.nb_alpha) && options.nb_alpha > 0;
    } else if (name == "word_scale") {
      ok = absl::SimpleAtod(value, &options.word_scale) && options.word_scale > 0;
    } else if (name == "char_scale") {
      ok = absl::SimpleAtod(value, &options.char_scale) && options.char_scale > 0;
    } else if (name == "dense_scale") {
      ok = absl::SimpleAtod(value, &options.dense_scale) && options.dense_scale > 0;
    } else if (name == "min_df") {
      ok = absl::SimpleAtoi(value, &options.min_df);
    } else if (name == "select_c_by_f1") {
      ok = ParseBool(value, &options.select_c_by_f1);
    } else if (name == "balanced") {
      ok = ParseBool(value, &options.balanced_classes);
    } else if (name == "inner_folds") {
      ok = absl::SimpleAtoi(value, &options.inner_folds) && options.inner_folds >= 2;
    } else if (name == "seed") {
      ok = absl::SimpleAtoi(value, &options.seed);
    } else if (name == "char_scale_grid") {
      options.char_scale_grid.clear();
      for (absl::string_view part : absl::StrSplit(value, ',')) {
        double scale = 0;
        ok = ok && absl::SimpleAtod(part, &scale) && scale > 0;
        options.char_scale_grid.push_back(scale);
      }
    } else if (name == "c_grid") {
      options.c_grid.clear();
      for (absl::string_view part : absl::StrSplit(value, ',')) {
        double c = 0;
        ok = ok && absl::SimpleAtod(part, &c) && c > 0;
        options.c_grid.push_back(c);
      }
    } else {
      return Fail(absl::StrFormat("unknown option --%s", name));
    }
    if (!ok) return Fail(absl::StrFormat("bad value for --%s: \"%s\"", name, value));
  }
  if (csv_path.empty()) return Fail("--csv=<labelled csv> is required");
  if (!ccstream::domain::complaint::ValidFeatureOptions(options.features)) {
    return Fail("feature options out of range");
  }

  std::ifstream in(csv_path, std::ios::binary);
  if (!in) return Fail("cannot read " + csv_path);
  std::stringstream contents;
  contents << in.rdbuf();
  absl::StatusOr<std::vector<Example>> examples = ParseLabelledCsv(contents.str());
  if (!examples.ok()) return Fail(csv_path + ": " + examples.status().ToString());
  int complaints = 0;
  for (const Example& e : *examples) complaints += e.is_complaint ? 1 : 0;
  const auto& f = options.features;
  std::printf("data: %zu rows, %d complaints\n", examples->size(), complaints);
  std::printf(
      "features: hash_bits=%d char=%d..%d word_max=%d negation=%d dense=%d | nb=%d alpha=%g "
      "min_df=%d balanced=%d scales(word,char,dense)=%g,%g,%g inner_folds=%d c_grid=%s "
      "seed=%llu\n",
      f.hash_bits, f.char_ngram_min, f.char_ngram_max, f.word_ngram_max, f.mark_negation,
      f.dense_features, options.nb_weighting, options.nb_alpha, options.min_df,
      options.balanced_classes, options.word_scale, options.char_scale, options.dense_scale,
      options.inner_folds, absl::StrJoin(options.c_grid, ",").c_str(),
      static_cast<unsigned long long>(options.seed));

  if (run_cv) {
    const CrossValidationReport report = CrossValidate(*examples, options, folds);
    std::printf(
        "\n| fold | rows | C | char scale | threshold | macro-F1 | complaint F1 | precision | "
        "recall |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const FoldReport& r : report.folds) {
      std::printf("| %d | %d | %g | %g | %.2f | %.4f | %.4f | %.4f | %.4f |\n", r.fold + 1,
                  r.test_rows, r.c, r.char_scale, r.threshold, r.metrics.MacroF1(), r.metrics.F1(),
                  r.metrics.Precision(), r.metrics.Recall());
    }
    std::printf("| mean | %zu | | | | %.4f | %.4f | %.4f | %.4f |\n", examples->size(),
                report.MeanMacroF1(), report.MeanF1(), report.MeanPrecision(), report.MeanRecall());
  }

  std::vector<size_t> all(examples->size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  const FeatureMatrix matrix(*examples, options.features);
  const FitResult fit = Fit(matrix, all, options);
  const std::string blob = SerializeModel(fit.model);
  absl::StatusOr<ComplaintClassifier> classifier = ComplaintClassifier::FromWeights(blob);
  if (!classifier.ok())
    return Fail("the serialised model does not parse: " + classifier.status().ToString());
  std::printf(
      "\nfinal model: C=%g char scale=%g threshold=%.2f inner-CV macro-F1=%.4f "
      "hashed features=%d weights file=%zu bytes\n",
      fit.c, fit.char_scale, fit.model.threshold, fit.inner_macro_f1, fit.used_features,
      blob.size());

  if (!out_dir.empty()) {
    const std::string model_path = out_dir + "/complaint_model.bin";
    std::ofstream model_out(model_path, std::ios::binary | std::ios::trunc);
    model_out.write(blob.data(), static_cast<std::streamsize>(blob.size()));
    if (!model_out) return Fail("cannot write " + model_path);

    std::string reference =
        "# Probabilities recorded by ccstream_train_complaint with complaint_model.bin.\n"
        "# row<TAB>tweet id<TAB>probability: rows of the training CSV\n"
        "# probe<TAB>probability<TAB>text: texts of our own\n";
    int rows_positive = 0;
    int rows_negative = 0;
    for (const Example& e : *examples) {
      int& taken = e.is_complaint ? rows_positive : rows_negative;
      if (taken >= 4) continue;
      ++taken;
      reference +=
          absl::StrFormat("row\t%s\t%s\n", e.id, FormatNumber(classifier->Probability(e.text)));
    }
    for (const char* text : kProbeTexts) {
      reference +=
          absl::StrFormat("probe\t%s\t%s\n", FormatNumber(classifier->Probability(text)), text);
    }
    const std::string reference_path = out_dir + "/reference_probabilities.tsv";
    std::ofstream reference_out(reference_path, std::ios::binary | std::ios::trunc);
    reference_out << reference;
    if (!reference_out) return Fail("cannot write " + reference_path);
    std::printf("wrote %s and %s\n", model_path.c_str(), reference_path.c_str());
  }
  return 0;
}
