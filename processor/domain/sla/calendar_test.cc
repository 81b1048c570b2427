#include "processor/domain/sla/calendar.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "google/protobuf/text_format.h"

namespace ccstream::domain::sla {
namespace {

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kMinute = 60 * 1000;

// Builds a calendar from SlaConfig-style text, failing the test if it does not load.
BusinessCalendar MakeCalendar(const std::string& text) {
  v1::CalendarConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  absl::StatusOr<BusinessCalendar> cal = BusinessCalendar::Create(config);
  EXPECT_TRUE(cal.ok()) << cal.status();
  return cal.ok() ? *cal : BusinessCalendar::AlwaysOpen();
}

// Monday to Friday 09:00-17:00 in London with the 2026 Christmas bank holidays.
BusinessCalendar London() {
  return MakeCalendar(R"pb(
    name: "london"
    time_zone: "Europe/London"
    hours {
      days: [ MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY ]
      open: "09:00"
      close: "17:00"
    }
    holidays: [ "2026-12-25", "2026-12-28" ]
  )pb");
}

// Monday to Friday nights 22:00-06:00 UTC (each interval belongs to the day it opens).
BusinessCalendar Night() {
  return MakeCalendar(R"pb(
    name: "night"
    time_zone: "UTC"
    hours {
      days: [ MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY ]
      open: "22:00"
      close: "06:00"
    }
  )pb");
}

// Saturday nights 22:00-06:00 in London, spanning the daylight-saving changes.
BusinessCalendar LondonSaturdayNight() {
  return MakeCalendar(R"pb(
    name: "london-night"
    time_zone: "Europe/London"
    hours { days: SATURDAY open: "22:00" close: "06:00" }
  )pb");
}

BusinessCalendar NewYork() {
  return MakeCalendar(R"pb(
    name: "new-york"
    time_zone: "America/New_York"
    hours {
      days: [ MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY ]
      open: "09:00"
      close: "17:00"
    }
  )pb");
}

// Open every hour of every day, in a zone with daylight saving.
BusinessCalendar AllDay(const std::string& zone) {
  return MakeCalendar("name: \"all-day\" time_zone: \"" + zone +
                      "\" hours { days: [ MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, "
                      "SATURDAY, SUNDAY ] open: \"00:00\" close: \"24:00\" }");
}

// Milliseconds since the epoch of a local time in `zone` (times used here are unambiguous).
int64_t Local(const std::string& zone, int y, int mo, int d, int h, int mi = 0) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(zone, &tz)) << zone;
  return absl::ToUnixMillis(absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), tz));
}

int64_t Ldn(int y, int mo, int d, int h, int mi = 0) {
  return Local("Europe/London", y, mo, d, h, mi);
}
int64_t Utc(int y, int mo, int d, int h, int mi = 0) { return Local("UTC", y, mo, d, h, mi); }
int64_t Nyc(int y, int mo, int d, int h, int mi = 0) {
  return Local("America/New_York", y, mo, d, h, mi);
}

