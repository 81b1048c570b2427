#include "state/task_state.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace ccstream::state {

TaskState::TaskState(std::shared_ptr<TaskStore> store, const TaskStateOptions& options)
    : store_(std::move(store)), options_(options), store_writes_(store_->writes()) {}

TaskState::~TaskState() {
  if (writing_ && writing_->posted) writing_->done.wait();
}

namespace {
// What a cached record costs beyond its key and serialized bytes (list node, index slot,
// message objects), roughly.
constexpr size_t kCachedRecordOverhead = 64;
}  // namespace

template <typename T>
void TaskState::ForgetCache(Records<T>& records) {
  records.index.clear();
  records.cache.clear();
  records.cached_bytes = 0;
}

template <typename T>
void TaskState::Evict(Records<T>& records, typename Records<T>::Index::iterator entry) {
  const auto node = entry->second;
  records.cached_bytes -= node->bytes;
  records.index.erase(entry);
  records.cache.erase(node);
}

void TaskState::CheckStoreWrites() {
  const uint64_t writes = store_->writes();
  // The write in flight, if any, is this object's own.
  if (writes == store_writes_ || (writing_ && writes == store_writes_ + 1)) return;
  ForgetCache(contacts_);
  ForgetCache(cases_);
  ForgetCache(customers_);
  store_writes_ = store_->writes();
}

void TaskState::TrimCache() {
  while (cached_bytes() > options_.cache_bytes) {
    // The least recently used of the three families' least recently used records goes.
    uint64_t oldest = UINT64_MAX;
    int family = -1;
    const auto consider = [&](const auto& records, int which) {
      if (!records.cache.empty() && records.cache.back().used < oldest) {
        oldest = records.cache.back().used;
        family = which;
      }
    };
    consider(contacts_, 0);
    consider(cases_, 1);
    consider(customers_, 2);
    switch (family) {
      case 0:
        Evict(contacts_, contacts_.index.find(contacts_.cache.back().key));
        break;
      case 1:
        Evict(cases_, cases_.index.find(cases_.cache.back().key));
        break;
      case 2:
        Evict(customers_, customers_.index.find(customers_.cache.back().key));
        break;
      default:
        return;
    }
  }
}

template <typename T>
void TaskState::Remember(Records<T>& records, std::string_view key, std::optional<T> value,
                         size_t value_bytes) {
  const size_t budget = options_.cache_bytes;
  const size_t bytes = key.size() + value_bytes + kCachedRecordOverhead;
  if (auto it = records.index.find(key); it != records.index.end()) {
    if (bytes > budget) {  // too large to keep at all
      Evict(records, it);
      return;
    }
    const auto cached = it->second;
    records.cached_bytes -= cached->bytes;
    // Updated in place (its key and list node reused) and made the most recently used.
    cached->value = std::move(value);
    cached->bytes = bytes;
    cached->used = ++cache_clock_;
    records.cache.splice(records.cache.begin(), records.cache, cached);
  } else {
    if (bytes > budget) return;
    records.cache.push_front({std::string(key), std::move(value), bytes, ++cache_clock_});
    records.index.emplace(records.cache.front().key, records.cache.begin());
  }
  records.cached_bytes += bytes;
  // The record just cached, the most recently used, fits the budget alone: never the one
  // evicted.
  TrimCache();
}

namespace {
absl::Status TakenError(Family family, std::string_view key) {
  return absl::FailedPreconditionError(absl::StrCat(std::string(FamilyName(family)), " record '",
                                                    std::string(key),
                                                    "' taken and not yet put back"));
}
}  // namespace

