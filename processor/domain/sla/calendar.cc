#include "processor/domain/sla/calendar.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ccstream::domain::sla {
namespace {

constexpr int kMinutesPerDay = 24 * 60;
constexpr int kMinutesPerWeek = 7 * kMinutesPerDay;
// How far the calendar searches for open time or a business day before giving up (20 years):
// only reached by a calendar whose every weekday is closed by holidays, which cannot happen
// with a finite holiday list, so it bounds loops rather than shaping results.
constexpr int kMaxSearchDays = 20 * 366;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
const absl::CivilDay kEpochDay(1970, 1, 1);

// Parses "HH:MM" into minutes; `max_minutes` is 1439 for opening times and 1440 for closing.
bool ParseTimeOfDay(const std::string& text, int max_minutes, int* minutes) {
  if (text.size() != 5 || text[2] != ':') return false;
  for (int i : {0, 1, 3, 4}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int mins = (text[3] - '0') * 10 + (text[4] - '0');
  if (mins > 59) return false;
  const int total = hours * 60 + mins;
  if (total > max_minutes) return false;
  *minutes = total;
  return true;
}

// Parses a strict "YYYY-MM-DD" date.
bool ParseDate(const std::string& text, absl::CivilDay* day) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  const int year = std::stoi(text.substr(0, 4));
  const int month = std::stoi(text.substr(5, 2));
  const int dom = std::stoi(text.substr(8, 2));
  const absl::CivilDay parsed(year, month, dom);
  if (parsed.year() != year || parsed.month() != month || parsed.day() != dom) return false;
  *day = parsed;
  return true;
}

// absl::Weekday (Monday = 0) of a configured weekday (MONDAY = 1).
int WeekdayIndex(v1::OpeningHours::Weekday day) { return static_cast<int>(day) - 1; }

const char* WeekdayName(int index) {
  static const char* const kNames[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                       "Friday", "Saturday", "Sunday"};
  return kNames[index];
}

int64_t ToMs(absl::Time t) { return absl::ToUnixMillis(t); }

}  // namespace

std::vector<ConfigProblem> ValidateCalendarConfig(const v1::CalendarConfig& config) {
  std::vector<ConfigProblem> problems;
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(config.time_zone(), &zone)) {
    problems.push_back({"time_zone", absl::StrCat("unknown time zone \"", config.time_zone(),
                                                  "\"; use an IANA name such as Europe/London")});
  }
  // Weekly segments in minutes from Monday 00:00, with the interval that produced them.
  struct Segment {
    int begin;
    int end;
    int hours_index;
  };
  std::vector<Segment> segments;
  for (int i = 0; i < config.hours_size(); ++i) {
    const v1::OpeningHours& hours = config.hours(i);
    const std::string path = absl::StrCat("hours[", i, "]");
    int open = 0;
    int close = 0;
    const bool open_ok = ParseTimeOfDay(hours.open(), kMinutesPerDay - 1, &open);
    const bool close_ok = ParseTimeOfDay(hours.close(), kMinutesPerDay, &close);
    if (!open_ok) {
      problems.push_back({path + ".open", absl::StrCat("opening time \"", hours.open(),
                                                       "\" is not HH:MM between 00:00 and 23:59")});
    }
    if (!close_ok) {
      problems.push_back(
          {path + ".close", absl::StrCat("closing time \"", hours.close(),
                                         "\" is not HH:MM between 00:00 and 24:00")});
    }
    if (hours.days_size() == 0) {
      problems.push_back({path + ".days", "no weekday given; list at least one"});
    }
    for (int d = 0; d < hours.days_size(); ++d) {
      if (hours.days(d) == v1::OpeningHours::WEEKDAY_UNSPECIFIED) {
        problems.push_back(
            {absl::StrCat(path, ".days[", d, "]"), "weekday is unspecified; use MONDAY to SUNDAY"});
        continue;
      }
      if (!open_ok || !close_ok) continue;
      const int length = close > open ? close - open : close + kMinutesPerDay - open;
      const int begin = WeekdayIndex(hours.days(d)) * kMinutesPerDay + open;
      const int end = begin + length;
      if (end <= kMinutesPerWeek) {
        segments.push_back({begin, end, i});
      } else {
        segments.push_back({begin, kMinutesPerWeek, i});
        segments.push_back({0, end - kMinutesPerWeek, i});
      }
    }
  }
  std::sort(segments.begin(), segments.end(),
            [](const Segment& a, const Segment& b) { return a.begin < b.begin; });
  for (size_t s = 1; s < segments.size(); ++s) {
    if (segments[s].begin < segments[s - 1].end) {
      const int at = segments[s].begin;
      problems.push_back(
          {absl::StrCat("hours[", segments[s].hours_index, "]"),
           absl::StrCat("overlaps hours[", segments[s - 1].hours_index, "] on ",
                        WeekdayName(at / kMinutesPerDay), "; opening intervals must not overlap")});
    }
  }
  for (int i = 0; i < config.holidays_size(); ++i) {
    absl::CivilDay day;
    if (!ParseDate(config.holidays(i), &day)) {
      problems.push_back(
          {absl::StrCat("holidays[", i, "]"),
           absl::StrCat("holiday \"", config.holidays(i), "\" is not a valid YYYY-MM-DD date")});
    }
  }
  return problems;
}

