// One contract, two stores: the same cases run against the in-memory reference store of the
// tests and against the RocksDB task state (before and after its batch is committed and the
// store reopened).
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "gtest/gtest.h"
#include "state/task_state.h"
#include "tests/support/in_memory_store.h"

namespace ccstream::state {
namespace {

// A store under test with the two operations the contract needs beyond StateStore.
class Subject {
 public:
  virtual ~Subject() = default;
  virtual domain::StateStore& store() = 0;
  virtual std::vector<v1::Timer> Due(int64_t now_ms) = 0;
  // Makes what was written durable and reads it back from durable storage, where that applies.
  virtual void Persist() = 0;
};

class MemorySubject : public Subject {
 public:
  domain::StateStore& store() override { return store_; }
  std::vector<v1::Timer> Due(int64_t now_ms) override { return store_.DueTimers(now_ms); }
  void Persist() override {}

 private:
  testing::InMemoryStore store_;
};

class RocksSubject : public Subject {
 public:
  explicit RocksSubject(bool persist) : persist_(persist) {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("contract_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::remove_all(dir_);
    Open();
  }
  ~RocksSubject() override {
    state_.reset();
    std::filesystem::remove_all(dir_);
  }
  domain::StateStore& store() override { return *state_; }
  std::vector<v1::Timer> Due(int64_t now_ms) override {
    auto due = state_->DueTimers(now_ms, 1000);
    EXPECT_TRUE(due.ok()) << due.status();
    return due.ok() ? *due : std::vector<v1::Timer>{};
  }
  void Persist() override {
    if (!persist_) return;
    ASSERT_TRUE(state_->Commit({++offset_, offset_}).ok());
    state_.reset();
    Open();
    EXPECT_EQ(state_->store().offsets().input, offset_);
  }

 private:
  void Open() {
    auto store = TaskStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    state_ = std::make_unique<TaskState>(std::move(*store));
  }
  static inline int counter_ = 0;
  bool persist_;
  int64_t offset_ = 0;
  std::string dir_;
  std::unique_ptr<TaskState> state_;
};

struct Factory {
  std::string name;
  std::function<std::unique_ptr<Subject>()> make;
};

class StoreContractTest : public ::testing::TestWithParam<Factory> {
 protected:
  void SetUp() override { subject_ = GetParam().make(); }
  std::unique_ptr<Subject> subject_;
};

v1::ComplaintCase MakeCase(const std::string& id, v1::CaseState state) {
  v1::ComplaintCase c;
  c.set_case_id(id);
  c.set_customer_key("k-" + id);
  c.set_state(state);
  c.set_category("billing");
  return c;
}

v1::Timer MakeTimer(int64_t due, const std::string& id) {
  v1::Timer t;
  t.set_due_ms(due);
  t.set_timer_id(id);
  t.set_case_id("case-" + id);
  t.set_kind(v1::CASE_MILESTONE);
  return t;
}

TEST_P(StoreContractTest, MissingRecordsReadAsEmpty) {
  domain::StateStore& s = subject_->store();
  EXPECT_FALSE(s.GetCase("none").value().has_value());
  EXPECT_FALSE(s.GetContact("none").value().has_value());
  EXPECT_FALSE(s.GetCustomer("none").value().has_value());
  EXPECT_TRUE(subject_->Due(INT64_MAX).empty());
}

TEST_P(StoreContractTest, PutThenGetReturnsTheLastValue) {
  domain::StateStore& s = subject_->store();
  ASSERT_TRUE(s.PutCase(MakeCase("c1", v1::OPEN)).ok());
  ASSERT_TRUE(s.PutCase(MakeCase("c1", v1::ACKNOWLEDGED)).ok());
  v1::ContactState contact;
  contact.set_contact_id("contact-1");
  contact.set_transfers(2);
  ASSERT_TRUE(s.PutContact(contact).ok());
  v1::CustomerState customer;
  customer.set_customer_key("cust-key");
  customer.add_open_case_ids("c1");
  ASSERT_TRUE(s.PutCustomer(customer).ok());
  subject_->Persist();

  domain::StateStore& r = subject_->store();
  auto c = r.GetCase("c1");
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->state(), v1::ACKNOWLEDGED);
  EXPECT_EQ((*c)->SerializeAsString(), MakeCase("c1", v1::ACKNOWLEDGED).SerializeAsString());
  EXPECT_EQ(r.GetContact("contact-1").value()->transfers(), 2);
  EXPECT_EQ(r.GetCustomer("cust-key").value()->open_case_ids(0), "c1");
}

TEST_P(StoreContractTest, ReadIntoTheCallersMessageMatchesGet) {
  domain::StateStore& s = subject_->store();
  ASSERT_TRUE(s.PutCase(MakeCase("c1", v1::ACKNOWLEDGED)).ok());
  v1::ContactState contact;
  contact.set_contact_id("contact-1");
  contact.set_transfers(2);
  ASSERT_TRUE(s.PutContact(contact).ok());
  v1::CustomerState customer;
  customer.set_customer_key("cust-key");
  customer.add_open_case_ids("c1");
  ASSERT_TRUE(s.PutCustomer(customer).ok());
  subject_->Persist();

  domain::StateStore& r = subject_->store();
  // Whatever the message held before is replaced.
  v1::ComplaintCase c = MakeCase("other", v1::CLOSED);
  ASSERT_TRUE(r.ReadCase("c1", c).value());
  EXPECT_EQ(c.SerializeAsString(), MakeCase("c1", v1::ACKNOWLEDGED).SerializeAsString());
  v1::ContactState read_contact;
  read_contact.set_queue("stale");
  ASSERT_TRUE(r.ReadContact("contact-1", read_contact).value());
  EXPECT_EQ(read_contact.SerializeAsString(), contact.SerializeAsString());
  v1::CustomerState read_customer;
  ASSERT_TRUE(r.ReadCustomer("cust-key", read_customer).value());
  EXPECT_EQ(read_customer.SerializeAsString(), customer.SerializeAsString());

  // Missing records read as false and leave the message empty.
  EXPECT_FALSE(r.ReadCase("none", c).value());
  EXPECT_EQ(c.ByteSizeLong(), 0u);
  EXPECT_FALSE(r.ReadContact("none", read_contact).value());
  EXPECT_EQ(read_contact.ByteSizeLong(), 0u);
  EXPECT_FALSE(r.ReadCustomer("none", read_customer).value());
  EXPECT_EQ(read_customer.ByteSizeLong(), 0u);
}

TEST_P(StoreContractTest, DeleteRemovesAndDeletingNothingIsFine) {
  domain::StateStore& s = subject_->store();
  ASSERT_TRUE(s.PutCase(MakeCase("c1", v1::OPEN)).ok());
  subject_->Persist();
  domain::StateStore& r = subject_->store();
  ASSERT_TRUE(r.DeleteCase("c1").ok());
  ASSERT_TRUE(r.DeleteCase("never-there").ok());
  ASSERT_TRUE(r.DeleteContact("never-there").ok());
  ASSERT_TRUE(r.DeleteCustomer("never-there").ok());
  EXPECT_FALSE(r.GetCase("c1").value().has_value());
  subject_->Persist();
  EXPECT_FALSE(subject_->store().GetCase("c1").value().has_value());
}

TEST_P(StoreContractTest, TimersComeBackDueInOrderOnce) {
  domain::StateStore& s = subject_->store();
  ASSERT_TRUE(s.PutTimer(MakeTimer(3000, "b")).ok());
  ASSERT_TRUE(s.PutTimer(MakeTimer(1000, "z")).ok());
  ASSERT_TRUE(s.PutTimer(MakeTimer(3000, "a")).ok());
  ASSERT_TRUE(s.PutTimer(MakeTimer(3000, "a")).ok());  // same (due, id): kept once
  ASSERT_TRUE(s.PutTimer(MakeTimer(9000, "late")).ok());
  subject_->Persist();

  std::vector<std::string> ids;
  for (const v1::Timer& t : subject_->Due(3000)) ids.push_back(t.timer_id());
  EXPECT_EQ(ids, (std::vector<std::string>{"z", "a", "b"}));

  ASSERT_TRUE(subject_->store().DeleteTimer(MakeTimer(1000, "z")).ok());
  ids.clear();
  for (const v1::Timer& t : subject_->Due(3000)) ids.push_back(t.timer_id());
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));
  subject_->Persist();
  ids.clear();
  for (const v1::Timer& t : subject_->Due(10'000)) ids.push_back(t.timer_id());
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "late"}));
  EXPECT_EQ(subject_->Due(10'000)[0].case_id(), "case-a");
}

INSTANTIATE_TEST_SUITE_P(
    Stores, StoreContractTest,
    ::testing::Values(Factory{"InMemory", [] { return std::make_unique<MemorySubject>(); }},
                      Factory{"RocksBatch", [] { return std::make_unique<RocksSubject>(false); }},
                      Factory{"RocksCommitted",
                              [] { return std::make_unique<RocksSubject>(true); }}),
    [](const auto& info) { return info.param.name; });

TEST(ChangelogKey, RoundTripsAndRefusesGarbage) {
  for (Family f : {Family::kContacts, Family::kCases, Family::kCustomers, Family::kTimers}) {
    auto parsed = ParseChangelogKey(ChangelogKey(f, "key/1"));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->first, f);
    EXPECT_EQ(parsed->second, "key/1");
  }
  EXPECT_FALSE(ParseChangelogKey("").ok());
  EXPECT_FALSE(ParseChangelogKey("9abc").ok());
  EXPECT_FALSE(ParseChangelogKey(ChangelogKey(Family::kMeta, "x")).ok());
}

