#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "processor/domain/state_store.h"

namespace ccstream::testing {

// A StateStore kept in ordered maps, for tests and benchmarks: the reference implementation of
// the store contract. Timers are kept ordered by (due_ms, timer_id). Accessors list everything
// for assertions. Can be told to fail (every call then returns Unavailable). Owned by the test;
// not thread-safe.
class InMemoryStore final : public domain::StateStore {
 public:
  InMemoryStore() = default;
  // Copies rebuild the hash indexes (they point into the copied maps); moves keep them valid.
  InMemoryStore(const InMemoryStore& other);
  InMemoryStore& operator=(const InMemoryStore& other);
  InMemoryStore(InMemoryStore&&) = default;
  InMemoryStore& operator=(InMemoryStore&&) = default;

  absl::StatusOr<std::optional<v1::ContactState>> GetContact(std::string_view contact_id) override;
  absl::Status PutContact(const v1::ContactState& contact) override;
  absl::Status PutContact(v1::ContactState&& contact) override;
  absl::Status DeleteContact(std::string_view contact_id) override;
  absl::StatusOr<bool> ReadContact(std::string_view contact_id, v1::ContactState& out) override;
  // A copy, as ReadContact, held to the contract of TakeContact: reading the contact or taking
  // another before it is put back, deleted or returned fails (FailedPrecondition), so that the
  // engine's tests catch a read between its take and its put.
  absl::StatusOr<bool> TakeContact(std::string_view contact_id, v1::ContactState& out) override;
  // Ends a take without a write; fails (FailedPrecondition) for a contact not taken.
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

  // Every call fails with Unavailable while set.
  void set_fail(bool fail) { fail_ = fail; }
  // Contacts put (either overload) since the store was made: a test's measure of writes.
  int64_t contact_puts() const { return contact_puts_; }

  const std::map<std::string, v1::ContactState, std::less<>>& contacts() const { return contacts_; }
  const std::map<std::string, v1::ComplaintCase, std::less<>>& cases() const { return cases_; }
  const std::map<std::string, v1::CustomerState, std::less<>>& customers() const {
    return customers_;
  }
  // Orders timer keys (due_ms, timer_id) whether the id is held as a string or a string_view, so
  // that lookups need not copy the id.
  struct TimerKeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      if (a.first != b.first) return a.first < b.first;
      return std::string_view(a.second) < std::string_view(b.second);
    }
  };
  using TimerMap = std::map<std::pair<int64_t, std::string>, v1::Timer, TimerKeyLess>;

  const TimerMap& timers() const { return timers_; }

  // Timers with due_ms <= now_ms, in (due_ms, timer_id) order.
  std::vector<v1::Timer> DueTimers(int64_t now_ms) const;
  // The earliest pending timer, if any.
  std::optional<v1::Timer> NextTimer() const;
  // A deterministic serialisation of everything stored (for byte-for-byte comparisons).
  std::string Dump() const;

 private:
  absl::Status Check() const;
  void RebuildIndexes();

  template <typename T>
  using Map = std::map<std::string, T, std::less<>>;
  // A hash index over a map's keys (views of the map's own key strings, which never move), so
  // that a lookup costs one hash instead of a dozen string comparisons down the tree. The maps
  // stay ordered for the accessors and Dump.
  template <typename T>
  using Index = absl::flat_hash_map<std::string_view, typename Map<T>::iterator>;

  bool fail_ = false;
  int64_t contact_puts_ = 0;
  // The contact taken and not yet put back or deleted (TakeContact), if `has_taken_`.
  std::string taken_contact_;
  bool has_taken_ = false;
  absl::Status CheckNotTaken(std::string_view contact_id) const;
  void PutBack(std::string_view contact_id) {
    if (has_taken_ && taken_contact_ == contact_id) has_taken_ = false;
  }
  Map<v1::ContactState> contacts_;
  Map<v1::ComplaintCase> cases_;
  Map<v1::CustomerState> customers_;
  Index<v1::ContactState> contact_index_;
  Index<v1::ComplaintCase> case_index_;
  Index<v1::CustomerState> customer_index_;
  TimerMap timers_;
  // Values replaced by a Put(T&&), kept so that the next Get copies into their memory instead
  // of allocating afresh (the engine's Get, modify, Put cycle then allocates almost nothing).
  v1::ContactState spare_contact_;
  v1::ComplaintCase spare_case_;
  v1::CustomerState spare_customer_;
  // Map nodes of deleted timers, kept (up to a bound) for the next puts to reuse.
  static constexpr size_t kMaxSpareTimerNodes = 64;
  std::vector<TimerMap::node_type> spare_timer_nodes_;
};

}  // namespace ccstream::testing
