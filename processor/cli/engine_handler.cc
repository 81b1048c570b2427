#include "processor/cli/engine_handler.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "processor/domain/engine.h"
#include "processor/domain/lifecycle.h"
#include "processor/runtime/domain_probe.h"
#include "processor/runtime/log.h"
#include "processor/runtime/task_manager.h"
#include "state/task_store.h"

namespace ccstream::cli {
namespace {

// ccstream_cases_open counts the open cases of the tasks this instance holds: a task taken over
// adds the open cases in its store, a task let go takes them away, and in between the engine's
// committed deltas keep it true. A task's stored cases are counted on a thread of this class's
// own, not the pipeline's: a task of 1,000,000 keys holds ~80,000 cases, ~0.25 s to read, and
// counting them before the first event held back a restarted instance by seconds. The count
// reads a snapshot of the store taken when the task became active, so that it and the deltas
// committed after that add up; those deltas wait until every count is in, so that the gauge does
// not dip below zero meanwhile.
class OpenCaseGauge {
 public:
  explicit OpenCaseGauge(runtime::DomainProbe& probe)
      : probe_(probe), worker_([this] { Work(); }) {}
  ~OpenCaseGauge() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  // A task became active, before any write of its own: count its open cases in the background.
  void Add(int32_t partition, std::shared_ptr<const state::TaskStore> store) {
    std::unique_ptr<state::TaskStore::Snapshot> snapshot = store->TakeSnapshot();
    std::lock_guard lock(mu_);
    queue_.push_back({partition, std::move(store), std::move(snapshot)});
    counting_.insert(partition);
    cv_.notify_all();
  }
  // A task goes; its store holds what the gauge counted for it (the batch in flight was
  // committed or dropped). Waits for its count if that is not in yet, then takes its cases away.
  void Remove(int32_t partition, const state::TaskStore& store) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !counting_.contains(partition); });
    }
    const Counts counts = Count(store, nullptr);
    std::lock_guard lock(mu_);
    Apply(counts, -1);
  }
  // A committed delta of the engine (the pipeline's thread).
  void Record(const domain::Outcome& delta) {
    std::lock_guard lock(mu_);
    if (counting_.empty()) {
      probe_.Record(delta);
    } else {
      held_.push_back(delta);
    }
  }
  // Blocks until every count started is in (tests).
  void AwaitCounts() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return counting_.empty(); });
  }

 private:
  using Counts = std::map<std::pair<v1::Severity, std::string>, int64_t>;
  struct Job {
    int32_t partition;
    std::shared_ptr<const state::TaskStore> store;
    std::unique_ptr<state::TaskStore::Snapshot> snapshot;  // last: released before `store`
  };

  static Counts Count(const state::TaskStore& store, const state::TaskStore::Snapshot* at) {
    // Only the three fields the labels need are read from each case, and the counts go to the
    // gauge once per label (parsing whole cases and recording one delta per case took longer).
    Counts open;
    domain::CaseSummary c;
    const absl::Status status = store.Scan(
        state::Family::kCases, "",
        [&](std::string_view, std::string_view value) {
          if (domain::ReadCaseSummary(value, c) && domain::IsOpenState(c.state)) {
            ++open[{c.severity, c.category}];
          }
          return true;
        },
        at);
    if (!status.ok()) {
      runtime::LogWarning(
          absl::StrCat("cannot count the open cases of ", store.path(), ": ", status.message()));
    }
    return open;
  }
  void Apply(const Counts& counts, int sign) {
    for (const auto& [labels, count] : counts) {
      domain::Outcome delta;
      delta.kind = domain::OutcomeKind::kOpenCasesDelta;
      delta.severity = labels.first;
      delta.category = labels.second;
      delta.delta = sign * count;
      probe_.Record(delta);
    }
  }
  void Work() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;  // the counts still queued are dropped with their snapshots
      Job job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      const Counts counts = Count(*job.store, job.snapshot.get());
      job.snapshot.reset();  // before the store may close
      job.store.reset();
      lock.lock();
      Apply(counts, +1);
      counting_.erase(job.partition);
      if (counting_.empty()) {
        for (const domain::Outcome& delta : held_) probe_.Record(delta);
        held_.clear();
      }
      cv_.notify_all();
    }
  }

  runtime::DomainProbe& probe_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::set<int32_t> counting_;         // queued or being counted
  std::vector<domain::Outcome> held_;  // committed while some count was not in
  bool stopping_ = false;
  std::thread worker_;  // last: starts once the members above exist
};

