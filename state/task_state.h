#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "processor/domain/state_store.h"
#include "state/task_store.h"
#include "state/write_queue.h"

namespace ccstream::state {

struct TaskStateOptions {
  // Budget of the decoded records kept across batches (contacts, cases and customers, one
  // budget for the three; absent keys included), counted in serialized bytes plus 64 per record
  // (a decoded record takes about two to three times its serialized size): a record read or
  // written in one batch is read again in a later one without a RocksDB Get and a parse. The
  // least recently used record of any family goes first, so the family read most (contacts,
  // live) holds most of it; 0 keeps none. Default: 2 MiB per task.
  size_t cache_bytes = 2u << 20;
  // Where StartCommit's local writes run, so that the caller goes on meanwhile; nullptr writes
  // on the caller's thread before StartCommit returns. Must outlive the TaskState. Default:
  // nullptr.
  WriteQueue* writer = nullptr;
  // Stored timers read per RocksDB scan and kept (serialized) for the next looks for due timers
  // and the next due time, until a write lands: most looks then need no iterator. At least 1.
  // Default: 64.
  size_t timer_read_ahead = 64;
};

// The state of one task as the engine sees it during a batch. Records are kept decoded: the
// batch's writes in an overlay (last value per key) until the batch commits (Commit: serialized
// once, one WriteBatch with the offsets) or aborts (Discard); reads go through the overlay, then
// a bounded cache of committed records, then the RocksDB store. Also turns the pending changes
// into changelog records and applies changelog records on restore.
//
// With a writer (TaskStateOptions::writer), StartCommit hands the committed batch's WriteBatch
// to the writer's thread and returns: the next batch proceeds meanwhile, reading the committed
// batch's records from memory (a layer between the overlay and the cache) until FinishWrites
// found them written. Every method waits for the write in flight where it must (the next
// commit, Discard, the destructor).
// Owned by the task; not thread-safe.
class TaskState final : public domain::StateStore {
 public:
  explicit TaskState(std::shared_ptr<TaskStore> store, const TaskStateOptions& options = {});
  // Waits for the write in flight.
  ~TaskState() override;
  TaskState(const TaskState&) = delete;
  TaskState& operator=(const TaskState&) = delete;

  absl::StatusOr<std::optional<v1::ContactState>> GetContact(std::string_view contact_id) override;
  absl::Status PutContact(const v1::ContactState& contact) override;
  absl::Status PutContact(v1::ContactState&& contact) override;
  absl::Status DeleteContact(std::string_view contact_id) override;
  absl::StatusOr<bool> ReadContact(std::string_view contact_id, v1::ContactState& out) override;
  // Hands over the batch's own record, the cache's (dropped from the cache: it holds committed
  // records only, and the put-back record is cached once written) or the write in flight's
  // (which needs only the serialized record), without a copy; from the store as ReadContact (not
  // cached). Until the contact is put back, deleted or returned, reading it, taking another and
  // StartCommit fail.
  absl::StatusOr<bool> TakeContact(std::string_view contact_id, v1::ContactState& out) override;
  // Puts a contact taken and left unchanged back where it was found, without a write.
  absl::Status ReturnContact(std::string_view contact_id, v1::ContactState&& contact) override;
  absl::StatusOr<std::optional<v1::ComplaintCase>> GetCase(std::string_view case_id) override;
  absl::Status PutCase(const v1::ComplaintCase& c) override;
  absl::Status PutCase(v1::ComplaintCase&& c) override;
  absl::Status DeleteCase(std::string_view case_id) override;
  absl::StatusOr<bool> ReadCase(std::string_view case_id, v1::ComplaintCase& out) override;
  absl::StatusOr<std::optional<v1::CustomerState>> GetCustomer(
      std::string_view customer_key) override;
  absl::Status PutCustomer(const v1::CustomerState& customer) override;
  absl::Status PutCustomer(v1::CustomerState&& customer) override;
  absl::Status DeleteCustomer(std::string_view customer_key) override;
  absl::StatusOr<bool> ReadCustomer(std::string_view customer_key, v1::CustomerState& out) override;
  absl::Status PutTimer(const v1::Timer& timer) override;
  absl::Status DeleteTimer(const v1::Timer& timer) override;

