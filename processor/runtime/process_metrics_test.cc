#include "processor/runtime/process_metrics.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ccstream::runtime {
namespace {

// {name or name{kind}: value} of one collection.
std::map<std::string, double> Collected() {
  std::map<std::string, double> values;
  for (const prometheus::MetricFamily& family : ProcessCollector().Collect()) {
    for (const prometheus::ClientMetric& m : family.metric) {
      std::string key = family.name;
      for (const auto& label : m.label) key += "{" + label.value + "}";
      values[key] =
          family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return values;
}

double StatmResidentBytes() {
  std::ifstream in("/proc/self/statm");
  double size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

TEST(ProcessCollectorTest, ResidentMemoryFollowsTheProcess) {
  const double before = Collected()["process_resident_memory_bytes"];
  EXPECT_NEAR(before, StatmResidentBytes(), 8 << 20);
  constexpr size_t kBytes = 64 << 20;
  std::unique_ptr<char[]> block(new char[kBytes]);
  std::memset(block.get(), 1, kBytes);  // touched, so resident
  const auto after = Collected();
  EXPECT_GE(after.at("process_resident_memory_bytes") - before, 60 << 20);
  EXPECT_GE(after.at("process_virtual_memory_bytes"), after.at("process_resident_memory_bytes"));
  EXPECT_EQ(block[kBytes - 1], 1);
}

double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

TEST(ProcessCollectorTest, CpuSecondsCountTheWorkDone) {
  const double before = Collected()["process_cpu_seconds_total"];
  const double cpu_before = ProcessCpuSeconds();
  // Work until the process has used 300 ms of CPU, however busy the machine is.
  volatile uint64_t sink = 0;
  while (ProcessCpuSeconds() - cpu_before < 0.3) sink = sink + 1;
  const double after = Collected()["process_cpu_seconds_total"];
  const double used = ProcessCpuSeconds() - cpu_before;
  EXPECT_NEAR(after - before, used, 0.05);  // the kernel counts in ticks of 10 ms
}

TEST(ProcessCollectorTest, OpenFileDescriptorsAreCounted) {
  const double before = Collected()["process_open_fds"];
  const int a = open("/proc/self/stat", O_RDONLY);
  const int b = open("/proc/self/stat", O_RDONLY);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_EQ(Collected()["process_open_fds"], before + 2);
  close(a);
  close(b);
  EXPECT_EQ(Collected()["process_open_fds"], before);
  EXPECT_GT(Collected()["process_max_fds"], before);
}

TEST(ProcessCollectorTest, StartTimeIsWhenThisProcessStarted) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double start = Collected()["process_start_time_seconds"];
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 600);  // this test binary started moments ago
}

// This binary runs on glibc's malloc: no allocator statistics, and no family for them.
TEST(ProcessCollectorTest, WithoutJemallocThereAreNoAllocatorStatistics) {
  EXPECT_FALSE(ReadAllocatorStats().has_value());
  for (const auto& [key, value] : Collected()) {
    EXPECT_EQ(key.find("ccstream_allocator_bytes"), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace ccstream::runtime
