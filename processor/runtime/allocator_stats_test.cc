// Linked with jemalloc, as the service binary is.
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "processor/runtime/process_metrics.h"

namespace ccstream::runtime {
namespace {

TEST(AllocatorStatsTest, JemallocStatisticsFollowTheHeap) {
  const std::optional<AllocatorStats> before = ReadAllocatorStats();
  ASSERT_TRUE(before.has_value()) << "jemalloc's mallctl not found";
  EXPECT_GT(before->allocated, 0);
  EXPECT_GE(before->active, before->allocated);
  EXPECT_GE(before->resident, before->active);
  EXPECT_GT(before->metadata, 0);

  constexpr size_t kBytes = 64 << 20;
  std::unique_ptr<char[]> block(new char[kBytes]);
  std::memset(block.get(), 1, kBytes);
  const std::optional<AllocatorStats> held = ReadAllocatorStats();
  ASSERT_TRUE(held.has_value());
  EXPECT_GE(held->allocated - before->allocated, static_cast<int64_t>(kBytes));
  EXPECT_GE(held->resident - before->resident, static_cast<int64_t>(kBytes));

  block.reset();
  const std::optional<AllocatorStats> freed = ReadAllocatorStats();
  ASSERT_TRUE(freed.has_value());
  EXPECT_LE(freed->allocated, held->allocated - static_cast<int64_t>(kBytes));
}

TEST(AllocatorStatsTest, TheCollectorExposesEveryKind) {
  std::vector<std::string> kinds;
  for (const prometheus::MetricFamily& family : ProcessCollector().Collect()) {
    if (family.name != "ccstream_allocator_bytes") continue;
    EXPECT_EQ(family.type, prometheus::MetricType::Gauge);
    for (const prometheus::ClientMetric& m : family.metric) {
      ASSERT_EQ(m.label.size(), 1u);
      kinds.push_back(m.label[0].value);
      EXPECT_GT(m.gauge.value, 0) << m.label[0].value;
    }
  }
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"allocated", "active", "resident", "retained", "metadata"}));
}

}  // namespace
}  // namespace ccstream::runtime
