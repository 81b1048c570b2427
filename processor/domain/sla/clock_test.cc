#include "processor/domain/sla/clock.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "google/protobuf/text_format.h"

namespace ccstream::domain::sla {
namespace {

constexpr int64_t kHour = 3600 * 1000;
using Kind = Crossing::Kind;

int64_t Local(const std::string& zone, int y, int mo, int d, int h, int mi = 0) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(zone, &tz)) << zone;
  return absl::ToUnixMillis(absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), tz));
}
int64_t Ldn(int y, int mo, int d, int h, int mi = 0) {
  return Local("Europe/London", y, mo, d, h, mi);
}
int64_t Utc(int y, int mo, int d, int h, int mi = 0) { return Local("UTC", y, mo, d, h, mi); }

// Monday to Friday 09:00-17:00 in London, no holidays in the weeks used here.
BusinessCalendar Office() {
  v1::CalendarConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "office"
        time_zone: "Europe/London"
        hours {
          days: [ MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY ]
          open: "09:00"
          close: "17:00"
        }
      )pb",
      &config));
  absl::StatusOr<BusinessCalendar> cal = BusinessCalendar::Create(config);
  EXPECT_TRUE(cal.ok()) << cal.status();
  return *cal;
}

MilestoneSpec BusinessSpec(int64_t target_ms) {
  MilestoneSpec spec;
  spec.name = "resolve";
  spec.kind = MilestoneKind::kResolve;
  spec.target_kind = TargetKind::kBusinessTime;
  spec.target_ms = target_ms;
  spec.warning_fractions = {0.5, 0.75, 0.9};
  spec.calendar = "office";
  return spec;
}

struct Expected {
  Kind kind;
  double fraction;
  int64_t at_ms;
  std::string rung = "";
};

void ExpectCrossings(const std::vector<Crossing>& got, const std::vector<Expected>& want,
                     const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].kind, want[i].kind) << what << " #" << i;
    EXPECT_DOUBLE_EQ(got[i].fraction, want[i].fraction) << what << " #" << i;
    EXPECT_EQ(got[i].at_ms, want[i].at_ms) << what << " #" << i;
    EXPECT_EQ(got[i].rung, want[i].rung) << what << " #" << i;
  }
}

TEST(ClockTest, StartComputesDeadlineAndTarget) {
  const BusinessCalendar cal = Office();
  const v1::MilestoneState m = StartMilestone(BusinessSpec(8 * kHour), cal, Ldn(2026, 12, 11, 15));
  EXPECT_EQ(m.name(), "resolve");
  EXPECT_EQ(m.started_ms(), Ldn(2026, 12, 11, 15));
  EXPECT_EQ(m.deadline_ms(), Ldn(2026, 12, 14, 15)) << "Friday 15:00 + 8 business hours";
  EXPECT_EQ(m.target_ms(), 8 * kHour);
  EXPECT_FALSE(m.paused() || m.breached() || m.met() || m.completed());
}

