#include "state/task_store.h"

#include <atomic>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "rocksdb/write_buffer_manager.h"

namespace ccstream::state {
namespace {

constexpr char kInputOffsetKey[] = "input_offset";
constexpr char kChangelogOffsetKey[] = "changelog_offset";
constexpr char kSchemaKey[] = "schema_version";
constexpr char kSchemaVersion[] = "1";
constexpr char kChangelogFormatKey[] = "changelog_format";

absl::Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("RocksDB ", std::string(what), ": ", status.ToString()));
}

}  // namespace

std::string_view FamilyName(Family family) {
  switch (family) {
    case Family::kContacts:
      return "contacts";
    case Family::kCases:
      return "cases";
    case Family::kCustomers:
      return "customers";
    case Family::kTimers:
      return "timers";
    case Family::kMeta:
      return "meta";
  }
  return "unknown";
}

std::string TimerKey(int64_t due_ms, std::string_view timer_id) {
  const uint64_t biased = static_cast<uint64_t>(due_ms) ^ (uint64_t{1} << 63);
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>((biased >> (56 - 8 * i)) & 0xff);
  key.append(timer_id.data(), timer_id.size());
  return key;
}

std::string_view ChangelogFormatValue() {
  static const std::string value = std::to_string(kChangelogFormat);
  return value;
}

absl::Status CheckChangelogFormat(std::optional<std::string_view> value) {
  int format = 0;
  if (!value || !absl::SimpleAtoi(std::string(*value), &format) || format < 1) {
    return absl::DataLossError(
        absl::StrCat("not a changelog format: '", value ? std::string(*value) : "(none)", "'"));
  }
  if (format > kChangelogFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "written in changelog format ", format,
        " by a later ccstream; this build reads formats up to ", kChangelogFormat,
        ". Run the later build, or give this one a state directory, consumer group and "
        "changelog topic of its own to rebuild the state from the input"));
  }
  return absl::OkStatus();
}

int64_t TimerKeyDue(std::string_view key) {
  uint64_t biased = 0;
  for (int i = 0; i < 8 && i < static_cast<int>(key.size()); ++i) {
    biased = (biased << 8) | static_cast<unsigned char>(key[i]);
  }
  return static_cast<int64_t>(biased ^ (uint64_t{1} << 63));
}

namespace {

// The block cache and memtable budget shared by every store of the process: an instance opens
// one store per assigned partition, and per-store caches and memtables would multiply with them.
struct SharedMemory {
  std::shared_ptr<rocksdb::Cache> cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
};

// Set once, by the first store opened; read by SharedStoreMemory on any thread.
std::atomic<const SharedMemory*> shared_memory{nullptr};

const SharedMemory& Shared(const TaskStoreOptions& options) {
  static const SharedMemory* shared = [&] {
    auto* memory = new SharedMemory();
    memory->cache = rocksdb::NewLRUCache(options.block_cache_bytes);
    memory->write_buffers = std::make_shared<rocksdb::WriteBufferManager>(
        options.write_buffers_total_bytes, memory->cache);
    shared_memory.store(memory);
    return memory;
  }();
  return *shared;
}

}  // namespace

StoreMemory SharedStoreMemory() {
  StoreMemory memory;
  if (const SharedMemory* shared = shared_memory.load(); shared != nullptr) {
    memory.block_cache = static_cast<int64_t>(shared->cache->GetUsage());
    memory.memtables = static_cast<int64_t>(shared->write_buffers->memory_usage());
    memory.memtables_budget = static_cast<int64_t>(shared->write_buffers->buffer_size());
  }
  return memory;
}

absl::StatusOr<std::unique_ptr<TaskStore>> TaskStore::Open(const std::string& path,
                                                           const TaskStoreOptions& options) {
  std::error_code ec;
  if (!options.read_only) std::filesystem::create_directories(path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat(path, ": cannot create: ", ec.message()));

  rocksdb::BlockBasedTableOptions table;
  const SharedMemory& shared = Shared(options);
  table.block_cache = shared.cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions family_options;
  family_options.write_buffer_size = options.write_buffer_bytes;
  family_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  family_options.compression = rocksdb::kLZ4Compression;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 2;
  db_options.max_total_wal_size = 64u << 20;
  db_options.write_buffer_manager = shared.write_buffers;
  // After a crash the WAL is replayed into the memtables and left there, instead of being
  // flushed to new files before the store opens (a restart is back sooner).
  db_options.avoid_flush_during_recovery = true;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, family_options}};
  // The families read by key (a contact, case or customer per event or timer) keep a filter of
  // the keys in each memtable: a Get of a key the memtable does not hold (a record last written
  // before the memtable's last flush, or a new contact) skips the search of the memtable's skip
  // list, the largest part of such a Get (bench/state_bench BM_StoreGet: 1.7 -> 0.6 us absent,
  // 5.2 -> 3.9 us present in a table file). 1 % of the memtable's size in bits (~170 KB per 16
  // MiB memtable), tens of bits per key.
  rocksdb::ColumnFamilyOptions keyed_options = family_options;
  keyed_options.memtable_prefix_bloom_size_ratio = 0.01;
  keyed_options.memtable_whole_key_filtering = true;
  for (int f = 0; f < kFamilyCount; ++f) {
    const auto family = static_cast<Family>(f);
    const bool keyed =
        family == Family::kContacts || family == Family::kCases || family == Family::kCustomers;
    descriptors.emplace_back(std::string(FamilyName(family)),
                             keyed ? keyed_options : family_options);
  }
  std::unique_ptr<TaskStore> store(new TaskStore());
  store->path_ = path;
  store->sync_writes_ = options.sync_writes;
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  const rocksdb::Status opened =
      options.read_only ? rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &handles, &db)
                        : rocksdb::DB::Open(db_options, path, descriptors, &handles, &db);
  if (absl::Status s = FromRocks(opened, absl::StrCat("open ", path)); !s.ok()) return s;
  store->db_.reset(db);
  store->handles_ = std::move(handles);

  for (auto [key, target] : {std::pair{kInputOffsetKey, &store->offsets_.input},
                             std::pair{kChangelogOffsetKey, &store->offsets_.changelog}}) {
    auto value = store->Get(Family::kMeta, key);
    if (!value.ok()) return value.status();
    if (*value && !absl::SimpleAtoi(**value, target)) {
      return absl::DataLossError(absl::StrCat(path, ": corrupt ", key, " '", **value, "'"));
    }
  }
  auto schema = store->Get(Family::kMeta, kSchemaKey);
  if (!schema.ok()) return schema.status();
  if (*schema && **schema != kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": schema version ", **schema, ", this build reads ", kSchemaVersion));
  }
  auto format = store->Get(Family::kMeta, kChangelogFormatKey);
  if (!format.ok()) return format.status();
  if (*format) {
    if (absl::Status s = CheckChangelogFormat(**format); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
    }
  }
  return store;
}

