#include "state/task_store.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/perf_context.h"
#include "rocksdb/perf_level.h"

namespace ccstream::state {
namespace {

class TaskStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("task_store_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(TaskStoreTest, NewStoreHasNoOffsets) {
  auto store = TaskStore::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->offsets().input, -1);
  EXPECT_EQ((*store)->offsets().changelog, -1);
  auto missing = (*store)->Get(Family::kCases, "nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(TaskStoreTest, BatchAndOffsetsSurviveReopen) {
  {
    auto store = TaskStore::Open(dir_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)
                    ->Write({{Family::kCases, "case-1", "v1"},
                             {Family::kContacts, "contact-1", "c1"},
                             {Family::kCustomers, "cust", "x"}},
                            {41, 7})
                    .ok());
    ASSERT_TRUE((*store)->Write({{Family::kCustomers, "cust", std::nullopt}}, {42, 9}).ok());
  }
  auto store = TaskStore::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->offsets().input, 42);
  EXPECT_EQ((*store)->offsets().changelog, 9);
  EXPECT_EQ(*(*store)->Get(Family::kCases, "case-1").value(), "v1");
  EXPECT_EQ(*(*store)->Get(Family::kContacts, "contact-1").value(), "c1");
  EXPECT_FALSE((*store)->Get(Family::kCustomers, "cust").value().has_value());
  // Families are separate key spaces.
  EXPECT_FALSE((*store)->Get(Family::kContacts, "case-1").value().has_value());
}

// MultiGet answers each key of one family as Get does: present, deleted, absent, or present in
// another family only.
TEST_F(TaskStoreTest, MultiGetAnswersEachKeyOfAFamilyAsGetDoes) {
  auto store = TaskStore::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)
                  ->Write({{Family::kContacts, "a", "1"},
                           {Family::kContacts, "c", "3"},
                           {Family::kContacts, "d", "4"},
                           {Family::kCases, "b", "case"}},
                          {1, 1})
                  .ok());
  ASSERT_TRUE(
      (*store)
          ->Write({{Family::kContacts, "d", std::nullopt}, {Family::kContacts, "e", "5"}}, {2, 2})
          .ok());
  std::vector<std::optional<std::string>> values;
  ASSERT_TRUE((*store)->MultiGet(Family::kContacts, {"a", "b", "c", "d", "e"}, &values).ok());
  EXPECT_EQ(values,
            (std::vector<std::optional<std::string>>{"1", std::nullopt, "3", std::nullopt, "5"}));
  ASSERT_TRUE((*store)->MultiGet(Family::kCases, {}, &values).ok());
  EXPECT_TRUE(values.empty());
}

// A Get of a key the memtable does not hold is answered by the memtable's filter, without a
// search of its skip list, in each family read by key.
TEST_F(TaskStoreTest, TheMemtableFilterAnswersAbsentKeysOfTheKeyedFamilies) {
  auto store = TaskStore::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<Family> keyed = {Family::kContacts, Family::kCases, Family::kCustomers};
  std::vector<Mutation> written;
  for (Family family : keyed) {
    for (int i = 0; i < 100; ++i) written.push_back({family, "key-" + std::to_string(i), "v"});
  }
  ASSERT_TRUE((*store)->Write(written, {1, 1}).ok());
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  for (Family family : keyed) {
    // Among the written keys in order, absent.
    auto absent = (*store)->Get(family, "key-50a");
    ASSERT_TRUE(absent.ok());
    EXPECT_FALSE(absent->has_value());
    auto present = (*store)->Get(family, "key-50");
    ASSERT_TRUE(present.ok());
    EXPECT_EQ(present->value_or(""), "v");
  }
  const uint64_t filtered = rocksdb::get_perf_context()->bloom_memtable_miss_count;
  const uint64_t passed = rocksdb::get_perf_context()->bloom_memtable_hit_count;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  EXPECT_EQ(filtered, keyed.size());  // each absent key
  EXPECT_GE(passed, keyed.size());    // each present key
}