TEST(ClockTest, WarningsAndBreachEachOnceInOrder) {
  const BusinessCalendar cal = Office();
  MilestoneSpec spec = BusinessSpec(8 * kHour);
  spec.ladder = {{"team_lead", 0}, {"manager", 4 * kHour}};
  v1::MilestoneState m = StartMilestone(spec, cal, Ldn(2026, 12, 14, 9));
  struct Step {
    int64_t now;
    std::vector<Expected> crossings;
    std::optional<int64_t> next_due;
  };
  const std::vector<Step> steps = {
      {Ldn(2026, 12, 14, 12), {}, Ldn(2026, 12, 14, 13)},
      {Ldn(2026, 12, 14, 13),
       {{Kind::kWarning, 0.5, Ldn(2026, 12, 14, 13)}},
       Ldn(2026, 12, 14, 15)},
      {Ldn(2026, 12, 14, 13, 30), {}, Ldn(2026, 12, 14, 15)},
      {Ldn(2026, 12, 14, 17),
       {{Kind::kWarning, 0.75, Ldn(2026, 12, 14, 15)},
        {Kind::kWarning, 0.9, Ldn(2026, 12, 14, 16, 12)},
        {Kind::kBreach, 1.0, Ldn(2026, 12, 14, 17)},
        {Kind::kLadder, 1.0, Ldn(2026, 12, 14, 17), "team_lead"}},
       Ldn(2026, 12, 15, 13)},
      {Ldn(2026, 12, 15, 12, 59), {}, Ldn(2026, 12, 15, 13)},
      {Ldn(2026, 12, 16, 9),
       {{Kind::kLadder, 1.5, Ldn(2026, 12, 15, 13), "manager"}},
       std::nullopt},
      {Ldn(2026, 12, 30, 9), {}, std::nullopt},
  };
  for (const Step& step : steps) {
    const std::vector<Crossing> got = Advance(m, spec, cal, step.now);
    ExpectCrossings(got, step.crossings, absl::FormatTime(absl::FromUnixMillis(step.now)));
    for (const Crossing& c : got) EXPECT_EQ(c.deadline_ms, Ldn(2026, 12, 14, 17));
    EXPECT_EQ(NextDue(m, spec, cal), step.next_due)
        << absl::FormatTime(absl::FromUnixMillis(step.now));
  }
  EXPECT_TRUE(m.breached());
  EXPECT_EQ(m.ladder_rungs_sent(), 2);
  EXPECT_EQ(m.warnings_sent_size(), 3);
}

TEST(ClockTest, LateAdvanceRaisesEverythingDueInOrder) {
  const BusinessCalendar cal = Office();
  const MilestoneSpec spec = BusinessSpec(8 * kHour);
  v1::MilestoneState m = StartMilestone(spec, cal, Ldn(2026, 12, 14, 9));
  ExpectCrossings(Advance(m, spec, cal, Ldn(2026, 12, 20, 0)),
                  {{Kind::kWarning, 0.5, Ldn(2026, 12, 14, 13)},
                   {Kind::kWarning, 0.75, Ldn(2026, 12, 14, 15)},
                   {Kind::kWarning, 0.9, Ldn(2026, 12, 14, 16, 12)},
                   {Kind::kBreach, 1.0, Ldn(2026, 12, 14, 17)}},
                  "late");
  EXPECT_TRUE(Advance(m, spec, cal, Ldn(2026, 12, 21, 0)).empty());
}

TEST(ClockTest, PauseMovesDeadlineByBusinessTimeOnly) {
  struct Case {
    std::string what;
    int64_t pause;
    int64_t resume;
    int64_t deadline;
    int64_t first_warning;  // the 50 % warning, 4 business hours plus the pause
  };
  // Started Friday 2026-12-11 15:00 with 8 business hours: deadline Monday 15:00.
  const std::vector<Case> cases = {
      {"across the weekend: Fri 16:00 to Mon 10:00 is 2 business hours", Ldn(2026, 12, 11, 16),
       Ldn(2026, 12, 14, 10), Ldn(2026, 12, 14, 17), Ldn(2026, 12, 14, 13)},
      {"entirely in the weekend", Ldn(2026, 12, 12, 10), Ldn(2026, 12, 13, 12),
       Ldn(2026, 12, 14, 15), Ldn(2026, 12, 14, 11)},
      {"Friday evening to Monday before opening", Ldn(2026, 12, 11, 18), Ldn(2026, 12, 14, 8),
       Ldn(2026, 12, 14, 15), Ldn(2026, 12, 14, 11)},
      {"paused in hours, resumed outside", Ldn(2026, 12, 11, 16), Ldn(2026, 12, 12, 9),
       Ldn(2026, 12, 14, 16), Ldn(2026, 12, 14, 12)},
      {"into the next week", Ldn(2026, 12, 11, 16), Ldn(2026, 12, 15, 9), Ldn(2026, 12, 15, 16),
       Ldn(2026, 12, 15, 12)},
  };
  const BusinessCalendar cal = Office();
  const MilestoneSpec spec = BusinessSpec(8 * kHour);
  for (const Case& c : cases) {
    v1::MilestoneState m = StartMilestone(spec, cal, Ldn(2026, 12, 11, 15));
    PauseMilestone(m, c.pause);
    EXPECT_TRUE(m.paused()) << c.what;
    EXPECT_FALSE(NextDue(m, spec, cal).has_value()) << c.what;
    EXPECT_TRUE(Advance(m, spec, cal, c.resume).empty())
        << c.what << ": paused clocks raise nothing";
    ResumeMilestone(m, spec, cal, c.resume);
    EXPECT_FALSE(m.paused()) << c.what;
    EXPECT_EQ(m.deadline_ms(), c.deadline) << c.what;
    EXPECT_EQ(NextDue(m, spec, cal), c.first_warning) << c.what;
  }
}