absl::StatusOr<BusinessCalendar> BusinessCalendar::Create(const v1::CalendarConfig& config) {
  const std::vector<ConfigProblem> problems = ValidateCalendarConfig(config);
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calendar \"", config.name(),
        "\": ", absl::StrJoin(problems, "; ", [](std::string* out, const ConfigProblem& p) {
          absl::StrAppend(out, p.field_path, ": ", p.message);
        })));
  }
  BusinessCalendar cal;
  cal.name_ = config.name();
  absl::LoadTimeZone(config.time_zone(), &cal.zone_);
  for (const v1::OpeningHours& hours : config.hours()) {
    int open = 0;
    int close = 0;
    ParseTimeOfDay(hours.open(), kMinutesPerDay - 1, &open);
    ParseTimeOfDay(hours.close(), kMinutesPerDay, &close);
    if (close <= open) close += kMinutesPerDay;
    for (int d : hours.days()) {
      cal.weekly_[WeekdayIndex(static_cast<v1::OpeningHours::Weekday>(d))].push_back({open, close});
    }
  }
  if (config.hours_size() == 0) {
    for (auto& day : cal.weekly_) day.push_back({0, kMinutesPerDay});
  }
  for (auto& day : cal.weekly_) {
    std::sort(day.begin(), day.end(),
              [](const Interval& a, const Interval& b) { return a.open_min < b.open_min; });
  }
  for (const std::string& holiday : config.holidays()) {
    absl::CivilDay day;
    ParseDate(holiday, &day);
    cal.holidays_.insert(day - kEpochDay);
  }
  cal.always_open_ = config.hours_size() == 0 && config.holidays_size() == 0;
  return cal;
}

BusinessCalendar BusinessCalendar::AlwaysOpen() {
  BusinessCalendar cal;
  cal.name_ = "24x7";
  for (auto& day : cal.weekly_) day.push_back({0, kMinutesPerDay});
  cal.always_open_ = true;
  return cal;
}

absl::CivilDay BusinessCalendar::LocalDay(int64_t t_ms) const {
  return absl::ToCivilDay(absl::FromUnixMillis(t_ms), zone_);
}

bool BusinessCalendar::IsBusinessDay(absl::CivilDay day) const {
  if (holidays_.contains(day - kEpochDay)) return false;
  return !weekly_[static_cast<int>(absl::GetWeekday(day))].empty();
}

std::vector<BusinessCalendar::Span> BusinessCalendar::SpansOf(absl::CivilDay day) const {
  std::vector<Span> spans;
  if (!IsBusinessDay(day)) return spans;
  const absl::CivilSecond midnight(day);
  for (const Interval& interval : weekly_[static_cast<int>(absl::GetWeekday(day))]) {
    // `pre` maps a local time skipped by a daylight-saving change to the instant it would
    // have had under the earlier offset, and a repeated local time to its first occurrence.
    const int64_t open = ToMs(zone_.At(midnight + interval.open_min * 60).pre);
    const int64_t close = ToMs(zone_.At(midnight + interval.close_min * 60).pre);
    if (close > open) spans.push_back({open, close});
  }
  return spans;
}

absl::CivilDay BusinessCalendar::NextBusinessDay(absl::CivilDay day) const {
  for (int i = 0; i < kMaxSearchDays; ++i) {
    if (IsBusinessDay(day + i)) return day + i;
  }
  return day;
}

