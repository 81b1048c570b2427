#include "processor/domain/sla/clock.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ccstream::domain::sla {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
// Fractions are compared with this tolerance when checking which warnings were sent.
constexpr double kFractionEpsilon = 1e-9;

// `amount` of time on the milestone's clock after `start_ms`.
int64_t AddOnClock(const MilestoneSpec& spec, const BusinessCalendar& cal, int64_t start_ms,
                   int64_t amount) {
  if (spec.CountsBusinessTime()) return cal.AddBusinessTime(start_ms, amount);
  if (amount <= 0) return start_ms;
  return start_ms > kNever - amount ? kNever : start_ms + amount;
}

// Time on the milestone's clock between two instants (0 if to <= from).
int64_t ElapsedOnClock(const MilestoneSpec& spec, const BusinessCalendar& cal, int64_t from_ms,
                       int64_t to_ms) {
  if (spec.CountsBusinessTime()) return cal.BusinessTimeBetween(from_ms, to_ms);
  return to_ms > from_ms ? to_ms - from_ms : 0;
}

int64_t InitialDeadline(const MilestoneSpec& spec, const BusinessCalendar& cal, int64_t start_ms) {
  switch (spec.target_kind) {
    case TargetKind::kBusinessTime:
      return cal.AddBusinessTime(start_ms, spec.target_ms);
    case TargetKind::kBusinessDays:
      return cal.AddBusinessDays(start_ms, spec.target_days);
    case TargetKind::kCalendarDays:
      return cal.AddCalendarDays(start_ms, spec.target_days);
    case TargetKind::kCalendarTime:
      return AddOnClock(spec, cal, start_ms, spec.target_ms);
    case TargetKind::kCloseOfBusinessDay:
      return cal.CloseOfBusinessDay(start_ms, spec.target_days);
  }
  return start_ms;
}

// One thing a clock can raise, in the order they fall due.
struct Step {
  Crossing::Kind kind;
  double fraction;
  int64_t offset_ms;  // on the milestone's clock, from the start, pauses excluded
  int rung_index;     // for kLadder
};

std::vector<Step> StepsOf(const v1::MilestoneState& m, const MilestoneSpec& spec) {
  std::vector<Step> steps;
  const int64_t target = m.target_ms();
  for (double f : spec.warning_fractions) {
    steps.push_back({Crossing::Kind::kWarning, f,
                     static_cast<int64_t>(std::llround(f * static_cast<double>(target))), -1});
  }
  steps.push_back({Crossing::Kind::kBreach, 1.0, target, -1});
  for (size_t i = 0; i < spec.ladder.size(); ++i) {
    const int64_t after = spec.ladder[i].after_ms;
    const double fraction =
        1.0 + static_cast<double>(after) / static_cast<double>(std::max<int64_t>(target, 1));
    steps.push_back({Crossing::Kind::kLadder, fraction, target + after, static_cast<int>(i)});
  }
  return steps;
}

bool Raised(const v1::MilestoneState& m, const Step& step) {
  switch (step.kind) {
    case Crossing::Kind::kWarning:
      return std::any_of(m.warnings_sent().begin(), m.warnings_sent().end(), [&](double sent) {
        return std::fabs(sent - step.fraction) < kFractionEpsilon;
      });
    case Crossing::Kind::kBreach:
      return m.breached();
    case Crossing::Kind::kLadder:
      return step.rung_index < m.ladder_rungs_sent();
  }
  return true;
}

int64_t DueOf(const v1::MilestoneState& m, const MilestoneSpec& spec, const BusinessCalendar& cal,
              const Step& step) {
  return AddOnClock(spec, cal, m.started_ms(), step.offset_ms + m.paused_total_ms());
}

}  // namespace

v1::MilestoneState StartMilestone(const MilestoneSpec& spec, const BusinessCalendar& cal,
                                  int64_t start_ms) {
  v1::MilestoneState m;
  m.set_name(spec.name);
  m.set_started_ms(start_ms);
  const int64_t deadline = std::max(InitialDeadline(spec, cal, start_ms), start_ms);
  m.set_deadline_ms(deadline);
  m.set_target_ms(ElapsedOnClock(spec, cal, start_ms, deadline));
  if (spec.recurring) m.set_occurrence(1);
  return m;
}

