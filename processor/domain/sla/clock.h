#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "case.pb.h"
#include "processor/domain/sla/calendar.h"
#include "processor/domain/sla/policy.h"

namespace ccstream::domain::sla {

// Something a milestone clock reached: a warning fraction, the breach, or a ladder rung.
// Plain value type.
struct Crossing {
  enum class Kind { kWarning, kBreach, kLadder };
  Kind kind = Kind::kWarning;
  double fraction = 0;      // 0.5, 0.75, 0.9 for warnings; 1.0 for the breach; >1 for rungs
  std::string rung;         // ladder rung name, e.g. "team_lead"
  int64_t at_ms = 0;        // the instant it was due
  int64_t deadline_ms = 0;  // the milestone's deadline
};

// Operations on the persisted milestone state (v1::MilestoneState in proto/case.proto).
// All deterministic; time always comes in as an argument. `spec` and `cal` must be the ones the
// state was started with (SlaPolicies::CalendarOf(spec)). Free functions on a caller-owned
// message: thread-compatible.
//
// A fraction f of the target is due when f * target_ms plus the time paused so far has elapsed
// on the milestone's clock since started_ms (open time for business targets, elapsed time for
// calendar targets); the breach is f = 1 (the deadline) and a rung is f = 1 + after / target.

// A fresh state for the milestone, clock running from `start_ms`.
v1::MilestoneState StartMilestone(const MilestoneSpec& spec, const BusinessCalendar& cal,
                                  int64_t start_ms);
// Stops the clock (no-op when already paused or completed). Call Advance first so that
// crossings due before the pause are raised.
void PauseMilestone(v1::MilestoneState& m, int64_t now_ms);
// Restarts the clock; the deadline moves by the time paused on the milestone's clock (business
// time only for business targets). No-op when not paused or completed.
void ResumeMilestone(v1::MilestoneState& m, const MilestoneSpec& spec, const BusinessCalendar& cal,
                     int64_t now_ms);
// Carries the pause of `from` — a running state of the same milestone under another spec
// (a severity rise that moved the case to another policy) — into `m`, freshly started at
// from.started_ms() under `spec`: the time paused so far and a pause in progress, the deadline
// moved by the time paused. Pause time counted on from's clock is carried as is (exact when
// both specs count time on the same calendar, the usual case). No-op unless spec.pausable (a
// non-pausable clock counts every minute since its start).
void CarryPause(v1::MilestoneState& m, const v1::MilestoneState& from, const MilestoneSpec& spec,
                const BusinessCalendar& cal);
// Stops the clock for good: met when completed at or before the deadline (if paused, at or
// before it when the pause began) and not breached; late otherwise. No-op when completed.
void CompleteMilestone(v1::MilestoneState& m, int64_t now_ms);
// Earliest instant at which the next warning, breach or rung is due; nullopt when paused,
// completed, or everything was already raised.
std::optional<int64_t> NextDue(const v1::MilestoneState& m, const MilestoneSpec& spec,
                               const BusinessCalendar& cal);
// Everything due at or before now_ms that was not raised yet, in order; marks each as raised
// in `m` so that it is never returned twice.
std::vector<Crossing> Advance(v1::MilestoneState& m, const MilestoneSpec& spec,
                              const BusinessCalendar& cal, int64_t now_ms);
// For recurring milestones (keep-informed): start the next occurrence at now_ms (occurrence
// + 1, nothing raised yet, still paused if it was).
void RestartRecurring(v1::MilestoneState& m, const MilestoneSpec& spec, const BusinessCalendar& cal,
                      int64_t now_ms);

}  // namespace ccstream::domain::sla
