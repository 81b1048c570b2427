#include "processor/runtime/sampled_clock.h"

#include <chrono>

#include "gtest/gtest.h"

namespace ccstream::runtime {
namespace {

using namespace std::chrono_literals;

TEST(SampledClockTest, AdvancesByTheTimeBetweenSamples) {
  SampledClock clock(2s);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(clock.elapsed(), 0s);
  EXPECT_EQ(clock.Sample(start), 0s) << "the first sample has nothing before it";
  EXPECT_EQ(clock.Sample(start + 1s), 1s);
  EXPECT_EQ(clock.Sample(start + 2500ms), 2500ms);
  EXPECT_EQ(clock.elapsed(), 2500ms);
}

TEST(SampledClockTest, AGapCountsAtMostItsMost) {
  SampledClock clock(2s);
  const auto start = std::chrono::steady_clock::now();
  clock.Sample(start);
  EXPECT_EQ(clock.Sample(start + 30s), 2s) << "a gap of 30 s in the sampling";
  EXPECT_EQ(clock.Sample(start + 31s), 3s);
  EXPECT_EQ(clock.Sample(start + 33s), 5s) << "a gap of exactly its most counts whole";
}

TEST(SampledClockTest, ASampleBeforeTheLastDoesNotGoBack) {
  SampledClock clock(2s);
  const auto start = std::chrono::steady_clock::now();
  clock.Sample(start + 1s);
  EXPECT_EQ(clock.Sample(start), 0s);
  EXPECT_EQ(clock.Sample(start + 1s), 1s);
}

}  // namespace
}  // namespace ccstream::runtime