// Keeps the open batch's outcomes and records them in the probe when the batch commits (an
// aborted batch is redone, and must not be counted twice); when asked, also keeps the subjects
// that moved on.
class OutcomeRecorder : public runtime::OutcomeSink {
 public:
  OutcomeRecorder(runtime::DomainProbe& probe, OpenCaseGauge& open_cases, bool follow_moves,
                  api::QueueWindows* queues)
      : probe_(probe), open_cases_(open_cases), follow_moves_(follow_moves), queues_(queues) {}
  void Record(const domain::Outcome& outcome) override {
    FollowMove(outcome);
    outcomes_.push_back(outcome);
  }
  // Moved in rather than copied: an outcome carries up to six strings.
  void RecordAll(std::vector<domain::Outcome>& outcomes) override {
    for (domain::Outcome& outcome : outcomes) {
      FollowMove(outcome);
      outcomes_.push_back(std::move(outcome));
    }
  }
  void Restored(int32_t partition, int64_t records, double seconds) override {
    probe_.Restored(partition, records, seconds);
  }
  void StorePastCommittedOffset(int32_t partition) override {
    probe_.StorePastCommittedOffset(partition);
  }
  void TimerFired() override { probe_.TimerFired(); }
  void EventsInParallel(int64_t events) override { probe_.EventsInParallel(events); }
  void TimersPending(int64_t count) override { probe_.TimersPending(count); }
  void StateReads(int64_t from_cache, int64_t from_store) override {
    probe_.StateReads(from_cache, from_store);
  }
  void StateMemory(const state::StoreMemory& memory) override { probe_.StateMemory(memory); }

  // AT_LEAST_ONCE: the batch ended and waits for Kafka while the next one runs; the next
  // Committed is its (the open batch's outcomes wait for their own). Swapped, not moved, so
  // that the open batch gets the sealed one's emptied vectors and their capacity back.
  void Sealed() {
    sealed_outcomes_.clear();
    sealed_outcomes_.swap(outcomes_);
    sealed_moves_.clear();
    sealed_moves_.swap(batch);
    has_sealed_ = true;
  }
  // The batch committed (the sealed one, if any): count its outcomes, keep its moves for
  // TakeMovedOn.
  void Committed() {
    std::vector<domain::Outcome>& outcomes = has_sealed_ ? sealed_outcomes_ : outcomes_;
    std::vector<notify::MovedOn>& moves = has_sealed_ ? sealed_moves_ : batch;
    for (const domain::Outcome& o : outcomes) {
      if (o.kind == domain::OutcomeKind::kOpenCasesDelta) {
        open_cases_.Record(o);
      } else {
        probe_.Record(o);
      }
      if (queues_ != nullptr) queues_->Record(o);
    }
    outcomes.clear();
    committed.insert(committed.end(), moves.begin(), moves.end());
    moves.clear();
    has_sealed_ = false;
  }
  // The batch was aborted (with the sealed one, if any): forget them.
  void Aborted() {
    outcomes_.clear();
    batch.clear();
    sealed_outcomes_.clear();
    sealed_moves_.clear();
    has_sealed_ = false;
  }

  std::vector<notify::MovedOn> batch;      // the open batch
  std::vector<notify::MovedOn> committed;  // committed, not yet taken

 private:
  // When asked, keeps the subject of an outcome that moves a case or contact on.
  void FollowMove(const domain::Outcome& outcome) {
    if (!follow_moves_) return;
    switch (outcome.kind) {
      case domain::OutcomeKind::kCaseTransition:
      case domain::OutcomeKind::kSlaMet:
      case domain::OutcomeKind::kSlaMissed:
      case domain::OutcomeKind::kCaseClosed:
      case domain::OutcomeKind::kContactEnded:
        batch.push_back({outcome.subject, outcome.at_ms});
        break;
      default:
        break;
    }
  }

  runtime::DomainProbe& probe_;
  OpenCaseGauge& open_cases_;
  const bool follow_moves_;
  api::QueueWindows* const queues_;
  std::vector<domain::Outcome> outcomes_;  // of the open batch
  // Of the sealed batch, while `has_sealed_`.
  std::vector<domain::Outcome> sealed_outcomes_;
  std::vector<notify::MovedOn> sealed_moves_;
  bool has_sealed_ = false;
};

// The stores of the active tasks, shared with the API's threads. Updated on the pipeline's
// thread when tasks become active or go; read under the mutex from any thread.
class TaskStores : public api::StoreSource {
 public:
  Stores ActiveStores() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return Stores(stores_.begin(), stores_.end());
  }
  void Add(int32_t partition, std::shared_ptr<const state::TaskStore> store) {
    std::lock_guard<std::mutex> lock(mu_);
    stores_[partition] = std::move(store);
  }
  void Remove(int32_t partition) {
    std::lock_guard<std::mutex> lock(mu_);
    stores_.erase(partition);
  }

 private:
  mutable std::mutex mu_;
  std::map<int32_t, std::shared_ptr<const state::TaskStore>> stores_;
};