TEST(BusinessCalendarTest, IsOpen) {
  struct Case {
    std::string what;
    BusinessCalendar cal;
    int64_t t;
    bool open;
  };
  const std::vector<Case> cases = {
      {"weekday inside hours", London(), Ldn(2026, 12, 21, 10), true},
      {"opening instant is open", London(), Ldn(2026, 12, 21, 9), true},
      {"closing instant is closed", London(), Ldn(2026, 12, 21, 17), false},
      {"before opening", London(), Ldn(2026, 12, 21, 8, 59), false},
      {"saturday", London(), Ldn(2026, 12, 19, 12), false},
      {"holiday friday", London(), Ldn(2026, 12, 25, 12), false},
      {"substitute holiday monday", London(), Ldn(2026, 12, 28, 12), false},
      {"summer time hours are local", London(), Ldn(2026, 7, 1, 9, 30), true},
      {"summer 08:30 local (07:30 UTC) is closed", London(), Ldn(2026, 7, 1, 8, 30), false},
      {"overnight: monday evening", Night(), Utc(2026, 12, 21, 23), true},
      {"overnight: tuesday early morning belongs to monday", Night(), Utc(2026, 12, 22, 5), true},
      {"overnight: closes at 06:00", Night(), Utc(2026, 12, 22, 6), false},
      {"overnight: saturday early morning belongs to friday", Night(), Utc(2026, 12, 26, 3), true},
      {"overnight: monday early morning (sunday closed)", Night(), Utc(2026, 12, 21, 3), false},
      {"new york 09:30 EST", NewYork(), Nyc(2026, 1, 5, 9, 30), true},
      {"new york 08:30 EDT", NewYork(), Nyc(2026, 7, 6, 8, 30), false},
      {"always open", BusinessCalendar::AlwaysOpen(), Utc(2026, 12, 25, 3), true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.cal.IsOpen(c.t), c.open) << c.what;
  }
}

TEST(BusinessCalendarTest, AddBusinessTime) {
  struct Case {
    std::string what;
    BusinessCalendar cal;
    int64_t start;
    int64_t business_ms;
    int64_t expected;
  };
  const std::vector<Case> cases = {
      {"within the day", London(), Ldn(2026, 12, 21, 10), 2 * kHour, Ldn(2026, 12, 21, 12)},
      {"exactly to the close", London(), Ldn(2026, 12, 21, 9), 8 * kHour, Ldn(2026, 12, 21, 17)},
      {"over the weekend", London(), Ldn(2026, 12, 18, 15), 4 * kHour, Ldn(2026, 12, 21, 11)},
      {"start saturday", London(), Ldn(2026, 12, 19, 10), kHour, Ldn(2026, 12, 21, 10)},
      {"start before opening", London(), Ldn(2026, 12, 21, 7), kHour, Ldn(2026, 12, 21, 10)},
      {"start after closing", London(), Ldn(2026, 12, 21, 18), 30 * kMinute,
       Ldn(2026, 12, 22, 9, 30)},
      {"over christmas and the substitute boxing day", London(), Ldn(2026, 12, 24, 16), 2 * kHour,
       Ldn(2026, 12, 29, 10)},
      {"zero is the start itself", London(), Ldn(2026, 12, 19, 10), 0, Ldn(2026, 12, 19, 10)},
      {"spring forward: friday GMT to monday BST", London(), Ldn(2026, 3, 27, 16), 2 * kHour,
       Ldn(2026, 3, 30, 10)},
      {"fall back: friday BST to monday GMT", London(), Ldn(2026, 10, 23, 16), 2 * kHour,
       Ldn(2026, 10, 26, 10)},
      {"new york spring forward", NewYork(), Nyc(2026, 3, 6, 16), 2 * kHour, Nyc(2026, 3, 9, 10)},
      {"new york fall back", NewYork(), Nyc(2026, 10, 30, 16), 2 * kHour, Nyc(2026, 11, 2, 10)},
      {"overnight within the night", Night(), Utc(2026, 12, 21, 23), 3 * kHour,
       Utc(2026, 12, 22, 2)},
      {"start inside the interval opened the day before", Night(), Utc(2026, 12, 22, 2), 2 * kHour,
       Utc(2026, 12, 22, 4)},
      {"overnight to the saturday close", Night(), Utc(2026, 12, 25, 23), 7 * kHour,
       Utc(2026, 12, 26, 6)},
      {"overnight over the weekend", Night(), Utc(2026, 12, 25, 23), 8 * kHour,
       Utc(2026, 12, 28, 23)},
      {"all day across spring forward counts real time", AllDay("Europe/London"),
       Ldn(2026, 3, 28, 12), 24 * kHour, Ldn(2026, 3, 29, 13)},
      {"all day across fall back counts real time", AllDay("Europe/London"), Ldn(2026, 10, 24, 12),
       24 * kHour, Ldn(2026, 10, 25, 11)},
      {"always open", BusinessCalendar::AlwaysOpen(), Utc(2026, 12, 25, 3), 5 * kHour,
       Utc(2026, 12, 25, 8)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.cal.AddBusinessTime(c.start, c.business_ms), c.expected) << c.what;
  }
}