template <typename T>
absl::StatusOr<bool> TaskState::Read(Records<T>& records, Family family, std::string_view key,
                                     T& out, bool take) {
  if (records.has_taken && (take || records.taken == key)) {
    return TakenError(family, records.taken);
  }
  using From = typename Records<T>::From;
  // Marks the record taken once found (or found absent), and where from.
  From from = From::kBatch;
  const auto found = [&](bool present) {
    if (take) {
      records.taken.assign(key.data(), key.size());
      records.has_taken = true;
      records.taken_from = from;
      records.taken_present = present;
    }
    if (!present) out.Clear();
    return present;
  };
  if (auto it = records.pending.find(key); it != records.pending.end()) {
    if (!it->second) return found(false);
    if (take) {
      out = std::move(*it->second);  // a swap: the slot waits for the put-back
    } else {
      out = *it->second;
    }
    return found(true);
  }
  if (auto it = records.writing.find(key); it != records.writing.end()) {
    from = From::kWriting;
    ++cache_hits_;  // a committed record still being written counts as answered by the cache
    if (!it->second) return found(false);
    if (take) {
      // The write needs only the serialized record: the message is handed over and the key
      // leaves `writing`, and the cache, whose older record the write would have replaced once
      // landed. Nothing reads it in `writing` again: the batch reads its own change from now
      // on, and an abort waits for the write to land.
      out = std::move(*it->second);
      records.writing.erase(it);
      if (auto cached = records.index.find(key); cached != records.index.end()) {
        Evict(records, cached);
      }
    } else {
      out = *it->second;
    }
    return found(true);
  }
  CheckStoreWrites();
  if (auto it = records.index.find(key); it != records.index.end()) {
    from = From::kCache;  // an absent record stays cached when taken
    ++cache_hits_;
    const auto cached = it->second;
    if (!cached->value) return found(false);
    if (take) {
      out = std::move(*cached->value);
      records.taken_bytes = cached->bytes - key.size() - kCachedRecordOverhead;
      Evict(records, it);
    } else {
      cached->used = ++cache_clock_;
      records.cache.splice(records.cache.begin(), records.cache, cached);
      out = *cached->value;
    }
    return found(true);
  }
  ++store_reads_;
  from = From::kStore;
  absl::StatusOr<std::optional<std::string>> stored = store_->Get(family, key);
  if (!stored.ok()) return stored.status();
  records.taken_bytes = *stored ? (*stored)->size() : 0;
  if (!*stored) {
    if (!take) Remember<T>(records, key, std::nullopt, 0);
    return found(false);
  }
  if (!out.ParseFromString(**stored)) {
    out.Clear();
    return absl::DataLossError(absl::StrCat("corrupt ", std::string(FamilyName(family)),
                                            " record '", std::string(key), "'"));
  }
  if (!take && options_.cache_bytes > 0) {
    Remember(records, key, std::optional<T>(out), (*stored)->size());
  }
  return found(true);
}

template <typename T>
absl::StatusOr<std::optional<T>> TaskState::Get(Records<T>& records, Family family,
                                                std::string_view key) {
  T value;
  absl::StatusOr<bool> found = Read(records, family, key, value);
  if (!found.ok()) return found.status();
  if (!*found) return std::nullopt;
  return std::optional<T>(std::move(value));
}

template <typename T>
absl::Status TaskState::Return(Records<T>& records, Family family, std::string_view key, T& value) {
  if (!records.has_taken || records.taken != key) {
    return absl::FailedPreconditionError(absl::StrCat(std::string(FamilyName(family)), " record '",
                                                      std::string(key), "' returned, not taken"));
  }
  records.has_taken = false;
  using From = typename Records<T>::From;
  switch (records.taken_from) {
    case From::kBatch:
      // The slot the batch's own message was taken from (still there: nothing removes a slot
      // while a record is taken); absent, it stayed as it was.
      if (auto it = records.pending.find(key); it != records.pending.end() && it->second) {
        *it->second = std::move(value);
      }
      break;
    case From::kWriting:
      // Back into `writing` while the write is in flight (an absent record stayed there);
      // landed meanwhile, it is read from the store.
      if (records.taken_present && writing_) records.writing.try_emplace(key, std::move(value));
      break;
    case From::kCache:
    case From::kStore:
      // Cached again as a read would have cached it (an absent record found in the cache stayed
      // there).
      if (!records.taken_present) {
        if (records.taken_from == From::kStore) Remember<T>(records, key, std::nullopt, 0);
      } else if (options_.cache_bytes > 0) {
        Remember(records, key, std::optional<T>(std::move(value)), records.taken_bytes);
      }
      break;
  }
  return absl::OkStatus();
}