// The engine's tasks together with the probe that records their outcomes.
class EngineHandler : public runtime::EventHandler {
 public:
  EngineHandler(const v1::ProcessorConfig& config, std::shared_ptr<const domain::Engine> engine,
                prometheus::Registry& registry, bool follow_moves, api::QueueWindows* queues)
      : probe_(registry, config.domain()),
        open_cases_(probe_),
        recorder_(probe_, open_cases_, follow_moves, queues),
        tasks_(config, std::move(engine), recorder_) {}

  absl::Status OnEvent(int32_t partition, const v1::ContactEvent& event, int64_t now_ms,
                       runtime::HandlerOutput& out) override {
    return tasks_.OnEvent(partition, event, now_ms, out);
  }
  absl::Status OnEvents(const std::vector<runtime::HandlerEvent>& events,
                        std::vector<runtime::HandlerOutput>& outs) override {
    return tasks_.OnEvents(events, outs);
  }
  absl::Status OnTick(int32_t partition, int64_t now_ms, runtime::HandlerOutput& out) override {
    return tasks_.OnTick(partition, now_ms, out);
  }
  absl::Status OnAssigned(const std::vector<int32_t>& partitions) override {
    return tasks_.OnAssigned(partitions);
  }
  // Restored tasks become active: the API may read their stores from now on.
  absl::StatusOr<std::vector<int32_t>> TakeRestored(
      const std::vector<int32_t>& restoring) override {
    auto ready = tasks_.TakeRestored(restoring);
    if (ready.ok()) {
      for (const int32_t partition : *ready) {
        if (state::TaskState* task = tasks_.task(partition); task != nullptr) {
          stores_.Add(partition, task->shared_store());
          open_cases_.Add(partition, task->shared_store());
        }
      }
    }
    return ready;
  }
  void OnRevoked(const std::vector<int32_t>& partitions, bool lost) override {
    for (const int32_t partition : partitions) {
      stores_.Remove(partition);
      // The batch in flight was committed (revoke) or dropped (loss) before this call, so the
      // store holds what the gauge counted for this task.
      if (state::TaskState* task = tasks_.task(partition); task != nullptr) {
        open_cases_.Remove(partition, task->store());
      }
    }
    tasks_.OnRevoked(partitions, lost);
  }
  absl::Status CollectChangelog(std::vector<runtime::ChangelogRecord>& out) override {
    return tasks_.CollectChangelog(out);
  }
  absl::Status OnSealed(const std::vector<int32_t>& partitions) override {
    absl::Status status = tasks_.OnSealed(partitions);
    recorder_.Sealed();
    return status;
  }
  absl::Status OnCommitted(const std::map<int32_t, runtime::CommittedOffsets>& offsets) override {
    absl::Status status = tasks_.OnCommitted(offsets);
    recorder_.Committed();
    return status;
  }
  void OnAborted() override {
    tasks_.OnAborted();
    recorder_.Aborted();
  }

  int64_t cases_opened() const { return tasks_.cases_opened(); }
  std::vector<notify::MovedOn> TakeMovedOn() { return std::exchange(recorder_.committed, {}); }
  const api::StoreSource& stores() const { return stores_; }
  void AwaitOpenCaseCounts() { open_cases_.AwaitCounts(); }

 private:
  runtime::DomainProbe probe_;
  OpenCaseGauge open_cases_;
  OutcomeRecorder recorder_;
  TaskStores stores_;
  runtime::TaskManager tasks_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<runtime::EventHandler>> MakeEngineHandler(
    const v1::ProcessorConfig& config, prometheus::Registry& registry, bool follow_moves,
    api::QueueWindows* queues) {
  auto engine = domain::Engine::Create(config.domain());
  if (!engine.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("domain configuration: ", engine.status().message()));
  }
  return std::make_unique<EngineHandler>(config, std::move(*engine), registry, follow_moves,
                                         queues);
}

void AwaitOpenCaseCounts(runtime::EventHandler& handler) {
  static_cast<EngineHandler&>(handler).AwaitOpenCaseCounts();
}

int64_t CasesOpened(const runtime::EventHandler& handler) {
  return static_cast<const EngineHandler&>(handler).cases_opened();
}

const api::StoreSource& StoresOf(const runtime::EventHandler& handler) {
  return static_cast<const EngineHandler&>(handler).stores();
}

std::vector<notify::MovedOn> TakeMovedOn(runtime::EventHandler& handler) {
  return static_cast<EngineHandler&>(handler).TakeMovedOn();
}

}  // namespace ccstream::cli
