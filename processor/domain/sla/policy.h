#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "alert.pb.h"
#include "events.pb.h"
#include "processor/domain/config_problem.h"
#include "processor/domain/sla/calendar.h"
#include "sla_config.pb.h"

namespace ccstream::domain::sla {

// What a milestone measures; decides when the engine starts and completes it (docs/sla.md).
enum class MilestoneKind {
  kAcknowledge,   // starts when the case opens; completed when it is acknowledged
  kKeepInformed,  // recurring; starts when the case opens, restarted at every customer update
  kResolve,       // starts when the case opens; completed when it is resolved
  kFollowUp,      // starts when the case is resolved; completed when it is followed up
  kLive,          // a live-contact clock (SlaPolicies::LiveSpec), run on contacts, not cases
};

// The live-contact clocks the engine runs on contacts in progress.
enum class LiveClock {
  kQueueWait,            // from queued to answered, against the service-level threshold
  kChatFirstResponse,    // chat: from answered to the first agent message
  kSocialFirstResponse,  // social: from the start of the conversation to the first agent reply
  kHold,                 // voice: one hold, from hold start to hold end
};

// How a milestone's deadline is computed from its start.
enum class TargetKind {
  kBusinessTime,        // `target_ms` of open time of the calendar
  kBusinessDays,        // BusinessCalendar::AddBusinessDays(start, target_days)
  kCalendarDays,        // BusinessCalendar::AddCalendarDays(start, target_days)
  kCalendarTime,        // start + `target_ms` of elapsed time
  kCloseOfBusinessDay,  // BusinessCalendar::CloseOfBusinessDay(start, target_days)
};

// One rung of the escalation ladder: raised `after_ms` after the breach, counted on the
// milestone's clock.
struct LadderRung {
  std::string name;      // e.g. "team_lead"
  int64_t after_ms = 0;  // delay after the breach
};

// One milestone of a policy, resolved from config. Plain value type, thread-compatible.
struct MilestoneSpec {
  std::string name;  // "acknowledge", "resolve", … (unique in policy)
  MilestoneKind kind = MilestoneKind::kResolve;
  TargetKind target_kind = TargetKind::kBusinessTime;
  int64_t target_ms = 0;                  // for kBusinessTime and kCalendarTime
  int target_days = 0;                    // for the day-based target kinds
  bool recurring = false;                 // true for kKeepInformed
  std::vector<double> warning_fractions;  // strictly increasing, each in (0, 1)
  std::vector<LadderRung> ladder;         // increasing after_ms
  bool pausable = true;                   // pauses while awaiting the customer
  std::string calendar;                   // name of the calendar ("24x7" by default)
  int calendar_index = 0;                 // index into the owning SlaPolicies' calendars

  // Whether the milestone's clock counts open time of the calendar (business targets) rather
  // than elapsed time (calendar targets). Pauses and ladder delays are counted on that clock.
  bool CountsBusinessTime() const {
    return target_kind != TargetKind::kCalendarDays && target_kind != TargetKind::kCalendarTime;
  }
};

// An SLA policy: the cases it applies to and their milestones. Plain value type.
struct Policy {
  std::string name;                       // recorded as ComplaintCase.policy
  std::vector<v1::Severity> severities;   // empty: any
  std::vector<v1::Channel> channels;      // empty: any
  std::vector<MilestoneSpec> milestones;  // in configuration order

  bool Matches(v1::Severity severity, v1::Channel channel) const;
  // The milestone with that name, or nullptr.
  const MilestoneSpec* Find(std::string_view milestone_name) const;
  // All milestones of that kind, in order.
  std::vector<const MilestoneSpec*> OfKind(MilestoneKind kind) const;
};

// All policies and calendars of a SlaConfig (configured ones first, then the preset's),
// resolved and validated. Built once at configuration time; immutable afterwards, safe for
// concurrent reads. MilestoneSpecs returned by it must be used with the same object (or a copy).
class SlaPolicies {
 public:
  // Fails with InvalidArgument listing the problems of ValidateSlaConfig, or when a time zone
  // cannot be loaded.
  static absl::StatusOr<SlaPolicies> Create(const v1::SlaConfig& config);

  // The first configured policy matching the severity and channel, else the first matching
  // preset policy, else an empty policy named "none" (no milestones).
  const Policy& PolicyFor(v1::Severity severity, v1::Channel channel) const;
  // A calendar-time (24x7) milestone for a live clock: name "queue_wait",
  // "chat_first_response", "social_first_response" or "hold", target from LiveSlaConfig,
  // warnings from live.warning_fractions (else the default fractions; none when live.warn is
  // false), not pausable, no ladder.
  // The engine runs live clocks on contacts with one timer each (Timer.deadline_ms/fraction),
  // not with a MilestoneState; this spec gives their target and warning fractions.
  const MilestoneSpec& LiveSpec(LiveClock clock) const;
  // The live clock's spec with that name ("queue_wait", …), or nullptr.
  const MilestoneSpec* FindLiveSpec(std::string_view name) const;
  // The calendar a milestone of this object runs on.
  const BusinessCalendar& CalendarOf(const MilestoneSpec& spec) const;
  // The calendar with that name, or nullptr.
  const BusinessCalendar* FindCalendar(std::string_view name) const;

  const std::vector<Policy>& policies() const { return policies_; }
  const v1::LiveSlaConfig& live() const { return live_; }
  // The resolved default warning fractions (0.5, 0.75, 0.9 unless configured).
  const std::vector<double>& default_warning_fractions() const { return default_fractions_; }

 private:
  SlaPolicies() = default;

  std::vector<BusinessCalendar> calendars_;  // [0] is "24x7"
  std::vector<Policy> policies_;             // configured, then preset
  Policy none_;
  v1::LiveSlaConfig live_;
  std::vector<double> default_fractions_;
  std::array<MilestoneSpec, 4> live_specs_;  // indexed by LiveClock
};

// The built-in presets by name ("default", "uk-fca-disp", "none"): calendars and policies only.
// Returns NotFound for an unknown name.
absl::StatusOr<v1::SlaConfig> PresetConfig(std::string_view name);

// Every problem of the configuration (empty when it is valid), with paths relative to SlaConfig.
std::vector<ConfigProblem> ValidateSlaConfig(const v1::SlaConfig& config);

}  // namespace ccstream::domain::sla