template <typename T>
std::optional<T>& TaskState::Staged(Records<T>& records, std::string_view key) {
  mutations_built_ = false;
  if (records.has_taken && records.taken == key) records.has_taken = false;  // put back
  auto it = records.pending.find(key);
  if (it == records.pending.end()) it = records.pending.try_emplace(std::string(key)).first;
  return it->second;
}

absl::StatusOr<std::optional<v1::ContactState>> TaskState::GetContact(std::string_view id) {
  return Get(contacts_, Family::kContacts, id);
}
absl::StatusOr<bool> TaskState::ReadContact(std::string_view id, v1::ContactState& out) {
  return Read(contacts_, Family::kContacts, id, out);
}
absl::StatusOr<bool> TaskState::TakeContact(std::string_view id, v1::ContactState& out) {
  return Read(contacts_, Family::kContacts, id, out, /*take=*/true);
}
absl::Status TaskState::ReturnContact(std::string_view id, v1::ContactState&& contact) {
  return Return(contacts_, Family::kContacts, id, contact);
}
absl::Status TaskState::PutContact(const v1::ContactState& contact) {
  Staged(contacts_, contact.contact_id()) = contact;
  return absl::OkStatus();
}
absl::Status TaskState::PutContact(v1::ContactState&& contact) {
  std::optional<v1::ContactState>& slot = Staged(contacts_, contact.contact_id());
  slot = std::move(contact);
  return absl::OkStatus();
}
absl::Status TaskState::DeleteContact(std::string_view id) {
  Staged(contacts_, id).reset();
  return absl::OkStatus();
}
absl::StatusOr<std::optional<v1::ComplaintCase>> TaskState::GetCase(std::string_view id) {
  return Get(cases_, Family::kCases, id);
}
absl::StatusOr<bool> TaskState::ReadCase(std::string_view id, v1::ComplaintCase& out) {
  return Read(cases_, Family::kCases, id, out);
}
absl::Status TaskState::PutCase(const v1::ComplaintCase& c) {
  Staged(cases_, c.case_id()) = c;
  return absl::OkStatus();
}
absl::Status TaskState::PutCase(v1::ComplaintCase&& c) {
  std::optional<v1::ComplaintCase>& slot = Staged(cases_, c.case_id());
  slot = std::move(c);
  return absl::OkStatus();
}
absl::Status TaskState::DeleteCase(std::string_view id) {
  Staged(cases_, id).reset();
  return absl::OkStatus();
}
absl::StatusOr<std::optional<v1::CustomerState>> TaskState::GetCustomer(std::string_view key) {
  return Get(customers_, Family::kCustomers, key);
}
absl::StatusOr<bool> TaskState::ReadCustomer(std::string_view key, v1::CustomerState& out) {
  return Read(customers_, Family::kCustomers, key, out);
}
absl::Status TaskState::PutCustomer(const v1::CustomerState& customer) {
  Staged(customers_, customer.customer_key()) = customer;
  return absl::OkStatus();
}
absl::Status TaskState::PutCustomer(v1::CustomerState&& customer) {
  std::optional<v1::CustomerState>& slot = Staged(customers_, customer.customer_key());
  slot = std::move(customer);
  return absl::OkStatus();
}
absl::Status TaskState::DeleteCustomer(std::string_view key) {
  Staged(customers_, key).reset();
  return absl::OkStatus();
}
absl::Status TaskState::PutTimer(const v1::Timer& timer) {
  if (next_due_known_ && (!next_due_ || timer.due_ms() < *next_due_)) next_due_ = timer.due_ms();
  auto it = timers_.try_emplace(TimerKey(timer.due_ms(), timer.timer_id())).first;
  it->second = timer;
  live_timers_[it->first] = &*it->second;
  if (writing_) writing_->live_timers.erase(it->first);  // the batch decides for this key now
  mutations_built_ = false;
  return absl::OkStatus();
}
absl::Status TaskState::DeleteTimer(const v1::Timer& timer) {
  if (next_due_known_ && next_due_ == timer.due_ms()) next_due_known_ = false;
  auto it = timers_.try_emplace(TimerKey(timer.due_ms(), timer.timer_id())).first;
  it->second.reset();
  live_timers_.erase(it->first);
  if (writing_) writing_->live_timers.erase(it->first);
  mutations_built_ = false;
  return absl::OkStatus();
}

