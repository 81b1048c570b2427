#pragma once

#include <cstdint>

namespace ccstream::testing {

// A clock the test moves by hand, in milliseconds since the Unix epoch. Owned by the test;
// not thread-safe.
class FakeClock {
 public:
  // 2026-01-05 09:00:00 UTC (a Monday), a convenient start inside business hours.
  static constexpr int64_t kDefaultStartMs = 1767603600000;

  explicit FakeClock(int64_t start_ms = kDefaultStartMs) : now_ms_(start_ms) {}

  int64_t NowMs() const { return now_ms_; }
  void Set(int64_t now_ms) { now_ms_ = now_ms; }
  // Moves forward and returns the new time.
  int64_t Advance(int64_t delta_ms) { return now_ms_ += delta_ms; }
  int64_t AdvanceSeconds(int64_t seconds) { return Advance(seconds * 1000); }

 private:
  int64_t now_ms_;
};

}  // namespace ccstream::testing
