#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "alert.pb.h"
#include "case.pb.h"
#include "domain_config.pb.h"
#include "events.pb.h"
#include "processor/domain/config_problem.h"
#include "processor/domain/outcomes.h"
#include "processor/domain/pseudonymize.h"
#include "processor/domain/sla/policy.h"
#include "processor/domain/state_store.h"
#include "processor/domain/text_analyzer.h"

namespace ccstream::domain {

// What one event or timer produced, besides the state written to the store. Plain value type.
struct Effects {
  // Alerts to publish, each with a deterministic alert_id (a hash of case or contact, kind,
  // milestone and deadline/fraction), in the order they were raised.
  std::vector<v1::Alert> alerts;
  // KPI and case outcomes for the metrics layer (bounded labels only).
  std::vector<Outcome> outcomes;
};

// The domain engine: turns contact events and due timers into state changes (through a
// StateStore), alerts and outcomes. Pure: no I/O, no wall clock; time comes in as arguments.
// Deterministic: the same events and timers over the same state give the same state, alerts and
// outcomes, byte for byte.
//
// Created once from configuration and immutable afterwards; the const methods are thread-safe
// (one engine may serve several tasks, each with its own store). Owned by the runtime.
class Engine {
 public:
  // Validates `config` (ValidateDomainConfig) and builds the production text analyzer.
  // InvalidArgument lists the problems.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const v1::DomainConfig& config);
  // As above with a chosen text analyzer (tests use a fake with chosen sentiments).
  static absl::StatusOr<std::unique_ptr<Engine>> Create(
      const v1::DomainConfig& config, std::shared_ptr<const TextAnalyzer> analyzer);

  // One event. now_ms is the processor's clock (event time in replays, wall clock live); state
  // and SLA clocks use the event's time. Returns an error only when the store fails.
  absl::StatusOr<Effects> OnEvent(const v1::ContactEvent& event, int64_t now_ms,
                                  StateStore& store) const;
  // A timer the runtime found due (due_ms <= now_ms). Stale timers (state gone or the timer no
  // longer pending) are no-ops. The engine deletes the timer from the store itself.
  absl::StatusOr<Effects> OnTimer(const v1::Timer& timer, int64_t now_ms, StateStore& store) const;

  // The pseudonymised key of a raw customer id (HMAC-SHA256 under the configured key), e.g. for
  // an API lookup of a customer's cases.
  std::string CustomerKey(std::string_view raw_customer_id) const;
  // Whether `raw_customer_id` is one of DomainConfig.anonymous_customer_ids.
  bool IsAnonymousCustomer(std::string_view raw_customer_id) const;
  // The customer key of a contact event: CustomerKey of its customer id, or, for an anonymous
  // one, a key of the contact's own (its contact id, pseudonymised apart from customer ids).
  std::string CustomerKeyOf(const v1::ContactEvent& event) const;

  const v1::DomainConfig& config() const { return config_; }

 private:
  friend class EngineCall;

  Engine(const v1::DomainConfig& config, std::shared_ptr<const TextAnalyzer> analyzer,
         sla::SlaPolicies policies);

  v1::DomainConfig config_;
  std::shared_ptr<const TextAnalyzer> analyzer_;
  sla::SlaPolicies policies_;
  Pseudonymizer pseudonymizer_;
  // DomainConfig.anonymous_customer_ids, trimmed and in lower case.
  std::vector<std::string> anonymous_customer_ids_;
};

// Every problem of the configuration (empty when valid): ranges, references, and the problems
// of the nested SLA and text configurations with their paths prefixed "sla." and "text.".
std::vector<ConfigProblem> ValidateDomainConfig(const v1::DomainConfig& config);

}  // namespace ccstream::domain
