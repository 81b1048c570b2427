#include "processor/runtime/task_manager.h"

#include "gtest/gtest.h"

namespace ccstream::runtime {
namespace {

TEST(StoreOptionsTest, TheStateMemoryComesFromTheConfiguration) {
  v1::StateConfig config;
  config.set_block_cache_mib(96);
  config.set_write_buffers_mib(40);
  const state::TaskStoreOptions options = StoreOptions(config);
  EXPECT_EQ(options.block_cache_bytes, size_t{96} << 20);
  EXPECT_EQ(options.write_buffers_total_bytes, size_t{40} << 20);
  EXPECT_EQ(options.write_buffer_bytes, state::TaskStoreOptions().write_buffer_bytes);
  EXPECT_FALSE(options.read_only);
}

TEST(StoreOptionsTest, TheDefaultsAreTheStoresOwn) {
  const state::TaskStoreOptions options = StoreOptions(v1::StateConfig());
  EXPECT_EQ(options.block_cache_bytes, state::TaskStoreOptions().block_cache_bytes);
  EXPECT_EQ(options.write_buffers_total_bytes, state::TaskStoreOptions().write_buffers_total_bytes);
}

}  // namespace
}  // namespace ccstream::runtime