// Past every timer key (due times are 8 bytes, then the id).
const std::string kPastAllTimers(9, '\xff');

void TaskState::TimersFound(std::string_view first_live_key) const {
  if (first_live_key > timers_scan_from_) timers_scan_from_ = std::string(first_live_key);
}

const std::optional<v1::Timer>* TaskState::StagedTimer(std::string_view key) const {
  if (auto it = timers_.find(key); it != timers_.end()) return &it->second;
  if (writing_) {
    if (auto it = writing_->timers.find(key); it != writing_->timers.end()) return &it->second;
  }
  return nullptr;
}

absl::Status TaskState::ScanStoredTimers(
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  if (!window_valid_) {
    window_.clear();
    window_pos_ = 0;
    window_next_ = timers_scan_from_;
    window_start_ = timers_scan_from_;
    window_valid_ = true;
  }
  while (window_pos_ < window_.size() && window_[window_pos_].first < timers_scan_from_) {
    ++window_pos_;
  }
  const size_t read_ahead = std::max<size_t>(options_.timer_read_ahead, 1);
  if (window_pos_ >= read_ahead && window_pos_ * 2 >= window_.size()) {
    // Most of it stepped over (a batch firing many stored timers): keep it small.
    window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(window_pos_));
    window_pos_ = 0;
  }
  for (size_t i = window_pos_;; ++i) {
    if (i == window_.size()) {
      if (!window_next_) return absl::OkStatus();  // the store has no more
      ++timer_store_scans_;
      std::optional<std::string> next;
      size_t read = 0;
      absl::Status status = store_->Scan(
          Family::kTimers, *window_next_, [&](std::string_view key, std::string_view value) {
            if (read == read_ahead) {
              next = std::string(key);
              return false;
            }
            window_.emplace_back(std::string(key), std::string(value));
            ++read;
            return true;
          });
      if (!status.ok()) {
        window_valid_ = false;
        return status;
      }
      window_next_ = std::move(next);
      if (i == window_.size()) return absl::OkStatus();
    }
    if (!visit(window_[i].first, window_[i].second)) return absl::OkStatus();
  }
}

void TaskState::MergeLandedTimers(const std::vector<Mutation>& mutations) const {
  if (!window_valid_) return;
  // The mutations are ordered by family, then key: one pass over both.
  std::vector<std::pair<std::string, std::string>> merged;
  merged.reserve(window_.size());
  size_t i = 0;
  for (const Mutation& m : mutations) {
    if (m.family != Family::kTimers) continue;
    if (m.key < window_start_) {
      if (!m.value) continue;  // the window holds no key below its start
      // The store now holds a timer below the stretch the window covers.
      window_valid_ = false;
      return;
    }
    if (window_next_ && m.key >= *window_next_) break;  // the next read ahead finds these
    while (i < window_.size() && window_[i].first < m.key)
      merged.push_back(std::move(window_[i++]));
    if (i < window_.size() && window_[i].first == m.key) ++i;  // replaced or deleted
    if (m.value) merged.emplace_back(m.key, *m.value);
  }
  while (i < window_.size()) merged.push_back(std::move(window_[i++]));
  window_ = std::move(merged);
  window_pos_ = 0;  // the scans step over the entries below `timers_scan_from_` again
  // Many puts near the start would grow it for good: the store holds the rest, read ahead later.
  const size_t most = 4 * std::max<size_t>(options_.timer_read_ahead, 1);
  if (window_.size() > most) {
    window_next_ = window_[most].first;
    window_.resize(most);
  }
}

