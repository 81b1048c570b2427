#include "processor/domain/sla/policy.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace ccstream::domain::sla {
namespace {

constexpr char kAlwaysOpenName[] = "24x7";
constexpr double kDefaultFractions[] = {0.5, 0.75, 0.9};

std::string KindName(v1::MilestoneConfig::Kind kind) {
  switch (kind) {
    case v1::MilestoneConfig::ACKNOWLEDGE:
      return "acknowledge";
    case v1::MilestoneConfig::KEEP_INFORMED:
      return "keep_informed";
    case v1::MilestoneConfig::RESOLVE:
      return "resolve";
    case v1::MilestoneConfig::FOLLOW_UP:
      return "follow_up";
    default:
      return "unspecified";
  }
}

MilestoneKind ToKind(v1::MilestoneConfig::Kind kind) {
  switch (kind) {
    case v1::MilestoneConfig::ACKNOWLEDGE:
      return MilestoneKind::kAcknowledge;
    case v1::MilestoneConfig::KEEP_INFORMED:
      return MilestoneKind::kKeepInformed;
    case v1::MilestoneConfig::FOLLOW_UP:
      return MilestoneKind::kFollowUp;
    default:
      return MilestoneKind::kResolve;
  }
}

std::string MilestoneName(const v1::MilestoneConfig& config) {
  return config.name().empty() ? KindName(config.kind()) : config.name();
}

// Parses a positive (or, with allow_zero, non-negative) Abseil duration into milliseconds.
bool ParsePositiveDuration(const std::string& text, bool allow_zero, int64_t* ms) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d)) return false;
  if (d < absl::ZeroDuration() || (!allow_zero && d == absl::ZeroDuration())) return false;
  if (d == absl::InfiniteDuration()) return false;
  *ms = absl::ToInt64Milliseconds(d);
  return true;
}

void CheckFractions(const google::protobuf::RepeatedField<double>& fractions,
                    const std::string& path, std::vector<ConfigProblem>& problems) {
  for (int i = 0; i < fractions.size(); ++i) {
    const double f = fractions.Get(i);
    const std::string at = absl::StrCat(path, "[", i, "]");
    if (!(f > 0.0 && f < 1.0)) {
      problems.push_back({at, absl::StrCat("warning fraction ", f, " is outside (0, 1)")});
    } else if (i > 0 && f <= fractions.Get(i - 1)) {
      problems.push_back(
          {at, absl::StrCat("warning fraction ", f, " must be greater than the one before it (",
                            fractions.Get(i - 1), ")")});
    }
  }
}

// Names of calendars that milestones may refer to: the built-in one, the configured ones and
// the preset's.
absl::flat_hash_set<std::string> KnownCalendars(const v1::SlaConfig& config,
                                                const v1::SlaConfig* preset) {
  absl::flat_hash_set<std::string> names = {kAlwaysOpenName, ""};
  for (const auto& cal : config.calendars()) names.insert(cal.name());
  if (preset != nullptr) {
    for (const auto& cal : preset->calendars()) names.insert(cal.name());
  }
  return names;
}

