#include "processor/domain/sla/policy.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "google/protobuf/text_format.h"

namespace ccstream::domain::sla {
namespace {

constexpr int64_t kHour = 3600 * 1000;

v1::SlaConfig Parse(const std::string& text) {
  v1::SlaConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

// A valid configuration that the validation cases below break one field at a time.
constexpr char kValid[] = R"pb(
  preset: "none"
  calendars {
    name: "london"
    time_zone: "Europe/London"
    hours {
      days: [ MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY ]
      open: "09:00"
      close: "17:00"
    }
    hours { days: SATURDAY open: "10:00" close: "14:00" }
    holidays: [ "2026-12-25", "2026-12-28" ]
  }
  calendars {
    name: "nights"
    time_zone: "America/New_York"
    hours {
      days: [ MONDAY, FRIDAY ]
      open: "22:00"
      close: "06:00"
    }
    hours { days: TUESDAY open: "06:00" close: "12:00" }
  }
  policies {
    name: "vip-critical"
    severities: CRITICAL
    channels: [ VOICE, CHAT ]
    calendar: "london"
    milestones {
      kind: ACKNOWLEDGE
      business_time: "30m"
      warning_fractions: [ 0.5, 0.8 ]
      ladder { name: "team_lead" after: "0s" }
      ladder { name: "manager" after: "1h" }
    }
    milestones { kind: RESOLVE calendar_days: 56 calendar: "nights" }
  }
  policies {
    name: "everything-else"
    milestones { kind: RESOLVE business_days: 5 warn: false }
    milestones { kind: KEEP_INFORMED name: "update" calendar_time: "48h" }
  }
  default_warning_fractions: [ 0.6, 0.9 ]
  live { hold_s: 90 }
)pb";

TEST(PolicyTest, ValidConfigHasNoProblems) {
  const std::vector<ConfigProblem> problems = ValidateSlaConfig(Parse(kValid));
  for (const ConfigProblem& p : problems) ADD_FAILURE() << p.field_path << ": " << p.message;
}

TEST(PolicyTest, PresetsAreValid) {
  for (const char* name : {"default", "uk-fca-disp", "none"}) {
    absl::StatusOr<v1::SlaConfig> preset = PresetConfig(name);
    ASSERT_TRUE(preset.ok()) << name << ": " << preset.status();
    preset->set_preset("none");
    for (const ConfigProblem& p : ValidateSlaConfig(*preset)) {
      ADD_FAILURE() << name << ": " << p.field_path << ": " << p.message;
    }
  }
  EXPECT_EQ(PresetConfig("iso-10002").status().code(), absl::StatusCode::kNotFound);
}

TEST(PolicyTest, Validation) {
  struct Case {
    std::string what;
    std::string extra;  // merged into kValid (Message::MergeFrom)
    std::string field_path;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"bad time zone", R"pb(calendars { name: "x" time_zone: "Europe/Atlantis" })pb",
       "calendars[2].time_zone", "unknown time zone"},
      {"warning fraction above 1",
       R"pb(policies {
              name: "p"
              milestones {
                kind: RESOLVE
                business_time: "1h"
                warning_fractions: [ 0.5, 1.2 ]
              }
            })pb",
       "policies[2].milestones[0].warning_fractions[1]", "1.2 is outside (0, 1)"},
      {"warning fraction zero", R"pb(default_warning_fractions: 0)pb",
       "default_warning_fractions[2]", "outside (0, 1)"},
      {"fractions not increasing", R"pb(live { warning_fractions: [ 0.7, 0.6 ] })pb",
       "live.warning_fractions[1]", "greater than the one before"},
      {"unknown calendar on a milestone",
       R"pb(policies {
              name: "p"
              milestones { kind: RESOLVE business_time: "1h" calendar: "paris" }
            })pb",
       "policies[2].milestones[0].calendar", "unknown calendar \"paris\""},
      {"unknown calendar on a policy", R"pb(policies { name: "p" calendar: "paris" })pb",
       "policies[2].calendar", "unknown calendar"},
      {"malformed holiday", R"pb(calendars {
                                   name: "x"
                                   holidays: [ "2026-01-01", "2026-13-01" ]
                                 })pb",
       "calendars[2].holidays[1]", "not a valid YYYY-MM-DD date"},
      {"impossible holiday date", R"pb(calendars { name: "x" holidays: "2027-02-29" })pb",
       "calendars[2].holidays[0]", "not a valid"},
      {"overlapping hours",
       R"pb(calendars {
              name: "x"
              hours {
                days: [ MONDAY, TUESDAY ]
                open: "09:00"
                close: "17:00"
              }
              hours { days: TUESDAY open: "12:00" close: "20:00" }
            })pb",
       "calendars[2].hours[1]", "overlaps hours[0]"},
      {"overnight hours overlap the next morning",
       R"pb(calendars {
              name: "x"
              hours { days: SUNDAY open: "20:00" close: "08:00" }
              hours { days: MONDAY open: "07:00" close: "12:00" }
            })pb",
       "calendars[2].hours", "overlaps"},
      {"bad opening time", R"pb(calendars {
                                  name: "x"
                                  hours { days: MONDAY open: "25:00" }
                                })pb",
       "calendars[2].hours[0].open", "not HH:MM"},
      {"no weekday", R"pb(calendars {
                            name: "x"
                            hours { open: "08:00" }
                          })pb",
       "calendars[2].hours[0].days", "at least one"},
      {"duplicate calendar", R"pb(calendars { name: "london" })pb", "calendars[2].name",
       "defined twice"},
      {"reserved calendar name", R"pb(calendars { name: "24x7" })pb", "calendars[2].name",
       "reserved"},
      {"no target", R"pb(policies {
                           name: "p"
                           milestones { kind: RESOLVE }
                         })pb",
       "policies[2].milestones[0]", "no target"},
      {"no kind", R"pb(policies {
                         name: "p"
                         milestones { business_days: 1 }
                       })pb",
       "policies[2].milestones[0].kind", "kind is not set"},
      {"bad duration", R"pb(policies {
                              name: "p"
                              milestones { kind: RESOLVE business_time: "2 days" }
                            })pb",
       "policies[2].milestones[0].business_time", "not a positive duration"},
      {"zero business days", R"pb(policies {
                                    name: "p"
                                    milestones { kind: RESOLVE business_days: 0 }
                                  })pb",
       "policies[2].milestones[0].business_days", "at least 1"},
      {"duplicate milestone names",
       R"pb(policies {
              name: "p"
              milestones { kind: RESOLVE business_days: 1 }
              milestones { kind: RESOLVE business_days: 2 }
            })pb",
       "policies[2].milestones[1].name", "appears twice"},
      {"ladder out of order",
       R"pb(policies {
              name: "p"
              milestones {
                kind: RESOLVE
                business_days: 1
                ladder { name: "manager" after: "2h" }
                ladder { name: "director" after: "1h" }
              }
            })pb",
       "policies[2].milestones[0].ladder[1].after", "earlier than the rung before"},
      {"ladder rung without name", R"pb(policies {
                                          name: "p"
                                          milestones {
                                            kind: RESOLVE
                                            business_days: 1
                                            ladder {}
                                          }
                                        })pb",
       "policies[2].milestones[0].ladder[0].name", "empty"},
      {"duplicate policy", R"pb(policies { name: "vip-critical" })pb", "policies[2].name",
       "defined twice"},
      {"unspecified severity", R"pb(policies { name: "p" severities: SEVERITY_UNSPECIFIED })pb",
       "policies[2].severities[0]", "unspecified"},
      {"unknown preset", R"pb(preset: "iso-10002")pb", "preset", "unknown preset"},
      {"zero live threshold", R"pb(live { queue_wait_threshold_s: 0 })pb",
       "live.queue_wait_threshold_s", "at least 1 second"},
  };
  for (const Case& c : cases) {
    v1::SlaConfig config = Parse(kValid);
    config.MergeFrom(Parse(c.extra));
    const std::vector<ConfigProblem> problems = ValidateSlaConfig(config);
    bool found = false;
    for (const ConfigProblem& p : problems) {
      if (p.field_path.rfind(c.field_path, 0) == 0 &&
          p.message.find(c.message_part) != std::string::npos) {
        found = true;
      }
    }
    EXPECT_TRUE(found) << c.what << ": expected " << c.field_path << " \"" << c.message_part
                       << "\", got " << problems.size() << " problem(s)"
                       << (problems.empty()
                               ? std::string()
                               : ", first " + problems[0].field_path + ": " + problems[0].message);
    EXPECT_EQ(SlaPolicies::Create(config).status().code(), absl::StatusCode::kInvalidArgument)
        << c.what;
  }
}