TEST(StoreMemoryTest, TheMemtablesAreOverBudgetOnlyPastTheirShare) {
  StoreMemory memory;
  memory.memtables_budget = 100;
  memory.memtables = 100;
  EXPECT_FALSE(memory.memtables_over_budget());
  memory.memtables = 101;
  EXPECT_TRUE(memory.memtables_over_budget());
  memory.memtables_budget = 0;  // no store opened yet
  EXPECT_FALSE(memory.memtables_over_budget());
}

TEST_F(TaskStoreTest, MemoryCountsTheMemtablesTheCacheAndTheTableReaders) {
  TaskStoreOptions options;
  options.write_buffer_bytes = 64u << 10;  // small memtables: the writes below flush to files
  auto store = TaskStore::Open(dir_, options);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::string value(1000, 'v');
  // A batch goes into one memtable; a full memtable is switched for a new one (and flushed) at
  // the next write: twenty batches of 50 KB.
  for (int b = 0; b < 20; ++b) {
    std::vector<Mutation> batch;
    for (int i = 0; i < 50; ++i) {
      batch.push_back({Family::kContacts, "contact-" + std::to_string(b * 50 + i), value});
    }
    ASSERT_TRUE((*store)->Write(batch, {b + 1, -1}).ok());
  }
  const StoreMemory memory = SharedStoreMemory();
  EXPECT_GT(memory.memtables, 0);
  // The share of every test's first store (the defaults), which ~1 MB of writes stays within.
  EXPECT_EQ(memory.memtables_budget, int64_t{96} << 20);
  EXPECT_FALSE(memory.memtables_over_budget());
  EXPECT_GE(memory.block_cache, memory.memtables);  // the memtables are charged to the cache
  EXPECT_EQ(memory.table_readers, 0);               // left to the caller, per store
  // ~1 MB through 64 KiB memtables: flushed to table files, whose readers hold index and filter
  // blocks (the flushes run in the background).
  int64_t readers = 0;
  for (int i = 0; i < 200 && readers == 0; ++i) {
    readers = (*store)->TableReadersBytes();
    if (readers == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(readers, 0);
}

TEST_F(TaskStoreTest, TimerKeysSortByDueThenId) {
  auto store = TaskStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  const std::vector<std::pair<int64_t, std::string>> timers = {{1'700'000'000'500, "b"},
                                                               {1'700'000'000'000, "z"},
                                                               {-5, "neg"},
                                                               {1'700'000'000'500, "a"},
                                                               {0, "zero"}};
  std::vector<Mutation> batch;
  batch.reserve(timers.size());
  for (const auto& [due, id] : timers) batch.push_back({Family::kTimers, TimerKey(due, id), id});
  ASSERT_TRUE((*store)->Write(batch, {1, 1}).ok());
  std::vector<std::pair<int64_t, std::string>> seen;
  ASSERT_TRUE((*store)
                  ->Scan(Family::kTimers, "",
                         [&](std::string_view key, std::string_view value) {
                           seen.emplace_back(TimerKeyDue(key), std::string(value));
                           return true;
                         })
                  .ok());
  const std::vector<std::pair<int64_t, std::string>> want = {{-5, "neg"},
                                                             {0, "zero"},
                                                             {1'700'000'000'000, "z"},
                                                             {1'700'000'000'500, "a"},
                                                             {1'700'000'000'500, "b"}};
  EXPECT_EQ(seen, want);
  // A scan from a due time starts there and can stop early.
  seen.clear();
  ASSERT_TRUE((*store)
                  ->Scan(Family::kTimers, TimerKey(1, ""),
                         [&](std::string_view key, std::string_view value) {
                           seen.emplace_back(TimerKeyDue(key), std::string(value));
                           return seen.size() < 2;
                         })
                  .ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].second, "z");
  EXPECT_EQ(seen[1].second, "a");
}

TEST_F(TaskStoreTest, ScanOfASnapshotSeesTheStoreAsItWasWhenTaken) {
  auto store = TaskStore::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE(
      (*store)->Write({{Family::kCases, "a", "1"}, {Family::kCases, "b", "1"}}, {1, 1}).ok());
  std::unique_ptr<TaskStore::Snapshot> snapshot = (*store)->TakeSnapshot();
  ASSERT_TRUE((*store)
                  ->Write({{Family::kCases, "a", "2"},
                           {Family::kCases, "b", std::nullopt},
                           {Family::kCases, "c", "2"}},
                          {2, 2})
                  .ok());
  auto scan = [&](const TaskStore::Snapshot* at) {
    std::map<std::string, std::string> seen;
    EXPECT_TRUE((*store)
                    ->Scan(
                        Family::kCases, "",
                        [&](std::string_view key, std::string_view value) {
                          seen.emplace(key, value);
                          return true;
                        },
                        at)
                    .ok());
    return seen;
  };
  EXPECT_EQ(scan(snapshot.get()), (std::map<std::string, std::string>{{"a", "1"}, {"b", "1"}}));
  EXPECT_EQ(scan(nullptr), (std::map<std::string, std::string>{{"a", "2"}, {"c", "2"}}));
  snapshot.reset();  // released before the store closes
  EXPECT_EQ(scan(nullptr).size(), 2u);
}

TEST_F(TaskStoreTest, ClearRemovesDataButKeepsOffsets) {
  auto store = TaskStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(
      (*store)->Write({{Family::kCases, "k", "v"}, {Family::kTimers, "t", "v"}}, {5, 6}).ok());
  ASSERT_TRUE((*store)->Clear().ok());
  EXPECT_FALSE((*store)->Get(Family::kCases, "k").value().has_value());
  EXPECT_FALSE((*store)->Get(Family::kTimers, "t").value().has_value());
  EXPECT_EQ((*store)->offsets().input, 5);
}

// Sets a key of a closed store's meta family behind TaskStore's back, as another build would.
void PutMeta(const std::string& dir, const std::string& key, const std::string& value) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()}};
  for (int f = 0; f < kFamilyCount; ++f) {
    descriptors.emplace_back(std::string(FamilyName(static_cast<Family>(f))),
                             rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir, descriptors, &handles, &db).ok());
  EXPECT_TRUE(
      db->Put(rocksdb::WriteOptions(), handles[static_cast<int>(Family::kMeta) + 1], key, value)
          .ok());
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
}

