#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "processor/domain/config_problem.h"
#include "sla_config.pb.h"

namespace ccstream::domain::sla {

// Business hours in a real time zone (absl::TimeZone loaded from the system tz database when the
// calendar is built, at configuration time), weekly opening hours per weekday (several intervals
// per day, overnight intervals allowed) and holidays (local dates). An overnight interval belongs
// to the day it opens. Times are milliseconds since the Unix epoch.
//
// Built once from configuration and then read-only: an immutable value type, cheap enough to
// copy, safe to share between threads for concurrent reads.
class BusinessCalendar {
 public:
  // Loads the time zone and checks the hours and holidays. Fails with InvalidArgument on an
  // unknown time zone, a malformed time or date, or overlapping intervals.
  static absl::StatusOr<BusinessCalendar> Create(const v1::CalendarConfig& config);
  // 24x7, UTC, no holidays.
  static BusinessCalendar AlwaysOpen();

  const std::string& name() const { return name_; }
  const absl::TimeZone& time_zone() const { return zone_; }

  // Whether `t_ms` falls inside an opening interval (intervals are [open, close)).
  bool IsOpen(int64_t t_ms) const;
  // The instant at which `business_ms` of open time has elapsed after `start_ms` (the earliest
  // such instant; `start_ms` itself when business_ms <= 0).
  int64_t AddBusinessTime(int64_t start_ms, int64_t business_ms) const;
  // Open time between two instants (0 if to <= from).
  int64_t BusinessTimeBetween(int64_t from_ms, int64_t to_ms) const;
  // Close of business of the n-th business day after the local day of `start_ms`
  // (n = 0: close of the day itself if it is a business day, else of the next one).
  int64_t CloseOfBusinessDay(int64_t start_ms, int n) const;
  // The same point of the working day `n` business days later: if `start_ms` falls before the
  // first opening of its business day (or on a closed day), the close of the n-th business day
  // counting that day as the first; otherwise the instant at which the same open time has
  // elapsed on the n-th following business day (its close if that day is shorter).
  int64_t AddBusinessDays(int64_t start_ms, int n) const;
  // `start_ms` plus `n` civil days at the same local time in the calendar's time zone.
  int64_t AddCalendarDays(int64_t start_ms, int n) const;

  // Whether the local date is a business day (has opening hours and is not a holiday).
  bool IsBusinessDay(absl::CivilDay day) const;

 private:
  // One weekly interval in minutes from the start of its opening day; close may exceed 1440.
  struct Interval {
    int open_min;
    int close_min;
  };
  // An opening interval as instants, [open_ms, close_ms).
  struct Span {
    int64_t open_ms;
    int64_t close_ms;
  };

  BusinessCalendar() = default;
  // Opening spans of the local day `day` (those opening on it), in order.
  std::vector<Span> SpansOf(absl::CivilDay day) const;
  absl::CivilDay LocalDay(int64_t t_ms) const;
  // The first business day at or after `day` (`day` itself if none is found within the search
  // bound).
  absl::CivilDay NextBusinessDay(absl::CivilDay day) const;

  std::string name_;
  absl::TimeZone zone_ = absl::UTCTimeZone();
  bool always_open_ = true;
  // Indexed by absl::Weekday cast to int (Monday = 0 … Sunday = 6).
  std::array<std::vector<Interval>, 7> weekly_;
  // Holidays as days since 1970-01-01.
  absl::flat_hash_set<int64_t> holidays_;
};

// Every problem of one calendar (unknown time zone, malformed time or date, overlapping or empty
// intervals), with paths relative to CalendarConfig. Loads the time zone.
std::vector<ConfigProblem> ValidateCalendarConfig(const v1::CalendarConfig& config);

}  // namespace ccstream::domain::sla
