#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "alert.pb.h"
#include "processor/domain/outcomes.h"
#include "processor/http/server.h"
#include "state/task_store.h"

namespace ccstream::api {

// Where the API finds the committed state of the tasks (input partitions) this instance owns.
// Called from the HTTP threads: implementations must be thread-safe.
class StoreSource {
 public:
  virtual ~StoreSource() = default;
  using Stores = std::vector<std::pair<int32_t, std::shared_ptr<const state::TaskStore>>>;
  // The stores of the tasks that are active (restored), by partition.
  virtual Stores ActiveStores() const = 0;
};

// Per-queue contact KPIs over the last hour in one-minute buckets of wall-clock time, fed with
// committed outcomes (offered, answered with its wait, answered within threshold, abandoned).
// Thread-safe.
class QueueWindows {
 public:
  using Clock = std::function<int64_t()>;  // ms since the epoch
  explicit QueueWindows(Clock clock = nullptr);
  void Record(const domain::Outcome& outcome);
  struct Figures {
    int64_t offered = 0;
    int64_t answered = 0;
    int64_t within = 0;
    int64_t abandoned = 0;
    double wait_s = 0;  // summed over the answered contacts
  };
  // Totals of the last `minutes` (1..60) minutes, the current one included, by queue.
  std::map<std::string, Figures> Window(int minutes) const;

 private:
  struct Bucket {
    int64_t minute = -1;
    Figures figures;
  };
  const Clock clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::array<Bucket, 60>> queues_;
};

// The most recent committed alerts, numbered 1, 2, … in commit order, for the server-sent
// event stream. Thread-safe: the pipeline publishes, HTTP threads wait.
class AlertFeed {
 public:
  explicit AlertFeed(size_t capacity = 2000);
  // Numbers the alerts and keeps the last `capacity` of them (moved in: pass a copy to keep
  // one's own).
  void Publish(std::vector<v1::Alert> alerts);
  // The alerts numbered after `after` still held (oldest first, at most `max`); waits up to
  // `timeout_ms` for one when there is none. Returns early when `stopping` becomes true.
  std::vector<std::pair<int64_t, std::string>> Next(int64_t after, size_t max, int timeout_ms,
                                                    const std::atomic<bool>& stopping);
  int64_t last() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable published_;
  // The alerts held, by number. An alert's JSON is built by the first reader that wants it:
  // Publish runs on the processing thread for every alert of every batch, and most alerts are
  // pushed out of the window before any stream asks for them (or no stream is open at all).
  struct Held {
    int64_t number;
    v1::Alert alert;
    std::string json;  // empty until first read
  };
  std::deque<Held> alerts_;
  int64_t last_ = 0;
};

// Who answers: the group, this member, and (from the stores) its partitions.
struct Instance {
  std::string group_id;
  std::string member;
};

struct ApiOptions {
  double service_level_target = 0.8;  // shown on the queue tiles
  int keep_alive_s = 15;              // comment lines on an idle alert stream
  std::string wallboard_html;         // served at "/"
  bool auth = false;                  // routes need the server's bearer token
};

// The JSON of an alert as the API and the stream show it (no customer key).
std::string AlertJson(const v1::Alert& alert);

// Registers the live-floor API and the wallboard on `server` (before it starts):
//   GET /api/cases, /api/cases/{id}, /api/contacts/live, /api/queues, /api/alerts/stream, /
// See docs/api.md. The sources must outlive the server.
void RegisterApi(http::Server& server, const StoreSource& stores, const QueueWindows& queues,
                 AlertFeed& feed, const Instance& instance, const ApiOptions& options);

}  // namespace ccstream::api
