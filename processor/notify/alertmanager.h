#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alert.pb.h"
#include "config.pb.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace ccstream::notify {

// A case or contact that moved on at `at_ms` (engine time): its firing alerts raised at or
// before that time are resolved.
struct MovedOn {
  std::string subject;  // case id or contact id
  int64_t at_ms = 0;
};

// Delivers committed SLA breaches and escalations to Alertmanager's API v2 (POST
// <url>/api/v2/alerts), on a thread of its own: the pipeline only appends to a bounded queue and
// never waits. Failed posts are retried with exponential backoff (250 ms doubling up to
// max_backoff_ms); while Alertmanager is away the queue keeps the newest max_queue posts.
//
// Which alerts, and how they look:
//   SLA_BREACH, LIVE_SLA_BREACH → alertname "CcstreamSlaBreach";
//   ESCALATION, SLA_ESCALATION  → alertname "CcstreamEscalation";
//   labels: kind (the AlertKind name), severity (lower case, when known), queue, milestone
//   (SLA alerts), and case_id or, for live-contact alerts, contact_id (the pseudonymous ids the
//   alert already carries, never a customer id); annotations: summary, reason (the cues with
//   their values), case (the case id), rung (SLA_ESCALATION).
// Firing alerts are re-posted every resend_interval_s with endsAt = now + 4 intervals, so that
// they stay active while ccstream runs and expire if it stops. An alert resolves (posted with
// endsAt = now) when its subject moves on: the case changes state, completes the milestone or
// closes; the contact ends.
// Thread-safe: Committed may be called from the pipeline's thread while the worker posts.
class AlertmanagerSink {
 public:
  using Clock = std::function<int64_t()>;  // wall clock, ms since the epoch
  AlertmanagerSink(const v1::AlertmanagerConfig& config, prometheus::Registry& registry,
                   Clock clock = nullptr);
  ~AlertmanagerSink();  // stops the worker; what is still queued is dropped
  AlertmanagerSink(const AlertmanagerSink&) = delete;
  AlertmanagerSink& operator=(const AlertmanagerSink&) = delete;

  // After a commit: the batch's alerts (others than the kinds above are ignored), then the
  // subjects that moved on in the same batch.
  void Committed(const std::vector<v1::Alert>& alerts, const std::vector<MovedOn>& moved_on);

  // Tests: waits until nothing is queued or in flight (or the timeout passes); true if idle.
  bool WaitIdle(int timeout_ms);
  // Alerts currently followed as firing.
  size_t active() const;

  // The Alertmanager JSON object (labels, annotations, startsAt, endsAt) for `alert`, ending at
  // `ends_ms`. Exposed for tests.
  static std::string ToJson(const v1::Alert& alert, int64_t ends_ms);

 private:
  struct Active {
    v1::Alert alert;
    std::string subject;
    std::list<std::string>::iterator order;  // position in order_
  };
  void Forget(const std::string& alert_id);  // under mu_
  void Run();
  void Enqueue(std::string json);  // under mu_
  void DropOldest();               // under mu_: keeps the newest max_queue posts
  bool Post(const std::vector<std::string>& batch, std::string* error);
  int64_t Now() const;

  const v1::AlertmanagerConfig config_;
  const Clock clock_;
  prometheus::Counter* ok_;
  prometheus::Counter* failed_;
  prometheus::Counter* dropped_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::string> queue_;  // JSON objects waiting to be posted
  bool in_flight_ = false;
  bool stop_ = false;
  // Firing alerts by alert id, oldest first in `order_`.
  std::map<std::string, Active> active_;
  std::list<std::string> order_;
  std::map<std::string, std::vector<std::string>> by_subject_;  // subject → alert ids
  std::thread worker_;
};

}  // namespace ccstream::notify
