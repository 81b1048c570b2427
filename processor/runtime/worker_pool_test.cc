#include "processor/runtime/worker_pool.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace ccstream::runtime {
namespace {

TEST(WorkerPoolTest, EachPartRunsOnceAndPartZeroOnTheCallersThread) {
  WorkerPool pool(3);
  ASSERT_EQ(pool.size(), 4);
  std::vector<std::atomic<int>> runs(4);
  std::vector<std::thread::id> threads(4);
  pool.Run(4, [&](int part) {
    ++runs[static_cast<size_t>(part)];
    threads[static_cast<size_t>(part)] = std::this_thread::get_id();
  });
  for (int part = 0; part < 4; ++part) EXPECT_EQ(runs[static_cast<size_t>(part)], 1) << part;
  EXPECT_EQ(threads[0], std::this_thread::get_id());
  // Each part on a thread of its own.
  EXPECT_EQ(std::set<std::thread::id>(threads.begin(), threads.end()).size(), 4u);
}

TEST(WorkerPoolTest, TheCallerWaitsForEveryPart) {
  WorkerPool pool(2);
  std::atomic<int> done{0};
  pool.Run(3, [&](int part) {
    if (part > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50 * part));
    ++done;
  });
  EXPECT_EQ(done.load(), 3);
}

TEST(WorkerPoolTest, FewerPartsThanThreadsAndManyJobsInARow) {
  WorkerPool pool(3);
  std::vector<int> runs(4, 0);  // each index written by one part only
  for (int job = 0; job < 20'000; ++job) {
    const int parts = 1 + job % 4;
    pool.Run(parts, [&](int part) { ++runs[static_cast<size_t>(part)]; });
  }
  // Part i runs in the jobs with more than i parts: 20,000 jobs cycling through 1..4 parts.
  EXPECT_EQ(runs[0], 20'000);
  EXPECT_EQ(runs[1], 15'000);
  EXPECT_EQ(runs[2], 10'000);
  EXPECT_EQ(runs[3], 5'000);
}

TEST(WorkerPoolTest, MorePartsThanThreadsRunsAsManyAsItHas) {
  WorkerPool pool(1);
  std::atomic<int> runs{0};
  std::mutex mu;
  std::set<int> parts;
  pool.Run(5, [&](int part) {
    ++runs;
    std::lock_guard lock(mu);
    parts.insert(part);
  });
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(parts, (std::set<int>{0, 1}));
}

TEST(WorkerPoolTest, WithoutHelpersEverythingRunsOnTheCaller) {
  WorkerPool pool(0);
  EXPECT_EQ(pool.size(), 1);
  std::thread::id ran_on;
  pool.Run(1, [&](int) { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace ccstream::runtime
