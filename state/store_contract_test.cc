// One contract, two stores: the same cases run against the in-memory reference store of the
// tests and against the RocksDB task state (before and after its batch is committed and the
// store reopened).
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

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

// The RocksDB task state. kBatch: everything stays in the batch. kReopen: Persist commits and
// reopens the store (reads come from RocksDB). kCommit: Persist commits and keeps the task
// state (reads come from its cache of decoded records, within `cache_bytes`).
class RocksSubject : public Subject {
 public:
  enum class Mode { kBatch, kReopen, kCommit };
  explicit RocksSubject(Mode mode, size_t cache_bytes = TaskStateOptions().cache_bytes)
      : mode_(mode) {
    options_.cache_bytes = cache_bytes;
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
    if (mode_ == Mode::kBatch) return;
    ASSERT_TRUE(state_->Commit({++offset_, offset_}).ok());
    if (mode_ == Mode::kReopen) {
      state_.reset();
      Open();
    }
    EXPECT_EQ(state_->store().offsets().input, offset_);
  }

 private:
  void Open() {
    auto store = TaskStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    state_ = std::make_unique<TaskState>(std::move(*store), options_);
  }
  static inline int counter_ = 0;
  Mode mode_;
  TaskStateOptions options_;
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

// A contact told apart by its transfer count.
v1::ContactState ContactWith(const std::string& id, int transfers) {
  v1::ContactState c;
  c.set_contact_id(id);
  c.set_transfers(transfers);
  return c;
}

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

TEST_P(StoreContractTest, ReadsFollowTheBatchesPutsAndDeletes) {
  domain::StateStore& s = subject_->store();
  ASSERT_TRUE(s.PutCase(MakeCase("c1", v1::OPEN)).ok());
  subject_->Persist();
  domain::StateStore& r = subject_->store();
  // Read twice (the second read may come from a cache): the same record.
  EXPECT_EQ(r.GetCase("c1").value()->state(), v1::OPEN);
  v1::ComplaintCase read;
  ASSERT_TRUE(r.ReadCase("c1", read).value());
  EXPECT_EQ(read.state(), v1::OPEN);
  // Changing a message read does not change the store.
  read.set_state(v1::CLOSED);
  EXPECT_EQ(r.GetCase("c1").value()->state(), v1::OPEN);
  // A put, moved in, is read back; a later put wins; a delete hides it; a put brings it back.
  v1::ComplaintCase moved = MakeCase("c1", v1::ACKNOWLEDGED);
  ASSERT_TRUE(r.PutCase(std::move(moved)).ok());
  EXPECT_EQ(r.GetCase("c1").value()->state(), v1::ACKNOWLEDGED);
  ASSERT_TRUE(r.PutCase(MakeCase("c1", v1::CLOSED)).ok());
  ASSERT_TRUE(r.ReadCase("c1", read).value());
  EXPECT_EQ(read.state(), v1::CLOSED);
  ASSERT_TRUE(r.DeleteCase("c1").ok());
  EXPECT_FALSE(r.ReadCase("c1", read).value());
  ASSERT_TRUE(r.PutCase(MakeCase("c1", v1::ACKNOWLEDGED)).ok());
  EXPECT_EQ(r.GetCase("c1").value()->state(), v1::ACKNOWLEDGED);
  // A record first read as missing, then put.
  v1::CustomerState customer;
  EXPECT_FALSE(r.ReadCustomer("cust", customer).value());
  customer.set_customer_key("cust");
  customer.add_open_case_ids("c1");
  ASSERT_TRUE(r.PutCustomer(std::move(customer)).ok());
  subject_->Persist();

  domain::StateStore& after = subject_->store();
  EXPECT_EQ(after.GetCase("c1").value()->state(), v1::ACKNOWLEDGED);
  EXPECT_EQ(after.GetCustomer("cust").value()->open_case_ids(0), "c1");
  ASSERT_TRUE(after.DeleteCustomer("cust").ok());
  subject_->Persist();
  EXPECT_FALSE(subject_->store().GetCustomer("cust").value().has_value());
  EXPECT_EQ(subject_->store().GetCase("c1").value()->state(), v1::ACKNOWLEDGED);
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
    ::testing::Values(
        Factory{"InMemory", [] { return std::make_unique<MemorySubject>(); }},
        Factory{"RocksBatch",
                [] { return std::make_unique<RocksSubject>(RocksSubject::Mode::kBatch); }},
        Factory{"RocksCommitted",
                [] { return std::make_unique<RocksSubject>(RocksSubject::Mode::kReopen); }},
        Factory{"RocksCached",
                [] { return std::make_unique<RocksSubject>(RocksSubject::Mode::kCommit); }},
        Factory{
            "RocksTinyCache",
            [] { return std::make_unique<RocksSubject>(RocksSubject::Mode::kCommit, 3 * 160); }},
        Factory{"RocksNoCache",
                [] { return std::make_unique<RocksSubject>(RocksSubject::Mode::kCommit, 0); }}),
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

// The format marker lies where builds since the timers left the changelog pass over it (the
// timers family), under a key no timer has, and a later format is refused with what to do.
TEST(ChangelogFormat, TheMarkerIsNoTimerAndALaterFormatIsRefused) {
  auto parsed = ParseChangelogKey(ChangelogFormatKey());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->first, Family::kTimers);
  EXPECT_TRUE(IsChangelogFormatMarker(parsed->first, parsed->second));
  EXPECT_LT(TimerKeyDue(parsed->second), 0);  // before the epoch: no timer's due time
  EXPECT_FALSE(IsChangelogFormatMarker(Family::kContacts, parsed->second));
  EXPECT_FALSE(IsChangelogFormatMarker(Family::kTimers, TimerKey(1767258000000, "contact/c1")));
  EXPECT_EQ(ChangelogFormatValue(), std::to_string(kChangelogFormat));

  EXPECT_TRUE(CheckChangelogFormat(ChangelogFormatValue()).ok());
  EXPECT_TRUE(CheckChangelogFormat("1").ok());
  const absl::Status later = CheckChangelogFormat(std::to_string(kChangelogFormat + 1));
  EXPECT_EQ(later.code(), absl::StatusCode::kFailedPrecondition) << later;
  EXPECT_NE(later.message().find(absl::StrCat("changelog format ", kChangelogFormat + 1)),
            std::string::npos)
      << later;
  EXPECT_NE(later.message().find("Run the later build"), std::string::npos) << later;
  for (std::optional<std::string_view> bad :
       {std::optional<std::string_view>(), std::optional<std::string_view>("0"),
        std::optional<std::string_view>("two"), std::optional<std::string_view>("")}) {
    EXPECT_EQ(CheckChangelogFormat(bad).code(), absl::StatusCode::kDataLoss)
        << (bad ? *bad : "(none)");
  }
}

// The timers family's changes that go with a record's change (the changelog carries no timers).
TEST(DeriveTimerChanges, PutsTheTimersOnlyTheNewValueHoldsAndDeletesTheOthers) {
  auto timer = [](int64_t due, const std::string& id, const std::string& milestone = "") {
    v1::Timer t;
    t.set_due_ms(due);
    t.set_timer_id(id);
    t.set_milestone(milestone);
    return t;
  };
  auto contact = [](const std::vector<v1::Timer>& timers) {
    v1::ContactState c;
    c.set_contact_id("c1");
    for (const v1::Timer& t : timers) *c.add_timers() = t;
    return std::optional<std::string>(c.SerializeAsString());
  };
  // What `out` does to the timers family, as {key: value or "<deleted>"}.
  auto applied = [](const std::vector<Mutation>& out) {
    std::map<std::string, std::string> changes;
    for (const Mutation& m : out) {
      EXPECT_EQ(m.family, Family::kTimers);
      EXPECT_TRUE(changes.emplace(m.key, m.value.value_or("<deleted>")).second) << "twice";
    }
    return changes;
  };
  const v1::Timer a = timer(1, "a"), b = timer(2, "b"), c = timer(3, "c");
  const v1::Timer b_changed = timer(2, "b", "hold");  // same key, another value
  auto key = [](const v1::Timer& t) { return TimerKey(t.due_ms(), t.timer_id()); };

  std::vector<Mutation> out;
  ASSERT_TRUE(DeriveTimerChanges(Family::kContacts, contact({a, b}), contact({b, c}), out).ok());
  EXPECT_EQ(applied(out), (std::map<std::string, std::string>{{key(a), "<deleted>"},
                                                              {key(c), c.SerializeAsString()}}));
  out.clear();
  ASSERT_TRUE(DeriveTimerChanges(Family::kContacts, contact({b}), contact({b_changed}), out).ok());
  EXPECT_EQ(applied(out),
            (std::map<std::string, std::string>{{key(b), b_changed.SerializeAsString()}}));
  out.clear();
  ASSERT_TRUE(DeriveTimerChanges(Family::kContacts, std::nullopt, contact({a}), out).ok());
  EXPECT_EQ(applied(out), (std::map<std::string, std::string>{{key(a), a.SerializeAsString()}}));
  out.clear();
  ASSERT_TRUE(DeriveTimerChanges(Family::kContacts, contact({a, c}), std::nullopt, out).ok());
  EXPECT_EQ(applied(out),
            (std::map<std::string, std::string>{{key(a), "<deleted>"}, {key(c), "<deleted>"}}));

  // Cases and customers hold timers too.
  v1::ComplaintCase complaint;
  *complaint.add_timers() = a;
  v1::CustomerState customer;
  *customer.add_timers() = b;
  out.clear();
  ASSERT_TRUE(
      DeriveTimerChanges(Family::kCases, std::nullopt, complaint.SerializeAsString(), out).ok());
  ASSERT_TRUE(
      DeriveTimerChanges(Family::kCustomers, customer.SerializeAsString(), std::nullopt, out).ok());
  EXPECT_EQ(applied(out), (std::map<std::string, std::string>{{key(a), a.SerializeAsString()},
                                                              {key(b), "<deleted>"}}));

  // Nothing for the timers family itself; an error for a value that does not parse.
  out.clear();
  ASSERT_TRUE(DeriveTimerChanges(Family::kTimers, std::nullopt, a.SerializeAsString(), out).ok());
  EXPECT_TRUE(out.empty());
  const absl::Status bad =
      DeriveTimerChanges(Family::kContacts, std::string("\xff\xff\xff"), contact({a}), out);
  EXPECT_TRUE(absl::IsDataLoss(bad)) << bad;
  // A timer whose own bytes do not parse (its timer_id longer than the timer), and a timer
  // longer than the record.
  auto varint = [](uint64_t v) {
    std::string out;
    for (; v >= 0x80; v >>= 7) out += static_cast<char>((v & 0x7f) | 0x80);
    return out + static_cast<char>(v);
  };
  const std::string timers_tag = varint((v1::ContactState::kTimersFieldNumber << 3) | 2);
  const std::string timer_bytes =
      "\x12\x05"
      "ab";  // timer_id: 5 bytes announced, 2 there
  const std::string bad_timer = timers_tag + varint(timer_bytes.size()) + timer_bytes;
  EXPECT_TRUE(
      absl::IsDataLoss(DeriveTimerChanges(Family::kContacts, bad_timer, std::nullopt, out)));
  const std::string too_long = timers_tag + varint(9) + "\x08\x01";
  EXPECT_TRUE(absl::IsDataLoss(DeriveTimerChanges(Family::kContacts, too_long, std::nullopt, out)));

  // A due time before the epoch keys the timer as PutTimer keys it.
  const v1::Timer early = timer(-5, "early");
  out.clear();
  ASSERT_TRUE(DeriveTimerChanges(Family::kContacts, std::nullopt, contact({early}), out).ok());
  EXPECT_EQ(applied(out),
            (std::map<std::string, std::string>{{key(early), early.SerializeAsString()}}));
}

// A directory for one test's store under the test temporary directory, emptied first and
// removed when it goes (declare it before the store so that the store closes first).
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(std::filesystem::path(::testing::TempDir()) /
              (name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(TaskState, DiscardForgetsTheBatch) {
  const ScratchDir scratch("discard");
  const std::string& dir = scratch.path();
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
}

TaskState OpenState(const std::string& dir, size_t cache_bytes = 1u << 20,
                    WriteQueue* writer = nullptr) {
  auto store = TaskStore::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  TaskStateOptions options;
  options.cache_bytes = cache_bytes;
  options.writer = writer;
  return TaskState(std::move(*store), options);
}

// Holds a writer's queue: the writes posted after Close stay in flight until Open (or the
// Gate's end).
class Gate {
 public:
  Gate() = default;
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  ~Gate() { Open(); }
  void Close(WriteQueue& writer) {
    Open();
    latch_ = std::make_shared<Latch>();
    writer.Post([latch = latch_] {
      std::unique_lock lock(latch->mu);
      latch->cv.wait(lock, [&] { return latch->open; });
    });
  }
  void Open() {
    if (!latch_) return;
    {
      std::lock_guard lock(latch_->mu);
      latch_->open = true;
    }
    latch_->cv.notify_all();
    latch_.reset();
  }

 private:
  struct Latch {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
  };
  std::shared_ptr<Latch> latch_;
};

std::string StoredCaseState(TaskState& state, const std::string& id) {
  auto bytes = state.store().Get(Family::kCases, id);
  EXPECT_TRUE(bytes.ok());
  if (!bytes.ok() || !bytes->has_value()) return "none";
  v1::ComplaintCase c;
  EXPECT_TRUE(c.ParseFromString(**bytes));
  return v1::CaseState_Name(c.state());
}

std::string CaseState(TaskState& state, const std::string& id) {
  auto c = state.GetCase(id);
  EXPECT_TRUE(c.ok());
  return c.ok() && c->has_value() ? v1::CaseState_Name((*c)->state()) : "none";
}

// The decoded records kept across batches: a committed record is read again without the store;
// the batch's changes never reach the cache before their commit.
TEST(TaskState, CachedRecordsFollowCommitsAndDiscards) {
  const ScratchDir scratch("cache");
  const std::string& dir = scratch.path();
  TaskState state = OpenState(dir);
  ASSERT_TRUE(state.PutCase(MakeCase("c1", v1::OPEN)).ok());
  ASSERT_TRUE(state.Commit({1, 1}).ok());
  const int64_t reads = state.store_reads();
  EXPECT_EQ(CaseState(state, "c1"), "OPEN");
  EXPECT_EQ(CaseState(state, "missing"), "none");
  EXPECT_EQ(CaseState(state, "missing"), "none");
  EXPECT_EQ(state.store_reads(), reads + 1);  // c1 from the cache; the miss read once

  // Changed in a batch that aborts: the committed record again.
  ASSERT_TRUE(state.PutCase(MakeCase("c1", v1::ACKNOWLEDGED)).ok());
  EXPECT_EQ(CaseState(state, "c1"), "ACKNOWLEDGED");
  state.Discard();
  EXPECT_EQ(CaseState(state, "c1"), "OPEN");
  ASSERT_TRUE(state.DeleteCase("c1").ok());
  ASSERT_TRUE(state.PutCase(MakeCase("missing", v1::OPEN)).ok());
  EXPECT_EQ(CaseState(state, "c1"), "none");
  state.Discard();
  EXPECT_EQ(CaseState(state, "c1"), "OPEN");
  EXPECT_EQ(CaseState(state, "missing"), "none");

  // Committed: the cache and the store agree.
  ASSERT_TRUE(state.DeleteCase("c1").ok());
  ASSERT_TRUE(state.PutCase(MakeCase("missing", v1::CLOSED)).ok());
  ASSERT_TRUE(state.Commit({2, 2}).ok());
  EXPECT_EQ(CaseState(state, "c1"), "none");
  EXPECT_EQ(StoredCaseState(state, "c1"), "none");
  EXPECT_EQ(CaseState(state, "missing"), "CLOSED");
  EXPECT_EQ(StoredCaseState(state, "missing"), "CLOSED");
  EXPECT_EQ(state.store_reads(), reads + 1);
  EXPECT_GT(state.cache_hits(), 0);
  // The mutations written are those of the last values.
  ASSERT_TRUE(state.PutCase(MakeCase("c2", v1::OPEN)).ok());
  ASSERT_TRUE(state.PutCase(MakeCase("c2", v1::CLOSED)).ok());
  ASSERT_TRUE(state.DeleteCase("c3").ok());
  const std::vector<Mutation>& mutations = state.PendingMutations();
  ASSERT_EQ(mutations.size(), 2u);
  EXPECT_EQ(mutations[0].key, "c2");
  EXPECT_EQ(*mutations[0].value, MakeCase("c2", v1::CLOSED).SerializeAsString());
  EXPECT_EQ(mutations[1].key, "c3");
  EXPECT_FALSE(mutations[1].value.has_value());
  // A change after the mutations were built is in them too.
  ASSERT_TRUE(state.PutCase(MakeCase("c3", v1::OPEN)).ok());
  EXPECT_EQ(state.PendingMutations().size(), 2u);
  EXPECT_TRUE(state.PendingMutations()[1].value.has_value());
}

// One budget for the three families, the least recently used record of any family out first:
// the family read most keeps most of it (live, the contacts), and a record read again outlives
// those of other families not read since.
TEST(TaskState, TheFamiliesShareOneCacheLeastRecentlyUsedFirst) {
  const ScratchDir scratch("cache_shared");
  // A record counts its key, its serialized bytes and 64 (the overhead of task_state.cc).
  const auto counted = [](const std::string& key, const auto& message) {
    return key.size() + message.SerializeAsString().size() + 64;
  };
  const auto key = [](int i) { return "k" + std::to_string(i); };
  const size_t contact = counted(key(0), ContactWith(key(0), 1));
  const size_t case_bytes = counted(std::string("c1"), MakeCase("c1", v1::OPEN));
  // Room for the case and nine contacts, no more.
  TaskState state = OpenState(scratch.path(), case_bytes + 9 * contact);
  ASSERT_TRUE(state.PutCase(MakeCase("c1", v1::OPEN)).ok());
  ASSERT_TRUE(state.Commit({1, 1}).ok());
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(state.PutContact(ContactWith(key(i), 1)).ok());
  ASSERT_TRUE(state.Commit({2, 2}).ok());
  ASSERT_EQ(state.cached_records(), 10u);

  // Nine contacts, far more than a third of the budget: all of them from the cache.
  const int64_t reads = state.store_reads();
  v1::ContactState read;
  for (int i = 0; i < 9; ++i) {
    auto found = state.ReadContact(key(i), read);
    ASSERT_TRUE(found.ok() && *found) << key(i);
  }
  EXPECT_EQ(state.store_reads(), reads) << "contacts evicted to make room for other families";

  // The case, read last, is now the most recently used: a tenth contact evicts the oldest
  // contact, not the case cached before all of them.
  EXPECT_EQ(CaseState(state, "c1"), "OPEN");
  ASSERT_TRUE(state.PutContact(ContactWith(key(9), 1)).ok());
  ASSERT_TRUE(state.Commit({3, 3}).ok());
  EXPECT_LE(state.cached_bytes(), case_bytes + 9 * contact);
  EXPECT_EQ(CaseState(state, "c1"), "OPEN");
  EXPECT_EQ(state.store_reads(), reads) << "the case, read since, was evicted";
  for (int i = 9; i >= 1; --i) {
    auto found = state.ReadContact(key(i), read);
    ASSERT_TRUE(found.ok() && *found) << key(i);
  }
  EXPECT_EQ(state.store_reads(), reads) << "a contact read since was evicted";
  auto found = state.ReadContact(key(0), read);
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ(state.store_reads(), reads + 1) << "the least recently used contact stayed";
}

// TakeContact hands over the batch's own contact or the cache's without a copy: until it is
// put back (or deleted) the contact cannot be read or another taken, and the batch cannot
// commit; an abort brings back the committed contact (the cache let go of its copy, so it is
// read from RocksDB again).
TEST(TaskState, ATakenContactIsPutBackBeforeItIsReadAgain) {
  const ScratchDir scratch("take_contact");
  TaskState state = OpenState(scratch.path());
  ASSERT_TRUE(state.PutContact(ContactWith("a", 1)).ok());
  ASSERT_TRUE(state.Commit({1, 1}).ok());
  ASSERT_EQ(state.cached_records(), 1u);  // "a", committed and cached

  // From the cache: handed over and dropped from it.
  v1::ContactState a;
  auto taken = state.TakeContact("a", a);
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(*taken);
  EXPECT_EQ(a.transfers(), 1);
  EXPECT_EQ(state.cached_records(), 0u);
  v1::ContactState other;
  EXPECT_EQ(state.ReadContact("a", other).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(state.TakeContact("b", other).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(state.StartCommit({2, 2}).code(), absl::StatusCode::kFailedPrecondition);
  a.set_transfers(2);
  ASSERT_TRUE(state.PutContact(std::move(a)).ok());
  ASSERT_TRUE(state.ReadContact("a", other).ok());
  EXPECT_EQ(other.transfers(), 2);

  // From the batch: the batch's own message, the slot waiting for the put-back.
  v1::ContactState again;
  ASSERT_TRUE(state.TakeContact("a", again).ok());
  EXPECT_EQ(again.transfers(), 2);
  again.set_transfers(3);
  ASSERT_TRUE(state.PutContact(std::move(again)).ok());
  ASSERT_TRUE(state.ReadContact("a", other).ok());
  EXPECT_EQ(other.transfers(), 3);

  // Absent: taken as absent, then created.
  v1::ContactState b;
  taken = state.TakeContact("b", b);
  ASSERT_TRUE(taken.ok());
  EXPECT_FALSE(*taken);
  EXPECT_EQ(state.ReadContact("b", other).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(state.PutContact(ContactWith("b", 7)).ok());

  // Aborted: the committed contact again, from RocksDB; a take left open ends with the batch.
  ASSERT_TRUE(state.TakeContact("a", again).ok());
  state.Discard();
  const int64_t reads = state.store_reads();
  ASSERT_TRUE(state.ReadContact("a", other).ok());
  EXPECT_EQ(other.transfers(), 1);
  EXPECT_EQ(state.store_reads(), reads + 1);
  auto b_after = state.ReadContact("b", other);
  ASSERT_TRUE(b_after.ok());
  EXPECT_FALSE(*b_after);

  // Taken and deleted: committed as deleted.
  ASSERT_TRUE(state.TakeContact("a", again).ok());
  ASSERT_TRUE(state.DeleteContact("a").ok());
  ASSERT_TRUE(state.Commit({3, 3}).ok());
  auto stored = state.store().Get(Family::kContacts, "a");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
}

// A contact taken and returned unchanged (ReturnContact) goes back where it came from, the batch,
// the cache or, read from RocksDB, into the cache, without a write: the batch's changes are as
// before the take.
TEST(TaskState, AContactReturnedUnchangedIsNotWritten) {
  const ScratchDir scratch("return_contact");
  TaskState state = OpenState(scratch.path());
  ASSERT_TRUE(state.PutContact(ContactWith("a", 1)).ok());
  ASSERT_TRUE(state.Commit({1, 1}).ok());
  ASSERT_EQ(state.cached_records(), 1u);
  v1::ContactState other;
  EXPECT_EQ(state.ReturnContact("a", std::move(other)).code(),
            absl::StatusCode::kFailedPrecondition)
      << "not taken";

  // From the cache: back in it.
  v1::ContactState a;
  ASSERT_TRUE(state.TakeContact("a", a).ok());
  ASSERT_EQ(state.cached_records(), 0u);
  EXPECT_EQ(state.ReturnContact("b", v1::ContactState()).code(),
            absl::StatusCode::kFailedPrecondition)
      << "another contact";
  ASSERT_TRUE(state.ReturnContact("a", std::move(a)).ok());
  EXPECT_EQ(state.cached_records(), 1u);
  const int64_t reads = state.store_reads();
  ASSERT_TRUE(state.ReadContact("a", other).ok());
  EXPECT_EQ(other.transfers(), 1);
  EXPECT_EQ(state.store_reads(), reads) << "answered by the cache";
  EXPECT_TRUE(state.PendingMutations().empty());

  // From RocksDB (the cache let go of it when the take was aborted): cached once returned.
  ASSERT_TRUE(state.TakeContact("a", a).ok());
  state.Discard();
  ASSERT_TRUE(state.TakeContact("a", a).ok());
  EXPECT_EQ(state.store_reads(), reads + 1);
  EXPECT_EQ(a.transfers(), 1);
  ASSERT_TRUE(state.ReturnContact("a", std::move(a)).ok());
  ASSERT_TRUE(state.ReadContact("a", other).ok());
  EXPECT_EQ(other.transfers(), 1);
  EXPECT_EQ(state.store_reads(), reads + 1) << "answered by the cache";

  // Absent from RocksDB: remembered as absent.
  v1::ContactState b;
  auto found = state.TakeContact("b", b);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(*found);
  ASSERT_TRUE(state.ReturnContact("b", std::move(b)).ok());
  found = state.ReadContact("b", other);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(*found);
  EXPECT_EQ(state.store_reads(), reads + 2);
  EXPECT_TRUE(state.PendingMutations().empty());

  // From the batch: the batch's own message back in its slot, one change as before.
  ASSERT_TRUE(state.PutContact(ContactWith("c", 5)).ok());
  ASSERT_EQ(state.PendingMutations().size(), 1u);
  v1::ContactState c;
  ASSERT_TRUE(state.TakeContact("c", c).ok());
  ASSERT_TRUE(state.ReturnContact("c", std::move(c)).ok());
  ASSERT_TRUE(state.ReadContact("c", other).ok());
  EXPECT_EQ(other.transfers(), 5);
  ASSERT_EQ(state.PendingMutations().size(), 1u);
  EXPECT_EQ(state.PendingMutations()[0].key, "c");
  ASSERT_TRUE(state.Commit({2, 2}).ok());
  auto stored = state.store().Get(Family::kContacts, "c");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(**stored, ContactWith("c", 5).SerializeAsString());
}

// A contact taken while the write of its last commit is in flight is handed over from that
// write's records: the write still stores what was committed, an abort reads that from the
// store, and a contact returned goes back to the write's records, or to the store's once landed.
TEST(TaskState, AContactTakenFromTheWriteInFlight) {
  const ScratchDir scratch("take_writing");
  WriteQueue writer;
  TaskState state = OpenState(scratch.path(), 1u << 20, &writer);
  Gate gate;
  ASSERT_TRUE(state.PutContact(ContactWith("a", 1)).ok());
  gate.Close(writer);
  ASSERT_TRUE(state.StartCommit({1, 1}).ok());
  const int64_t reads = state.store_reads();
  v1::ContactState a;
  ASSERT_TRUE(state.TakeContact("a", a).ok());
  EXPECT_EQ(a.transfers(), 1);
  ASSERT_TRUE(state.ReturnContact("a", std::move(a)).ok());
  v1::ContactState other;
  ASSERT_TRUE(state.ReadContact("a", other).ok());
  EXPECT_EQ(other.transfers(), 1);
  EXPECT_EQ(state.store_reads(), reads) << "returned to the write's records";

  ASSERT_TRUE(state.TakeContact("a", a).ok());
  EXPECT_EQ(a.transfers(), 1);
  a.set_transfers(2);
  ASSERT_TRUE(state.PutContact(std::move(a)).ok());
  ASSERT_TRUE(state.ReadContact("a", other).ok());
  EXPECT_EQ(other.transfers(), 2);
  gate.Open();
  state.Discard();  // waits for the write: what it stored is the committed contact
  ASSERT_TRUE(state.ReadContact("a", other).ok());
  EXPECT_EQ(other.contact_id(), "a");
  EXPECT_EQ(other.transfers(), 1);
  EXPECT_EQ(state.store_reads(), reads + 1) << "not cached from the handed-over message";

  // Returned after the write landed: read from the store, as it stands.
  ASSERT_TRUE(state.PutContact(ContactWith("a", 3)).ok());
  gate.Close(writer);
  ASSERT_TRUE(state.StartCommit({2, 2}).ok());
  ASSERT_TRUE(state.TakeContact("a", a).ok());
  EXPECT_EQ(a.transfers(), 3);
  gate.Open();
  ASSERT_TRUE(state.FinishWrites().ok());
  ASSERT_TRUE(state.ReturnContact("a", std::move(a)).ok());
  ASSERT_TRUE(state.ReadContact("a", other).ok());
  EXPECT_EQ(other.contact_id(), "a");
  EXPECT_EQ(other.transfers(), 3);
  EXPECT_EQ(state.store_reads(), reads + 2);
  EXPECT_TRUE(state.PendingMutations().empty());
}

// A restore (or a rebuild) writes to the store directly: what the task state cached is dropped.
TEST(TaskState, WritesToTheStoreBehindItsBackDropTheCache) {
  const ScratchDir scratch("cache_behind");
  const std::string& dir = scratch.path();
  TaskState state = OpenState(dir);
  ASSERT_TRUE(state.PutCase(MakeCase("c1", v1::OPEN)).ok());
  ASSERT_TRUE(state.Commit({1, 1}).ok());
  EXPECT_EQ(CaseState(state, "c1"), "OPEN");
  EXPECT_EQ(CaseState(state, "c2"), "none");
  ASSERT_TRUE(state.store()
                  .Write({{Family::kCases, "c1", MakeCase("c1", v1::CLOSED).SerializeAsString()},
                          {Family::kCases, "c2", MakeCase("c2", v1::OPEN).SerializeAsString()}},
                         {2, 2})
                  .ok());
  EXPECT_EQ(CaseState(state, "c1"), "CLOSED");
  EXPECT_EQ(CaseState(state, "c2"), "OPEN");
  ASSERT_TRUE(state.store().Clear().ok());
  EXPECT_EQ(CaseState(state, "c1"), "none");
}

// Waits until the writer has run every job posted before.
void Drain(WriteQueue& writer) {
  std::promise<void> ran;
  writer.Post([&ran] { ran.set_value(); });
  ran.get_future().wait();
}

// With a writer, a commit's records are read from memory until written, the cache outlives the
// state's own writes, and a failed write fails every later commit.
TEST(TaskState, WritesOnAWriterStayReadableAndFailuresStick) {
  const ScratchDir scratch("writer");
  const std::string& dir = scratch.path();
  {
    WriteQueue writer;
    TaskState state = OpenState(dir, 1u << 20, &writer);
    Gate gate;
    ASSERT_TRUE(state.PutCase(MakeCase("c1", v1::OPEN)).ok());
    gate.Close(writer);
    ASSERT_TRUE(state.StartCommit({1, 1}).ok());
    EXPECT_EQ(state.committed_offsets().input, 1);
    const int64_t reads = state.store_reads();
    EXPECT_EQ(StoredCaseState(state, "c1"), "none");  // held in flight
    EXPECT_EQ(CaseState(state, "c1"), "OPEN");
    ASSERT_TRUE(state.PutCase(MakeCase("c1", v1::ACKNOWLEDGED)).ok());
    EXPECT_EQ(CaseState(state, "c1"), "ACKNOWLEDGED");
    gate.Open();
    Drain(writer);
    EXPECT_EQ(StoredCaseState(state, "c1"), "OPEN");
    state.Discard();  // the batch after: its change goes, the committed record stays
    EXPECT_EQ(CaseState(state, "c1"), "OPEN");
    EXPECT_EQ(state.store_reads(), reads);  // all from memory

    // The cache is not dropped for a write of the state's own, landed or not.
    ASSERT_TRUE(state.PutCase(MakeCase("c2", v1::OPEN)).ok());
    gate.Close(writer);
    ASSERT_TRUE(state.StartCommit({2, 2}).ok());
    EXPECT_EQ(CaseState(state, "c1"), "OPEN");
    gate.Open();
    Drain(writer);
    EXPECT_EQ(CaseState(state, "c1"), "OPEN");
    EXPECT_EQ(CaseState(state, "c2"), "OPEN");
    EXPECT_EQ(state.store_reads(), reads);
    ASSERT_TRUE(state.FinishWrites().ok());
    EXPECT_EQ(state.store().offsets().input, 2);
  }
  // Closed with the task state: the writer keeps no hold on the store once the write is done.
  ASSERT_TRUE(TaskStore::Open(dir).ok());
  // A store that cannot be written: the write fails on the writer, and so does every commit
  // after it.
  TaskStoreOptions read_only;
  read_only.read_only = true;
  auto store = TaskStore::Open(dir, read_only);
  ASSERT_TRUE(store.ok()) << store.status();
  WriteQueue writer;
  TaskStateOptions options;
  options.writer = &writer;
  TaskState state(std::move(*store), options);
  ASSERT_TRUE(state.PutCase(MakeCase("c3", v1::OPEN)).ok());
  ASSERT_TRUE(state.StartCommit({3, 3}).ok());
  EXPECT_FALSE(state.FinishWrites().ok());
  EXPECT_FALSE(state.FinishWrites().ok());
  ASSERT_TRUE(state.PutCase(MakeCase("c4", v1::OPEN)).ok());
  EXPECT_FALSE(state.StartCommit({4, 4}).ok());
}

// Over random reads, puts, deletes, commits, aborts and direct writes to the store (as a
// restore does), every read of the task state (batch, cache of `cache_bytes`, RocksDB) must
// equal a plain model's answer; after a commit's write, so must RocksDB. With a writer, a
// commit's write often stays in flight (held by a Gate) while the next batch reads and writes.
class TaskStateModelTest : public ::testing::TestWithParam<std::tuple<size_t, bool>> {};

TEST_P(TaskStateModelTest, RecordsAgreeWithAModelAcrossCommitsAndAborts) {
  const auto [cache_bytes, with_writer] = GetParam();
  const ScratchDir scratch("record_model_" + std::to_string(cache_bytes) +
                           (with_writer ? "_writer" : ""));
  const std::string& dir = scratch.path();
  WriteQueue writer;
  TaskState state = OpenState(dir, cache_bytes, with_writer ? &writer : nullptr);
  Gate gate;  // opened before the state waits for its write when a check fails
  // Per family (0 contacts, 1 cases, 2 customers): key -> a version number.
  using Model = std::map<std::pair<int, std::string>, int>;
  Model committed;
  Model live;  // committed with this batch's changes
  // A batch sealed and not yet posted (Seal, as AT_LEAST_ONCE ends a batch): committed with
  // its changes; `live` then holds those and the open batch's.
  bool sealed = false;
  Model sealed_model;
  std::mt19937_64 rng(20261202 + cache_bytes + (with_writer ? 1 : 0));
  auto read = [&](int family, const std::string& key) -> std::optional<int> {
    switch (family) {
      case 0: {
        v1::ContactState contact;
        auto found = state.ReadContact(key, contact);
        EXPECT_TRUE(found.ok());
        if (!found.ok() || !*found) return std::nullopt;
        EXPECT_EQ(contact.contact_id(), key);
        return contact.transfers();
      }
      case 1: {
        auto c = state.GetCase(key);
        EXPECT_TRUE(c.ok());
        if (!c.ok() || !c->has_value()) return std::nullopt;
        EXPECT_EQ((*c)->case_id(), key);
        return std::stoi((*c)->category());
      }
      default: {
        v1::CustomerState customer;
        auto found = state.ReadCustomer(key, customer);
        EXPECT_TRUE(found.ok());
        if (!found.ok() || !*found) return std::nullopt;
        EXPECT_EQ(customer.customer_key(), key);
        EXPECT_EQ(customer.open_case_ids_size(), 1);
        return customer.open_case_ids_size() == 1 ? std::stoi(customer.open_case_ids(0)) : -1;
      }
    }
  };
  auto encode = [](int family, const std::string& key, int version) {
    switch (family) {
      case 0: {
        v1::ContactState contact;
        contact.set_contact_id(key);
        contact.set_transfers(version);
        return Mutation{Family::kContacts, key, contact.SerializeAsString()};
      }
      case 1: {
        v1::ComplaintCase c = MakeCase(key, v1::OPEN);
        c.set_category(std::to_string(version));
        return Mutation{Family::kCases, key, c.SerializeAsString()};
      }
      default: {
        v1::CustomerState customer;
        customer.set_customer_key(key);
        customer.add_open_case_ids(std::to_string(version));
        return Mutation{Family::kCustomers, key, customer.SerializeAsString()};
      }
    }
  };
  // Takes contact `key` (the batch's or the cache's own message, else read) and checks it
  // against the model.
  auto take = [&](const std::string& key, int step, v1::ContactState& contact) {
    auto taken = state.TakeContact(key, contact);
    ASSERT_TRUE(taken.ok()) << taken.status();
    auto it = live.find({0, key});
    ASSERT_EQ(*taken, it != live.end()) << "step " << step;
    if (*taken) {
      EXPECT_EQ(contact.transfers(), it->second) << "step " << step;
    }
  };
  int in_flight = 0;
  // Checks that the store holds what was committed (once no write is in flight).
  auto check_store = [&](int step) {
    for (int f = 0; f < 3; ++f) {
      for (int k = 0; k < 12; ++k) {
        const std::string stored_key = "k" + std::to_string(k);
        auto bytes = state.store().Get(static_cast<Family>(f), stored_key);
        ASSERT_TRUE(bytes.ok());
        auto it = committed.find({f, stored_key});
        ASSERT_EQ(bytes->has_value(), it != committed.end()) << "step " << step;
        if (it != committed.end()) {
          EXPECT_EQ(**bytes, *encode(f, stored_key, it->second).value) << "step " << step;
        }
      }
    }
  };
  int version = 0;
  int64_t offset = 0;
  for (int step = 0; step < 5000; ++step) {
    const int family = static_cast<int>(rng() % 3);
    const std::string key = "k" + std::to_string(rng() % 12);
    const int op = static_cast<int>(rng() % 100);
    if (op < 30) {  // put, through the const& or the && overload
      ++version;
      const Mutation m = encode(family, key, version);
      const bool move = rng() % 2 == 0;
      absl::Status s;
      if (family == 0 && rng() % 2 == 0) {
        // As the engine changes a contact: taken, changed in place, put back.
        v1::ContactState contact;
        take(key, step, contact);
        if (HasFatalFailure()) return;
        contact.set_contact_id(key);
        contact.set_transfers(version);
        s = state.PutContact(std::move(contact));
      } else if (family == 0) {
        v1::ContactState contact;
        ASSERT_TRUE(contact.ParseFromString(*m.value));
        s = move ? state.PutContact(std::move(contact)) : state.PutContact(contact);
      } else if (family == 1) {
        v1::ComplaintCase c;
        ASSERT_TRUE(c.ParseFromString(*m.value));
        s = move ? state.PutCase(std::move(c)) : state.PutCase(c);
      } else {
        v1::CustomerState customer;
        ASSERT_TRUE(customer.ParseFromString(*m.value));
        s = move ? state.PutCustomer(std::move(customer)) : state.PutCustomer(customer);
      }
      ASSERT_TRUE(s.ok());
      live[{family, key}] = version;
    } else if (op < 45) {
      if (family == 0 && rng() % 2 == 0) {  // taken, then deleted instead of put back
        v1::ContactState contact;
        ASSERT_TRUE(state.TakeContact(key, contact).ok());
      }
      absl::Status s = family == 0   ? state.DeleteContact(key)
                       : family == 1 ? state.DeleteCase(key)
                                     : state.DeleteCustomer(key);
      ASSERT_TRUE(s.ok());
      live.erase({family, key});
    } else if (op < 80) {
      // Reads are checked below. A contact taken and returned unchanged stays as it was.
      if (family == 0 && rng() % 3 == 0) {
        v1::ContactState contact;
        take(key, step, contact);
        if (HasFatalFailure()) return;
        ASSERT_TRUE(state.ReturnContact(key, std::move(contact)).ok()) << "step " << step;
      }
    } else if (op < 90) {
      if (rng() % 3 == 0) (void)state.PendingMutations();  // as the changelog collects them
      gate.Open();                                         // the commit waits for the write before
      if (sealed) {
        // Its outputs acknowledged, the sealed batch is written; the open batch goes on.
        if (with_writer && rng() % 2 == 0) gate.Close(writer);
        ASSERT_TRUE(state.Post({++offset, offset}).ok()) << "step " << step;
        EXPECT_EQ(state.committed_offsets().input, offset);
        sealed = false;
        committed = sealed_model;
        if (with_writer) {
          in_flight = 1 + static_cast<int>(rng() % 8);
        } else {
          check_store(step);
        }
      } else if (rng() % 2 == 0) {
        // Set aside, nothing written: the store keeps what was committed before.
        const int64_t committed_input = state.committed_offsets().input;
        ASSERT_TRUE(state.Seal().ok()) << "step " << step;
        EXPECT_TRUE(state.sealed());
        EXPECT_EQ(state.Seal().code(), absl::StatusCode::kFailedPrecondition);
        EXPECT_EQ(state.committed_offsets().input, committed_input);
        sealed = true;
        sealed_model = live;
        in_flight = 0;  // the seal waited for the write before
        check_store(step);
      } else if (!with_writer) {
        ASSERT_TRUE(state.Commit({++offset, offset}).ok());
        committed = live;
        check_store(step);
      } else {
        // Held in flight (half the time) until a later step lets it land.
        if (rng() % 2 == 0) gate.Close(writer);
        ASSERT_TRUE(state.StartCommit({++offset, offset}).ok());
        EXPECT_EQ(state.committed_offsets().input, offset);
        committed = live;
        in_flight = 1 + static_cast<int>(rng() % 8);
      }
    } else if (op < 97) {
      gate.Open();
      state.Discard();  // with the sealed batch, if any
      EXPECT_FALSE(state.sealed());
      live = committed;
      sealed = false;
    } else {
      // Between batches, a write that does not go through the task state (a restore).
      gate.Open();
      state.Discard();
      sealed = false;
      ++version;
      const Mutation m = rng() % 2 == 0 ? encode(family, key, version)
                                        : Mutation{static_cast<Family>(family), key, std::nullopt};
      ASSERT_TRUE(state.store().Write({m}, {++offset, offset}).ok());
      if (m.value) {
        committed[{family, key}] = version;
      } else {
        committed.erase({family, key});
      }
      live = committed;
    }
    if (in_flight > 0 && --in_flight == 0) {
      // The write lands; the task state finds it done at once or some steps later.
      gate.Open();
      if (rng() % 2 == 0) {
        ASSERT_TRUE(state.FinishWrites().ok());
        check_store(step);
      }
    }
    for (int f = 0; f < 3; ++f) {
      const std::string probe = "k" + std::to_string(rng() % 12);
      auto it = live.find({f, probe});
      const std::optional<int> expected =
          it == live.end() ? std::nullopt : std::optional<int>(it->second);
      ASSERT_EQ(read(f, probe), expected) << "step " << step << " family " << f << " " << probe;
    }
  }
  gate.Open();
  ASSERT_TRUE(state.FinishWrites().ok());
  check_store(5000);
  if (cache_bytes > 0) {
    EXPECT_GT(state.cache_hits(), 0);
  }
  EXPECT_LE(state.cached_bytes(), cache_bytes);
}

// No cache, room for about two records per family (evictions all the time), room for all; each
// with the writes on the committing thread and on a writer's.
INSTANTIATE_TEST_SUITE_P(CacheBytes, TaskStateModelTest,
                         ::testing::Combine(::testing::Values(0, 3 * 250, 1 << 20),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return "bytes" + std::to_string(std::get<0>(info.param)) +
                                  (std::get<1>(info.param) ? "_writer" : "");
                         });

// The scans of stored timers start past the tombstones of fired timers and read ahead into a
// window kept until a write lands (see TaskState); over random puts, deletes, commits and
// aborts, what they find must equal a plain model's answer, also while a commit's write is in
// flight on a writer's thread (held by a Gate), whatever the read ahead (1 stored timer per scan,
// 3, the default).
class TimerModelTest : public ::testing::TestWithParam<std::tuple<bool, size_t>> {};

TEST_P(TimerModelTest, TimerScansAgreeWithAModelAcrossCommitsAndAborts) {
  const auto [with_writer, read_ahead] = GetParam();
  const ScratchDir scratch("timer_model_" + std::to_string(read_ahead) +
                           (with_writer ? "_writer" : ""));
  const std::string& dir = scratch.path();
  WriteQueue writer;
  auto store = TaskStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  TaskStateOptions options;
  options.writer = with_writer ? &writer : nullptr;
  options.timer_read_ahead = read_ahead;
  TaskState state(std::move(*store), options);
  Gate gate;  // opened before the state waits for its write when a check fails
  int in_flight = 0;
  using Key = std::pair<int64_t, std::string>;
  std::set<Key> committed;
  std::set<Key> live;   // committed with this batch's changes
  bool sealed = false;  // a batch sealed and not yet posted, committed with its changes:
  std::set<Key> sealed_model;
  std::mt19937_64 rng(20261201 + (with_writer ? 1 : 0));
  int64_t now = 0;
  int next_id = 0;
  std::optional<Key> cancelled;
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
    } else if (op < 72 && !live.empty()) {  // cancel a random pending timer
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      ASSERT_TRUE(state.DeleteTimer(MakeTimer(it->first, it->second)).ok());
      cancelled = *it;
      live.erase(it);
    } else if (op < 75 && cancelled) {  // put the last cancelled timer back (same key)
      ASSERT_TRUE(state.PutTimer(MakeTimer(cancelled->first, cancelled->second)).ok());
      live.insert(*cancelled);
      cancelled.reset();
    } else if (op < 92) {
      gate.Open();  // the commit waits for the write before
      if (sealed) {
        if (with_writer && rng() % 2 == 0) gate.Close(writer);
        ASSERT_TRUE(state.Post(Offsets{step, step}).ok()) << "step " << step;
        if (with_writer) in_flight = 1 + static_cast<int>(rng() % 8);
        committed = sealed_model;
        sealed = false;
      } else if (rng() % 2 == 0) {
        ASSERT_TRUE(state.Seal().ok()) << "step " << step;
        in_flight = 0;  // the seal waited for the write before
        sealed_model = live;
        sealed = true;
      } else if (with_writer) {
        if (rng() % 2 == 0) gate.Close(writer);
        ASSERT_TRUE(state.StartCommit(Offsets{step, step}).ok());
        in_flight = 1 + static_cast<int>(rng() % 8);
        committed = live;
      } else {
        ASSERT_TRUE(state.Commit(Offsets{step, step}).ok());
        committed = live;
      }
    } else {
      gate.Open();
      state.Discard();  // with the sealed batch, if any: its fired timers are pending again
      live = committed;
      sealed = false;
    }
    if (in_flight > 0 && --in_flight == 0) {
      gate.Open();
      if (rng() % 2 == 0) {
        ASSERT_TRUE(state.FinishWrites().ok());
      }
    }
    auto next = state.NextDue();
    ASSERT_TRUE(next.ok());
    const std::optional<int64_t> expected_next =
        live.empty() ? std::nullopt : std::optional<int64_t>(live.begin()->first);
    ASSERT_EQ(*next, expected_next) << "step " << step;
  }
  gate.Open();
}

INSTANTIATE_TEST_SUITE_P(Writes, TimerModelTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(1, 3, 64)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "OnAWriter"
                                                                      : "OnTheCommitter") +
                                  "_ReadAhead" + std::to_string(std::get<1>(info.param));
                         });

// Firing stored timers one event at a time (the pipeline looks for due timers before every
// event, fires them and deletes each) reads ahead instead of opening a RocksDB iterator per
// look: 300 timers fired in one batch take a scan per 64 stored timers, not two or three per
// fire. A write that lands starts a new window.
TEST(TaskState, LooksForDueTimersReadAheadOfTheStore) {
  const ScratchDir scratch("timer_read_ahead");
  TaskState state = OpenState(scratch.path());
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(state.PutTimer(MakeTimer(1000 + i, "t" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(state.Commit({1, 1}).ok());
  const int64_t before = state.timer_store_scans();
  for (int i = 0; i < 300; ++i) {
    const int64_t now = 1000 + i;
    auto next = state.NextDue();
    ASSERT_TRUE(next.ok());
    ASSERT_EQ(*next, std::optional<int64_t>(now));
    auto due = state.DueTimers(now, 64);
    ASSERT_TRUE(due.ok());
    ASSERT_EQ(due->size(), 1u) << i;
    EXPECT_EQ((*due)[0].timer_id(), "t" + std::to_string(i));
    ASSERT_TRUE(state.DeleteTimer((*due)[0]).ok());
    auto again = state.DueTimers(now, 64);  // the next round finds nothing left due
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->empty());
  }
  auto next = state.NextDue();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, std::nullopt);
  const int64_t scans = state.timer_store_scans() - before;
  EXPECT_GE(scans, 300 / 64);
  EXPECT_LE(scans, 300 / 64 + 2);

  // A landed write is merged into the window: its stored timer is found without a new scan.
  ASSERT_TRUE(state.PutTimer(MakeTimer(5000, "late")).ok());
  ASSERT_TRUE(state.Commit({2, 2}).ok());
  int64_t committed = state.timer_store_scans();
  auto due = state.DueTimers(5000, 64);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].timer_id(), "late");
  EXPECT_EQ(state.timer_store_scans(), committed) << "the window was dropped";
  // Its delete too: nothing is due, and still no scan.
  ASSERT_TRUE(state.DeleteTimer((*due)[0]).ok());
  ASSERT_TRUE(state.Commit({3, 3}).ok());
  due = state.DueTimers(5000, 64);
  ASSERT_TRUE(due.ok());
  EXPECT_TRUE(due->empty());
  EXPECT_EQ(state.timer_store_scans(), committed) << "the window was dropped";

  // After an abort the window starts anew past the timers fired so far; a timer stored below
  // that drops it: found by a new scan.
  state.Discard();
  due = state.DueTimers(5000, 64);
  ASSERT_TRUE(due.ok());
  EXPECT_TRUE(due->empty());
  ASSERT_TRUE(state.PutTimer(MakeTimer(10, "early")).ok());
  ASSERT_TRUE(state.Commit({4, 4}).ok());
  committed = state.timer_store_scans();
  due = state.DueTimers(5000, 64);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].timer_id(), "early");
  EXPECT_EQ(state.timer_store_scans(), committed + 1);
}

}  // namespace
}  // namespace ccstream::state