bool BusinessCalendar::IsOpen(int64_t t_ms) const {
  if (always_open_) return true;
  const absl::CivilDay day = LocalDay(t_ms);
  for (const absl::CivilDay d : {day - 1, day}) {
    for (const Span& span : SpansOf(d)) {
      if (span.open_ms <= t_ms && t_ms < span.close_ms) return true;
    }
  }
  return false;
}

int64_t BusinessCalendar::AddBusinessTime(int64_t start_ms, int64_t business_ms) const {
  if (business_ms <= 0) return start_ms;
  if (always_open_) {
    return start_ms > kNever - business_ms ? kNever : start_ms + business_ms;
  }
  int64_t remaining = business_ms;
  absl::CivilDay day = LocalDay(start_ms) - 1;
  for (int i = 0; i < kMaxSearchDays; ++i, ++day) {
    for (const Span& span : SpansOf(day)) {
      if (span.close_ms <= start_ms) continue;
      const int64_t from = std::max(span.open_ms, start_ms);
      const int64_t available = span.close_ms - from;
      if (remaining <= available) return from + remaining;
      remaining -= available;
    }
  }
  return kNever;
}

int64_t BusinessCalendar::BusinessTimeBetween(int64_t from_ms, int64_t to_ms) const {
  if (to_ms <= from_ms) return 0;
  if (always_open_) return to_ms - from_ms;
  int64_t total = 0;
  const absl::CivilDay last = LocalDay(to_ms);
  for (absl::CivilDay day = LocalDay(from_ms) - 1; day <= last; ++day) {
    for (const Span& span : SpansOf(day)) {
      const int64_t begin = std::max(span.open_ms, from_ms);
      const int64_t end = std::min(span.close_ms, to_ms);
      if (end > begin) total += end - begin;
    }
  }
  return total;
}

int64_t BusinessCalendar::CloseOfBusinessDay(int64_t start_ms, int n) const {
  absl::CivilDay day = NextBusinessDay(LocalDay(start_ms));
  for (int k = 0; k < n; ++k) day = NextBusinessDay(day + 1);
  const std::vector<Span> spans = SpansOf(day);
  if (spans.empty()) return kNever;
  return spans.back().close_ms;
}

int64_t BusinessCalendar::AddBusinessDays(int64_t start_ms, int n) const {
  if (n <= 0) return start_ms;
  const absl::CivilDay today = LocalDay(start_ms);
  // Find the business day whose opening hours `start_ms` falls in or before, and how much of
  // its open time had elapsed.
  absl::CivilDay base = today;
  int64_t elapsed = 0;
  bool found = false;
  for (const absl::CivilDay d : {today - 1, today}) {
    const std::vector<Span> spans = SpansOf(d);
    if (spans.empty() || start_ms >= spans.back().close_ms) continue;
    if (d < today && start_ms < spans.front().open_ms) continue;
    base = d;
    for (const Span& span : spans) {
      if (start_ms > span.open_ms) elapsed += std::min(start_ms, span.close_ms) - span.open_ms;
    }
    found = true;
    break;
  }
  if (!found) {
    base = NextBusinessDay(IsBusinessDay(today) ? today + 1 : today);
    elapsed = 0;
  }
  if (elapsed == 0) {
    absl::CivilDay day = base;
    for (int k = 1; k < n; ++k) day = NextBusinessDay(day + 1);
    const std::vector<Span> spans = SpansOf(day);
    return spans.empty() ? kNever : spans.back().close_ms;
  }
  absl::CivilDay day = base;
  for (int k = 0; k < n; ++k) day = NextBusinessDay(day + 1);
  const std::vector<Span> spans = SpansOf(day);
  if (spans.empty()) return kNever;
  int64_t remaining = elapsed;
  for (const Span& span : spans) {
    const int64_t length = span.close_ms - span.open_ms;
    if (remaining <= length) return span.open_ms + remaining;
    remaining -= length;
  }
  return spans.back().close_ms;
}

int64_t BusinessCalendar::AddCalendarDays(int64_t start_ms, int n) const {
  const absl::Time start = absl::FromUnixMillis(start_ms);
  const absl::CivilSecond local = absl::ToCivilSecond(start, zone_);
  const int64_t sub_second_ms = ((start_ms % 1000) + 1000) % 1000;
  const absl::CivilDay day = absl::CivilDay(local) + n;
  const absl::CivilSecond target(day.year(), day.month(), day.day(), local.hour(), local.minute(),
                                 local.second());
  return ToMs(zone_.At(target).pre) + sub_second_ms;
}

}  // namespace ccstream::domain::sla