// Every batch records the changelog format the store's records follow; a store of a later
// format (a build rolled back past a change of it) is refused with what to do, not misread.
TEST_F(TaskStoreTest, AStoreOfALaterChangelogFormatIsRefused) {
  {
    auto store = TaskStore::Open(dir_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Write({{Family::kCases, "k", "v"}}, {5, 6}).ok());
    auto format = (*store)->Get(Family::kMeta, "changelog_format");
    ASSERT_TRUE(format.ok() && format->has_value());
    EXPECT_EQ(**format, std::to_string(kChangelogFormat));
  }
  ASSERT_TRUE(TaskStore::Open(dir_).ok());

  PutMeta(dir_, "changelog_format", std::to_string(kChangelogFormat + 1));
  auto later = TaskStore::Open(dir_);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.status().code(), absl::StatusCode::kFailedPrecondition) << later.status();
  EXPECT_NE(later.status().message().find(dir_), std::string::npos) << later.status();
  EXPECT_NE(later.status().message().find("changelog format " +
                                          std::to_string(kChangelogFormat + 1) + " by a later"),
            std::string::npos)
      << later.status();

  PutMeta(dir_, "changelog_format", "1");  // an earlier format: read as it is
  EXPECT_TRUE(TaskStore::Open(dir_).ok());
  PutMeta(dir_, "changelog_format", "two");
  EXPECT_EQ(TaskStore::Open(dir_).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(TaskStoreTest, OpeningAPathThatIsAFileFailsWithItsName) {
  std::filesystem::create_directories(std::filesystem::path(dir_).parent_path());
  { std::ofstream(dir_) << "not a directory"; }
  auto store = TaskStore::Open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(dir_), std::string::npos) << store.status();
  std::filesystem::remove(dir_);
}

}  // namespace
}  // namespace ccstream::state
