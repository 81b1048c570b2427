#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "processor/domain/state_store.h"
#include "state/task_store.h"

namespace ccstream::state {

// The state of one task as the engine sees it during a batch: reads go through the batch's
// pending changes to the RocksDB store; writes are collected (last value per key) until the
// batch commits (Commit: one WriteBatch with the offsets) or aborts (Discard). Also turns the
// pending changes into changelog records and applies changelog records on restore.
// Owned by the task; not thread-safe.
class TaskState final : public domain::StateStore {
 public:
  explicit TaskState(std::shared_ptr<TaskStore> store);

  absl::StatusOr<std::optional<v1::ContactState>> GetContact(std::string_view contact_id) override;
  absl::Status PutContact(const v1::ContactState& contact) override;
  absl::Status DeleteContact(std::string_view contact_id) override;
  absl::StatusOr<std::optional<v1::ComplaintCase>> GetCase(std::string_view case_id) override;
  absl::Status PutCase(const v1::ComplaintCase& c) override;
  absl::Status DeleteCase(std::string_view case_id) override;
  absl::StatusOr<std::optional<v1::CustomerState>> GetCustomer(
      std::string_view customer_key) override;
  absl::Status PutCustomer(const v1::CustomerState& customer) override;
  absl::Status DeleteCustomer(std::string_view customer_key) override;
  absl::Status PutTimer(const v1::Timer& timer) override;
  absl::Status DeleteTimer(const v1::Timer& timer) override;

  // Pending timers due at or before `now_ms`, in (due, id) order, at most `limit`; the batch's
  // own changes included.
  absl::StatusOr<std::vector<v1::Timer>> DueTimers(int64_t now_ms, size_t limit) const;
  // The earliest pending timer's due time, if any (batch changes included); cached, so cheap
  // to ask before every event.
  absl::StatusOr<std::optional<int64_t>> NextDue() const;

  bool HasPendingChanges() const { return !pending_.empty(); }
  // The batch's changes as they will be written (one per key, last value wins).
  std::vector<Mutation> PendingMutations() const;
  // Writes the batch's changes with the offsets in one WriteBatch and starts a new batch.
  absl::Status Commit(const Offsets& offsets);
  // Forgets the batch's changes (the transaction was aborted).
  void Discard() {
    pending_.clear();
    next_due_known_ = false;
    timers_scan_from_ = timers_floor_;
  }

  TaskStore& store() { return *store_; }
  const TaskStore& store() const { return *store_; }
  // The store, shared with readers on other threads (the API), which may read it concurrently
  // with the task's writes; it closes when the task and the last reader let it go.
  std::shared_ptr<const TaskStore> shared_store() const { return store_; }

 private:
  template <typename T>
  absl::StatusOr<std::optional<T>> Read(Family family, std::string_view key) const;
  void Stage(Family family, std::string key, std::optional<std::string> value);

  std::shared_ptr<TaskStore> store_;
  // Orders (family, key) pairs whether the key is held as a string or a string_view.
  struct KeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      if (a.first != b.first) return a.first < b.first;
      return std::string_view(a.second) < std::string_view(b.second);
    }
  };
  std::map<std::pair<Family, std::string>, std::optional<std::string>, KeyLess> pending_;
  // Where a scan of the stored timers starts. A fired or cancelled timer leaves a tombstone
  // in RocksDB until compaction, and an iterator steps over every tombstone it meets: scanning
  // from the first key, each look for due timers would walk all the timers fired since the
  // last compaction (quadratic; it made a task spend most of its time in DBIter::Seek).
  // `timers_floor_`: no stored timer key is below it (kept by Commit). `timers_scan_from_`
  // (>= the floor): every stored key below it is deleted in this batch; learnt by the scans.
  // Both assume the store is written only through this object once timers have been read
  // (the restore writes before the task runs).
  void TimersFound(std::string_view first_live_key) const;
  std::string timers_floor_;
  mutable std::string timers_scan_from_;
  // NextDue() cached: kept exact by PutTimer, dropped by a delete of the earliest timer.
  mutable bool next_due_known_ = false;
  mutable std::optional<int64_t> next_due_;
};

// A changelog record's key: one byte for the family, then the store key.
std::string ChangelogKey(Family family, std::string_view key);
// Splits a changelog key; an error for an unknown family byte or an empty key.
absl::StatusOr<std::pair<Family, std::string>> ParseChangelogKey(std::string_view key);

}  // namespace ccstream::state