TaskStore::~TaskStore() {
  if (db_) {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    db_->Close();
  }
}

absl::StatusOr<std::optional<std::string>> TaskStore::Get(Family family,
                                                          std::string_view key) const {
  std::string value;
  const rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), handles_[static_cast<int>(family) + 1],
               rocksdb::Slice(key.data(), key.size()), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (absl::Status s = FromRocks(status, "get"); !s.ok()) return s;
  return value;
}

absl::Status TaskStore::MultiGet(Family family, const std::vector<std::string_view>& keys,
                                 std::vector<std::optional<std::string>>* values) const {
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> found(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), handles_[static_cast<int>(family) + 1], keys.size(),
                slices.data(), found.data(), statuses.data(), /*sorted_input=*/true);
  values->assign(keys.size(), std::nullopt);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (absl::Status s = FromRocks(statuses[i], "get"); !s.ok()) return s;
    (*values)[i].emplace(found[i].data(), found[i].size());
  }
  return absl::OkStatus();
}

absl::Status TaskStore::Write(const std::vector<Mutation>& mutations, const Offsets& offsets) {
  ++writes_;
  rocksdb::WriteBatch batch;
  for (const Mutation& m : mutations) {
    rocksdb::ColumnFamilyHandle* handle = handles_[static_cast<int>(m.family) + 1];
    const rocksdb::Slice key(m.key.data(), m.key.size());
    rocksdb::Status status = m.value ? batch.Put(handle, key, *m.value) : batch.Delete(handle, key);
    if (absl::Status s = FromRocks(status, "batch"); !s.ok()) return s;
  }
  rocksdb::ColumnFamilyHandle* meta = handles_[static_cast<int>(Family::kMeta) + 1];
  (void)batch.Put(meta, kInputOffsetKey, std::to_string(offsets.input));
  (void)batch.Put(meta, kChangelogOffsetKey, std::to_string(offsets.changelog));
  (void)batch.Put(meta, kSchemaKey, kSchemaVersion);
  const std::string_view format = ChangelogFormatValue();
  (void)batch.Put(meta, kChangelogFormatKey, rocksdb::Slice(format.data(), format.size()));
  rocksdb::WriteOptions write_options;
  write_options.sync = sync_writes_;
  if (absl::Status s = FromRocks(db_->Write(write_options, &batch), "write"); !s.ok()) return s;
  offsets_ = offsets;
  return absl::OkStatus();
}

TaskStore::Snapshot::~Snapshot() { db_->ReleaseSnapshot(snapshot_); }

std::unique_ptr<TaskStore::Snapshot> TaskStore::TakeSnapshot() const {
  return std::unique_ptr<Snapshot>(new Snapshot(db_.get(), db_->GetSnapshot()));
}

absl::Status TaskStore::Scan(Family family, std::string_view from,
                             const std::function<bool(std::string_view, std::string_view)>& visit,
                             const Snapshot* at) const {
  rocksdb::ReadOptions options;
  if (at != nullptr) options.snapshot = at->snapshot_;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(options, handles_[static_cast<int>(family) + 1]));
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
    if (!visit(std::string_view(it->key().data(), it->key().size()),
               std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), "scan");
}

int64_t TaskStore::EstimateKeys(Family family) const {
  uint64_t keys = 0;
  if (!db_->GetIntProperty(handles_[static_cast<int>(family) + 1], "rocksdb.estimate-num-keys",
                           &keys)) {
    return 0;
  }
  return static_cast<int64_t>(keys);
}

int64_t TaskStore::TableReadersBytes() const {
  uint64_t bytes = 0;
  if (!db_->GetAggregatedIntProperty("rocksdb.estimate-table-readers-mem", &bytes)) return 0;
  return static_cast<int64_t>(bytes);
}

absl::Status TaskStore::Clear() {
  ++writes_;
  rocksdb::WriteBatch batch;
  for (int f = 0; f < kFamilyCount; ++f) {
    if (static_cast<Family>(f) == Family::kMeta) continue;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), handles_[f + 1]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) (void)batch.Delete(handles_[f + 1], it->key());
    if (absl::Status s = FromRocks(it->status(), "clear"); !s.ok()) return s;
  }
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "clear");
}

}  // namespace ccstream::state
