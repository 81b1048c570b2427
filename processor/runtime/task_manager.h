#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "config.pb.h"
#include "processor/domain/engine.h"
#include "processor/runtime/pipeline.h"
#include "state/task_state.h"

namespace ccstream::runtime {

// Receives the engine's outcomes (KPIs, case counts) for the metrics layer. Called on the
// pipeline's thread.
class OutcomeSink {
 public:
  virtual ~OutcomeSink() = default;
  virtual void Record(const domain::Outcome& outcome) = 0;
  // Changelog records applied while restoring a task, and how long the restore took.
  virtual void Restored(int32_t partition, int64_t records, double seconds) {
    (void)partition, (void)records, (void)seconds;
  }
  // A timer fired.
  virtual void TimerFired() {}
  // Timers pending in all of this instance's tasks (an estimate), sampled about every second.
  virtual void TimersPending(int64_t count) { (void)count; }
};

// Runs the domain engine for every task (input partition) this instance owns: one RocksDB
// store per task under `state.dir`, brought up to date from the changelog when the task is
// assigned, a batch overlay the engine reads and writes, the changelog records of each batch,
// the local write after Kafka committed, and the due timers fired on every tick.
// Owned by the service; called only from the pipeline's thread.
class TaskManager : public EventHandler {
 public:
  TaskManager(const v1::ProcessorConfig& config, std::shared_ptr<const domain::Engine> engine,
              OutcomeSink& sink);
  ~TaskManager() override;

  absl::Status OnEvent(int32_t partition, const v1::ContactEvent& event, int64_t now_ms,
                       HandlerOutput& out) override;
  absl::Status OnTick(int32_t partition, int64_t now_ms, HandlerOutput& out) override;
  absl::Status OnAssigned(const std::vector<int32_t>& partitions) override;
  void OnRevoked(const std::vector<int32_t>& partitions, bool lost) override;
  absl::Status CollectChangelog(std::vector<ChangelogRecord>& out) override;
  absl::Status OnCommitted(const std::map<int32_t, CommittedOffsets>& offsets) override;
  void OnAborted() override;

  // Where the store of `partition` lives.
  std::string TaskPath(int32_t partition) const;
  // Total cases opened since start (for the status line and reports).
  int64_t cases_opened() const { return cases_opened_.load(); }
  // Read-only access to a task's state between batches (tests, the API).
  state::TaskState* task(int32_t partition);

 private:
  // Brings the tasks up to date from the changelog (from each stored offset to the end).
  absl::Status Restore(const std::map<int32_t, state::TaskState*>& tasks);
  void Deliver(domain::Effects& effects, HandlerOutput& out);
  // Fires the task's timers due at or before `due_until_ms` (the engine's clock for them).
  absl::Status FireDue(state::TaskState& task, int64_t due_until_ms, HandlerOutput& out);

  const v1::ProcessorConfig config_;
  std::shared_ptr<const domain::Engine> engine_;
  OutcomeSink& sink_;
  std::map<int32_t, std::unique_ptr<state::TaskState>> tasks_;
  std::atomic<int64_t> cases_opened_{0};
  std::chrono::steady_clock::time_point next_timer_sample_;
};

}  // namespace ccstream::runtime