TEST(ClockTest, WarningsShiftWithPause) {
  const BusinessCalendar cal = Office();
  const MilestoneSpec spec = BusinessSpec(8 * kHour);
  v1::MilestoneState m = StartMilestone(spec, cal, Ldn(2026, 12, 14, 9));
  PauseMilestone(m, Ldn(2026, 12, 14, 10));
  ResumeMilestone(m, spec, cal, Ldn(2026, 12, 14, 12));
  EXPECT_EQ(NextDue(m, spec, cal), Ldn(2026, 12, 14, 15)) << "half of 8h plus 2h paused";
  EXPECT_EQ(m.deadline_ms(), Ldn(2026, 12, 15, 11));
  EXPECT_EQ(m.paused_total_ms(), 2 * kHour);
}

TEST(ClockTest, PauseAndResumeAreIdempotent) {
  const BusinessCalendar cal = Office();
  const MilestoneSpec spec = BusinessSpec(8 * kHour);
  v1::MilestoneState m = StartMilestone(spec, cal, Ldn(2026, 12, 14, 9));
  PauseMilestone(m, Ldn(2026, 12, 14, 10));
  PauseMilestone(m, Ldn(2026, 12, 14, 11));
  EXPECT_EQ(m.paused_since_ms(), Ldn(2026, 12, 14, 10)) << "a second pause keeps the first";
  ResumeMilestone(m, spec, cal, Ldn(2026, 12, 14, 12));
  ResumeMilestone(m, spec, cal, Ldn(2026, 12, 14, 14));
  EXPECT_EQ(m.paused_total_ms(), 2 * kHour);
}

// A severity rise moves a case to another policy: the milestone restarts under the new spec
// from its start, keeping the time paused and a pause in progress.
TEST(ClockTest, CarryPauseKeepsPausedTimeUnderANewSpec) {
  const BusinessCalendar cal = Office();
  const MilestoneSpec standard = BusinessSpec(8 * kHour);
  const MilestoneSpec urgent = BusinessSpec(4 * kHour);
  v1::MilestoneState old = StartMilestone(standard, cal, Ldn(2026, 12, 14, 9));
  PauseMilestone(old, Ldn(2026, 12, 14, 10));
  ResumeMilestone(old, standard, cal, Ldn(2026, 12, 14, 12));
  PauseMilestone(old, Ldn(2026, 12, 14, 14));

  v1::MilestoneState m = StartMilestone(urgent, cal, old.started_ms());
  EXPECT_EQ(m.deadline_ms(), Ldn(2026, 12, 14, 13));
  CarryPause(m, old, urgent, cal);
  EXPECT_EQ(m.paused_total_ms(), 2 * kHour);
  EXPECT_TRUE(m.paused()) << "the pause in progress goes on";
  EXPECT_EQ(m.paused_since_ms(), Ldn(2026, 12, 14, 14));
  EXPECT_EQ(m.deadline_ms(), Ldn(2026, 12, 14, 15)) << "4 h target + 2 h paused";
  EXPECT_FALSE(NextDue(m, urgent, cal).has_value()) << "paused: nothing due";
  ResumeMilestone(m, urgent, cal, Ldn(2026, 12, 14, 16));
  EXPECT_EQ(m.paused_total_ms(), 4 * kHour);
  EXPECT_EQ(m.deadline_ms(), Ldn(2026, 12, 14, 17));

  MilestoneSpec fixed = urgent;
  fixed.pausable = false;
  v1::MilestoneState running = StartMilestone(fixed, cal, old.started_ms());
  CarryPause(running, old, fixed, cal);
  EXPECT_FALSE(running.paused()) << "a non-pausable clock keeps running";
  EXPECT_EQ(running.paused_total_ms(), 0);
  EXPECT_EQ(running.deadline_ms(), Ldn(2026, 12, 14, 13));
}

