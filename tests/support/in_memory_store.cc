#include "tests/support/in_memory_store.h"

#include <string>
#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace ccstream::testing {
namespace {

// A copy of the value under `key`, built in `spare` (a message of the same type kept from an
// earlier Put) so that the copy reuses its strings and repeated elements instead of allocating.
template <typename Map, typename Index>
auto Find(const Index& index, typename Map::mapped_type& spare, std::string_view key)
    -> std::optional<typename Map::mapped_type> {
  auto it = index.find(key);
  if (it == index.end()) return std::nullopt;
  std::optional<typename Map::mapped_type> out(std::in_place, std::move(spare));
  *out = it->second->second;
  return out;
}

// Copies the value under `key` into `out` (cleared when there is none). `out` first takes the
// memory of `spare` so that the copy reuses its strings and repeated elements.
template <typename Map, typename Index>
bool ReadInto(const Index& index, typename Map::mapped_type& spare, std::string_view key,
              typename Map::mapped_type& out) {
  auto it = index.find(key);
  if (it == index.end()) {
    out.Clear();
    return false;
  }
  out.Swap(&spare);
  out = it->second->second;
  return true;
}

// Stores a copy of `value` under `key`.
template <typename Map, typename Index>
void PutCopied(Map& map, Index& index, std::string_view key,
               const typename Map::mapped_type& value) {
  auto it = index.find(key);
  if (it != index.end()) {
    it->second->second = value;
    return;
  }
  auto inserted = map.emplace(std::string(key), value).first;
  index.emplace(inserted->first, inserted);
}

// Stores `value` under `key`, taking its contents (a protobuf move is a swap of internals). The
// replaced value is kept in `spare` for the next Find to copy into.
template <typename Map, typename Index>
void PutMoved(Map& map, Index& index, typename Map::mapped_type& spare, std::string_view key,
              typename Map::mapped_type&& value) {
  auto it = index.find(key);
  if (it != index.end()) {
    spare = std::move(it->second->second);
    it->second->second = std::move(value);
    return;
  }
  auto inserted = map.emplace(std::string(key), std::move(value)).first;
  index.emplace(inserted->first, inserted);
}

template <typename Map, typename Index>
void Erase(Map& map, Index& index, std::string_view key) {
  auto it = index.find(key);
  if (it == index.end()) return;
  auto node = it->second;
  index.erase(it);
  map.erase(node);
}

template <typename Message>
void AppendDeterministic(const Message& message, std::string* out) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  out->append(std::to_string(bytes.size()));
  out->push_back(':');
  out->append(bytes);
}

}  // namespace

InMemoryStore::InMemoryStore(const InMemoryStore& other)
    : fail_(other.fail_),
      contacts_(other.contacts_),
      cases_(other.cases_),
      customers_(other.customers_),
      timers_(other.timers_) {
  RebuildIndexes();
}

InMemoryStore& InMemoryStore::operator=(const InMemoryStore& other) {
  if (this == &other) return *this;
  fail_ = other.fail_;
  contacts_ = other.contacts_;
  cases_ = other.cases_;
  customers_ = other.customers_;
  timers_ = other.timers_;
  RebuildIndexes();
  return *this;
}

void InMemoryStore::RebuildIndexes() {
  auto rebuild = [](auto& map, auto& index) {
    index.clear();
    for (auto it = map.begin(); it != map.end(); ++it) index.emplace(it->first, it);
  };
  rebuild(contacts_, contact_index_);
  rebuild(cases_, case_index_);
  rebuild(customers_, customer_index_);
}

absl::Status InMemoryStore::Check() const {
  if (fail_) return absl::UnavailableError("in-memory store told to fail");
  return absl::OkStatus();
}

