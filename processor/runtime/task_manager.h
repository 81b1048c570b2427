#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "config.pb.h"
#include "processor/domain/engine.h"
#include "processor/runtime/pipeline.h"
#include "processor/runtime/worker_pool.h"
#include "state/task_state.h"

namespace ccstream::runtime {

// The tuning of the instance's task stores from the configuration (state.block_cache_mib,
// state.write_buffers_mib); the rest at TaskStoreOptions' defaults.
state::TaskStoreOptions StoreOptions(const v1::StateConfig& config);

// Receives the engine's outcomes (KPIs, case counts) for the metrics layer. Called on the
// pipeline's thread (Restored too, when the restored task is handed over).
class OutcomeSink {
 public:
  virtual ~OutcomeSink() = default;
  virtual void Record(const domain::Outcome& outcome) = 0;
  // The outcomes of one engine call, in order; the sink may move from them (they are dropped
  // after). By default, Record for each.
  virtual void RecordAll(std::vector<domain::Outcome>& outcomes) {
    for (const domain::Outcome& outcome : outcomes) Record(outcome);
  }
  // Changelog records applied while restoring a task, and how long the restore took.
  virtual void Restored(int32_t partition, int64_t records, double seconds) {
    (void)partition, (void)records, (void)seconds;
  }
  // A restore found the task's store past the group's committed input offset and rebuilt it
  // from the changelog: Kafka lost a commit it had acknowledged (its transaction's markers
  // skipped while the partitions had no leader), or the offsets were moved back by hand.
  virtual void StorePastCommittedOffset(int32_t partition) { (void)partition; }
  // A timer fired.
  virtual void TimerFired() {}
  // Events of a run that TaskManager::OnEvents shared out over more than one thread, once the
  // run is handled (processing.threads).
  virtual void EventsInParallel(int64_t events) { (void)events; }
  // Timers pending in all of this instance's tasks (an estimate), sampled about every second.
  virtual void TimersPending(int64_t count) { (void)count; }
  // Record reads of the tasks' state since the last call that their decoded cache answered and
  // that went to RocksDB (reads of a batch's own changes are neither), about every second.
  virtual void StateReads(int64_t from_cache, int64_t from_store) {
    (void)from_cache, (void)from_store;
  }
  // Memory RocksDB holds for the stores (the shared block cache and memtables, and the table
  // readers of the tasks in service), about every second.
  virtual void StateMemory(const state::StoreMemory& memory) { (void)memory; }
};

// Runs the domain engine for every task (input partition) this instance owns: one RocksDB
// store per task under `state.dir`, brought up to date from the changelog when the task is
// assigned, a batch overlay the engine reads and writes, the changelog records of each batch,
// the local write after Kafka committed (on a writer thread, while the next batch goes on), and
// the due timers fired on every tick.
//
// Assigned partitions are restored on a background thread (one at a time per assignment, all
// partitions of one assignment through one changelog consumer); a restored task is handed over
// to the pipeline's thread by TakeRestored. Until then the pipeline's thread never touches it.
// Owned by the service; the EventHandler methods are called only from the pipeline's thread.
class TaskManager : public EventHandler {
 public:
  // Test hook, called on the restore thread for each partition being restored: before its first
  // changelog record is read (`applied` = 0) and after each batch of records is given to be
  // written to its store (`applied` = records so far; the batch may still be being written). It
  // may block; `cancelled()` becomes true once the partition's restore is cancelled (OnRevoked
  // waits for that meanwhile).
  using RestoreHook = std::function<void(int32_t partition, int64_t applied,
                                         const std::function<bool()>& cancelled)>;

  // Starts the restore thread.
  TaskManager(const v1::ProcessorConfig& config, std::shared_ptr<const domain::Engine> engine,
              OutcomeSink& sink);
  // Cancels the restores in progress and joins the restore thread; closes every store.
  ~TaskManager() override;

  absl::Status OnEvent(int32_t partition, const v1::ContactEvent& event, int64_t now_ms,
                       HandlerOutput& out) override;
  // The events of different partitions on up to `processing.threads` threads at once (the
  // pipeline's and the pool's), each partition's in order on one of them; the outcomes are
  // recorded afterwards, on the calling thread, in the run's order: what OnEvent for each in
  // turn would have recorded. Tasks are independent and the engine is thread-safe.
  absl::Status OnEvents(const std::vector<HandlerEvent>& events,
                        std::vector<HandlerOutput>& outs) override;
  absl::Status OnTick(int32_t partition, int64_t now_ms, HandlerOutput& out) override;
  // Queues the restore of the partitions' tasks; returns at once.
  absl::Status OnAssigned(const std::vector<int32_t>& partitions) override;
  // Moves the tasks restored since the last call into service and returns their partitions;
  // the first restore error, if one occurred.
  absl::StatusOr<std::vector<int32_t>> TakeRestored(const std::vector<int32_t>& restoring) override;
  // Drops the tasks; a restore in progress or queued is cancelled, and its store closed, before
  // this returns.
  void OnRevoked(const std::vector<int32_t>& partitions, bool lost) override;
  absl::Status CollectChangelog(std::vector<ChangelogRecord>& out) override;
  // Seals the batch of every task with state changes or input records in it (TaskState::Seal).
  absl::Status OnSealed(const std::vector<int32_t>& partitions) override;
  // Starts the local write of the batch's state with the offsets (after OnSealed, of the sealed
  // batch's: TaskState::Post), on the writer's thread.
  absl::Status OnCommitted(const std::map<int32_t, CommittedOffsets>& offsets) override;
  void OnAborted() override;