TEST(ClockTest, CalendarTimePauseCountsElapsedTime) {
  const BusinessCalendar cal = Office();
  MilestoneSpec spec = BusinessSpec(0);
  spec.target_kind = TargetKind::kCalendarTime;
  spec.target_ms = 48 * kHour;
  v1::MilestoneState m = StartMilestone(spec, cal, Ldn(2026, 12, 11, 15));
  EXPECT_EQ(m.deadline_ms(), Ldn(2026, 12, 13, 15));
  PauseMilestone(m, Ldn(2026, 12, 12, 0));
  ResumeMilestone(m, spec, cal, Ldn(2026, 12, 12, 10));
  EXPECT_EQ(m.deadline_ms(), Ldn(2026, 12, 14, 1)) << "10 hours of weekend pause count";
}

TEST(ClockTest, Completion) {
  struct Case {
    std::string what;
    bool advance_first;
    std::optional<int64_t> pause_at;
    int64_t complete_at;
    bool met;
  };
  // Started Monday 09:00 with 8 business hours: deadline Monday 17:00.
  const std::vector<Case> cases = {
      {"before the deadline", true, std::nullopt, Ldn(2026, 12, 14, 16), true},
      {"at the deadline, before the breach is raised", false, std::nullopt, Ldn(2026, 12, 14, 17),
       true},
      {"after the deadline without a raised breach", false, std::nullopt, Ldn(2026, 12, 15, 9),
       false},
      {"after the breach was raised", true, std::nullopt, Ldn(2026, 12, 15, 10), false},
      {"while paused since before the deadline", false, Ldn(2026, 12, 14, 16),
       Ldn(2026, 12, 16, 10), true},
  };
  const BusinessCalendar cal = Office();
  const MilestoneSpec spec = BusinessSpec(8 * kHour);
  for (const Case& c : cases) {
    v1::MilestoneState m = StartMilestone(spec, cal, Ldn(2026, 12, 14, 9));
    if (c.pause_at) PauseMilestone(m, *c.pause_at);
    if (c.advance_first) Advance(m, spec, cal, c.complete_at);
    CompleteMilestone(m, c.complete_at);
    EXPECT_TRUE(m.completed()) << c.what;
    EXPECT_EQ(m.completed_ms(), c.complete_at) << c.what;
    EXPECT_EQ(m.met(), c.met) << c.what;
    EXPECT_FALSE(m.paused()) << c.what;
    EXPECT_FALSE(NextDue(m, spec, cal).has_value()) << c.what;
    EXPECT_TRUE(Advance(m, spec, cal, Ldn(2026, 12, 31, 9)).empty()) << c.what;
    CompleteMilestone(m, Ldn(2026, 12, 31, 9));
    EXPECT_EQ(m.completed_ms(), c.complete_at) << c.what << ": completing twice changes nothing";
  }
}