  // Pending timers due at or before `now_ms`, in (due, id) order, at most `limit`; the batch's
  // own changes included.
  absl::StatusOr<std::vector<v1::Timer>> DueTimers(int64_t now_ms, size_t limit) const;
  // The earliest pending timer's due time, if any (batch changes included); cached, so cheap
  // to ask before every event.
  absl::StatusOr<std::optional<int64_t>> NextDue() const;

  bool HasPendingChanges() const {
    return !contacts_.pending.empty() || !cases_.pending.empty() || !customers_.pending.empty() ||
           !timers_.empty();
  }
  // The batch's changes as they will be written (one per key, last value wins; ordered by
  // family, then key), serialized once: Commit writes this very vector. Valid until the next
  // change, Commit or Discard.
  const std::vector<Mutation>& PendingMutations();
  // Writes the batch's changes with the offsets in one WriteBatch and starts a new batch; the
  // records written move to the cache. StartCommit, then FinishWrites.
  absl::Status Commit(const Offsets& offsets);
  // Starts writing the batch's changes with the offsets (on the writer's thread, when there is
  // one) and starts a new batch; the changes stay readable meanwhile. Waits first for the write
  // before (FinishWrites) and returns its error, if any. Seal, then Post.
  absl::Status StartCommit(const Offsets& offsets);
  // Sets the batch's changes aside and starts a new batch: they stay readable (as a write in
  // flight would), unwritten until Post writes them, or Discard forgets them with the new
  // batch's. So a batch can go on while Kafka has yet to acknowledge the one before. Waits first
  // for the write before (FinishWrites) and returns its error, if any; fails while a sealed
  // batch waits for its Post.
  absl::Status Seal();
  // Starts writing the sealed changes with the offsets, as StartCommit does; fails without a
  // sealed batch.
  absl::Status Post(const Offsets& offsets);
  // A batch is sealed and not yet posted.
  bool sealed() const { return writing_ != nullptr && !writing_->posted; }
  // Waits for the write StartCommit started, if any; its records move to the cache. A failed
  // write's error is returned, and again by every later StartCommit: the store no longer holds
  // what was committed.
  absl::Status FinishWrites();
  // The offsets of the last commit (those of the write in flight, if any; not a sealed
  // batch's).
  Offsets committed_offsets() const;
  // Forgets the batch's changes (the transaction was aborted) and those of a sealed batch not
  // yet posted, after the write in flight, if any, finished. The cache holds committed records
  // only, so reads see what the store holds.
  void Discard();

  TaskStore& store() { return *store_; }
  const TaskStore& store() const { return *store_; }
  // The store, shared with readers on other threads (the API), which may read it concurrently
  // with the task's writes; it closes when the task and the last reader let it go.
  std::shared_ptr<const TaskStore> shared_store() const { return store_; }

  // Records of the cross-batch cache (all families) and their bytes as counted against
  // `cache_bytes`; reads of committed records answered from memory (the cache, or a write in
  // flight) and by the store.
  size_t cached_records() const {
    return contacts_.cache.size() + cases_.cache.size() + customers_.cache.size();
  }
  size_t cached_bytes() const {
    return contacts_.cached_bytes + cases_.cached_bytes + customers_.cached_bytes;
  }
  int64_t cache_hits() const { return cache_hits_; }
  int64_t store_reads() const { return store_reads_; }
  // RocksDB scans of the stored timers made by DueTimers and NextDue (each reads ahead).
  int64_t timer_store_scans() const { return timer_store_scans_; }