  // Where the store of `partition` lives.
  std::string TaskPath(int32_t partition) const;
  // Total cases opened since start (for the status line and reports).
  int64_t cases_opened() const { return cases_opened_.load(); }
  // Read-only access to a task's state between batches (tests, the API), after its write in
  // flight is done; nullptr for a partition not assigned or still restoring. Pipeline thread
  // only.
  state::TaskState* task(int32_t partition);
  // Attempts of the restore's look-up of the group's committed offsets that Kafka did not answer
  // (CommittedInputOffsets), since start.
  int64_t committed_lookup_failures() const { return committed_lookup_failures_.load(); }
  // Tests: the queue the committed batches are written on (a test may hold it).
  state::WriteQueue& writer_for_testing() { return writer_; }
  // Installs the test hook; call before the first OnAssigned.
  void SetRestoreHookForTesting(RestoreHook hook) { restore_hook_ = std::move(hook); }

 private:
  // A task whose restore finished, waiting for TakeRestored.
  struct Restored {
    std::unique_ptr<state::TaskState> task;
    std::optional<int64_t> records;  // changelog records applied; nullopt: it was up to date
    double seconds = 0;
    bool past_committed = false;  // rebuilt: its store was past the group's committed offset
  };
  struct RestoreRun;
  // The restore thread: takes the queued assignments one by one and restores them.
  void RestoreLoop();
  // Opens the stores of the run's partitions and brings them up to date from the changelog
  // (from each stored offset to the end; from its start for a store past the group's committed
  // input offset, see CommittedInputOffsets); hands each task over as soon as it is complete,
  // drops those cancelled meanwhile. Restore thread.
  absl::Status Restore(RestoreRun& run);
  // The group's committed input offset of each partition of `run` (negative: none committed),
  // asked until Kafka answers for every partition not cancelled meanwhile; empty only when no
  // consumer could be made for it (the stores are then not compared with it).
  std::map<int32_t, int64_t> CommittedInputOffsets(const RestoreRun& run);
  // Closes the stores of the run's cancelled partitions and tells OnRevoked; returns them.
  std::vector<int32_t> DropCancelled(RestoreRun& run);
  // Hands a complete task over to TakeRestored (or closes it when cancelled meanwhile).
  void HandOver(RestoreRun& run, int32_t partition, std::optional<int64_t> records, double seconds);
  // The task of `partition` if in service, else nullptr; does not wait for its write in flight
  // (the events and ticks go on meanwhile: that is the point of the writer).
  state::TaskState* Active(int32_t partition);
  // True once the restore of `partition` is cancelled (revoked, or the manager stops).
  bool IsCancelled(int32_t partition);
  // What engine calls reported beside their alerts, kept until Deliver records it in the sink.
  struct Collected {
    std::vector<domain::Outcome> outcomes;
    int64_t timers_fired = 0;
  };
  // Moves the alerts of an engine call to `out`, its outcomes to `collected`.
  static void Collect(domain::Effects& effects, HandlerOutput& out, Collected& collected);
  // Records what was collected in the sink (pipeline's thread) and empties it.
  void Deliver(Collected& collected);
  // The event's due timers, then the event, in `task` (any thread, one task per thread).
  absl::Status Handle(state::TaskState& task, const v1::ContactEvent& event, int64_t now_ms,
                      HandlerOutput& out, Collected& collected);
  // Fires the task's timers due at or before `due_until_ms` (the engine's clock for them).
  absl::Status FireDue(state::TaskState& task, int64_t due_until_ms, HandlerOutput& out,
                       Collected& collected);

  const v1::ProcessorConfig config_;
  std::shared_ptr<const domain::Engine> engine_;
  OutcomeSink& sink_;
  // Writes the tasks' committed batches to their stores; declared before the tasks, which wait
  // for their writes when they close.
  state::WriteQueue writer_;
  std::map<int32_t, std::unique_ptr<state::TaskState>> tasks_;
  // OnSealed sealed the tasks' batches; the next OnCommitted posts them.
  bool sealed_ = false;
  // The tasks whose changelog partition has not had the format marker (state::ChangelogFormatKey)
  // since they were handed over, and those whose marker is in the batch being committed: back to
  // the first when it aborts.
  std::set<int32_t> unmarked_;
  std::set<int32_t> marking_;
  std::atomic<int64_t> cases_opened_{0};
  std::atomic<int64_t> committed_lookup_failures_{0};
  // OnEvents: the helper threads, and per event of the run what it collected; per part of the
  // run, its events' indices and its first error (index, status).
  std::unique_ptr<WorkerPool> workers_;
  std::vector<Collected> run_collected_;
  std::vector<std::vector<size_t>> run_parts_;
  std::vector<std::pair<size_t, absl::Status>> run_errors_;
  std::chrono::steady_clock::time_point next_timer_sample_;
  // Per task, its (cache hits, store reads) as last reported to StateReads.
  std::map<int32_t, std::pair<int64_t, int64_t>> reads_reported_;
  RestoreHook restore_hook_;

  // Shared between the pipeline's thread and the restore thread.
  std::mutex mu_;
  std::condition_variable cv_;              // restore queued, cancel requested, restore ended
  std::deque<std::vector<int32_t>> queue_;  // assignments waiting for the restore thread
  std::set<int32_t> restoring_;             // queued or being restored, not yet handed over
  std::set<int32_t> cancelled_;             // of restoring_: revoked, to be dropped
  std::map<int32_t, Restored> restored_;    // complete, waiting for TakeRestored
  absl::Status restore_error_;              // the first restore error, for TakeRestored
  bool stopping_ = false;
  std::thread restore_thread_;  // last: started once everything above exists
};

}  // namespace ccstream::runtime