TEST(ClockTest, RecurringRestart) {
  const BusinessCalendar cal = Office();
  MilestoneSpec spec = BusinessSpec(16 * kHour);
  spec.name = "keep_informed";
  spec.kind = MilestoneKind::kKeepInformed;
  spec.recurring = true;
  v1::MilestoneState m = StartMilestone(spec, cal, Ldn(2026, 12, 14, 9));
  EXPECT_EQ(m.occurrence(), 1);
  EXPECT_EQ(Advance(m, spec, cal, Ldn(2026, 12, 16, 9)).size(), 4u) << "3 warnings and breach";
  RestartRecurring(m, spec, cal, Ldn(2026, 12, 16, 10));
  EXPECT_EQ(m.occurrence(), 2);
  EXPECT_EQ(m.name(), "keep_informed");
  EXPECT_FALSE(m.breached());
  EXPECT_EQ(m.warnings_sent_size(), 0);
  EXPECT_EQ(m.started_ms(), Ldn(2026, 12, 16, 10));
  EXPECT_EQ(m.deadline_ms(), Ldn(2026, 12, 18, 10));
  ExpectCrossings(Advance(m, spec, cal, Ldn(2026, 12, 17, 10)),
                  {{Kind::kWarning, 0.5, Ldn(2026, 12, 17, 10)}}, "second occurrence");

  PauseMilestone(m, Ldn(2026, 12, 17, 11));
  RestartRecurring(m, spec, cal, Ldn(2026, 12, 17, 12));
  EXPECT_EQ(m.occurrence(), 3);
  EXPECT_TRUE(m.paused()) << "an update while awaiting the customer keeps the clock paused";
  EXPECT_EQ(m.paused_since_ms(), Ldn(2026, 12, 17, 12));
  ResumeMilestone(m, spec, cal, Ldn(2026, 12, 17, 14));
  EXPECT_EQ(m.deadline_ms(), Ldn(2026, 12, 21, 14));
}

TEST(ClockTest, ZeroLengthTargetBreachesAtStart) {
  const BusinessCalendar cal = Office();
  MilestoneSpec spec = BusinessSpec(0);
  spec.target_kind = TargetKind::kCloseOfBusinessDay;
  spec.target_days = 0;
  // Monday after closing: the close of the day itself has passed.
  v1::MilestoneState m = StartMilestone(spec, cal, Ldn(2026, 12, 14, 18));
  EXPECT_EQ(m.deadline_ms(), Ldn(2026, 12, 14, 18));
  const std::vector<Crossing> got = Advance(m, spec, cal, Ldn(2026, 12, 14, 18));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().kind, Kind::kBreach);
}