void ValidateMilestone(const v1::MilestoneConfig& m, const std::string& path,
                       const absl::flat_hash_set<std::string>& calendars,
                       std::vector<ConfigProblem>& problems) {
  if (m.kind() == v1::MilestoneConfig::KIND_UNSPECIFIED) {
    problems.push_back(
        {path + ".kind", "kind is not set; use ACKNOWLEDGE, KEEP_INFORMED, RESOLVE or FOLLOW_UP"});
  }
  int64_t ms = 0;
  switch (m.target_case()) {
    case v1::MilestoneConfig::TARGET_NOT_SET:
      problems.push_back({path,
                          "no target; set one of business_time, business_days, "
                          "calendar_days, calendar_time, close_of_business_day"});
      break;
    case v1::MilestoneConfig::kBusinessTime:
      if (!ParsePositiveDuration(m.business_time(), false, &ms)) {
        problems.push_back({path + ".business_time",
                            absl::StrCat("\"", m.business_time(),
                                         "\" is not a positive duration such as \"4h\"")});
      }
      break;
    case v1::MilestoneConfig::kCalendarTime:
      if (!ParsePositiveDuration(m.calendar_time(), false, &ms)) {
        problems.push_back({path + ".calendar_time",
                            absl::StrCat("\"", m.calendar_time(),
                                         "\" is not a positive duration such as \"48h\"")});
      }
      break;
    case v1::MilestoneConfig::kBusinessDays:
      if (m.business_days() == 0) {
        problems.push_back({path + ".business_days", "business_days must be at least 1"});
      }
      break;
    case v1::MilestoneConfig::kCalendarDays:
      if (m.calendar_days() == 0) {
        problems.push_back({path + ".calendar_days", "calendar_days must be at least 1"});
      }
      break;
    case v1::MilestoneConfig::kCloseOfBusinessDay:
      break;
  }
  if (!calendars.contains(m.calendar())) {
    problems.push_back(
        {path + ".calendar", absl::StrCat("unknown calendar \"", m.calendar(),
                                          "\"; define it in calendars or use \"24x7\"")});
  }
  CheckFractions(m.warning_fractions(), path + ".warning_fractions", problems);
  int64_t previous_after = 0;
  for (int k = 0; k < m.ladder_size(); ++k) {
    const v1::LadderRung& rung = m.ladder(k);
    const std::string at = absl::StrCat(path, ".ladder[", k, "]");
    if (rung.name().empty()) {
      problems.push_back({at + ".name", "rung name is empty; name who it escalates to"});
    }
    int64_t after = 0;
    if (!ParsePositiveDuration(rung.after(), true, &after)) {
      problems.push_back(
          {at + ".after", absl::StrCat("\"", rung.after(), "\" is not a duration of 0s or more")});
    } else if (after < previous_after) {
      problems.push_back({at + ".after", absl::StrCat("\"", rung.after(),
                                                      "\" is earlier than the rung before it")});
    } else {
      previous_after = after;
    }
  }
}

absl::Status ProblemsToStatus(const std::vector<ConfigProblem>& problems) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid SLA configuration: ",
      absl::StrJoin(problems, "; ", [](std::string* out, const ConfigProblem& p) {
        absl::StrAppend(out, p.field_path.empty() ? "(sla)" : p.field_path, ": ", p.message);
      })));
}

}  // namespace

bool Policy::Matches(v1::Severity severity, v1::Channel channel) const {
  const bool severity_ok = severities.empty() || std::find(severities.begin(), severities.end(),
                                                           severity) != severities.end();
  const bool channel_ok =
      channels.empty() || std::find(channels.begin(), channels.end(), channel) != channels.end();
  return severity_ok && channel_ok;
}

const MilestoneSpec* Policy::Find(std::string_view milestone_name) const {
  for (const MilestoneSpec& spec : milestones) {
    if (spec.name == milestone_name) return &spec;
  }
  return nullptr;
}

std::vector<const MilestoneSpec*> Policy::OfKind(MilestoneKind kind) const {
  std::vector<const MilestoneSpec*> found;
  for (const MilestoneSpec& spec : milestones) {
    if (spec.kind == kind) found.push_back(&spec);
  }
  return found;
}