absl::Status InMemoryStore::CheckNotTaken(std::string_view contact_id) const {
  if (has_taken_ && taken_contact_ == contact_id) {
    return absl::FailedPreconditionError("contact '" + std::string(contact_id) +
                                         "' read while taken and not yet put back");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::ContactState>> InMemoryStore::GetContact(
    std::string_view contact_id) {
  if (absl::Status s = Check(); !s.ok()) return s;
  if (absl::Status s = CheckNotTaken(contact_id); !s.ok()) return s;
  return Find<Map<v1::ContactState>>(contact_index_, spare_contact_, contact_id);
}

absl::Status InMemoryStore::PutContact(const v1::ContactState& contact) {
  if (absl::Status s = Check(); !s.ok()) return s;
  PutBack(contact.contact_id());
  ++contact_puts_;
  PutCopied(contacts_, contact_index_, contact.contact_id(), contact);
  return absl::OkStatus();
}

absl::Status InMemoryStore::PutContact(v1::ContactState&& contact) {
  if (absl::Status s = Check(); !s.ok()) return s;
  PutBack(contact.contact_id());
  ++contact_puts_;
  PutMoved(contacts_, contact_index_, spare_contact_, contact.contact_id(), std::move(contact));
  return absl::OkStatus();
}

absl::StatusOr<bool> InMemoryStore::ReadContact(std::string_view contact_id,
                                                v1::ContactState& out) {
  if (absl::Status s = Check(); !s.ok()) return s;
  if (absl::Status s = CheckNotTaken(contact_id); !s.ok()) return s;
  return ReadInto<Map<v1::ContactState>>(contact_index_, spare_contact_, contact_id, out);
}

absl::StatusOr<bool> InMemoryStore::TakeContact(std::string_view contact_id,
                                                v1::ContactState& out) {
  if (absl::Status s = Check(); !s.ok()) return s;
  if (has_taken_) {
    return absl::FailedPreconditionError("contact '" + std::string(contact_id) + "' taken while '" +
                                         taken_contact_ + "' is not yet put back");
  }
  absl::StatusOr<bool> found =
      ReadInto<Map<v1::ContactState>>(contact_index_, spare_contact_, contact_id, out);
  if (found.ok()) {
    taken_contact_.assign(contact_id.data(), contact_id.size());  // reuses its capacity
    has_taken_ = true;
  }
  return found;
}

absl::Status InMemoryStore::ReturnContact(std::string_view contact_id, v1::ContactState&& contact) {
  (void)contact;  // the taken contact was a copy
  if (absl::Status s = Check(); !s.ok()) return s;
  if (!has_taken_ || taken_contact_ != contact_id) {
    return absl::FailedPreconditionError("contact '" + std::string(contact_id) +
                                         "' returned, not taken");
  }
  has_taken_ = false;
  return absl::OkStatus();
}

absl::Status InMemoryStore::DeleteContact(std::string_view contact_id) {
  if (absl::Status s = Check(); !s.ok()) return s;
  PutBack(contact_id);
  Erase(contacts_, contact_index_, contact_id);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::ComplaintCase>> InMemoryStore::GetCase(std::string_view case_id) {
  if (absl::Status s = Check(); !s.ok()) return s;
  return Find<Map<v1::ComplaintCase>>(case_index_, spare_case_, case_id);
}

absl::Status InMemoryStore::PutCase(const v1::ComplaintCase& c) {
  if (absl::Status s = Check(); !s.ok()) return s;
  PutCopied(cases_, case_index_, c.case_id(), c);
  return absl::OkStatus();
}

absl::Status InMemoryStore::PutCase(v1::ComplaintCase&& c) {
  if (absl::Status s = Check(); !s.ok()) return s;
  PutMoved(cases_, case_index_, spare_case_, c.case_id(), std::move(c));
  return absl::OkStatus();
}

absl::StatusOr<bool> InMemoryStore::ReadCase(std::string_view case_id, v1::ComplaintCase& out) {
  if (absl::Status s = Check(); !s.ok()) return s;
  return ReadInto<Map<v1::ComplaintCase>>(case_index_, spare_case_, case_id, out);
}

absl::Status InMemoryStore::DeleteCase(std::string_view case_id) {
  if (absl::Status s = Check(); !s.ok()) return s;
  Erase(cases_, case_index_, case_id);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::CustomerState>> InMemoryStore::GetCustomer(
    std::string_view customer_key) {
  if (absl::Status s = Check(); !s.ok()) return s;
  return Find<Map<v1::CustomerState>>(customer_index_, spare_customer_, customer_key);
}

absl::Status InMemoryStore::PutCustomer(const v1::CustomerState& customer) {
  if (absl::Status s = Check(); !s.ok()) return s;
  PutCopied(customers_, customer_index_, customer.customer_key(), customer);
  return absl::OkStatus();
}

absl::Status InMemoryStore::PutCustomer(v1::CustomerState&& customer) {
  if (absl::Status s = Check(); !s.ok()) return s;
  PutMoved(customers_, customer_index_, spare_customer_, customer.customer_key(),
           std::move(customer));
  return absl::OkStatus();
}

absl::StatusOr<bool> InMemoryStore::ReadCustomer(std::string_view customer_key,
                                                 v1::CustomerState& out) {
  if (absl::Status s = Check(); !s.ok()) return s;
  return ReadInto<Map<v1::CustomerState>>(customer_index_, spare_customer_, customer_key, out);
}

absl::Status InMemoryStore::DeleteCustomer(std::string_view customer_key) {
  if (absl::Status s = Check(); !s.ok()) return s;
  Erase(customers_, customer_index_, customer_key);
  return absl::OkStatus();
}

absl::Status InMemoryStore::PutTimer(const v1::Timer& timer) {
  if (absl::Status s = Check(); !s.ok()) return s;
  const std::pair<int64_t, std::string_view> key(timer.due_ms(), timer.timer_id());
  auto it = timers_.lower_bound(key);
  if (it != timers_.end() && !timers_.key_comp()(key, it->first)) {
    it->second = timer;
  } else if (!spare_timer_nodes_.empty()) {
    // A node of a deleted timer: its key string and message are assigned, reusing their memory.
    TimerMap::node_type node = std::move(spare_timer_nodes_.back());
    spare_timer_nodes_.pop_back();
    node.key().first = timer.due_ms();
    node.key().second.assign(timer.timer_id());
    node.mapped() = timer;
    timers_.insert(it, std::move(node));
  } else {
    timers_.emplace_hint(it, std::pair<int64_t, std::string>(timer.due_ms(), timer.timer_id()),
                         timer);
  }
  return absl::OkStatus();
}

absl::Status InMemoryStore::DeleteTimer(const v1::Timer& timer) {
  if (absl::Status s = Check(); !s.ok()) return s;
  const std::pair<int64_t, std::string_view> key(timer.due_ms(), timer.timer_id());
  if (auto it = timers_.find(key); it != timers_.end()) {
    if (spare_timer_nodes_.size() < kMaxSpareTimerNodes) {
      spare_timer_nodes_.push_back(timers_.extract(it));
    } else {
      timers_.erase(it);
    }
  }
  return absl::OkStatus();
}

std::vector<v1::Timer> InMemoryStore::DueTimers(int64_t now_ms) const {
  std::vector<v1::Timer> due;
  for (const auto& [key, timer] : timers_) {
    if (key.first > now_ms) break;
    due.push_back(timer);
  }
  return due;
}

std::optional<v1::Timer> InMemoryStore::NextTimer() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->second;
}

std::string InMemoryStore::Dump() const {
  std::string out;
  for (const auto& [key, value] : contacts_) AppendDeterministic(value, &out);
  out.append("|cases|");
  for (const auto& [key, value] : cases_) AppendDeterministic(value, &out);
  out.append("|customers|");
  for (const auto& [key, value] : customers_) AppendDeterministic(value, &out);
  out.append("|timers|");
  for (const auto& [key, value] : timers_) AppendDeterministic(value, &out);
  return out;
}

}  // namespace ccstream::testing
