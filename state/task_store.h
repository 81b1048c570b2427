#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Snapshot;
}  // namespace rocksdb

namespace ccstream::state {

// The column families of a task's store (see README.md for the key encoding of each).
enum class Family : int { kContacts = 0, kCases = 1, kCustomers = 2, kTimers = 3, kMeta = 4 };
inline constexpr int kFamilyCount = 5;
std::string_view FamilyName(Family family);

// The format of the changelog this build writes, and the latest it reads. 1: the timers family
// in the changelog; 2: no timers there, a restore derives them from the records that hold them.
// A store keeps it in its meta family (`changelog_format`, written with every batch), and each
// changelog partition carries a marker of it (ChangelogFormatKey in task_state.h); a store or a
// marker of a later format than this is refused, so that a build rolled back past a change of
// the format stops with a clear error instead of misreading the state.
inline constexpr int kChangelogFormat = 2;
// kChangelogFormat in decimal, as a store's meta and a changelog marker hold it.
std::string_view ChangelogFormatValue();
// A format as a store's meta or a changelog marker holds it, checked: FailedPrecondition (with
// what to do) for a format later than this build reads, DataLoss for one that is not a format.
absl::Status CheckChangelogFormat(std::optional<std::string_view> value);

// One change of a batch: a put (value set) or a delete (value empty optional).
struct Mutation {
  Family family;
  std::string key;
  std::optional<std::string> value;
};

// Offsets kept beside the state, written in the same WriteBatch as the changes they cover.
struct Offsets {
  // Next input offset to read for this task's partition; -1 when never committed.
  int64_t input = -1;
  // Next changelog offset to restore from for this task's changelog partition; -1 when none.
  int64_t changelog = -1;
};

// Tuning of a task store. Defaults suit a contact centre of a few hundred thousand live keys
// per task on a small machine.
struct TaskStoreOptions {
  // One block cache for every store of the process (an instance holds one store per assigned
  // partition), in bytes; the memtables are charged to it too, so that it bounds the memory of
  // all the stores together rather than per store. Taken from the first store opened.
  // Default: 192 MiB, as state.block_cache_mib.
  size_t block_cache_bytes = 192u << 20;
  // Memtables of all the stores of the process together, in bytes (within the cache above):
  // past it, the largest memtable is flushed. Taken from the first store opened.
  // Default: 96 MiB, as state.write_buffers_mib.
  size_t write_buffers_total_bytes = 96u << 20;
  // Memtable size per family before a flush, in bytes. Default: 16 MiB.
  size_t write_buffer_bytes = 16u << 20;
  // fsync the WAL on every batch (survives an OS crash, not only a process crash). Default: false.
  bool sync_writes = false;
  // Open for reading only, alongside a running service that holds the store. Default: false.
  bool read_only = false;
};

// Memory RocksDB holds for the stores of the process, in bytes.
struct StoreMemory {
  // The block cache shared by every store: cached data blocks, and the memtables' reservations
  // (the memtables are charged to it, see TaskStoreOptions).
  int64_t block_cache = 0;
  // The memtables of every store, mutable and immutable (within block_cache).
  int64_t memtables = 0;
  // Their share (TaskStoreOptions::write_buffers_total_bytes of the first store opened).
  int64_t memtables_budget = 0;
  // Index and filter blocks of the stores' open table files, held outside the cache (only of
  // the stores whose TableReadersBytes were added).
  int64_t table_readers = 0;

  // The memtables hold more than their share: flushes are behind the writes (RocksDB flushes
  // the largest memtable once the mutable ones pass 7/8 of the share, and frees it only when
  // the flush is done).
  bool memtables_over_budget() const {
    return memtables_budget > 0 && memtables > memtables_budget;
  }
};

// The shared block cache and memtables (table_readers 0); all zero before a store was opened.
// Thread-safe.
StoreMemory SharedStoreMemory();

// The RocksDB store of one task (one input partition): column families contacts, cases,
// customers, timers and meta, and the offsets kept beside the state. Every batch is written
// with one WriteBatch. Owned by the task; not thread-safe for writes (one writer at a time, not
// necessarily the same thread), reads may run concurrently with writes; offsets() is the
// writer's to read.
class TaskStore {
 public:
  static absl::StatusOr<std::unique_ptr<TaskStore>> Open(const std::string& path,
                                                         const TaskStoreOptions& options = {});
  ~TaskStore();

  absl::StatusOr<std::optional<std::string>> Get(Family family, std::string_view key) const;
  // The values of `keys` (sorted, bytewise ascending) in one read: (*values)[i] for keys[i].
  absl::Status MultiGet(Family family, const std::vector<std::string_view>& keys,
                        std::vector<std::optional<std::string>>* values) const;
  // Writes the mutations and the offsets atomically.
  absl::Status Write(const std::vector<Mutation>& mutations, const Offsets& offsets);
  // The offsets last written (or -1/-1 for a new store).
  const Offsets& offsets() const { return offsets_; }
  // Counts the calls of Write and Clear since the store opened: a writer that keeps records
  // in memory (TaskState) tells from it whether the store was written without it. May be read
  // on another thread than the writer's.
  uint64_t writes() const { return writes_.load(); }
  // The store as it is at TakeSnapshot, for a reader on another thread while the task goes on
  // writing. Released when dropped, which must happen before the store closes.
  class Snapshot {
   public:
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    friend class TaskStore;
    Snapshot(rocksdb::DB* db, const rocksdb::Snapshot* snapshot) : db_(db), snapshot_(snapshot) {}
    rocksdb::DB* db_;
    const rocksdb::Snapshot* snapshot_;
  };
  std::unique_ptr<Snapshot> TakeSnapshot() const;
  // Visits the keys of `family` in order, starting at `from` (inclusive); stops when `visit`
  // returns false. Reads `at` when given (a snapshot of this store), else the store as it is.
  absl::Status Scan(Family family, std::string_view from,
                    const std::function<bool(std::string_view key, std::string_view value)>& visit,
                    const Snapshot* at = nullptr) const;
  // RocksDB's estimate of the number of keys in `family` (cheap; exact after compaction).
  int64_t EstimateKeys(Family family) const;
  // Memory of this store's open table files' index and filter blocks (outside the block cache).
  int64_t TableReadersBytes() const;
  // Deletes every key of the data families (not meta): used before a full restore.
  absl::Status Clear();
  const std::string& path() const { return path_; }

 private:
  TaskStore() = default;
  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  Offsets offsets_;
  std::atomic<uint64_t> writes_{0};
  bool sync_writes_ = false;
};

// Key of a timer in the timers family: the due time as 8 bytes big-endian (offset so that
// negative times sort first), then the timer id, so that keys sort by (due, id).
std::string TimerKey(int64_t due_ms, std::string_view timer_id);
// The due time encoded at the front of a timer key.
int64_t TimerKeyDue(std::string_view key);

}  // namespace ccstream::state
