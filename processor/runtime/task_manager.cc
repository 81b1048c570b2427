#include "processor/runtime/task_manager.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <iterator>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "librdkafka/rdkafkacpp.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/log.h"

namespace ccstream::runtime {
namespace {

constexpr size_t kRestoreBatch = 10'000;
constexpr size_t kRestoreWritesInFlight = 2;
constexpr size_t kTimersPerRound = 1'000;
constexpr int kTimerRounds = 20;
// The restore's look-up of the group's committed input offsets (CommittedInputOffsets): how long
// one attempt may wait, how often it is asked, how often a failure is logged.
constexpr int kCommittedLookupAttemptMs = 2'000;
constexpr auto kCommittedLookupInterval = std::chrono::seconds(1);
constexpr auto kCommittedLookupWarningInterval = std::chrono::seconds(30);
// A run of fewer events is handled on the calling thread alone: waking a helper costs more
// than it saves.
constexpr size_t kMinParallelEvents = 16;

// Errors of a watermark query that a broker coming back clears by itself.
bool WatermarksMayComeLater(RdKafka::ErrorCode code) {
  switch (code) {
    case RdKafka::ERR__UNKNOWN_PARTITION:
    case RdKafka::ERR__TRANSPORT:
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__ALL_BROKERS_DOWN:
    case RdKafka::ERR_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_LEADER_FOR_PARTITION:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
    case RdKafka::ERR_BROKER_NOT_AVAILABLE:
      return true;
    default:
      return false;
  }
}

}  // namespace

// The tasks of one assignment while the restore thread works on them.
struct TaskManager::RestoreRun {
  std::map<int32_t, std::unique_ptr<state::TaskState>> tasks;  // open, not handed over
  // A task's batch of changelog records being written, at most one each. Declared after `tasks`
  // so that the writes end (a future of std::async waits as it goes) before the stores close.
  std::map<int32_t, std::future<absl::Status>> writes;
  std::set<int32_t> remaining;  // in restoring_ on behalf of this run
  // Tasks whose store was found past the group's committed input offset, and is being rebuilt.
  std::set<int32_t> past_committed;
  int64_t handed_over = 0;
  int64_t cancelled = 0;
};

TaskManager::TaskManager(const v1::ProcessorConfig& config,
                         std::shared_ptr<const domain::Engine> engine, OutcomeSink& sink)
    : config_(config), engine_(std::move(engine)), sink_(sink) {
  if (const int threads = static_cast<int>(config_.processing().threads()); threads > 1) {
    workers_ = std::make_unique<WorkerPool>(threads - 1);
  }
  restore_thread_ = std::thread([this] { RestoreLoop(); });
}

TaskManager::~TaskManager() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;  // cancels the restore in progress; the queued ones never start
    queue_.clear();
    cv_.notify_all();
  }
  restore_thread_.join();
}

state::TaskStoreOptions StoreOptions(const v1::StateConfig& config) {
  state::TaskStoreOptions options;
  options.block_cache_bytes = size_t{config.block_cache_mib()} << 20;
  options.write_buffers_total_bytes = size_t{config.write_buffers_mib()} << 20;
  return options;
}

std::string TaskManager::TaskPath(int32_t partition) const {
  return absl::StrCat(config_.state().dir(), "/", config_.kafka().group_id(), "/",
                      config_.kafka().input_topic(), "-", partition);
}

state::TaskState* TaskManager::task(int32_t partition) {
  state::TaskState* state = Active(partition);
  // Between batches the store holds what was committed (a failed write is reported by the
  // next commit).
  if (state != nullptr) (void)state->FinishWrites();
  return state;
}

state::TaskState* TaskManager::Active(int32_t partition) {
  auto it = tasks_.find(partition);
  return it == tasks_.end() ? nullptr : it->second.get();
}

void TaskManager::Collect(domain::Effects& effects, HandlerOutput& out, Collected& collected) {
  if (collected.outcomes.empty()) {
    collected.outcomes.swap(effects.outcomes);
  } else {
    for (domain::Outcome& outcome : effects.outcomes) {
      collected.outcomes.push_back(std::move(outcome));
    }
  }
  for (v1::Alert& alert : effects.alerts) out.alerts.push_back(std::move(alert));
}

void TaskManager::Deliver(Collected& collected) {
  for (const domain::Outcome& outcome : collected.outcomes) {
    if (outcome.kind == domain::OutcomeKind::kCaseOpened) ++cases_opened_;
  }
  sink_.RecordAll(collected.outcomes);
  collected.outcomes.clear();
  for (; collected.timers_fired > 0; --collected.timers_fired) sink_.TimerFired();
}

