#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "processor/domain/engine.h"
#include "processor/domain/sla/policy.h"
#include "processor/domain/text/phrases.h"

namespace ccstream::domain {
namespace {

// Collects problems with their paths.
class Problems {
 public:
  void Add(std::string path, std::string message) {
    list_.push_back(ConfigProblem{std::move(path), std::move(message)});
  }
  void Weight(const std::string& path, double weight) {
    if (!std::isfinite(weight) || weight < 0 || weight > 100) {
      Add(path, "weight must be a finite number in [0, 100]");
    }
  }
  void AtLeast(const std::string& path, uint64_t value, uint64_t min) {
    if (value < min) Add(path, absl::StrCat("must be at least ", min));
  }
  void Prefixed(const std::string& prefix, const std::vector<ConfigProblem>& nested) {
    for (const ConfigProblem& p : nested) Add(prefix + p.field_path, p.message);
  }
  std::vector<ConfigProblem> Take() { return std::move(list_); }

 private:
  std::vector<ConfigProblem> list_;
};

bool InRange(double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; }

}  // namespace

std::vector<ConfigProblem> ValidateDomainConfig(const v1::DomainConfig& config) {
  Problems p;
  p.AtLeast("service_level_threshold_s", config.service_level_threshold_s(), 1);
  if (config.sla().live().has_queue_wait_threshold_s() &&
      config.sla().live().queue_wait_threshold_s() != config.service_level_threshold_s()) {
    p.Add(
        "sla.live.queue_wait_threshold_s",
        absl::StrCat("differs from service_level_threshold_s (", config.service_level_threshold_s(),
                     "): both are the service-level threshold; remove this field"));
  }

  const v1::CueConfig& cues = config.cues();
  const uint32_t max_window = cues.max_window_turns();
  if (max_window < 1 || max_window > 1000) {
    p.Add("cues.max_window_turns", "must be in [1, 1000]");
  }
  const v1::RepeatedDissatisfactionCue& rd = cues.repeated_dissatisfaction();
  if (!InRange(rd.sentiment_at_most(), -1, 1)) {
    p.Add("cues.repeated_dissatisfaction.sentiment_at_most", "must be in [-1, 1]");
  }
  p.AtLeast("cues.repeated_dissatisfaction.window_turns", rd.window_turns(), 1);
  if (rd.window_turns() > max_window) {
    p.Add("cues.repeated_dissatisfaction.window_turns", "must not exceed cues.max_window_turns");
  }
  if (rd.min_turns() < 1 || rd.min_turns() > rd.window_turns()) {
    p.Add("cues.repeated_dissatisfaction.min_turns", "must be in [1, window_turns]");
  }
  p.Weight("cues.repeated_dissatisfaction.weight", rd.weight());

  const v1::FallingSentimentCue& fs = cues.falling_sentiment();
  if (!InRange(fs.min_drop(), 0, 2) || fs.min_drop() == 0) {
    p.Add("cues.falling_sentiment.min_drop", "must be in (0, 2]");
  }
  p.AtLeast("cues.falling_sentiment.min_turns", fs.min_turns(), 3);
  if (fs.min_turns() > max_window) {
    p.Add("cues.falling_sentiment.min_turns", "must not exceed cues.max_window_turns");
  }
  p.Weight("cues.falling_sentiment.weight", fs.weight());

  if (!InRange(cues.complaint_intent().min_probability(), 0, 1)) {
    p.Add("cues.complaint_intent.min_probability", "must be in [0, 1]");
  }
  p.Weight("cues.complaint_intent.weight", cues.complaint_intent().weight());
  p.Weight("cues.escalation_phrase.weight", cues.escalation_phrase().weight());

  const v1::RaisedVoiceCue& rv = cues.raised_voice();
  if (!InRange(rv.db_above_baseline(), 0, 120) || rv.db_above_baseline() == 0) {
    p.Add("cues.raised_voice.db_above_baseline", "must be in (0, 120]");
  }
  p.AtLeast("cues.raised_voice.min_turns", rv.min_turns(), 1);
  p.AtLeast("cues.raised_voice.baseline_turns", rv.baseline_turns(), 1);
  p.Weight("cues.raised_voice.weight", rv.weight());

  p.AtLeast("cues.interruptions.min_interruptions", cues.interruptions().min_interruptions(), 1);
  p.Weight("cues.interruptions.weight", cues.interruptions().weight());
  p.AtLeast("cues.long_hold.hold_s", cues.long_hold().hold_s(), 1);
  p.Weight("cues.long_hold.weight", cues.long_hold().weight());
  p.AtLeast("cues.repeated_transfers.min_transfers", cues.repeated_transfers().min_transfers(), 1);
  p.Weight("cues.repeated_transfers.weight", cues.repeated_transfers().weight());
  p.Weight("cues.repeat_contact.weight", cues.repeat_contact().weight());
  p.Weight("cues.open_complaint.weight", cues.open_complaint().weight());
  if (cues.has_staff_flag()) p.Weight("cues.staff_flag.weight", cues.staff_flag().weight());
  if (cues.has_complaint_lodged()) {
    p.Weight("cues.complaint_lodged.weight", cues.complaint_lodged().weight());
  }

  if (!std::isfinite(config.escalate_score()) || config.escalate_score() <= 0) {
    p.Add("escalate_score", "must be a positive number");
  }
  if (!std::isfinite(config.open_case_score()) ||
      config.open_case_score() < config.escalate_score()) {
    p.Add("open_case_score", "must be at least escalate_score");
  }

  const v1::SeverityConfig& sev = config.severity();
  if (!std::isfinite(sev.medium_score()) || sev.medium_score() <= 0) {
    p.Add("severity.medium_score", "must be a positive number");
  }
  if (!std::isfinite(sev.high_score()) || sev.high_score() < sev.medium_score()) {
    p.Add("severity.high_score", "must be at least severity.medium_score");
  }
  if (!std::isfinite(sev.critical_score()) || sev.critical_score() < sev.high_score()) {
    p.Add("severity.critical_score", "must be at least severity.high_score");
  }
  if (sev.regulator_or_legal_at_least() == v1::SEVERITY_UNSPECIFIED) {
    p.Add("severity.regulator_or_legal_at_least", "must name a severity");
  }
  if (sev.churn_threat_at_least() == v1::SEVERITY_UNSPECIFIED) {
    p.Add("severity.churn_threat_at_least", "must name a severity");
  }
  if (sev.lodged_at_least() == v1::SEVERITY_UNSPECIFIED) {
    p.Add("severity.lodged_at_least", "must name a severity");
  }

  std::set<std::string> names;
  for (int i = 0; i < config.queues_size(); ++i) {
    const v1::QueueConfig& q = config.queues(i);
    const std::string path = absl::StrCat("queues[", i, "]");
    if (q.name().empty()) {
      p.Add(path + ".name", "must not be empty");
    } else if (!names.insert(q.name()).second) {
      p.Add(path + ".name", absl::StrCat("queue \"", q.name(), "\" is listed twice"));
    }
  }
  if (config.default_category().empty()) p.Add("default_category", "must not be empty");
  if (config.pseudonymisation_key().size() < 16) {
    p.Add("pseudonymisation_key", "must be set, at least 16 bytes");
  }
  p.AtLeast("repeat_contact_window_s", config.repeat_contact_window_s(), 1);
  p.AtLeast("closed_case_retention_s", config.closed_case_retention_s(), 1);
  p.AtLeast("contact_retention_s", config.contact_retention_s(), 1);
  p.AtLeast("max_audit_entries", config.max_audit_entries(), 2);
  if (config.anonymous_customer_ids_size() > 100) {
    p.Add("anonymous_customer_ids",
          absl::StrCat(config.anonymous_customer_ids_size(), " entries; at most 100"));
  }
  for (int i = 0; i < config.anonymous_customer_ids_size(); ++i) {
    if (absl::StripAsciiWhitespace(config.anonymous_customer_ids(i)).empty()) {
      p.Add(absl::StrCat("anonymous_customer_ids[", i, "]"), "must not be blank");
    }
  }

  p.Prefixed("sla.", sla::ValidateSlaConfig(config.sla()));
  p.Prefixed("text.", text::ValidateTextConfig(config.text()));
  return p.Take();
}

}  // namespace ccstream::domain