absl::StatusOr<std::vector<v1::Timer>> TaskState::DueTimers(int64_t now_ms, size_t limit) const {
  // Merge the stored timers with the batch's and the write's in flight: all ordered by key.
  std::map<std::string, v1::Timer, std::less<>> due;
  const std::string end = TimerKey(now_ms + 1, "");
  std::optional<std::string> first_live;
  bool ended = true;
  bool corrupt = false;
  size_t stored = 0;
  absl::Status status = ScanStoredTimers([&](std::string_view key, std::string_view value) {
    const std::optional<v1::Timer>* staged = StagedTimer(key);
    const bool deleted = staged != nullptr && !*staged;
    if (!first_live && !deleted) first_live = std::string(key);
    if (key >= end) {
      ended = false;
      return false;
    }
    // A timer deleted since it was stored is skipped; one replaced is taken from below.
    if (deleted) return true;
    if (!due.try_emplace(std::string(key))
             .first->second.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      corrupt = true;
      return false;
    }
    if (++stored < limit) return true;
    ended = false;
    return false;
  });
  if (!status.ok()) return status;
  if (corrupt) return absl::DataLossError("corrupt timer record");
  if (first_live) {
    TimersFound(*first_live);
  } else if (ended) {
    TimersFound(kPastAllTimers);
  }
  // The live timers of the write in flight (none the batch changed) and of the batch replace or
  // join the stored ones; the stored timers they deleted were skipped by the scan.
  const LiveTimers* in_flight = writing_ ? &writing_->live_timers : nullptr;
  for (const LiveTimers* live : {in_flight, &live_timers_}) {
    if (live == nullptr) continue;
    for (auto it = live->begin(); it != live->end() && it->first < end; ++it) {
      due[std::string(it->first)] = *it->second;
    }
  }
  std::vector<v1::Timer> timers;
  timers.reserve(std::min(limit, due.size()));
  for (auto& [key, timer] : due) {
    if (timers.size() >= limit) break;
    timers.push_back(std::move(timer));
  }
  return timers;
}

absl::StatusOr<std::optional<int64_t>> TaskState::NextDue() const {
  if (next_due_known_) return next_due_;
  std::optional<int64_t> next;
  std::optional<std::string> first_live;
  absl::Status status = ScanStoredTimers([&](std::string_view key, std::string_view) {
    const std::optional<v1::Timer>* staged = StagedTimer(key);
    if (staged != nullptr && !*staged) return true;  // deleted since it was stored
    next = TimerKeyDue(key);
    first_live = std::string(key);
    return false;
  });
  if (!status.ok()) return status;
  TimersFound(first_live ? *first_live : kPastAllTimers);
  // The live timers of the write in flight (none the batch changed) and of the batch.
  const LiveTimers* in_flight = writing_ ? &writing_->live_timers : nullptr;
  for (const LiveTimers* live : {in_flight, &live_timers_}) {
    if (live == nullptr || live->empty()) continue;
    const int64_t due = TimerKeyDue(live->begin()->first);
    if (!next || due < *next) next = due;
  }
  next_due_ = next;
  next_due_known_ = true;
  return next;
}

template <typename T>
void TaskState::Serialize(const Records<T>& records, Family family, std::vector<Mutation>& out) {
  using Entry = std::pair<const std::string, std::optional<T>>;
  std::vector<const Entry*> entries;
  entries.reserve(records.pending.size());
  for (const Entry& entry : records.pending) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return a->first < b->first; });
  for (const Entry* entry : entries) {
    Mutation& m = out.emplace_back();
    m.family = family;
    m.key = entry->first;
    if (entry->second) m.value = entry->second->SerializeAsString();
  }
}