void PauseMilestone(v1::MilestoneState& m, int64_t now_ms) {
  if (m.paused() || m.completed()) return;
  m.set_paused(true);
  m.set_paused_since_ms(now_ms);
}

void ResumeMilestone(v1::MilestoneState& m, const MilestoneSpec& spec, const BusinessCalendar& cal,
                     int64_t now_ms) {
  if (!m.paused() || m.completed()) return;
  m.set_paused_total_ms(m.paused_total_ms() +
                        ElapsedOnClock(spec, cal, m.paused_since_ms(), now_ms));
  m.set_paused(false);
  m.set_paused_since_ms(0);
  m.set_deadline_ms(AddOnClock(spec, cal, m.started_ms(), m.target_ms() + m.paused_total_ms()));
}

void CarryPause(v1::MilestoneState& m, const v1::MilestoneState& from, const MilestoneSpec& spec,
                const BusinessCalendar& cal) {
  if (!spec.pausable || m.completed()) return;
  m.set_paused_total_ms(from.paused_total_ms());
  if (from.paused()) {
    m.set_paused(true);
    m.set_paused_since_ms(from.paused_since_ms());
  }
  if (m.paused_total_ms() > 0) {
    m.set_deadline_ms(AddOnClock(spec, cal, m.started_ms(), m.target_ms() + m.paused_total_ms()));
  }
}

void CompleteMilestone(v1::MilestoneState& m, int64_t now_ms) {
  if (m.completed()) return;
  const int64_t clock_stopped_ms = m.paused() ? std::min(m.paused_since_ms(), now_ms) : now_ms;
  m.set_met(!m.breached() && clock_stopped_ms <= m.deadline_ms());
  m.set_paused(false);
  m.set_paused_since_ms(0);
  m.set_completed(true);
  m.set_completed_ms(now_ms);
}

std::optional<int64_t> NextDue(const v1::MilestoneState& m, const MilestoneSpec& spec,
                               const BusinessCalendar& cal) {
  if (m.paused() || m.completed()) return std::nullopt;
  for (const Step& step : StepsOf(m, spec)) {
    if (!Raised(m, step)) return DueOf(m, spec, cal, step);
  }
  return std::nullopt;
}

std::vector<Crossing> Advance(v1::MilestoneState& m, const MilestoneSpec& spec,
                              const BusinessCalendar& cal, int64_t now_ms) {
  std::vector<Crossing> crossings;
  if (m.paused() || m.completed()) return crossings;
  for (const Step& step : StepsOf(m, spec)) {
    if (Raised(m, step)) continue;
    const int64_t due = DueOf(m, spec, cal, step);
    if (due > now_ms) break;
    Crossing crossing;
    crossing.kind = step.kind;
    crossing.fraction = step.fraction;
    crossing.at_ms = due;
    crossing.deadline_ms = m.deadline_ms();
    switch (step.kind) {
      case Crossing::Kind::kWarning:
        m.add_warnings_sent(step.fraction);
        break;
      case Crossing::Kind::kBreach:
        m.set_breached(true);
        break;
      case Crossing::Kind::kLadder:
        crossing.rung = spec.ladder[step.rung_index].name;
        m.set_ladder_rungs_sent(step.rung_index + 1);
        break;
    }
    crossings.push_back(std::move(crossing));
  }
  return crossings;
}

void RestartRecurring(v1::MilestoneState& m, const MilestoneSpec& spec, const BusinessCalendar& cal,
                      int64_t now_ms) {
  const bool was_paused = m.paused();
  const int32_t occurrence = std::max(m.occurrence(), 1) + 1;
  m = StartMilestone(spec, cal, now_ms);
  m.set_occurrence(occurrence);
  if (was_paused) {
    m.set_paused(true);
    m.set_paused_since_ms(now_ms);
  }
}

}  // namespace ccstream::domain::sla