std::vector<ConfigProblem> ValidateSlaConfig(const v1::SlaConfig& config) {
  std::vector<ConfigProblem> problems;
  absl::StatusOr<v1::SlaConfig> preset = PresetConfig(config.preset());
  if (!preset.ok()) {
    problems.push_back({"preset", absl::StrCat("unknown preset \"", config.preset(),
                                               "\"; use default, uk-fca-disp or none")});
  }
  CheckFractions(config.default_warning_fractions(), "default_warning_fractions", problems);

  absl::flat_hash_set<std::string> calendar_names;
  for (int i = 0; i < config.calendars_size(); ++i) {
    const v1::CalendarConfig& cal = config.calendars(i);
    const std::string path = absl::StrCat("calendars[", i, "]");
    if (cal.name().empty()) {
      problems.push_back({path + ".name", "calendar name is empty"});
    } else if (cal.name() == kAlwaysOpenName) {
      problems.push_back({path + ".name", "\"24x7\" is reserved for the built-in calendar"});
    } else if (!calendar_names.insert(cal.name()).second) {
      problems.push_back(
          {path + ".name", absl::StrCat("calendar \"", cal.name(), "\" is defined twice")});
    }
    for (ConfigProblem& p : ValidateCalendarConfig(cal)) {
      problems.push_back({absl::StrCat(path, ".", p.field_path), std::move(p.message)});
    }
  }

  const absl::flat_hash_set<std::string> known =
      KnownCalendars(config, preset.ok() ? &*preset : nullptr);
  absl::flat_hash_set<std::string> policy_names;
  for (int i = 0; i < config.policies_size(); ++i) {
    const v1::SlaPolicyConfig& policy = config.policies(i);
    const std::string path = absl::StrCat("policies[", i, "]");
    if (policy.name().empty()) {
      problems.push_back({path + ".name", "policy name is empty"});
    } else if (!policy_names.insert(policy.name()).second) {
      problems.push_back(
          {path + ".name", absl::StrCat("policy \"", policy.name(), "\" is defined twice")});
    }
    for (int s = 0; s < policy.severities_size(); ++s) {
      if (policy.severities(s) == v1::SEVERITY_UNSPECIFIED) {
        problems.push_back({absl::StrCat(path, ".severities[", s, "]"),
                            "severity is unspecified; use LOW, MEDIUM, HIGH or CRITICAL"});
      }
    }
    for (int c = 0; c < policy.channels_size(); ++c) {
      if (policy.channels(c) == v1::CHANNEL_UNSPECIFIED) {
        problems.push_back({absl::StrCat(path, ".channels[", c, "]"),
                            "channel is unspecified; use VOICE, CHAT, EMAIL or SOCIAL"});
      }
    }
    if (!known.contains(policy.calendar())) {
      problems.push_back(
          {path + ".calendar", absl::StrCat("unknown calendar \"", policy.calendar(),
                                            "\"; define it in calendars or use \"24x7\"")});
    }
    absl::flat_hash_set<std::string> milestone_names;
    for (int j = 0; j < policy.milestones_size(); ++j) {
      const v1::MilestoneConfig& m = policy.milestones(j);
      const std::string mpath = absl::StrCat(path, ".milestones[", j, "]");
      ValidateMilestone(m, mpath, known, problems);
      if (!milestone_names.insert(MilestoneName(m)).second) {
        problems.push_back(
            {mpath + ".name", absl::StrCat("milestone \"", MilestoneName(m),
                                           "\" appears twice in the policy; give each a name")});
      }
    }
  }

  if (config.has_live()) {
    const v1::LiveSlaConfig& live = config.live();
    const std::pair<const char*, uint32_t> thresholds[] = {
        {"live.queue_wait_threshold_s", live.queue_wait_threshold_s()},
        {"live.chat_first_response_s", live.chat_first_response_s()},
        {"live.social_first_response_s", live.social_first_response_s()},
        {"live.hold_s", live.hold_s()},
    };
    for (const auto& [path, value] : thresholds) {
      if (value == 0) problems.push_back({path, "threshold must be at least 1 second"});
    }
    CheckFractions(live.warning_fractions(), "live.warning_fractions", problems);
  }
  return problems;
}