const std::vector<Mutation>& TaskState::PendingMutations() {
  if (mutations_built_) return mutations_;
  mutations_.clear();
  mutations_.reserve(contacts_.pending.size() + cases_.pending.size() + customers_.pending.size() +
                     timers_.size());
  Serialize(contacts_, Family::kContacts, mutations_);
  Serialize(cases_, Family::kCases, mutations_);
  Serialize(customers_, Family::kCustomers, mutations_);
  for (const auto& [key, timer] : timers_) {
    Mutation& m = mutations_.emplace_back();
    m.family = Family::kTimers;
    m.key = key;
    if (timer) m.value = timer->SerializeAsString();
  }
  mutations_built_ = true;
  return mutations_;
}

template <typename T>
void TaskState::CommitToCache(Records<T>& records, const Mutation& m) {
  auto it = records.writing.find(m.key);
  if (it == records.writing.end()) return;
  Remember(records, m.key, std::move(it->second), m.value ? m.value->size() : 0);
}

absl::Status TaskState::Commit(const Offsets& offsets) {
  if (absl::Status s = StartCommit(offsets); !s.ok()) return s;
  return FinishWrites();
}

absl::Status TaskState::StartCommit(const Offsets& offsets) {
  if (absl::Status s = Seal(); !s.ok()) return s;
  return Post(offsets);
}

absl::Status TaskState::Seal() {
  if (sealed()) return absl::FailedPreconditionError("a sealed batch was not posted");
  // A record taken and not put back would be missing from the batch.
  if (contacts_.has_taken) return TakenError(Family::kContacts, contacts_.taken);
  if (cases_.has_taken) return TakenError(Family::kCases, cases_.taken);
  if (customers_.has_taken) return TakenError(Family::kCustomers, customers_.taken);
  if (absl::Status s = FinishWrites(); !s.ok()) return s;
  CheckStoreWrites();
  auto write = std::make_unique<Write>();
  PendingMutations();
  write->mutations = std::move(mutations_);
  write->floor_before = timers_floor_;
  // Below the scan start, every stored key was deleted by this batch: once written they are
  // gone, and only this batch's new timers can lie below it. (The scans meanwhile see the
  // batch's timers in `writing_`, whatever the store holds yet.)
  timers_floor_ = timers_scan_from_;
  if (!live_timers_.empty() && live_timers_.begin()->first < timers_floor_) {
    timers_floor_ = std::string(live_timers_.begin()->first);
  }
  timers_scan_from_ = timers_floor_;
  // The maps' nodes, and so the views and pointers into them, stay put when moved.
  write->timers = std::move(timers_);
  write->live_timers = std::move(live_timers_);
  if (!write->live_timers.empty()) write->first_live = write->live_timers.begin()->first;
  timers_.clear();
  live_timers_.clear();
  contacts_.writing = std::move(contacts_.pending);
  cases_.writing = std::move(cases_.pending);
  customers_.writing = std::move(customers_.pending);
  contacts_.pending.clear();
  cases_.pending.clear();
  customers_.pending.clear();
  mutations_.clear();
  mutations_built_ = false;
  writing_ = std::move(write);
  return absl::OkStatus();
}

absl::Status TaskState::Post(const Offsets& offsets) {
  if (!sealed()) return absl::FailedPreconditionError("no sealed batch to post");
  Write* write = writing_.get();
  write->offsets = offsets;
  write->posted = true;
  if (options_.writer == nullptr) {
    std::promise<absl::Status> done;
    done.set_value(store_->Write(write->mutations, offsets));
    write->done = done.get_future();
  } else {
    auto done = std::make_shared<std::promise<absl::Status>>();
    write->done = done->get_future();
    // The store by pointer: the job may outlive the wait for `done` by a moment, and must not
    // keep the store open then (the task closes it once its write is done).
    options_.writer->Post([store = store_.get(), mutations = &write->mutations, offsets, done] {
      done->set_value(store->Write(*mutations, offsets));
    });
  }
  return absl::OkStatus();
}

