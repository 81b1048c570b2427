#include "processor/config/config.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "processor/domain/engine.h"

namespace ccstream::config {
namespace {

namespace pb = google::protobuf;

// Collects the parser's errors as `FILE:LINE:COL: message` lines.
class LineErrorCollector : public pb::io::ErrorCollector {
 public:
  explicit LineErrorCollector(std::string name) : name_(std::move(name)) {}
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    lines_.push_back(absl::StrCat(name_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, pb::io::ColumnNumber column, const std::string& message) override {
    lines_.push_back(absl::StrCat(name_, ":", line + 1, ":", column + 1, ": warning: ", message));
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::string name_;
  std::vector<std::string> lines_;
};

// Finds the line of `path` ("a.b[2].c") in the parsed file; -1 when the field was not written
// (then the nearest written ancestor's line is used, if any).
int LineOf(const pb::Message& root, const pb::TextFormat::ParseInfoTree* tree,
           const std::string& path) {
  const pb::Descriptor* descriptor = root.GetDescriptor();
  int best_line = -1;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (tree == nullptr || descriptor == nullptr) break;
    std::string name(part);
    int index = -1;
    if (const size_t open = name.find('['); open != std::string::npos) {
      if (!absl::SimpleAtoi(name.substr(open + 1, name.size() - open - 2), &index)) index = -1;
      name = name.substr(0, open);
    }
    const pb::FieldDescriptor* field = descriptor->FindFieldByName(name);
    if (field == nullptr) break;
    const pb::TextFormat::ParseLocation location =
        tree->GetLocation(field, field->is_repeated() ? std::max(index, 0) : -1);
    if (location.line < 0) break;
    best_line = location.line;
    if (field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) break;
    tree = tree->GetTreeForNested(field, field->is_repeated() ? std::max(index, 0) : -1);
    descriptor = field->message_type();
  }
  return best_line;
}

void Require(bool ok, std::string path, std::string message,
             std::vector<domain::ConfigProblem>& problems) {
  if (!ok) problems.push_back({std::move(path), std::move(message)});
}

}  // namespace

std::vector<domain::ConfigProblem> ValidateConfig(const v1::ProcessorConfig& config) {
  std::vector<domain::ConfigProblem> problems;
  const v1::KafkaConfig& kafka = config.kafka();
  Require(!kafka.bootstrap_servers().empty(), "kafka.bootstrap_servers", "must not be empty",
          problems);
  Require(!kafka.group_id().empty(), "kafka.group_id", "must not be empty", problems);
  for (const auto& [name, value] : {std::pair{"input_topic", &kafka.input_topic()},
                                    std::pair{"alerts_topic", &kafka.alerts_topic()},
                                    std::pair{"dead_letter_topic", &kafka.dead_letter_topic()},
                                    std::pair{"changelog_topic", &kafka.changelog_topic()}}) {
    Require(!value->empty(), absl::StrCat("kafka.", name), "topic name must not be empty",
            problems);
  }
  Require(kafka.input_topic() != kafka.alerts_topic() &&
              kafka.input_topic() != kafka.dead_letter_topic() &&
              kafka.input_topic() != kafka.changelog_topic(),
          "kafka.input_topic", "must differ from the output topics", problems);
  Require(kafka.connect_timeout_ms() >= 100 && kafka.connect_timeout_ms() <= 600'000,
          "kafka.connect_timeout_ms",
          absl::StrCat(kafka.connect_timeout_ms(), " is outside 100..600000"), problems);

  const v1::ProcessingConfig& processing = config.processing();
  Require(processing.commit_interval_ms() >= 1 && processing.commit_interval_ms() <= 60'000,
          "processing.commit_interval_ms",
          absl::StrCat(processing.commit_interval_ms(), " is outside 1..60000"), problems);
  Require(processing.max_batch_events() >= 1 && processing.max_batch_events() <= 1'000'000,
          "processing.max_batch_events",
          absl::StrCat(processing.max_batch_events(), " is outside 1..1000000"), problems);
  Require(processing.commit_deadline_ms() >= 5'000 && processing.commit_deadline_ms() <= 600'000,
          "processing.commit_deadline_ms",
          absl::StrCat(processing.commit_deadline_ms(), " is outside 5000..600000"), problems);
  Require(processing.catch_up_interval_ms() <= 600'000, "processing.catch_up_interval_ms",
          absl::StrCat(processing.catch_up_interval_ms(), " is outside 0..600000"), problems);
  Require(processing.max_catch_up_batch_bytes() <= (uint64_t{1} << 32),
          "processing.max_catch_up_batch_bytes",
          absl::StrCat(processing.max_catch_up_batch_bytes(), " is above 4294967296"), problems);
  Require(processing.max_batch_bytes() <= (uint64_t{1} << 32), "processing.max_batch_bytes",
          absl::StrCat(processing.max_batch_bytes(), " is above 4294967296"), problems);
  Require(processing.poll_timeout_ms() <= 10'000, "processing.poll_timeout_ms",
          absl::StrCat(processing.poll_timeout_ms(), " is above 10000"), problems);
  Require(processing.threads() >= 1 && processing.threads() <= 16, "processing.threads",
          absl::StrCat(processing.threads(), " is outside 1..16"), problems);
  Require(
      processing.max_refused_record_aborts() >= 1 && processing.max_refused_record_aborts() <= 1000,
      "processing.max_refused_record_aborts",
      absl::StrCat(processing.max_refused_record_aborts(), " is outside 1..1000"), problems);

  const v1::ValidationConfig& validation = config.validation();
  Require(validation.max_future_skew_ms() >= 0, "validation.max_future_skew_ms",
          "must not be negative", problems);
  Require(validation.max_message_bytes() >= 64 && validation.max_message_bytes() <= (64u << 20),
          "validation.max_message_bytes",
          absl::StrCat(validation.max_message_bytes(), " is outside 64..67108864"), problems);

  Require(config.http().port() <= 65535, "http.port",
          absl::StrCat(config.http().port(), " is not a TCP port"), problems);
  Require(!config.http().bind_address().empty(), "http.bind_address", "must not be empty",
          problems);
  Require(config.http().service_level_target() >= 0 && config.http().service_level_target() <= 1,
          "http.service_level_target",
          absl::StrCat(config.http().service_level_target(), " is outside 0..1"), problems);
  Require(!config.state().dir().empty(), "state.dir", "must not be empty", problems);
  Require(config.state().block_cache_mib() >= 16 && config.state().block_cache_mib() <= 65536,
          "state.block_cache_mib",
          absl::StrCat(config.state().block_cache_mib(), " is outside 16..65536"), problems);
  Require(config.state().write_buffers_mib() >= 8 &&
              config.state().write_buffers_mib() <= config.state().block_cache_mib(),
          "state.write_buffers_mib",
          absl::StrCat(config.state().write_buffers_mib(), " is outside 8..block_cache_mib (",
                       config.state().block_cache_mib(), ")"),
          problems);

  const v1::AlertmanagerConfig& am = config.alertmanager();
  Require(am.url().empty() || am.url().rfind("http://", 0) == 0, "alertmanager.url",
          absl::StrCat("\"", am.url(), "\" must start with http://"), problems);
  Require(am.timeout_ms() >= 100 && am.timeout_ms() <= 60'000, "alertmanager.timeout_ms",
          absl::StrCat(am.timeout_ms(), " is outside 100..60000"), problems);
  Require(am.resend_interval_s() >= 1 && am.resend_interval_s() <= 3600,
          "alertmanager.resend_interval_s",
          absl::StrCat(am.resend_interval_s(), " is outside 1..3600"), problems);
  Require(am.max_queue() >= 1, "alertmanager.max_queue", "must be at least 1", problems);
  Require(am.max_active() >= 1, "alertmanager.max_active", "must be at least 1", problems);
  Require(am.max_backoff_ms() >= 250, "alertmanager.max_backoff_ms", "must be at least 250",
          problems);

  for (domain::ConfigProblem& problem : domain::ValidateDomainConfig(config.domain())) {
    problem.field_path = absl::StrCat("domain.", problem.field_path);
    problems.push_back(std::move(problem));
  }
  return problems;
}

absl::StatusOr<v1::ProcessorConfig> ParseConfig(const std::string& text, const std::string& name) {
  v1::ProcessorConfig config;
  pb::TextFormat::Parser parser;
  LineErrorCollector errors(name);
  pb::TextFormat::ParseInfoTree tree;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(text, &config)) {
    if (errors.lines().empty())
      return absl::InvalidArgumentError(absl::StrCat(name, ": cannot parse"));
    return absl::InvalidArgumentError(absl::StrJoin(errors.lines(), "\n"));
  }
  std::vector<std::string> lines;
  if (const std::string& key_file = config.secrets().pseudonymisation_key_file();
      !key_file.empty()) {
    const int line = LineOf(config, &tree, "secrets.pseudonymisation_key_file");
    const std::string where = absl::StrCat(name, ":", line + 1, ": ");
    std::ifstream in(key_file, std::ios::binary);
    std::ostringstream key;
    key << in.rdbuf();
    std::string value = key.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (!in) {
      lines.push_back(
          absl::StrCat(where, "secrets.pseudonymisation_key_file: cannot read ", key_file));
    } else if (config.domain().has_pseudonymisation_key()) {
      lines.push_back(absl::StrCat(where,
                                   "secrets.pseudonymisation_key_file: set together with "
                                   "domain.pseudonymisation_key; keep one"));
    } else {
      config.mutable_domain()->set_pseudonymisation_key(value);
    }
    if (!lines.empty()) return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  for (const domain::ConfigProblem& problem : ValidateConfig(config)) {
    const int line = LineOf(config, &tree, problem.field_path);
    lines.push_back(
        line >= 0
            ? absl::StrCat(name, ":", line + 1, ": ", problem.field_path, ": ", problem.message)
            : absl::StrCat(name, ": ", problem.field_path, ": ", problem.message));
  }
  if (!lines.empty()) return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  return config;
}

absl::StatusOr<v1::ProcessorConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open configuration file"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return ParseConfig(text.str(), path);
}

}  // namespace ccstream::config
