#include "processor/domain/complaint/model_format.h"

#include <charconv>
#include <cmath>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ccstream::domain::complaint {
namespace {

constexpr char kMagic[] = "ccstream-complaint-model";
constexpr size_t kMagicLength = sizeof(kMagic) - 1;
constexpr size_t kRecordBytes = 6;

absl::Status Invalid(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("complaint model weights: ", what));
}

// Parses all of `text` as a number of type T.
template <typename T>
bool ParseNumber(std::string_view text, T* value) {
  const auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

void PutU32(uint32_t v, std::string* out) {
  for (int k = 0; k < 4; ++k) out->push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
}
void PutI16(int16_t v, std::string* out) {
  const uint16_t u = static_cast<uint16_t>(v);
  out->push_back(static_cast<char>(u & 0xFF));
  out->push_back(static_cast<char>(u >> 8));
}
uint32_t GetU32(const unsigned char* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
int16_t GetI16(const unsigned char* p) {
  return static_cast<int16_t>(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}

}  // namespace

std::string SerializeModel(const ModelData& model) {
  double max_abs = 0;
  for (float w : model.weights) max_abs = std::max(max_abs, std::fabs(static_cast<double>(w)));
  const double scale = max_abs > 0 ? max_abs / 32767.0 : 1.0;
  std::string records;
  uint32_t entries = 0;
  for (size_t i = 0; i < model.weights.size(); ++i) {
    const long q = std::lround(model.weights[i] / scale);
    if (q == 0) continue;
    PutU32(static_cast<uint32_t>(i), &records);
    PutI16(static_cast<int16_t>(q), &records);
    ++entries;
  }
  const FeatureOptions& o = model.options;
  std::string out = absl::StrCat(
      kMagic, "\n", "format ", kModelFormat, "\n", "feature_version ", kFeatureVersion, "\n",
      "hash_bits ", o.hash_bits, "\n", "char_ngram_min ", o.char_ngram_min, "\n", "char_ngram_max ",
      o.char_ngram_max, "\n", "word_ngram_max ", o.word_ngram_max, "\n", "mark_negation ",
      o.mark_negation ? 1 : 0, "\n", "dense_features ", o.dense_features ? 1 : 0, "\n");
  absl::StrAppend(&out, "bias ", absl::StrFormat("%.17g", model.bias), "\n");
  absl::StrAppend(&out, "threshold ", absl::StrFormat("%.17g", model.threshold), "\n");
  absl::StrAppend(&out, "scale ", absl::StrFormat("%.17g", scale), "\n");
  absl::StrAppend(&out, "entries ", entries, "\n", "data\n");
  out += records;
  return out;
}

absl::StatusOr<ModelData> ParseModel(std::string_view blob) {
  if (blob.substr(0, kMagicLength + 1) != std::string(kMagic) + "\n") {
    return Invalid(absl::StrCat("does not start with \"", kMagic, "\""));
  }
  const size_t data_marker = blob.find("\ndata\n");
  if (data_marker == std::string_view::npos) return Invalid("no \"data\" line after the header");
  std::string_view header = blob.substr(kMagicLength + 1, data_marker + 1 - (kMagicLength + 1));
  const std::string_view body = blob.substr(data_marker + 6);

  std::map<std::string, std::string, std::less<>> fields;
  while (!header.empty()) {
    const size_t end = header.find('\n');
    const std::string_view line = header.substr(0, end);
    header.remove_prefix(end + 1);
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0 || space + 1 == line.size()) {
      return Invalid(absl::StrCat("header line \"", std::string(line), "\" is not \"key value\""));
    }
    const std::string key(line.substr(0, space));
    if (!fields.emplace(key, std::string(line.substr(space + 1))).second) {
      return Invalid(absl::StrCat("header key \"", key, "\" appears twice"));
    }
  }
  auto get_int = [&](const char* key, int64_t* value) -> absl::Status {
    auto it = fields.find(key);
    if (it == fields.end()) return Invalid(absl::StrCat("header lacks \"", key, "\""));
    if (!ParseNumber(it->second, value)) {
      return Invalid(absl::StrCat("\"", key, "\" is not an integer: ", it->second));
    }
    return absl::OkStatus();
  };
  auto get_double = [&](const char* key, double* value) -> absl::Status {
    auto it = fields.find(key);
    if (it == fields.end()) return Invalid(absl::StrCat("header lacks \"", key, "\""));
    if (!ParseNumber(it->second, value) || !std::isfinite(*value)) {
      return Invalid(absl::StrCat("\"", key, "\" is not a finite number: ", it->second));
    }
    return absl::OkStatus();
  };

  int64_t format = 0, feature_version = 0, hash_bits = 0, char_min = 0, char_max = 0, word_max = 0,
          negation = 0, dense = 0, entries = 0;
  ModelData model;
  double scale = 0;
  for (absl::Status s : {get_int("format", &format), get_int("feature_version", &feature_version),
                         get_int("hash_bits", &hash_bits), get_int("char_ngram_min", &char_min),
                         get_int("char_ngram_max", &char_max), get_int("word_ngram_max", &word_max),
                         get_int("mark_negation", &negation), get_int("dense_features", &dense),
                         get_int("entries", &entries), get_double("bias", &model.bias),
                         get_double("threshold", &model.threshold), get_double("scale", &scale)}) {
    if (!s.ok()) return s;
  }
  if (format != kModelFormat) {
    return Invalid(absl::StrCat("format ", format, " is not the supported ", kModelFormat));
  }
  if (feature_version != kFeatureVersion) {
    return Invalid(absl::StrCat("trained for feature version ", feature_version,
                                " but this build extracts version ", kFeatureVersion,
                                "; retrain with train.sh"));
  }
  if ((negation != 0 && negation != 1) || (dense != 0 && dense != 1)) {
    return Invalid("mark_negation and dense_features must be 0 or 1");
  }
  if (hash_bits < 10 || hash_bits > 24 || char_min < 0 || char_min > 8 || char_max < 0 ||
      char_max > 7 || word_max < 1 || word_max > 4) {
    return Invalid("feature options out of range");
  }
  model.options.hash_bits = static_cast<int>(hash_bits);
  model.options.char_ngram_min = static_cast<int>(char_min);
  model.options.char_ngram_max = static_cast<int>(char_max);
  model.options.word_ngram_max = static_cast<int>(word_max);
  model.options.mark_negation = negation == 1;
  model.options.dense_features = dense == 1;
  if (!ValidFeatureOptions(model.options)) return Invalid("feature options out of range");
  if (!(model.threshold > 0 && model.threshold < 1)) {
    return Invalid(absl::StrCat("threshold ", model.threshold, " is not in (0, 1)"));
  }
  if (!(scale > 0)) return Invalid("scale must be positive");
  if (entries < 0 || static_cast<uint64_t>(entries) * kRecordBytes != body.size()) {
    return Invalid(absl::StrCat("body holds ", body.size(), " bytes but ", entries,
                                " entries need ", entries * static_cast<int64_t>(kRecordBytes)));
  }

  const uint32_t dimension = FeatureExtractor(model.options).dimension();
  model.weights.assign(dimension, 0.0f);
  model.quantized.assign(dimension, 0);
  model.scale = scale;
  const auto* p = reinterpret_cast<const unsigned char*>(body.data());
  int64_t previous = -1;
  for (int64_t e = 0; e < entries; ++e, p += kRecordBytes) {
    const uint32_t index = GetU32(p);
    if (index >= dimension) {
      return Invalid(
          absl::StrCat("entry ", e, " has index ", index, " beyond dimension ", dimension));
    }
    if (static_cast<int64_t>(index) <= previous) {
      return Invalid(absl::StrCat("entry ", e, " index ", index, " is not increasing"));
    }
    previous = index;
    model.quantized[index] = GetI16(p + 4);
    model.weights[index] = static_cast<float>(model.quantized[index] * scale);
  }
  return model;
}

}  // namespace ccstream::domain::complaint