absl::Status TaskState::FinishWrites() {
  if (!writing_ || !writing_->posted) return write_error_;
  absl::Status status = writing_->done.get();
  store_writes_ = store_->writes();
  if (status.ok() && options_.cache_bytes > 0) {
    // What was written is what the store now holds: the records move to the cache.
    for (const Mutation& m : writing_->mutations) {
      switch (m.family) {
        case Family::kContacts:
          CommitToCache(contacts_, m);
          break;
        case Family::kCases:
          CommitToCache(cases_, m);
          break;
        case Family::kCustomers:
          CommitToCache(customers_, m);
          break;
        case Family::kTimers:
        case Family::kMeta:
          break;
      }
    }
  }
  // A scan made while the write was in flight may have moved its start past timers the write
  // has stored since (the scan did not find them there yet).
  if (writing_->first_live) {
    const std::string_view first = *writing_->first_live;
    if (first < timers_scan_from_) timers_scan_from_ = std::string(first);
    if (first < timers_floor_) timers_floor_ = std::string(first);
  }
  // The store holds the write's timers now.
  if (status.ok()) {
    MergeLandedTimers(writing_->mutations);
  } else {
    window_valid_ = false;
  }
  contacts_.writing.clear();
  cases_.writing.clear();
  customers_.writing.clear();
  writing_.reset();
  if (!status.ok()) {
    // The store is behind what Kafka holds as committed: every later commit fails with this.
    write_error_ = status;
    ForgetCache(contacts_);
    ForgetCache(cases_);
    ForgetCache(customers_);
  }
  return status;
}

Offsets TaskState::committed_offsets() const {
  return writing_ && writing_->posted ? writing_->offsets : store_->offsets();
}

void TaskState::Discard() {
  if (sealed()) {
    // Never written: the store, and so the cache, hold what was before it.
    contacts_.writing.clear();
    cases_.writing.clear();
    customers_.writing.clear();
    timers_floor_ = std::move(writing_->floor_before);
    writing_.reset();
  }
  (void)FinishWrites();  // a failed write is reported by the next commit
  contacts_.pending.clear();
  cases_.pending.clear();
  customers_.pending.clear();
  contacts_.has_taken = false;
  cases_.has_taken = false;
  customers_.has_taken = false;
  live_timers_.clear();
  timers_.clear();
  mutations_.clear();
  mutations_built_ = false;
  next_due_known_ = false;
  timers_scan_from_ = timers_floor_;
  window_valid_ = false;  // the window skips what the batch deleted
}

std::string ChangelogKey(Family family, std::string_view key) {
  std::string out(1, static_cast<char>('0' + static_cast<int>(family)));
  out.append(key.data(), key.size());
  return out;
}

