#pragma once

#include <algorithm>
#include <chrono>

namespace ccstream::runtime {

// The time over which something was sampled: the time between two samples, but at most `most`
// for any one gap. The pipeline measures how long an input partition has not read on with it
// (Pipeline::RecordLag), so that a gap in the sampling, while the pipeline's thread was held
// elsewhere (a commit waiting for the broker, a rebuild), is not held against a partition as
// time it could have read on and did not.
class SampledClock {
 public:
  using Duration = std::chrono::steady_clock::duration;

  explicit SampledClock(Duration most) : most_(most) {}

  // Takes a sample at `now`: the clock advances by the time since the last sample (nothing at
  // the first), at most `most`; returns its reading.
  Duration Sample(std::chrono::steady_clock::time_point now) {
    if (sampled_) elapsed_ += std::clamp<Duration>(now - last_, Duration::zero(), most_);
    sampled_ = true;
    last_ = now;
    return elapsed_;
  }
  // The reading at the last sample (zero before the first).
  Duration elapsed() const { return elapsed_; }

 private:
  Duration most_;
  Duration elapsed_ = Duration::zero();
  bool sampled_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace ccstream::runtime