 private:
  // The decoded records of one family: the batch's changes (nullopt: deleted) and a least
  // recently used cache of committed records (nullopt: absent from the store).
  // Hashes and compares keys held as strings or string_views alike (lookups need no copy).
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>()(key); }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  template <typename T>
  struct Records {
    struct Cached {
      std::string key;
      std::optional<T> value;
      size_t bytes = 0;   // as counted against the budget
      uint64_t used = 0;  // `cache_clock_` when last cached or read: the families' common order
    };
    absl::flat_hash_map<std::string, std::optional<T>, KeyHash, KeyEq> pending;
    // The committed batch's changes while its write is in flight (see StartCommit), less a
    // record taken from it (see Read).
    absl::flat_hash_map<std::string, std::optional<T>, KeyHash, KeyEq> writing;
    // The key of a record handed over by Take and not yet put back, deleted or returned
    // (`has_taken`), where it came from and, from the cache or the store, its bytes as counted
    // against the budget (a Return puts it back there).
    enum class From { kBatch, kWriting, kCache, kStore };
    std::string taken;
    bool has_taken = false;
    From taken_from = From::kBatch;
    bool taken_present = false;
    size_t taken_bytes = 0;
    std::list<Cached> cache;  // most recently used first
    using Index =
        absl::flat_hash_map<std::string_view, typename std::list<Cached>::iterator, KeyHash, KeyEq>;
    Index index;
    size_t cached_bytes = 0;
  };
  // Reads `key` into `out`; `take`: Take's hand-over (see TakeContact).
  template <typename T>
  absl::StatusOr<bool> Read(Records<T>& records, Family family, std::string_view key, T& out,
                            bool take = false);
  template <typename T>
  absl::StatusOr<std::optional<T>> Get(Records<T>& records, Family family, std::string_view key);
  // Gives back a record taken and left as it was, to where it came from (see ReturnContact);
  // `value` is moved from.
  template <typename T>
  absl::Status Return(Records<T>& records, Family family, std::string_view key, T& value);
  // The batch's slot for `key` (a new one holds nullopt); drops the built mutations.
  template <typename T>
  std::optional<T>& Staged(Records<T>& records, std::string_view key);
  // Caches a committed record (nullopt: absent) whose serialized form has `value_bytes`.
  template <typename T>
  void Remember(Records<T>& records, std::string_view key, std::optional<T> value,
                size_t value_bytes);
  // Evicts the least recently used records of all families until the cache fits its budget.
  void TrimCache();
  template <typename T>
  static void ForgetCache(Records<T>& records);
  // Drops one cached record, given its index entry.
  template <typename T>
  static void Evict(Records<T>& records, typename Records<T>::Index::iterator entry);
  template <typename T>
  static void Serialize(const Records<T>& records, Family family, std::vector<Mutation>& out);
  // Moves a written record from `writing` to the cache.
  template <typename T>
  void CommitToCache(Records<T>& records, const Mutation& m);
  // The timer staged under `key` by the batch, else by the write in flight (nullopt inside:
  // deleted); nullptr when neither holds it.
  const std::optional<v1::Timer>* StagedTimer(std::string_view key) const;
  // Drops the cache when the store was written behind this object's back (a restore, Clear).
  void CheckStoreWrites();
  // Visits the stored timers in key order from `timers_scan_from_` (as TaskStore::Scan would;
  // `visit` returns false to stop), from the read-ahead window below, scanning the store only
  // past its end.
  absl::Status ScanStoredTimers(
      const std::function<bool(std::string_view, std::string_view)>& visit) const;

  std::shared_ptr<TaskStore> store_;
  TaskStateOptions options_;
  Records<v1::ContactState> contacts_;
  Records<v1::ComplaintCase> cases_;
  Records<v1::CustomerState> customers_;
  // The batch's timer changes by timer key (nullopt: deleted), ordered like the store's.
  std::map<std::string, std::optional<v1::Timer>, std::less<>> timers_;
  // The timers of `timers_` that hold a value, by the same key (views of `timers_`'s keys,
  // which stay put until it is cleared). Fired timers are deleted in due order, so most of a
  // busy batch's `timers_` is a run of deletions at its front: the looks for due timers, made
  // before every event, walk this instead of stepping over every timer fired in the batch.
  using LiveTimers = std::map<std::string_view, const v1::Timer*>;
  LiveTimers live_timers_;
  // PendingMutations(), built on demand; dropped by every change.
  std::vector<Mutation> mutations_;
  bool mutations_built_ = false;
  // The write StartCommit started and FinishWrites has not yet seen end: its mutations (which
  // the writer reads), offsets and result, and the timer changes it holds (as `timers_` and
  // `live_timers_`; a key the next batch changes leaves `live_timers`, so that the looks for
  // due timers made before every event do not step over the timers it fired), and the first
  // live timer it stores. The records are in the families' `writing` maps.
  struct Write {
    std::vector<Mutation> mutations;
    Offsets offsets;
    std::future<absl::Status> done;
    bool posted = false;       // else sealed: nothing written yet (`done` not valid)
    std::string floor_before;  // `timers_floor_` before the seal, which Discard restores
    std::map<std::string, std::optional<v1::Timer>, std::less<>> timers;
    LiveTimers live_timers;
    std::optional<std::string> first_live;
  };
  std::unique_ptr<Write> writing_;
  absl::Status write_error_;  // of a write that failed: the store is behind what was committed
  // TaskStore::writes() when the cache last agreed with the store.
  uint64_t store_writes_ = 0;
  int64_t cache_hits_ = 0;
  int64_t store_reads_ = 0;
  // Counts the caching and cache reads of records (Cached::used).
  uint64_t cache_clock_ = 0;

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