TEST(TaskState, DiscardForgetsTheBatch) {
  const std::string dir =
      std::filesystem::path(::testing::TempDir()) / ("discard_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = TaskStore::Open(dir);
  ASSERT_TRUE(store.ok());
  TaskState state(std::move(*store));
  ASSERT_TRUE(state.PutCase(MakeCase("c1", v1::OPEN)).ok());
  ASSERT_TRUE(state.PutTimer(MakeTimer(5, "t")).ok());
  EXPECT_TRUE(state.HasPendingChanges());
  EXPECT_EQ(state.NextDue().value(), std::optional<int64_t>(5));
  state.Discard();
  EXPECT_FALSE(state.GetCase("c1").value().has_value());
  EXPECT_FALSE(state.NextDue().value().has_value());
  std::filesystem::remove_all(dir);
}

// The scans of stored timers start past the tombstones of fired timers (see TaskState); over
// random puts, deletes, commits and aborts, what they find must equal a plain model's answer.
TEST(TaskState, TimerScansAgreeWithAModelAcrossCommitsAndAborts) {
  const std::string dir =
      std::filesystem::path(::testing::TempDir()) / ("timer_model_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = TaskStore::Open(dir);
  ASSERT_TRUE(store.ok());
  TaskState state(std::move(*store));
  using Key = std::pair<int64_t, std::string>;
  std::set<Key> committed;
  std::set<Key> live;  // committed with this batch's changes
  std::mt19937_64 rng(20261201);
  int64_t now = 0;
  int next_id = 0;
  for (int step = 0; step < 6000; ++step) {
    const int op = static_cast<int>(rng() % 100);
    if (op < 35) {  // a new timer, mostly in the future, sometimes already due
      const int64_t due = now + static_cast<int64_t>(rng() % 200) - 20;
      const std::string id = "t" + std::to_string(next_id++);
      ASSERT_TRUE(state.PutTimer(MakeTimer(due, id)).ok());
      live.insert({due, id});
    } else if (op < 65) {  // fire what is due: delete the earliest due timers
      now += static_cast<int64_t>(rng() % 10);
      auto due = state.DueTimers(now, 5);
      ASSERT_TRUE(due.ok());
      std::vector<Key> expected;
      for (auto it = live.begin(); it != live.end() && it->first <= now && expected.size() < 5;
           ++it) {
        expected.push_back(*it);
      }
      ASSERT_EQ(due->size(), expected.size()) << "step " << step;
      for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ((*due)[i].due_ms(), expected[i].first) << "step " << step;
        EXPECT_EQ((*due)[i].timer_id(), expected[i].second) << "step " << step;
        ASSERT_TRUE(state.DeleteTimer((*due)[i]).ok());
        live.erase(expected[i]);
      }
    } else if (op < 75 && !live.empty()) {  // cancel a random pending timer
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      ASSERT_TRUE(state.DeleteTimer(MakeTimer(it->first, it->second)).ok());
      live.erase(it);
    } else if (op < 92) {
      ASSERT_TRUE(state.Commit(Offsets{step, step}).ok());
      committed = live;
    } else {
      state.Discard();
      live = committed;
    }
    auto next = state.NextDue();
    ASSERT_TRUE(next.ok());
    const std::optional<int64_t> expected_next =
        live.empty() ? std::nullopt : std::optional<int64_t>(live.begin()->first);
    ASSERT_EQ(*next, expected_next) << "step " << step;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ccstream::state
