#include "processor/cli/engine_handler.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "processor/domain/engine.h"
#include "processor/domain/lifecycle.h"
#include "processor/runtime/domain_probe.h"
#include "processor/runtime/log.h"
#include "processor/runtime/task_manager.h"

namespace ccstream::cli {
namespace {

// Keeps the open batch's outcomes and records them in the probe when the batch commits (an
// aborted batch is redone, and must not be counted twice); when asked, also keeps the subjects
// that moved on.
class OutcomeRecorder : public runtime::OutcomeSink {
 public:
  OutcomeRecorder(runtime::DomainProbe& probe, bool follow_moves, api::QueueWindows* queues)
      : probe_(probe), follow_moves_(follow_moves), queues_(queues) {}
  void Record(const domain::Outcome& outcome) override {
    outcomes_.push_back(outcome);
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
  void Restored(int32_t partition, int64_t records, double seconds) override {
    probe_.Restored(partition, records, seconds);
  }
  void TimerFired() override { probe_.TimerFired(); }
  void TimersPending(int64_t count) override { probe_.TimersPending(count); }

  // The batch committed: count its outcomes, keep its moves for TakeMovedOn.
  void Committed() {
    for (const domain::Outcome& o : outcomes_) {
      probe_.Record(o);
      if (queues_ != nullptr) queues_->Record(o);
    }
    outcomes_.clear();
    committed.insert(committed.end(), batch.begin(), batch.end());
    batch.clear();
  }
  // The batch was aborted: forget it.
  void Aborted() {
    outcomes_.clear();
    batch.clear();
  }

  std::vector<notify::MovedOn> batch;      // the open batch
  std::vector<notify::MovedOn> committed;  // committed, not yet taken

 private:
  runtime::DomainProbe& probe_;
  const bool follow_moves_;
  api::QueueWindows* const queues_;
  std::vector<domain::Outcome> outcomes_;  // of the open batch
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
        recorder_(probe_, follow_moves, queues),
        tasks_(config, std::move(engine), recorder_) {}

  absl::Status OnEvent(int32_t partition, const v1::ContactEvent& event, int64_t now_ms,
                       runtime::HandlerOutput& out) override {
    return tasks_.OnEvent(partition, event, now_ms, out);
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
          CountOpenCases(task->store(), +1);
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
        CountOpenCases(task->store(), -1);
      }
    }
    tasks_.OnRevoked(partitions, lost);
  }
  absl::Status CollectChangelog(std::vector<runtime::ChangelogRecord>& out) override {
    return tasks_.CollectChangelog(out);
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

 private:
  // ccstream_cases_open counts the open cases of the tasks this instance holds: a task taken
  // over adds its stored open cases (+1), a task let go takes them away (-1); in between the
  // engine's committed deltas keep it true.
  void CountOpenCases(const state::TaskStore& store, int sign) {
    v1::ComplaintCase c;
    const absl::Status status =
        store.Scan(state::Family::kCases, "", [&](std::string_view, std::string_view value) {
          if (!c.ParseFromArray(value.data(), static_cast<int>(value.size()))) return true;
          if (!domain::IsOpenState(c.state())) return true;
          domain::Outcome delta;
          delta.kind = domain::OutcomeKind::kOpenCasesDelta;
          delta.severity = c.severity();
          delta.category = c.category();
          delta.delta = sign;
          probe_.Record(delta);
          return true;
        });
    if (!status.ok()) {
      runtime::LogWarning(
          absl::StrCat("cannot count the open cases of ", store.path(), ": ", status.message()));
    }
  }

  runtime::DomainProbe probe_;
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