  // The read-ahead window of stored timers (key, serialized value), in key order from where it
  // was first read (`window_start_`, `timers_scan_from_` then): the store holds no other timer
  // key from there to `window_next_`, where the next read ahead starts (nullopt: the store has
  // no more). A fired
  // timer is looked for before every event and deleted when handled; without the window each
  // look and each next due time after a fire opened a RocksDB iterator (10 % of the processing
  // thread in a throughput run). Entries are the store's contents: the scans skip those the
  // batch or the write in flight deleted and let theirs replace the others, as they do over the
  // store (which only this object writes once timers have been read, as `timers_scan_from_`
  // assumes; the scan start falls below the window's start only at StartCommit, to the batch's
  // own timers, and the stored keys it then uncovers were deleted by that batch). A write that
  // lands is merged into it (MergeLandedTimers: its timer puts and deletes from `window_start_`
  // to `window_next_`; the window is then at most four read-aheads long), so the looks after a
  // commit need no new scan; dropped when the write failed or put a timer below
  // `window_start_`, and by Discard (whose forgotten deletes bring entries back).
  // `window_pos_`: the first entry at or past `timers_scan_from_` (those below are deleted).
  void MergeLandedTimers(const std::vector<Mutation>& mutations) const;
  mutable std::vector<std::pair<std::string, std::string>> window_;
  mutable std::string window_start_;
  mutable size_t window_pos_ = 0;
  mutable std::optional<std::string> window_next_;
  mutable bool window_valid_ = false;
  mutable int64_t timer_store_scans_ = 0;
};

// A changelog record's key: one byte for the family, then the store key.
std::string ChangelogKey(Family family, std::string_view key);
// The changelog carries no records of the timers family: every pending timer is kept in the
// record it belongs to (a contact's, case's or customer's `timers`, as the engine keeps them),
// and a restore derives the timers family from those records. DeriveTimerChanges appends to
// `out` the changes of the timers family that go with a record of `family` going from `before`
// to `after` (nullopt: not stored, or deleted): a delete for each timer that only `before`
// holds, a put for each timer of `after` that `before` does not hold with the same bytes (the
// bytes the record holds it in, which are those PutTimer stores). Nothing for the other
// families; a DataLossError when a value does not parse.
absl::Status DeriveTimerChanges(Family family, const std::optional<std::string>& before,
                                const std::optional<std::string>& after,
                                std::vector<Mutation>& out);
// The marker of a changelog partition's format (kChangelogFormat): a record under this key, its
// value the format in decimal. Each task produces it in the first batch it commits after it
// was handed its partition, so that compaction keeps the latest. It lies in the timers family,
// under a key no timer has (a timer's key starts with its biased due time, never a zero byte),
// so that the builds since the timers left the changelog, which leave that family's records out
// of a restore and do not know the marker, pass over it.
// Its value is ChangelogFormatValue(), checked on a restore by CheckChangelogFormat (both in
// task_store.h).
std::string ChangelogFormatKey();
// Whether a changelog record (its key split by ParseChangelogKey) is the format marker.
bool IsChangelogFormatMarker(Family family, std::string_view key);
// Splits a changelog key; an error for an unknown family byte or an empty key.
absl::StatusOr<std::pair<Family, std::string>> ParseChangelogKey(std::string_view key);

}  // namespace ccstream::state
