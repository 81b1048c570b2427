// The weights file of the complaint classifier: written by the trainer, parsed at start-up from
// the copy compiled into the binary.
//
// Layout: a text header of "key value" lines, then the line "data", then `entries` records of
// 6 bytes each (little-endian uint32 feature index, little-endian int16 quantised weight),
// indices strictly increasing. A weight is the int16 times `scale`; weights that quantise to 0
// are not stored.
//
//   ccstream-complaint-model
//   format 1
//   feature_version 1
//   hash_bits 18
//   char_ngram_min 2
//   char_ngram_max 5
//   word_ngram_max 2
//   mark_negation 1
//   dense_features 1
//   bias -0.52
//   threshold 0.44
//   scale 3.1e-05
//   entries 41234
//   data
//   <binary records>
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "processor/domain/complaint/features.h"

namespace ccstream::domain::complaint {

inline constexpr int kModelFormat = 1;

// A model as stored: the feature options, the intercept, the decision threshold and the
// non-zero weights (dense array over FeatureExtractor::dimension()).
struct ModelData {
  FeatureOptions options;      // feature options the weights were trained with
  double bias = 0;             // intercept (log-odds)
  double threshold = 0.5;      // probability at or above which a text is a complaint
  std::vector<float> weights;  // one weight per feature index; size = dimension
  // Filled by ParseModel only: weights[i] == quantized[i] * scale.
  double scale = 0;                // quantisation step
  std::vector<int16_t> quantized;  // one quantised weight per feature index
};

// Serialises `model` (weights quantised to int16 with one scale). Parsing the result gives the
// weights the classifier will really use.
std::string SerializeModel(const ModelData& model);

// Parses a blob written by SerializeModel. Refuses wrong magic, unknown format or feature
// version, invalid options, a threshold outside (0, 1), a truncated or oversized body and
// out-of-range or unsorted indices, naming what is wrong.
absl::StatusOr<ModelData> ParseModel(std::string_view blob);

}  // namespace ccstream::domain::complaint