TEST(BusinessCalendarTest, BusinessTimeBetween) {
  struct Case {
    std::string what;
    BusinessCalendar cal;
    int64_t from;
    int64_t to;
    int64_t expected;
  };
  const std::vector<Case> cases = {
      {"one open day", London(), Ldn(2026, 12, 21, 0), Ldn(2026, 12, 22, 0), 8 * kHour},
      {"weekend is closed", London(), Ldn(2026, 12, 19, 0), Ldn(2026, 12, 21, 0), 0},
      {"friday 15:00 to tuesday 10:00 after christmas", London(), Ldn(2026, 12, 18, 15),
       Ldn(2026, 12, 29, 10), 35 * kHour},
      {"reversed is zero", London(), Ldn(2026, 12, 22, 0), Ldn(2026, 12, 21, 0), 0},
      {"london spring-forward day is 23 hours", AllDay("Europe/London"), Ldn(2026, 3, 29, 0),
       Ldn(2026, 3, 30, 0), 23 * kHour},
      {"london fall-back day is 25 hours", AllDay("Europe/London"), Ldn(2026, 10, 25, 0),
       Ldn(2026, 10, 26, 0), 25 * kHour},
      {"new york spring-forward day is 23 hours", AllDay("America/New_York"), Nyc(2026, 3, 8, 0),
       Nyc(2026, 3, 9, 0), 23 * kHour},
      {"new york fall-back day is 25 hours", AllDay("America/New_York"), Nyc(2026, 11, 1, 0),
       Nyc(2026, 11, 2, 0), 25 * kHour},
      {"overnight interval over spring forward is 7 hours", LondonSaturdayNight(),
       Ldn(2026, 3, 28, 12), Ldn(2026, 3, 29, 12), 7 * kHour},
      {"overnight interval over fall back is 9 hours", LondonSaturdayNight(), Ldn(2026, 10, 24, 12),
       Ldn(2026, 10, 25, 12), 9 * kHour},
      {"overnight, partial", Night(), Utc(2026, 12, 22, 4), Utc(2026, 12, 22, 23), 3 * kHour},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.cal.BusinessTimeBetween(c.from, c.to), c.expected) << c.what;
  }
}

TEST(BusinessCalendarTest, AddThenBetweenRoundTrips) {
  const BusinessCalendar cal = London();
  for (int64_t amount : {kMinute, 7 * kHour, 8 * kHour, 9 * kHour, 40 * kHour}) {
    const int64_t start = Ldn(2026, 12, 23, 11, 17);
    EXPECT_EQ(cal.BusinessTimeBetween(start, cal.AddBusinessTime(start, amount)), amount) << amount;
  }
}

TEST(BusinessCalendarTest, CloseOfBusinessDay) {
  struct Case {
    std::string what;
    int64_t start;
    int n;
    int64_t expected;
  };
  const std::vector<Case> cases = {
      {"friday, third business day following", Ldn(2026, 12, 18, 15), 3, Ldn(2026, 12, 23, 17)},
      {"tuesday, third business day over christmas", Ldn(2026, 12, 22, 10), 3,
       Ldn(2026, 12, 29, 17)},
      {"christmas eve, next business day", Ldn(2026, 12, 24, 10), 1, Ldn(2026, 12, 29, 17)},
      {"saturday before a holiday monday, n = 0", Ldn(2026, 12, 26, 10), 0, Ldn(2026, 12, 29, 17)},
      {"holiday itself, n = 0", Ldn(2026, 12, 25, 10), 0, Ldn(2026, 12, 29, 17)},
      {"business day after closing, n = 0 is the day itself", Ldn(2026, 12, 21, 18), 0,
       Ldn(2026, 12, 21, 17)},
      {"summer time close is 17:00 BST", Ldn(2026, 7, 3, 12), 1, Ldn(2026, 7, 6, 17)},
  };
  const BusinessCalendar cal = London();
  for (const Case& c : cases) {
    EXPECT_EQ(cal.CloseOfBusinessDay(c.start, c.n), c.expected) << c.what;
  }
  EXPECT_EQ(Night().CloseOfBusinessDay(Utc(2026, 12, 21, 12), 0), Utc(2026, 12, 22, 6))
      << "an overnight day closes on the next morning";
}