namespace {

// The field of a record's message that holds its timers (`repeated Timer timers`).
int TimersField(Family family) {
  switch (family) {
    case Family::kContacts:
      return v1::ContactState::kTimersFieldNumber;
    case Family::kCases:
      return v1::ComplaintCase::kTimersFieldNumber;
    case Family::kCustomers:
      return v1::CustomerState::kTimersFieldNumber;
    case Family::kTimers:
    case Family::kMeta:
      break;
  }
  return 0;
}

// One timer a record holds: what keys it in the timers family, and its bytes as the record
// holds them (a message's serialization is its fields' in order, so these are the bytes PutTimer
// stores). Views into the record's value.
struct HeldTimer {
  int64_t due_ms = 0;
  std::string_view timer_id;
  std::string_view bytes;
};
// A record's timers: a handful, so a vector searched from end to end.
using RecordTimers = std::vector<HeldTimer>;

RecordTimers::iterator FindTimer(RecordTimers& timers, const HeldTimer& timer) {
  return std::find_if(timers.begin(), timers.end(), [&timer](const HeldTimer& t) {
    return t.due_ms == timer.due_ms && t.timer_id == timer.timer_id;
  });
}

using google::protobuf::internal::WireFormatLite;

// Reads a timer's key fields (due_ms, timer_id) from its wire format; the others are skipped.
bool ReadTimerKey(std::string_view bytes, HeldTimer& timer) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  while (const uint32_t tag = in.ReadTag()) {
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    const auto type = WireFormatLite::GetTagWireType(tag);
    if (number == v1::Timer::kDueMsFieldNumber && type == WireFormatLite::WIRETYPE_VARINT) {
      uint64_t due = 0;
      if (!in.ReadVarint64(&due)) return false;
      timer.due_ms = static_cast<int64_t>(due);
    } else if (number == v1::Timer::kTimerIdFieldNumber &&
               type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t size = 0;
      if (!in.ReadVarint32(&size) || size > bytes.size() - in.CurrentPosition()) return false;
      timer.timer_id = bytes.substr(in.CurrentPosition(), size);
      if (!in.Skip(static_cast<int>(size))) return false;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return in.ConsumedEntireMessage();
}

// The timers a record holds, read from its wire format: its other fields are skipped, not
// parsed, and so are a timer's fields other than its key's.
absl::Status TimersOf(Family family, const std::optional<std::string>& value, RecordTimers& out) {
  const int field = TimersField(family);
  if (!value || field == 0) return absl::OkStatus();
  const std::string_view record(*value);
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(record.data()),
                                            static_cast<int>(record.size()));
  auto corrupt = [&] {
    return absl::DataLossError(
        absl::StrCat("a record of ", std::string(FamilyName(family)), " that does not parse"));
  };
  while (const uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) != field ||
        WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return corrupt();
      continue;
    }
    uint32_t size = 0;
    if (!in.ReadVarint32(&size) || size > record.size() - in.CurrentPosition()) return corrupt();
    HeldTimer timer;
    timer.bytes = record.substr(in.CurrentPosition(), size);
    if (!in.Skip(static_cast<int>(size)) || !ReadTimerKey(timer.bytes, timer)) return corrupt();
    if (auto it = FindTimer(out, timer); it != out.end()) {
      *it = timer;  // the same key twice: the last one, as a parse keeps the last
    } else {
      out.push_back(timer);
    }
  }
  if (!in.ConsumedEntireMessage()) return corrupt();
  return absl::OkStatus();
}

}  // namespace

absl::Status DeriveTimerChanges(Family family, const std::optional<std::string>& before,
                                const std::optional<std::string>& after,
                                std::vector<Mutation>& out) {
  RecordTimers held;
  RecordTimers holds;
  if (absl::Status s = TimersOf(family, before, held); !s.ok()) return s;
  if (absl::Status s = TimersOf(family, after, holds); !s.ok()) return s;
  for (const HeldTimer& timer : held) {
    if (FindTimer(holds, timer) == holds.end()) {
      out.push_back({Family::kTimers, TimerKey(timer.due_ms, timer.timer_id), std::nullopt});
    }
  }
  for (const HeldTimer& timer : holds) {
    const auto it = FindTimer(held, timer);
    if (it == held.end() || it->bytes != timer.bytes) {
      out.push_back(
          {Family::kTimers, TimerKey(timer.due_ms, timer.timer_id), std::string(timer.bytes)});
    }
  }
  return absl::OkStatus();
}

namespace {
constexpr std::string_view kFormatMarker("\0changelog_format", 17);
}  // namespace

std::string ChangelogFormatKey() { return ChangelogKey(Family::kTimers, kFormatMarker); }

bool IsChangelogFormatMarker(Family family, std::string_view key) {
  return family == Family::kTimers && key == kFormatMarker;
}

absl::StatusOr<std::pair<Family, std::string>> ParseChangelogKey(std::string_view key) {
  if (key.size() < 2) return absl::DataLossError("changelog key too short");
  const int family = key[0] - '0';
  if (family < 0 || family >= kFamilyCount || static_cast<Family>(family) == Family::kMeta) {
    return absl::DataLossError(absl::StrCat("changelog key with unknown family byte ", family));
  }
  return std::pair(static_cast<Family>(family), std::string(key.substr(1)));
}

}  // namespace ccstream::state