absl::StatusOr<SlaPolicies> SlaPolicies::Create(const v1::SlaConfig& config) {
  const std::vector<ConfigProblem> problems = ValidateSlaConfig(config);
  if (!problems.empty()) return ProblemsToStatus(problems);
  absl::StatusOr<v1::SlaConfig> preset = PresetConfig(config.preset());
  if (!preset.ok()) return preset.status();

  SlaPolicies result;
  result.none_.name = "none";
  result.live_ = config.live();
  if (config.default_warning_fractions_size() > 0) {
    result.default_fractions_.assign(config.default_warning_fractions().begin(),
                                     config.default_warning_fractions().end());
  } else {
    result.default_fractions_.assign(std::begin(kDefaultFractions), std::end(kDefaultFractions));
  }
  result.calendars_.push_back(BusinessCalendar::AlwaysOpen());
  absl::flat_hash_map<std::string, int> calendar_index = {{kAlwaysOpenName, 0}, {"", 0}};
  auto add_calendars = [&](const v1::SlaConfig& source) -> absl::Status {
    for (const v1::CalendarConfig& cal_config : source.calendars()) {
      if (calendar_index.contains(cal_config.name())) continue;
      absl::StatusOr<BusinessCalendar> cal = BusinessCalendar::Create(cal_config);
      if (!cal.ok()) return cal.status();
      calendar_index[cal_config.name()] = static_cast<int>(result.calendars_.size());
      result.calendars_.push_back(*std::move(cal));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = add_calendars(config); !s.ok()) return s;
  if (absl::Status s = add_calendars(*preset); !s.ok()) return s;

  auto add_policies = [&](const v1::SlaConfig& source) {
    for (const v1::SlaPolicyConfig& policy_config : source.policies()) {
      Policy policy;
      policy.name = policy_config.name();
      for (int s : policy_config.severities()) {
        policy.severities.push_back(static_cast<v1::Severity>(s));
      }
      for (int c : policy_config.channels()) {
        policy.channels.push_back(static_cast<v1::Channel>(c));
      }
      for (const v1::MilestoneConfig& m : policy_config.milestones()) {
        MilestoneSpec spec;
        spec.name = MilestoneName(m);
        spec.kind = ToKind(m.kind());
        spec.recurring = m.kind() == v1::MilestoneConfig::KEEP_INFORMED;
        spec.pausable = m.pausable();
        switch (m.target_case()) {
          case v1::MilestoneConfig::kBusinessTime:
            spec.target_kind = TargetKind::kBusinessTime;
            ParsePositiveDuration(m.business_time(), false, &spec.target_ms);
            break;
          case v1::MilestoneConfig::kCalendarTime:
            spec.target_kind = TargetKind::kCalendarTime;
            ParsePositiveDuration(m.calendar_time(), false, &spec.target_ms);
            break;
          case v1::MilestoneConfig::kBusinessDays:
            spec.target_kind = TargetKind::kBusinessDays;
            spec.target_days = static_cast<int>(m.business_days());
            break;
          case v1::MilestoneConfig::kCalendarDays:
            spec.target_kind = TargetKind::kCalendarDays;
            spec.target_days = static_cast<int>(m.calendar_days());
            break;
          case v1::MilestoneConfig::kCloseOfBusinessDay:
            spec.target_kind = TargetKind::kCloseOfBusinessDay;
            spec.target_days = static_cast<int>(m.close_of_business_day());
            break;
          case v1::MilestoneConfig::TARGET_NOT_SET:
            break;
        }
        if (m.warn()) {
          if (m.warning_fractions_size() > 0) {
            spec.warning_fractions.assign(m.warning_fractions().begin(),
                                          m.warning_fractions().end());
          } else {
            spec.warning_fractions = result.default_fractions_;
          }
        }
        for (const v1::LadderRung& rung : m.ladder()) {
          LadderRung r;
          r.name = rung.name();
          ParsePositiveDuration(rung.after(), true, &r.after_ms);
          spec.ladder.push_back(std::move(r));
        }
        spec.calendar = m.calendar().empty() ? policy_config.calendar() : m.calendar();
        if (spec.calendar.empty()) spec.calendar = kAlwaysOpenName;
        spec.calendar_index = calendar_index.at(spec.calendar);
        policy.milestones.push_back(std::move(spec));
      }
      result.policies_.push_back(std::move(policy));
    }
  };
  add_policies(config);
  add_policies(*preset);

  std::vector<double> live_fractions = result.default_fractions_;
  if (!result.live_.warn()) {
    live_fractions.clear();
  } else if (result.live_.warning_fractions_size() > 0) {
    live_fractions.assign(result.live_.warning_fractions().begin(),
                          result.live_.warning_fractions().end());
  }
  const std::pair<const char*, uint32_t> live_clocks[] = {
      {"queue_wait", result.live_.queue_wait_threshold_s()},
      {"chat_first_response", result.live_.chat_first_response_s()},
      {"social_first_response", result.live_.social_first_response_s()},
      {"hold", result.live_.hold_s()},
  };
  for (size_t i = 0; i < result.live_specs_.size(); ++i) {
    MilestoneSpec& spec = result.live_specs_[i];
    spec.name = live_clocks[i].first;
    spec.kind = MilestoneKind::kLive;
    spec.target_kind = TargetKind::kCalendarTime;
    spec.target_ms = static_cast<int64_t>(live_clocks[i].second) * 1000;
    spec.warning_fractions = live_fractions;
    spec.pausable = false;
    spec.calendar = kAlwaysOpenName;
    spec.calendar_index = 0;
  }
  return result;
}

const Policy& SlaPolicies::PolicyFor(v1::Severity severity, v1::Channel channel) const {
  for (const Policy& policy : policies_) {
    if (policy.Matches(severity, channel)) return policy;
  }
  return none_;
}

const MilestoneSpec& SlaPolicies::LiveSpec(LiveClock clock) const {
  return live_specs_[static_cast<size_t>(clock)];
}

const MilestoneSpec* SlaPolicies::FindLiveSpec(std::string_view name) const {
  for (const MilestoneSpec& spec : live_specs_) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const BusinessCalendar& SlaPolicies::CalendarOf(const MilestoneSpec& spec) const {
  if (spec.calendar_index < 0 || spec.calendar_index >= static_cast<int>(calendars_.size())) {
    return calendars_.front();
  }
  return calendars_[spec.calendar_index];
}

const BusinessCalendar* SlaPolicies::FindCalendar(std::string_view name) const {
  for (const BusinessCalendar& cal : calendars_) {
    if (cal.name() == name) return &cal;
  }
  return nullptr;
}

}  // namespace ccstream::domain::sla