absl::Status TaskManager::Handle(state::TaskState& task, const v1::ContactEvent& event,
                                 int64_t now_ms, HandlerOutput& out, Collected& collected) {
  if (config_.processing().clock() == v1::ProcessingConfig::EVENT_TIME) {
    // Timers due before this event fire first, whatever the batch boundaries.
    if (absl::Status s = FireDue(task, event.event_time_ms() - 1, out, collected); !s.ok()) {
      return s;
    }
  }
  auto effects = engine_->OnEvent(event, now_ms, task);
  if (!effects.ok()) return effects.status();
  Collect(*effects, out, collected);
  return absl::OkStatus();
}

namespace {

absl::Status NoTask(int32_t partition) {
  return absl::FailedPreconditionError(
      absl::StrCat("event for partition ", partition, " which has no task"));
}

}  // namespace

absl::Status TaskManager::OnEvent(int32_t partition, const v1::ContactEvent& event, int64_t now_ms,
                                  HandlerOutput& out) {
  state::TaskState* state = Active(partition);
  if (state == nullptr) return NoTask(partition);
  Collected collected;
  absl::Status status = Handle(*state, event, now_ms, out, collected);
  if (status.ok()) Deliver(collected);
  return status;
}

absl::Status TaskManager::OnEvents(const std::vector<HandlerEvent>& events,
                                   std::vector<HandlerOutput>& outs) {
  const size_t n = events.size();
  const auto one_by_one = [&]() -> absl::Status {
    for (size_t i = 0; i < n; ++i) {
      const HandlerEvent& e = events[i];
      if (absl::Status s = OnEvent(e.partition, *e.event, e.now_ms, outs[i]); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  if (workers_ == nullptr || n < kMinParallelEvents) return one_by_one();
  // The parts: each partition's events go to one part, the partitions with the most events
  // first, each to the part with the fewest events so far.
  std::map<int32_t, std::vector<size_t>> by_partition;
  for (size_t i = 0; i < n; ++i) by_partition[events[i].partition].push_back(i);
  const int used = static_cast<int>(
      std::min<size_t>(by_partition.size(), static_cast<size_t>(workers_->size())));
  if (used <= 1) return one_by_one();
  std::vector<const std::vector<size_t>*> order;
  for (const auto& [partition, indices] : by_partition) order.push_back(&indices);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->size() > b->size(); });
  run_parts_.resize(static_cast<size_t>(used));
  for (std::vector<size_t>& part : run_parts_) part.clear();
  for (const std::vector<size_t>* indices : order) {
    auto smallest =
        std::min_element(run_parts_.begin(), run_parts_.end(),
                         [](const auto& a, const auto& b) { return a.size() < b.size(); });
    smallest->insert(smallest->end(), indices->begin(), indices->end());
  }
  if (run_collected_.size() < n) run_collected_.resize(n);
  run_errors_.assign(static_cast<size_t>(used), {n, absl::OkStatus()});
  workers_->Run(used, [&](int p) {
    for (const size_t i : run_parts_[static_cast<size_t>(p)]) {
      const HandlerEvent& e = events[i];
      state::TaskState* state = Active(e.partition);
      absl::Status s = state == nullptr
                           ? NoTask(e.partition)
                           : Handle(*state, *e.event, e.now_ms, outs[i], run_collected_[i]);
      if (!s.ok()) {
        run_errors_[static_cast<size_t>(p)] = {i, std::move(s)};
        return;  // the run fails: the rest of this part is not handled
      }
    }
  });
  const auto first_error =
      std::min_element(run_errors_.begin(), run_errors_.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
  if (first_error->first < n) {
    for (size_t i = 0; i < n; ++i) run_collected_[i] = Collected{};
    return first_error->second;
  }
  for (size_t i = 0; i < n; ++i) Deliver(run_collected_[i]);
  sink_.EventsInParallel(static_cast<int64_t>(n));
  return absl::OkStatus();
}

absl::Status TaskManager::OnTick(int32_t partition, int64_t now_ms, HandlerOutput& out) {
  state::TaskState* state = Active(partition);
  if (state == nullptr || now_ms <= 0) return absl::OkStatus();
  if (const auto now = std::chrono::steady_clock::now(); now >= next_timer_sample_) {
    int64_t pending = 0;
    int64_t from_cache = 0;
    int64_t from_store = 0;
    state::StoreMemory memory = state::SharedStoreMemory();
    for (const auto& [id, task] : tasks_) {
      pending += task->store().EstimateKeys(state::Family::kTimers);
      memory.table_readers += task->store().TableReadersBytes();
      auto& [cache_hits, store_reads] = reads_reported_[id];
      from_cache += task->cache_hits() - cache_hits;
      from_store += task->store_reads() - store_reads;
      cache_hits = task->cache_hits();
      store_reads = task->store_reads();
    }
    sink_.TimersPending(pending);
    sink_.StateReads(from_cache, from_store);
    sink_.StateMemory(memory);
    next_timer_sample_ = now + std::chrono::seconds(1);
  }
  // On event time, a timer due exactly at the latest event time waits for a later event, so
  // that the outcome does not depend on where a batch ends.
  const bool event_time = config_.processing().clock() == v1::ProcessingConfig::EVENT_TIME;
  Collected collected;
  absl::Status status = FireDue(*state, event_time ? now_ms - 1 : now_ms, out, collected);
  if (status.ok()) Deliver(collected);
  return status;
}

absl::Status TaskManager::FireDue(state::TaskState& task, int64_t due_until_ms, HandlerOutput& out,
                                  Collected& collected) {
  state::TaskState* state = &task;
  auto next = state->NextDue();
  if (!next.ok()) return next.status();
  if (!next->has_value() || **next > due_until_ms) return absl::OkStatus();
  for (int round = 0; round < kTimerRounds; ++round) {
    auto due = state->DueTimers(due_until_ms, kTimersPerRound);
    if (!due.ok()) return due.status();
    if (due->empty()) break;
    for (const v1::Timer& timer : *due) {
      auto effects = engine_->OnTimer(timer, due_until_ms, *state);
      if (!effects.ok()) return effects.status();
      ++collected.timers_fired;
      // The engine deletes the timers it handles; make sure a stale one cannot spin.
      if (absl::Status s = state->DeleteTimer(timer); !s.ok()) return s;
      Collect(*effects, out, collected);
    }
  }
  return absl::OkStatus();
}

absl::Status TaskManager::OnAssigned(const std::vector<int32_t>& partitions) {
  if (partitions.empty()) return absl::OkStatus();
  std::lock_guard lock(mu_);
  for (const int32_t partition : partitions) {
    if (tasks_.contains(partition) || restoring_.contains(partition) ||
        restored_.contains(partition)) {
      return absl::FailedPreconditionError(
          absl::StrCat("partition ", partition, " assigned twice"));
    }
  }
  restoring_.insert(partitions.begin(), partitions.end());
  queue_.push_back(partitions);
  cv_.notify_all();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int32_t>> TaskManager::TakeRestored(
    const std::vector<int32_t>& restoring) {
  (void)restoring;
  std::map<int32_t, Restored> ready;
  {
    std::lock_guard lock(mu_);
    if (!restore_error_.ok()) {
      // Reported once: the pipeline fails with it, and a later one may assign again.
      return std::exchange(restore_error_, absl::OkStatus());
    }
    ready.swap(restored_);
  }
  std::vector<int32_t> partitions;
  for (auto& [partition, restored] : ready) {
    if (restored.past_committed) sink_.StorePastCommittedOffset(partition);
    if (restored.records) sink_.Restored(partition, *restored.records, restored.seconds);
    tasks_[partition] = std::move(restored.task);
    unmarked_.insert(partition);
    partitions.push_back(partition);
  }
  return partitions;
}

void TaskManager::OnRevoked(const std::vector<int32_t>& partitions, bool lost) {
  std::vector<std::unique_ptr<state::TaskState>> closing;  // restored, not yet taken
  {
    std::unique_lock lock(mu_);
    std::vector<int32_t> wait_for;
    for (const int32_t partition : partitions) {
      if (auto it = restored_.find(partition); it != restored_.end()) {
        closing.push_back(std::move(it->second.task));
        restored_.erase(it);
        continue;
      }
      if (!restoring_.contains(partition)) continue;
      bool queued = false;
      for (std::vector<int32_t>& waiting : queue_) {
        if (std::erase(waiting, partition) > 0) queued = true;
      }
      if (queued) {
        restoring_.erase(partition);  // its store is not open yet
        continue;
      }
      cancelled_.insert(partition);
      wait_for.push_back(partition);
    }
    if (!wait_for.empty()) {
      LogInfo(absl::StrCat("cancelling the restore of ", wait_for.size(), " partition(s)"));
      cv_.notify_all();
      // The restore thread notices the cancel between two changelog records (or polls) and
      // closes the store; it does not finish the restore first.
      cv_.wait(lock, [&] {
        return std::none_of(wait_for.begin(), wait_for.end(),
                            [&](int32_t partition) { return restoring_.contains(partition); });
      });
    }
  }
  closing.clear();
  for (const int32_t partition : partitions) {
    auto it = tasks_.find(partition);
    if (it == tasks_.end()) continue;
    if (lost) {
      it->second->Discard();
    } else if (absl::Status s = it->second->FinishWrites(); !s.ok()) {
      // The next owner catches up from the changelog: the store's offsets are those it holds.
      LogWarning(absl::StrCat("partition ", partition, ": local write failed: ", s.message()));
    }
    tasks_.erase(it);  // closes the store; it stays on disk for a later assignment
    unmarked_.erase(partition);
    marking_.erase(partition);
    reads_reported_.erase(partition);  // a task taken again starts counting from zero
  }
}

absl::Status TaskManager::CollectChangelog(std::vector<ChangelogRecord>& out) {
  for (const int32_t partition : unmarked_) {
    if (!tasks_.contains(partition)) continue;
    out.push_back({partition, state::ChangelogFormatKey(), state::ChangelogFormatValue()});
    marking_.insert(partition);
  }
  unmarked_.clear();
  for (const auto& [partition, state] : tasks_) {
    // The values stay in the task's batch (serialized once, for this and for Commit).
    // Its timers stay local: a restore derives them from the records that hold them.
    for (const state::Mutation& m : state->PendingMutations()) {
      out.push_back({partition, state::ChangelogKey(m.family, m.key),
                     m.value ? std::optional<std::string_view>(*m.value) : std::nullopt,
                     /*local=*/m.family == state::Family::kTimers});
    }
  }
  return absl::OkStatus();
}

absl::Status TaskManager::OnSealed(const std::vector<int32_t>& partitions) {
  for (const auto& [partition, state] : tasks_) {
    if (!state->HasPendingChanges() &&
        std::find(partitions.begin(), partitions.end(), partition) == partitions.end()) {
      continue;
    }
    if (absl::Status s = state->Seal(); !s.ok()) return s;
  }
  sealed_ = true;
  return absl::OkStatus();
}

absl::Status TaskManager::OnCommitted(const std::map<int32_t, CommittedOffsets>& offsets) {
  const bool sealed = std::exchange(sealed_, false);
  marking_.clear();
  for (const auto& [partition, state] : tasks_) {
    const auto it = offsets.find(partition);
    // After OnSealed, the open batch's changes are not part of this commit.
    if (sealed ? !state->sealed() : !state->HasPendingChanges() && it == offsets.end()) continue;
    state::Offsets next = state->committed_offsets();
    if (it != offsets.end()) {
      if (it->second.input_next >= 0) next.input = it->second.input_next;
      if (it->second.changelog_next >= 0) next.changelog = it->second.changelog_next;
    }
    // Written on the writer's thread while the next batch goes on (see TaskState).
    if (absl::Status s = sealed ? state->Post(next) : state->StartCommit(next); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void TaskManager::OnAborted() {
  sealed_ = false;
  unmarked_.merge(marking_);
  for (const auto& [partition, state] : tasks_) state->Discard();
}

bool TaskManager::IsCancelled(int32_t partition) {
  std::lock_guard lock(mu_);
  return stopping_ || cancelled_.contains(partition);
}

void TaskManager::RestoreLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::vector<int32_t> partitions = std::move(queue_.front());
    queue_.pop_front();
    if (partitions.empty()) continue;  // all revoked while queued
    lock.unlock();
    RestoreRun run;
    run.remaining.insert(partitions.begin(), partitions.end());
    absl::Status status = Restore(run);
    run.writes.clear();  // the batches still being written (after an error) end first
    run.tasks.clear();   // closes the stores not handed over (error or stop)
    lock.lock();
    // The error matters only while some partition of the run is still wanted.
    const bool wanted =
        std::any_of(run.remaining.begin(), run.remaining.end(),
                    [&](int32_t partition) { return !cancelled_.contains(partition); });
    for (const int32_t partition : run.remaining) {
      restoring_.erase(partition);
      cancelled_.erase(partition);
    }
    if (!status.ok() && wanted && !stopping_ && restore_error_.ok()) {
      restore_error_ = std::move(status);
    }
    cv_.notify_all();
  }
}

std::vector<int32_t> TaskManager::DropCancelled(RestoreRun& run) {
  std::vector<int32_t> dropped;
  {
    std::lock_guard lock(mu_);
    for (const int32_t partition : run.remaining) {
      if (stopping_ || cancelled_.contains(partition)) dropped.push_back(partition);
    }
  }
  if (dropped.empty()) return dropped;
  for (const int32_t partition : dropped) {
    // Its batch being written ends first; what it failed of is read again when next assigned.
    if (auto w = run.writes.find(partition); w != run.writes.end()) {
      w->second.wait();
      run.writes.erase(w);
    }
    run.tasks.erase(partition);  // closes the store
    run.remaining.erase(partition);
  }
  run.cancelled += static_cast<int64_t>(dropped.size());
  std::lock_guard lock(mu_);
  for (const int32_t partition : dropped) {
    restoring_.erase(partition);
    cancelled_.erase(partition);
  }
  cv_.notify_all();
  LogInfo(absl::StrCat("restore of ", dropped.size(), " partition(s) cancelled"));
  return dropped;
}

void TaskManager::HandOver(RestoreRun& run, int32_t partition, std::optional<int64_t> records,
                           double seconds) {
  auto it = run.tasks.find(partition);
  Restored restored{std::move(it->second), records, seconds,
                    run.past_committed.contains(partition)};
  run.tasks.erase(it);
  run.remaining.erase(partition);
  std::unique_lock lock(mu_);
  if (stopping_ || cancelled_.contains(partition)) {
    lock.unlock();
    restored.task.reset();  // closes the store before OnRevoked may return
    lock.lock();
    ++run.cancelled;
  } else {
    restored_[partition] = std::move(restored);
    ++run.handed_over;
  }
  restoring_.erase(partition);
  cancelled_.erase(partition);
  cv_.notify_all();
}

std::map<int32_t, int64_t> TaskManager::CommittedInputOffsets(const RestoreRun& run) {
  std::map<int32_t, int64_t> out;
  if (run.tasks.empty()) return out;
  // Asked as the group's consumer would (read_committed asks for stable offsets: an offset in a
  // transaction still completing is waited for), without joining the group.
  kafka::Properties lookup = kafka::ReaderProperties(config_.kafka());
  lookup["group.id"] = config_.kafka().group_id();
  lookup["isolation.level"] = "read_committed";
  lookup["enable.auto.commit"] = "false";
  auto conf = kafka::MakeConf(lookup);
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  if (conf.ok()) consumer.reset(RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!consumer) {
    LogWarning(absl::StrCat("restore: the group's committed offsets: ",
                            conf.ok() ? error : conf.status().message(), "; not compared"));
    return out;
  }
  // After a failover the transaction of the instance that died holds the offsets unstable until
  // the broker aborts it, and a commit Kafka lost is found only by comparing with them: asked
  // again until Kafka answers for every partition still wanted (the pipeline waits for the same
  // offsets before it starts them, so this costs no start time), in short attempts so that a
  // revoke or a stop is not kept waiting.
  std::set<int32_t> asking;
  for (const auto& [partition, task] : run.tasks) asking.insert(partition);
  const auto first_ask = std::chrono::steady_clock::now();
  auto next_warning = first_ask;
  for (;;) {
    std::erase_if(asking, [this](int32_t partition) { return IsCancelled(partition); });
    if (asking.empty()) break;
    const auto attempt = std::chrono::steady_clock::now();
    std::vector<RdKafka::TopicPartition*> partitions;
    for (const int32_t partition : asking) {
      partitions.push_back(
          RdKafka::TopicPartition::create(config_.kafka().input_topic(), partition));
    }
    const RdKafka::ErrorCode code = consumer->committed(partitions, kCommittedLookupAttemptMs);
    RdKafka::ErrorCode failed = code;
    for (const RdKafka::TopicPartition* tp : partitions) {
      if (code != RdKafka::ERR_NO_ERROR) break;
      if (tp->err() == RdKafka::ERR_NO_ERROR) {
        out[tp->partition()] = tp->offset();  // negative: none committed
        asking.erase(tp->partition());
      } else {
        failed = tp->err();
      }
    }
    RdKafka::TopicPartition::destroy(partitions);
    if (asking.empty()) break;
    committed_lookup_failures_.fetch_add(1);
    if (const auto now = std::chrono::steady_clock::now(); now >= next_warning) {
      LogWarning(absl::StrCat(
          "restore: the group's committed offsets of ", asking.size(),
          " partition(s): ", RdKafka::err2str(failed), " (asking for ",
          std::chrono::duration_cast<std::chrono::seconds>(now - first_ask).count(),
          " s; a transaction still open holds them, or the broker is away); asking again"));
      next_warning = now + kCommittedLookupWarningInterval;
    }
    // At most one attempt a second; a revoke or a stop ends the wait.
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, attempt + kCommittedLookupInterval, [&] {
      return stopping_ || std::all_of(asking.begin(), asking.end(), [&](int32_t partition) {
               return cancelled_.contains(partition);
             });
    });
  }
  consumer->close();
  return out;
}

absl::Status TaskManager::Restore(RestoreRun& run) {
  const auto started = std::chrono::steady_clock::now();
  auto since_start = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  std::vector<int32_t> partitions;
  for (const int32_t partition : run.remaining) {
    if (!IsCancelled(partition)) partitions.push_back(partition);  // the others: dropped below
  }
  // The stores open on a few threads: after a crash each replays its write-ahead log into its
  // memtables, and one after another twelve of them took 1.7 s at 1,000,000 keys.
  std::vector<absl::StatusOr<std::unique_ptr<state::TaskStore>>> opened(partitions.size());
  {
    std::atomic<size_t> next{0};
    auto open = [&] {
      for (size_t i; (i = next++) < partitions.size();) {
        opened[i] = state::TaskStore::Open(TaskPath(partitions[i]), StoreOptions(config_.state()));
      }
    };
    const size_t threads = std::min<size_t>(
        partitions.size(), std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
    std::vector<std::thread> helpers;
    for (size_t t = 1; t < threads; ++t) helpers.emplace_back(open);
    open();
    for (std::thread& helper : helpers) helper.join();
  }
  for (size_t i = 0; i < partitions.size(); ++i) {
    if (!opened[i].ok()) return opened[i].status();  // the stores opened close with `opened`
    run.tasks[partitions[i]] =
        std::make_unique<state::TaskState>(std::move(*opened[i]), state::TaskStateOptions{
                                                                      .writer = &writer_,
                                                                  });
  }
  DropCancelled(run);
  if (run.remaining.empty()) return absl::OkStatus();

  const std::string& topic = config_.kafka().changelog_topic();
  kafka::Properties properties = kafka::ReaderProperties(config_.kafka());
  properties["group.id"] = absl::StrCat(config_.kafka().group_id(), "-restore");
  properties["enable.auto.commit"] = "false";
  properties["isolation.level"] = "read_committed";
  properties["enable.partition.eof"] = "true";
  properties["auto.offset.reset"] = "earliest";
  kafka::BoundPrefetch(properties, kafka::kRestorePrefetch);
  auto conf = kafka::MakeConf(properties);
  if (!conf.ok()) return conf.status();
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!consumer) return absl::InternalError(absl::StrCat("restore consumer: ", error));
  // The changelog's end as written (the high watermark): the restore consumer, read_committed,
  // would be told where the first open transaction starts instead.
  kafka::Properties uncommitted = kafka::ReaderProperties(config_.kafka());
  uncommitted["isolation.level"] = "read_uncommitted";
  auto watermarks_conf = kafka::MakeConf(uncommitted);
  if (!watermarks_conf.ok()) return watermarks_conf.status();
  std::unique_ptr<RdKafka::Consumer> watermarks(
      RdKafka::Consumer::create(watermarks_conf->get(), error));
  if (!watermarks) return absl::InternalError(absl::StrCat("restore watermarks: ", error));

  // Which tasks have changelog records past their stored offset.
  struct Progress {
    state::TaskState* task;
    int64_t next;
    int64_t end;  // the changelog's end (high watermark) when the restore began
    int64_t applied = 0;
    std::vector<state::Mutation> batch;
    bool waiting = false;  // at an open transaction's start, below `end`
  };
  std::map<int32_t, Progress> pending;
  std::vector<int32_t> up_to_date;
  std::vector<RdKafka::TopicPartition*> assignment;
  const std::map<int32_t, int64_t> committed = CommittedInputOffsets(run);
  for (const auto& [partition, task] : run.tasks) {
    const int64_t from = std::max<int64_t>(task->store().offsets().changelog, 0);
    // A store past the group's committed input offset holds a batch that Kafka does not: a
    // commit that Kafka lost (its transaction reported committed, its markers skipped while the
    // partitions had no leader), or offsets reset by hand. Kafka's changelog is the state that
    // goes with the committed offset.
    const auto group_at = committed.find(partition);
    const bool ahead = group_at != committed.end() && group_at->second >= 0 &&
                       task->store().offsets().input > group_at->second;
    int64_t low = 0, high = 0;
    RdKafka::ErrorCode code = RdKafka::ERR_NO_ERROR;
    // A broker that has just come back (after an outage or a hang) may not know the partition's
    // leader yet for a moment: a restore then waits for it, up to ~30 s, rather than fail.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool waiting = false;
    for (;;) {
      code = watermarks->query_watermark_offsets(topic, partition, &low, &high, 10'000);
      if (code == RdKafka::ERR_NO_ERROR || !WatermarksMayComeLater(code) ||
          IsCancelled(partition) || std::chrono::steady_clock::now() >= give_up) {
        break;
      }
      if (!std::exchange(waiting, true)) {
        LogWarning(absl::StrCat("changelog ", topic, "[", partition, "]: ", RdKafka::err2str(code),
                                "; waiting for the broker"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      // The client answers from the partitions it last heard of (none, when it asked while the
      // broker was fenced and the partitions had no leader) until it asks again.
      RdKafka::Metadata* metadata = nullptr;
      if (watermarks->metadata(/*all_topics=*/true, nullptr, &metadata, 5'000) ==
          RdKafka::ERR_NO_ERROR) {
        delete metadata;
      }
    }
    if (code != RdKafka::ERR_NO_ERROR && IsCancelled(partition)) continue;  // dropped below
    if (code != RdKafka::ERR_NO_ERROR) {
      RdKafka::TopicPartition::destroy(assignment);
      return absl::UnavailableError(
          absl::StrCat("changelog ", topic, "[", partition, "]: ", RdKafka::err2str(code)));
    }
    int64_t start = from;
    if (from > high || ahead) {
      // The changelog is shorter than what this store has seen (the topic was recreated or
      // belongs to another cluster), or the store is ahead of the committed input. The local
      // copy cannot be trusted; rebuild it.
      LogWarning(ahead ? absl::StrCat("task ", partition, ": the store's input offset ",
                                      task->store().offsets().input,
                                      " is past the group's committed offset ", group_at->second,
                                      "; rebuilding the store from the changelog")
                       : absl::StrCat("task ", partition, ": stored changelog offset ", from,
                                      " is past the end of ", topic, " (", high,
                                      "); rebuilding the store from the changelog"));
      if (ahead) run.past_committed.insert(partition);
      if (absl::Status s = task->store().Clear(); !s.ok()) {
        RdKafka::TopicPartition::destroy(assignment);
        return s;
      }
      if (absl::Status s = task->store().Write({}, {-1, -1}); !s.ok()) {
        RdKafka::TopicPartition::destroy(assignment);
        return s;
      }
      start = 0;
    }
    if (start >= high) {
      up_to_date.push_back(partition);
      continue;
    }
    pending.emplace(partition,
                    Progress{task.get(), task->store().offsets().changelog, high, 0, {}, false});
    assignment.push_back(RdKafka::TopicPartition::create(topic, partition, start));
  }
  // The tasks already up to date are ready at once.
  for (const int32_t partition : up_to_date) HandOver(run, partition, std::nullopt, since_start());
  absl::Status status = absl::OkStatus();
  if (!assignment.empty()) {
    if (RdKafka::ErrorCode code = consumer->assign(assignment); code != RdKafka::ERR_NO_ERROR) {
      status = absl::InternalError(absl::StrCat("restore assign: ", RdKafka::err2str(code)));
    }
  }
  RdKafka::TopicPartition::destroy(assignment);
  kafka::QueueRefill refill(*consumer, properties);

  auto call_hook = [&](int32_t partition, int64_t applied) {
    if (!restore_hook_) return;
    restore_hook_(partition, applied, [this, partition] { return IsCancelled(partition); });
  };
  for (const auto& [partition, p] : pending) {
    if (status.ok()) call_hook(partition, 0);
  }
  // A task's batch is written on a thread of its own while the restore reads on: the next batch
  // of that task waits for it (it reads what that one wrote), the other tasks' batches do not.
  auto settle = [&run](int32_t partition) -> absl::Status {
    auto w = run.writes.find(partition);
    if (w == run.writes.end()) return absl::OkStatus();
    absl::Status s = w->second.get();
    run.writes.erase(w);
    return s;
  };
  auto flush = [&topic, &run, &settle](int32_t partition, Progress& p) -> absl::Status {
    if (p.batch.empty()) return absl::OkStatus();
    if (absl::Status s = settle(partition); !s.ok()) return s;
    // Only each record's last value in the batch is written: the batch is one atomic write, in
    // which its earlier values would be overwritten unseen (about three in ten of the records of
    // a restore's batches of 10,000).
    absl::flat_hash_map<std::pair<state::Family, std::string_view>, size_t> last;
    last.reserve(p.batch.size());
    for (size_t i = 0; i < p.batch.size(); ++i) {
      last.insert_or_assign({p.batch[i].family, p.batch[i].key}, i);
    }
    // In key order, the quickest for the stored values' reads and the memtables' inserts.
    std::vector<size_t> kept;
    kept.reserve(last.size());
    for (const auto& [record, i] : last) kept.push_back(i);
    std::sort(kept.begin(), kept.end(), [&p](size_t a, size_t b) {
      return std::tie(p.batch[a].family, p.batch[a].key) <
             std::tie(p.batch[b].family, p.batch[b].key);
    });
    // The timers family follows the records: for each record the batch changes, the timers of
    // its last value in the batch against those of its value before it, as stored (read a
    // family at a time, in one MultiGet).
    std::vector<state::Mutation> timers;
    std::vector<std::string_view> keys;
    std::vector<std::optional<std::string>> stored;
    for (size_t from = 0, to = 0; from < kept.size(); from = to) {
      const state::Family family = p.batch[kept[from]].family;
      keys.clear();
      for (to = from; to < kept.size() && p.batch[kept[to]].family == family; ++to) {
        keys.push_back(p.batch[kept[to]].key);
      }
      if (absl::Status s = p.task->store().MultiGet(family, keys, &stored); !s.ok()) return s;
      for (size_t j = from; j < to; ++j) {
        if (absl::Status s =
                state::DeriveTimerChanges(family, stored[j - from], p.batch[kept[j]].value, timers);
            !s.ok()) {
          return absl::DataLossError(absl::StrCat("changelog ", topic, "[", partition,
                                                  "] before offset ", p.next, ": ", s.message()));
        }
      }
    }
    std::stable_sort(
        timers.begin(), timers.end(),
        [](const state::Mutation& a, const state::Mutation& b) { return a.key < b.key; });
    std::vector<state::Mutation> writes;
    writes.reserve(kept.size() + timers.size());
    for (const size_t i : kept) writes.push_back(std::move(p.batch[i]));
    // The timers family sorts after the records' families.
    std::move(timers.begin(), timers.end(), std::back_inserter(writes));
    p.batch.clear();
    state::Offsets offsets = p.task->store().offsets();
    offsets.changelog = p.next;
    // At most two batches are written at once (two cores' worth; each holds up to 10,000
    // records): past that, one that has finished, or else any, is waited for.
    while (run.writes.size() >= kRestoreWritesInFlight) {
      auto done = std::find_if(run.writes.begin(), run.writes.end(), [](auto& w) {
        return w.second.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
      });
      if (absl::Status s =
              settle(done != run.writes.end() ? done->first : run.writes.begin()->first);
          !s.ok()) {
        return s;
      }
    }
    // On a thread of its own; where none can be started, deferred: written when waited for.
    run.writes[partition] = std::async(std::launch::async | std::launch::deferred,
                                       [&store = p.task->store(), writes = std::move(writes),
                                        offsets] { return store.Write(writes, offsets); });
    return absl::OkStatus();
  };
  int64_t total = 0;
  while (status.ok() && !pending.empty()) {
    // A revoked partition stops here: its store closes, the others go on.
    for (const int32_t partition : DropCancelled(run)) pending.erase(partition);
    if (pending.empty()) break;
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
    auto it = pending.find(m->partition());
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      if (it != pending.end() && m->offset() < it->second.end) {
        // read_committed ends at the first open transaction. One that was open when the restore
        // began may yet commit, with input offsets that the consumer will then start after (it
        // fetches them stable): its records are waited for, not left out of the store. (The
        // previous owner's last transaction, e.g. committing as the partition moved.)
        if (!std::exchange(it->second.waiting, true)) {
          LogInfo(absl::StrCat("changelog ", topic, "[", it->first,
                               "]: a transaction is open at offset ", m->offset(),
                               "; the restore waits for it"));
        }
        continue;
      }
      if (it != pending.end()) {
        status = flush(it->first, it->second);
        if (status.ok()) status = settle(it->first);
        if (!status.ok()) break;
        HandOver(run, it->first, it->second.applied, since_start());
        pending.erase(it);
      }
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      status = absl::UnavailableError(absl::StrCat("restore ", topic, ": ", m->errstr()));
      break;
    }
    refill.Taken(m->len() + m->key_len());
    if (it == pending.end()) continue;  // cancelled meanwhile
    // An error of this record, with where it is.
    auto at_record = [&](const absl::Status& s) {
      return absl::Status(s.code(), absl::StrCat("changelog ", topic, "[", m->partition(),
                                                 "] at offset ", m->offset(), ": ", s.message()));
    };
    auto key = state::ParseChangelogKey(m->key() ? *m->key() : std::string());
    if (!key.ok()) {
      status = at_record(key.status());
      break;
    }
    Progress& p = it->second;
    p.next = m->offset() + 1;
    if (state::IsChangelogFormatMarker(key->first, key->second)) {
      // A changelog of a later format than this build reads is refused, not misread.
      status = state::CheckChangelogFormat(
          m->payload() != nullptr ? std::optional<std::string_view>(std::string_view(
                                        static_cast<const char*>(m->payload()), m->len()))
                                  : std::nullopt);
      if (!status.ok()) {
        status = at_record(status);
        break;
      }
      continue;
    }
    // Timers are derived from the records that hold them as the batch is written (flush); those
    // of a changelog written before it stopped carrying them are left out likewise.
    if (key->first == state::Family::kTimers) continue;
    std::optional<std::string> value;
    if (m->payload() != nullptr) value.emplace(static_cast<const char*>(m->payload()), m->len());
    p.batch.push_back({key->first, std::move(key->second), std::move(value)});
    ++p.applied;
    ++total;
    if (p.batch.size() >= kRestoreBatch) {
      status = flush(it->first, p);
      if (status.ok()) call_hook(it->first, p.applied);
    }
  }
  consumer->close();
  if (!status.ok()) return status;
  LogInfo(absl::StrCat("restored ", run.handed_over, " task(s): ", total, " changelog records in ",
                       static_cast<int64_t>(since_start() * 1000), " ms",
                       run.cancelled > 0 ? absl::StrCat(" (", run.cancelled, " cancelled)") : ""));
  return absl::OkStatus();
}

}  // namespace ccstream::runtime
