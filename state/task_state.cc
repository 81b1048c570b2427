#include "state/task_state.h"

#include "absl/strings/str_cat.h"

namespace ccstream::state {

TaskState::TaskState(std::shared_ptr<TaskStore> store) : store_(std::move(store)) {}

template <typename T>
absl::StatusOr<std::optional<T>> TaskState::Read(Family family, std::string_view key) const {
  std::optional<std::string> bytes;
  if (auto it = pending_.find(std::pair<Family, std::string_view>(family, key));
      it != pending_.end()) {
    bytes = it->second;
  } else {
    auto stored = store_->Get(family, key);
    if (!stored.ok()) return stored.status();
    bytes = std::move(*stored);
  }
  if (!bytes) return std::nullopt;
  T value;
  if (!value.ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("corrupt ", std::string(FamilyName(family)),
                                            " record '", std::string(key), "'"));
  }
  return value;
}

void TaskState::Stage(Family family, std::string key, std::optional<std::string> value) {
  pending_[std::pair(family, std::move(key))] = std::move(value);
}

absl::StatusOr<std::optional<v1::ContactState>> TaskState::GetContact(std::string_view id) {
  return Read<v1::ContactState>(Family::kContacts, id);
}
absl::Status TaskState::PutContact(const v1::ContactState& contact) {
  Stage(Family::kContacts, contact.contact_id(), contact.SerializeAsString());
  return absl::OkStatus();
}
absl::Status TaskState::DeleteContact(std::string_view id) {
  Stage(Family::kContacts, std::string(id), std::nullopt);
  return absl::OkStatus();
}
absl::StatusOr<std::optional<v1::ComplaintCase>> TaskState::GetCase(std::string_view id) {
  return Read<v1::ComplaintCase>(Family::kCases, id);
}
absl::Status TaskState::PutCase(const v1::ComplaintCase& c) {
  Stage(Family::kCases, c.case_id(), c.SerializeAsString());
  return absl::OkStatus();
}
absl::Status TaskState::DeleteCase(std::string_view id) {
  Stage(Family::kCases, std::string(id), std::nullopt);
  return absl::OkStatus();
}
absl::StatusOr<std::optional<v1::CustomerState>> TaskState::GetCustomer(std::string_view key) {
  return Read<v1::CustomerState>(Family::kCustomers, key);
}
absl::Status TaskState::PutCustomer(const v1::CustomerState& customer) {
  Stage(Family::kCustomers, customer.customer_key(), customer.SerializeAsString());
  return absl::OkStatus();
}
absl::Status TaskState::DeleteCustomer(std::string_view key) {
  Stage(Family::kCustomers, std::string(key), std::nullopt);
  return absl::OkStatus();
}
absl::Status TaskState::PutTimer(const v1::Timer& timer) {
  if (next_due_known_ && (!next_due_ || timer.due_ms() < *next_due_)) next_due_ = timer.due_ms();
  Stage(Family::kTimers, TimerKey(timer.due_ms(), timer.timer_id()), timer.SerializeAsString());
  return absl::OkStatus();
}
absl::Status TaskState::DeleteTimer(const v1::Timer& timer) {
  if (next_due_known_ && next_due_ == timer.due_ms()) next_due_known_ = false;
  Stage(Family::kTimers, TimerKey(timer.due_ms(), timer.timer_id()), std::nullopt);
  return absl::OkStatus();
}

// Past every timer key (due times are 8 bytes, then the id).
const std::string kPastAllTimers(9, '\xff');

void TaskState::TimersFound(std::string_view first_live_key) const {
  if (first_live_key > timers_scan_from_) timers_scan_from_ = std::string(first_live_key);
}

