#include "processor/domain/complaint/classifier.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "embedded/complaint_model.h"
#include "processor/domain/complaint/features.h"
#include "processor/domain/complaint/model_format.h"

namespace ccstream::domain::complaint {

// The parsed weights with the extractor configured as they were trained. The weights stay in
// their int16 form (half the cache footprint of floats); the score is scaled once at the end.
struct Model {
  explicit Model(ModelData data)
      : extractor(data.options),
        quantized(std::move(data.quantized)),
        scale(data.scale),
        bias(data.bias),
        threshold(data.threshold) {}

  FeatureExtractor extractor;
  std::vector<int16_t> quantized;
  double scale;
  double bias;
  double threshold;
};

ComplaintClassifier::ComplaintClassifier(std::shared_ptr<const Model> model)
    : model_(std::move(model)) {}

const ComplaintClassifier& ComplaintClassifier::Default() {
  static const ComplaintClassifier* const kDefault = [] {
    absl::StatusOr<ComplaintClassifier> parsed = FromWeights(embedded::complaint_model());
    if (!parsed.ok()) {
      std::fprintf(stderr, "embedded complaint model is corrupt: %s\n",
                   parsed.status().ToString().c_str());
      std::abort();
    }
    return new ComplaintClassifier(*std::move(parsed));
  }();
  return *kDefault;
}

absl::StatusOr<ComplaintClassifier> ComplaintClassifier::FromWeights(std::string_view blob) {
  absl::StatusOr<ModelData> data = ParseModel(blob);
  if (!data.ok()) return data.status();
  return ComplaintClassifier(std::make_shared<const Model>(*std::move(data)));
}

double ComplaintClassifier::Score(std::string_view text) const {
  thread_local FeatureBuffer buffer;
  // The dot product over Extract's output, without writing and re-reading the feature vector.
  const double total = model_->extractor.Dot(text, model_->quantized.data(), &buffer);
  return model_->bias + model_->scale * total;
}

double ComplaintClassifier::Probability(std::string_view text) const {
  return 1.0 / (1.0 + std::exp(-Score(text)));
}

bool ComplaintClassifier::IsComplaint(std::string_view text) const {
  return Probability(text) >= model_->threshold;
}

double ComplaintClassifier::threshold() const { return model_->threshold; }

}  // namespace ccstream::domain::complaint