TEST(PolicyTest, PolicyForMatchesInOrderThenPreset) {
  v1::SlaConfig config = Parse(kValid);
  config.set_preset("default");
  absl::StatusOr<SlaPolicies> policies = SlaPolicies::Create(config);
  ASSERT_TRUE(policies.ok()) << policies.status();
  struct Case {
    v1::Severity severity;
    v1::Channel channel;
    std::string policy;
  };
  const std::vector<Case> cases = {
      {v1::CRITICAL, v1::VOICE, "vip-critical"},
      {v1::CRITICAL, v1::CHAT, "vip-critical"},
      {v1::CRITICAL, v1::EMAIL, "everything-else"},
      {v1::LOW, v1::SOCIAL, "everything-else"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(policies->PolicyFor(c.severity, c.channel).name, c.policy)
        << v1::Severity_Name(c.severity) << " " << v1::Channel_Name(c.channel);
  }

  v1::SlaConfig only_vip = Parse(kValid);
  only_vip.mutable_policies()->RemoveLast();
  only_vip.set_preset("default");
  policies = SlaPolicies::Create(only_vip);
  ASSERT_TRUE(policies.ok()) << policies.status();
  EXPECT_EQ(policies->PolicyFor(v1::CRITICAL, v1::EMAIL).name, "default-critical");
  EXPECT_EQ(policies->PolicyFor(v1::LOW, v1::EMAIL).name, "default-low");

  only_vip.set_preset("none");
  policies = SlaPolicies::Create(only_vip);
  ASSERT_TRUE(policies.ok()) << policies.status();
  EXPECT_EQ(policies->PolicyFor(v1::LOW, v1::EMAIL).name, "none");
  EXPECT_TRUE(policies->PolicyFor(v1::LOW, v1::EMAIL).milestones.empty());
}

TEST(PolicyTest, ResolvesMilestoneSpecs) {
  absl::StatusOr<SlaPolicies> policies = SlaPolicies::Create(Parse(kValid));
  ASSERT_TRUE(policies.ok()) << policies.status();
  const Policy& vip = policies->PolicyFor(v1::CRITICAL, v1::VOICE);
  ASSERT_EQ(vip.milestones.size(), 2u);
  const MilestoneSpec& ack = vip.milestones[0];
  EXPECT_EQ(ack.name, "acknowledge");
  EXPECT_EQ(ack.kind, MilestoneKind::kAcknowledge);
  EXPECT_EQ(ack.target_kind, TargetKind::kBusinessTime);
  EXPECT_EQ(ack.target_ms, kHour / 2);
  EXPECT_EQ(ack.warning_fractions, (std::vector<double>{0.5, 0.8}));
  ASSERT_EQ(ack.ladder.size(), 2u);
  EXPECT_EQ(ack.ladder[1].name, "manager");
  EXPECT_EQ(ack.ladder[1].after_ms, kHour);
  EXPECT_EQ(policies->CalendarOf(ack).name(), "london");
  EXPECT_EQ(policies->CalendarOf(ack).time_zone().name(), "Europe/London");

  const MilestoneSpec& resolve = vip.milestones[1];
  EXPECT_EQ(resolve.target_kind, TargetKind::kCalendarDays);
  EXPECT_EQ(resolve.target_days, 56);
  EXPECT_FALSE(resolve.CountsBusinessTime());
  EXPECT_EQ(policies->CalendarOf(resolve).name(), "nights");
  EXPECT_EQ(resolve.warning_fractions, (std::vector<double>{0.6, 0.9})) << "config default";

  const Policy& rest = policies->PolicyFor(v1::LOW, v1::EMAIL);
  EXPECT_TRUE(rest.milestones[0].warning_fractions.empty()) << "warn: false";
  EXPECT_EQ(policies->CalendarOf(rest.milestones[0]).name(), "24x7");
  const MilestoneSpec* update = rest.Find("update");
  ASSERT_NE(update, nullptr);
  EXPECT_TRUE(update->recurring);
  EXPECT_EQ(update->target_ms, 48 * kHour);
  EXPECT_EQ(rest.OfKind(MilestoneKind::kKeepInformed).size(), 1u);
  EXPECT_EQ(rest.Find("acknowledge"), nullptr);

  EXPECT_EQ(policies->live().hold_s(), 90u);
  EXPECT_EQ(policies->live().queue_wait_threshold_s(), 20u);
}

TEST(PolicyTest, DefaultWarningFractionsAreHalfThreeQuartersNineTenths) {
  v1::SlaConfig config;
  absl::StatusOr<SlaPolicies> policies = SlaPolicies::Create(config);
  ASSERT_TRUE(policies.ok()) << policies.status();
  EXPECT_EQ(policies->default_warning_fractions(), (std::vector<double>{0.5, 0.75, 0.9}));
  EXPECT_EQ(policies->PolicyFor(v1::HIGH, v1::VOICE).name, "default-high");
  EXPECT_EQ(policies->PolicyFor(v1::HIGH, v1::VOICE).milestones[0].warning_fractions,
            (std::vector<double>{0.5, 0.75, 0.9}));
}

TEST(PolicyTest, ConfiguredCalendarReplacesPresetCalendar) {
  absl::StatusOr<SlaPolicies> policies = SlaPolicies::Create(Parse(R"pb(
    calendars {
      name: "business"
      time_zone: "Australia/Sydney"
      hours {
        days: [ MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY ]
        open: "08:00"
        close: "18:00"
      }
    }
  )pb"));
  ASSERT_TRUE(policies.ok()) << policies.status();
  const MilestoneSpec& ack = policies->PolicyFor(v1::MEDIUM, v1::CHAT).milestones[0];
  EXPECT_EQ(policies->CalendarOf(ack).time_zone().name(), "Australia/Sydney");
}

TEST(PolicyTest, LiveSpecs) {
  absl::StatusOr<SlaPolicies> policies = SlaPolicies::Create(Parse(kValid));
  ASSERT_TRUE(policies.ok()) << policies.status();
  struct Case {
    LiveClock clock;
    std::string name;
    int64_t target_ms;
  };
  const std::vector<Case> cases = {
      {LiveClock::kQueueWait, "queue_wait", 20 * 1000},
      {LiveClock::kChatFirstResponse, "chat_first_response", 60 * 1000},
      {LiveClock::kSocialFirstResponse, "social_first_response", 3600 * 1000},
      {LiveClock::kHold, "hold", 90 * 1000},
  };
  for (const Case& c : cases) {
    const MilestoneSpec& spec = policies->LiveSpec(c.clock);
    EXPECT_EQ(spec.name, c.name);
    EXPECT_EQ(policies->FindLiveSpec(c.name), &spec);
    EXPECT_EQ(spec.kind, MilestoneKind::kLive);
    EXPECT_EQ(spec.target_kind, TargetKind::kCalendarTime) << c.name;
    EXPECT_EQ(spec.target_ms, c.target_ms) << c.name;
    EXPECT_EQ(spec.warning_fractions, (std::vector<double>{0.6, 0.9})) << c.name;
    EXPECT_FALSE(spec.pausable) << c.name;
    EXPECT_EQ(policies->CalendarOf(spec).name(), "24x7") << c.name;
  }
  EXPECT_EQ(policies->FindLiveSpec("lunch_break"), nullptr);
  v1::SlaConfig config = Parse(kValid);
  config.mutable_live()->add_warning_fractions(0.8);
  policies = SlaPolicies::Create(config);
  ASSERT_TRUE(policies.ok()) << policies.status();
  EXPECT_EQ(policies->LiveSpec(LiveClock::kHold).warning_fractions, (std::vector<double>{0.8}));

  config.mutable_live()->set_warn(false);
  policies = SlaPolicies::Create(config);
  ASSERT_TRUE(policies.ok()) << policies.status();
  for (const Case& c : cases) {
    EXPECT_TRUE(policies->LiveSpec(c.clock).warning_fractions.empty()) << c.name << ", warn: false";
  }
}

}  // namespace
}  // namespace ccstream::domain::sla