absl::StatusOr<std::vector<v1::Timer>> TaskState::DueTimers(int64_t now_ms, size_t limit) const {
  // Merge the stored timers with the batch's: both ordered by key.
  std::map<std::string, std::string> due;
  const std::string end = TimerKey(now_ms + 1, "");
  std::optional<std::string> first_live;
  bool ended = true;
  size_t stored = 0;
  absl::Status status = store_->Scan(
      Family::kTimers, timers_scan_from_, [&](std::string_view key, std::string_view value) {
        auto it = pending_.find(std::pair<Family, std::string_view>(Family::kTimers, key));
        const bool deleted = it != pending_.end() && !it->second;
        if (!first_live && !deleted) first_live = std::string(key);
        if (key >= end) {
          ended = false;
          return false;
        }
        // A timer this batch deleted is skipped; one it replaced is taken from the batch below.
        if (deleted) return true;
        due.emplace(std::string(key), std::string(value));
        if (++stored < limit) return true;
        ended = false;
        return false;
      });
  if (!status.ok()) return status;
  if (first_live) {
    TimersFound(*first_live);
  } else if (ended) {
    TimersFound(kPastAllTimers);
  }
  for (auto it = pending_.lower_bound(std::pair<Family, std::string_view>(Family::kTimers, ""));
       it != pending_.end() && it->first.first == Family::kTimers && it->first.second < end; ++it) {
    if (it->second) {
      due[it->first.second] = *it->second;
    } else {
      due.erase(it->first.second);
    }
  }
  std::vector<v1::Timer> timers;
  for (const auto& [key, value] : due) {
    if (timers.size() >= limit) break;
    v1::Timer timer;
    if (!timer.ParseFromString(value)) return absl::DataLossError("corrupt timer record");
    timers.push_back(std::move(timer));
  }
  return timers;
}

absl::StatusOr<std::optional<int64_t>> TaskState::NextDue() const {
  if (next_due_known_) return next_due_;
  std::optional<int64_t> next;
  std::optional<std::string> first_live;
  absl::Status status =
      store_->Scan(Family::kTimers, timers_scan_from_, [&](std::string_view key, std::string_view) {
        auto it = pending_.find(std::pair<Family, std::string_view>(Family::kTimers, key));
        if (it != pending_.end() && !it->second) return true;  // deleted in this batch
        next = TimerKeyDue(key);
        first_live = std::string(key);
        return false;
      });
  if (!status.ok()) return status;
  TimersFound(first_live ? *first_live : kPastAllTimers);
  for (auto it = pending_.lower_bound(std::pair<Family, std::string_view>(Family::kTimers, ""));
       it != pending_.end() && it->first.first == Family::kTimers; ++it) {
    if (!it->second) continue;
    const int64_t due = TimerKeyDue(it->first.second);
    if (!next || due < *next) next = due;
    break;
  }
  next_due_ = next;
  next_due_known_ = true;
  return next;
}

std::vector<Mutation> TaskState::PendingMutations() const {
  std::vector<Mutation> mutations;
  mutations.reserve(pending_.size());
  for (const auto& [key, value] : pending_) mutations.push_back({key.first, key.second, value});
  return mutations;
}

absl::Status TaskState::Commit(const Offsets& offsets) {
  if (absl::Status s = store_->Write(PendingMutations(), offsets); !s.ok()) return s;
  // Below the scan start, every stored key was deleted by this batch: now they are gone, and
  // only this batch's new timers can lie below it.
  timers_floor_ = timers_scan_from_;
  for (auto it = pending_.lower_bound(std::pair<Family, std::string_view>(Family::kTimers, ""));
       it != pending_.end() && it->first.first == Family::kTimers; ++it) {
    if (it->second && it->first.second < timers_floor_) timers_floor_ = it->first.second;
  }
  timers_scan_from_ = timers_floor_;
  pending_.clear();
  return absl::OkStatus();
}

std::string ChangelogKey(Family family, std::string_view key) {
  std::string out(1, static_cast<char>('0' + static_cast<int>(family)));
  out.append(key.data(), key.size());
  return out;
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