TEST(BusinessCalendarTest, AddBusinessDays) {
  struct Case {
    std::string what;
    BusinessCalendar cal;
    int64_t start;
    int n;
    int64_t expected;
  };
  const std::vector<Case> cases = {
      {"same time two days later", London(), Ldn(2026, 12, 21, 15), 2, Ldn(2026, 12, 23, 15)},
      {"before opening: close of the same day", London(), Ldn(2026, 12, 21, 8), 1,
       Ldn(2026, 12, 21, 17)},
      {"saturday: close of tuesday", London(), Ldn(2026, 12, 19, 10), 2, Ldn(2026, 12, 22, 17)},
      {"after closing: close of the second next day", London(), Ldn(2026, 12, 21, 18), 2,
       Ldn(2026, 12, 23, 17)},
      {"over christmas", London(), Ldn(2026, 12, 24, 15), 1, Ldn(2026, 12, 29, 15)},
      {"inside an overnight interval", Night(), Utc(2026, 12, 22, 2), 1, Utc(2026, 12, 23, 2)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.cal.AddBusinessDays(c.start, c.n), c.expected) << c.what;
  }
}

TEST(BusinessCalendarTest, AddCalendarDaysKeepsLocalTime) {
  const BusinessCalendar cal = London();
  EXPECT_EQ(cal.AddCalendarDays(Ldn(2026, 12, 18, 15), 56), Ldn(2027, 2, 12, 15));
  EXPECT_EQ(cal.AddCalendarDays(Ldn(2026, 3, 20, 12), 14), Ldn(2026, 4, 3, 12));
  EXPECT_EQ(cal.AddCalendarDays(Ldn(2026, 3, 20, 12), 14) - Ldn(2026, 3, 20, 12),
            14 * 24 * kHour - kHour)
      << "two weeks over spring forward are an hour short of 336 hours";
}

TEST(BusinessCalendarTest, IsBusinessDay) {
  const BusinessCalendar cal = London();
  EXPECT_TRUE(cal.IsBusinessDay(absl::CivilDay(2026, 12, 24)));
  EXPECT_FALSE(cal.IsBusinessDay(absl::CivilDay(2026, 12, 25)));
  EXPECT_FALSE(cal.IsBusinessDay(absl::CivilDay(2026, 12, 27)));
}

TEST(BusinessCalendarTest, CreateRefusesBadConfig) {
  struct Case {
    std::string what;
    std::string text;
  };
  const std::vector<Case> cases = {
      {"unknown zone", R"pb(name: "x" time_zone: "Mars/Olympus_Mons")pb"},
      {"bad opening time", R"pb(name: "x"
                                hours { days: MONDAY open: "9am" })pb"},
      {"bad holiday", R"pb(name: "x" holidays: "2026-02-30")pb"},
      {"overlap", R"pb(name: "x"
                       hours { days: MONDAY open: "09:00" close: "17:00" }
                       hours { days: MONDAY open: "16:00" close: "18:00" })pb"},
  };
  for (const Case& c : cases) {
    v1::CalendarConfig config;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(c.text, &config)) << c.what;
    EXPECT_EQ(BusinessCalendar::Create(config).status().code(), absl::StatusCode::kInvalidArgument)
        << c.what;
  }
}

}  // namespace
}  // namespace ccstream::domain::sla
