#pragma once

#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "case.pb.h"

namespace ccstream::domain {

// Read/write access to one task's state: live contacts, complaint cases, customer records and
// pending timers. Implemented by tests/support's InMemoryStore and by state/ (RocksDB plus an
// overlay collecting one batch's mutations). The engine borrows it for one call; the caller owns
// it. Not thread-safe.
class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual absl::StatusOr<std::optional<v1::ContactState>> GetContact(
      std::string_view contact_id) = 0;
  virtual absl::Status PutContact(const v1::ContactState& contact) = 0;
  // Puts a contact the caller no longer needs: a store that keeps messages may take it without
  // a copy. The argument is left valid but unspecified. Defaults to the const& overload.
  virtual absl::Status PutContact(v1::ContactState&& contact) {
    return PutContact(static_cast<const v1::ContactState&>(contact));
  }
  virtual absl::Status DeleteContact(std::string_view contact_id) = 0;
  // Reads a contact into `out`, replacing its contents: true when found, false (and `out`
  // cleared) when there is none. The same record as GetContact, without the optional and
  // StatusOr around a message: a store that keeps messages copies straight into the caller's.
  // Defaults to GetContact.
  virtual absl::StatusOr<bool> ReadContact(std::string_view contact_id, v1::ContactState& out) {
    return ReadVia(GetContact(contact_id), out);
  }
  // ReadContact for a caller that changes the contact and puts it back (PutContact), deletes
  // it or returns it unchanged (ReturnContact) before it reads it again or takes another: a store
  // that keeps the batch's records may hand over its own message instead of a copy, and then fails
  // a read of the contact until it is put back. Should the caller fail in between, the batch must
  // not be committed (the runtime drops it). Defaults to ReadContact.
  virtual absl::StatusOr<bool> TakeContact(std::string_view contact_id, v1::ContactState& out) {
    return ReadContact(contact_id, out);
  }
  // Gives back a contact taken and left as it was (`contact` as TakeContact left it, cleared
  // when there was none): the store keeps the contact as it was, without a write, and the
  // contact can be read again. Defaults to nothing (the default TakeContact copied).
  virtual absl::Status ReturnContact(std::string_view contact_id, v1::ContactState&& contact) {
    (void)contact_id;
    (void)contact;
    return absl::OkStatus();
  }

  virtual absl::StatusOr<std::optional<v1::ComplaintCase>> GetCase(std::string_view case_id) = 0;
  virtual absl::Status PutCase(const v1::ComplaintCase& c) = 0;
  // As PutContact(ContactState&&).
  virtual absl::Status PutCase(v1::ComplaintCase&& c) {
    return PutCase(static_cast<const v1::ComplaintCase&>(c));
  }
  virtual absl::Status DeleteCase(std::string_view case_id) = 0;
  // As ReadContact.
  virtual absl::StatusOr<bool> ReadCase(std::string_view case_id, v1::ComplaintCase& out) {
    return ReadVia(GetCase(case_id), out);
  }

  virtual absl::StatusOr<std::optional<v1::CustomerState>> GetCustomer(
      std::string_view customer_key) = 0;
  virtual absl::Status PutCustomer(const v1::CustomerState& customer) = 0;
  // As PutContact(ContactState&&).
  virtual absl::Status PutCustomer(v1::CustomerState&& customer) {
    return PutCustomer(static_cast<const v1::CustomerState&>(customer));
  }
  virtual absl::Status DeleteCustomer(std::string_view customer_key) = 0;
  // As ReadContact.
  virtual absl::StatusOr<bool> ReadCustomer(std::string_view customer_key, v1::CustomerState& out) {
    return ReadVia(GetCustomer(customer_key), out);
  }

  // Timers are ordered by (due_ms, timer_id); the runtime's timer wheel reads them back.
  // Putting a timer with the same (due_ms, timer_id) twice keeps one.
  virtual absl::Status PutTimer(const v1::Timer& timer) = 0;
  virtual absl::Status DeleteTimer(const v1::Timer& timer) = 0;

 private:
  template <typename T>
  static absl::StatusOr<bool> ReadVia(absl::StatusOr<std::optional<T>> got, T& out) {
    if (!got.ok()) return got.status();
    if (!got->has_value()) {
      out.Clear();
      return false;
    }
    out = std::move(**got);
    return true;
  }
};

}  // namespace ccstream::domain