// Deadlines of the built-in presets for concrete dates.
TEST(ClockTest, PresetDeadlines) {
  struct Case {
    std::string preset;
    v1::Severity severity;
    std::string milestone;
    int64_t start;
    int64_t deadline;
  };
  const std::vector<Case> cases = {
      // default: Monday to Friday 09:00-17:00 UTC, no holidays.
      {"default", v1::CRITICAL, "acknowledge", Utc(2026, 12, 21, 10), Utc(2026, 12, 21, 11)},
      {"default", v1::CRITICAL, "keep_informed", Utc(2026, 12, 21, 16), Utc(2026, 12, 22, 10)},
      {"default", v1::CRITICAL, "resolve", Utc(2026, 12, 21, 10), Utc(2026, 12, 22, 10)},
      {"default", v1::HIGH, "acknowledge", Utc(2026, 12, 21, 15), Utc(2026, 12, 22, 11)},
      {"default", v1::HIGH, "resolve", Utc(2026, 12, 21, 10), Utc(2026, 12, 24, 10)},
      {"default", v1::MEDIUM, "acknowledge", Utc(2026, 12, 19, 10), Utc(2026, 12, 21, 17)},
      {"default", v1::MEDIUM, "resolve", Utc(2026, 12, 21, 10), Utc(2026, 12, 28, 10)},
      {"default", v1::LOW, "acknowledge", Utc(2026, 12, 21, 10), Utc(2026, 12, 23, 10)},
      {"default", v1::LOW, "resolve", Utc(2026, 12, 21, 10), Utc(2027, 1, 4, 10)},
      {"default", v1::LOW, "follow_up", Utc(2026, 12, 24, 16), Utc(2026, 12, 28, 16)},
      // uk-fca-disp: Europe/London, England and Wales bank holidays.
      {"uk-fca-disp", v1::HIGH, "acknowledge", Ldn(2026, 12, 18, 15), Ldn(2026, 12, 21, 15)},
      {"uk-fca-disp", v1::HIGH, "summary_resolution", Ldn(2026, 12, 18, 15), Ldn(2026, 12, 23, 17)},
      {"uk-fca-disp", v1::HIGH, "final_response", Ldn(2026, 12, 18, 15), Ldn(2027, 2, 12, 15)},
      {"uk-fca-disp", v1::LOW, "keep_informed", Ldn(2026, 12, 18, 15), Ldn(2026, 12, 29, 15)},
      {"uk-fca-disp", v1::LOW, "acknowledge", Ldn(2026, 12, 24, 16), Ldn(2026, 12, 29, 16)},
      {"uk-fca-disp", v1::MEDIUM, "summary_resolution", Ldn(2026, 12, 22, 10),
       Ldn(2026, 12, 29, 17)},
      {"uk-fca-disp", v1::MEDIUM, "summary_resolution", Ldn(2027, 3, 25, 12), Ldn(2027, 4, 1, 17)},
      {"uk-fca-disp", v1::CRITICAL, "final_response", Ldn(2027, 3, 1, 9), Ldn(2027, 4, 26, 9)},
  };
  for (const Case& c : cases) {
    const std::string what = c.preset + " " + v1::Severity_Name(c.severity) + " " + c.milestone;
    v1::SlaConfig config;
    config.set_preset(c.preset);
    absl::StatusOr<SlaPolicies> policies = SlaPolicies::Create(config);
    ASSERT_TRUE(policies.ok()) << policies.status();
    const Policy& policy = policies->PolicyFor(c.severity, v1::EMAIL);
    const MilestoneSpec* spec = policy.Find(c.milestone);
    ASSERT_NE(spec, nullptr) << what;
    const v1::MilestoneState m = StartMilestone(*spec, policies->CalendarOf(*spec), c.start);
    EXPECT_EQ(m.deadline_ms(), c.deadline)
        << what << ": got " << absl::FormatTime(absl::FromUnixMillis(m.deadline_ms()));
  }
}

TEST(ClockTest, FcaClocksDoNotPause) {
  v1::SlaConfig config;
  config.set_preset("uk-fca-disp");
  absl::StatusOr<SlaPolicies> policies = SlaPolicies::Create(config);
  ASSERT_TRUE(policies.ok()) << policies.status();
  const Policy& policy = policies->PolicyFor(v1::HIGH, v1::VOICE);
  EXPECT_FALSE(policy.Find("final_response")->pausable);
  EXPECT_FALSE(policy.Find("summary_resolution")->pausable);
  EXPECT_TRUE(policy.Find("acknowledge")->pausable);
}

TEST(ClockTest, LiveQueueWaitClock) {
  absl::StatusOr<SlaPolicies> policies = SlaPolicies::Create(v1::SlaConfig());
  ASSERT_TRUE(policies.ok()) << policies.status();
  const MilestoneSpec& spec = policies->LiveSpec(LiveClock::kQueueWait);
  const BusinessCalendar& cal = policies->CalendarOf(spec);
  const int64_t queued = Utc(2026, 12, 25, 3);  // a holiday at night: live clocks run 24x7
  v1::MilestoneState m = StartMilestone(spec, cal, queued);
  EXPECT_EQ(m.deadline_ms(), queued + 20'000);
  ExpectCrossings(Advance(m, spec, cal, queued + 19'000),
                  {{Kind::kWarning, 0.5, queued + 10'000},
                   {Kind::kWarning, 0.75, queued + 15'000},
                   {Kind::kWarning, 0.9, queued + 18'000}},
                  "queue wait");
  EXPECT_EQ(NextDue(m, spec, cal), queued + 20'000);
  CompleteMilestone(m, queued + 19'500);
  EXPECT_TRUE(m.met()) << "answered within the service-level threshold";
}

}  // namespace
}  // namespace ccstream::domain::sla
