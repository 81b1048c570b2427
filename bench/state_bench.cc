// The RocksDB write of one commit (state/): what a task writes when its Kafka transaction
// commits, into a real store in a temporary directory.
//
// The batches are real: the engine runs the live-contact mix of engine_bench (15 events per
// contact, 50 concurrent contacts) with a complaint lodged every 50th event and every case so
// opened acknowledged in the next batch, over a TaskState on its own store, and the changes
// pending at each commit (contacts, cases, customers, timer puts and deletes; last value per
// key) are kept. 16 consecutive batches are prepared per size and written in turn.
//   BM_CommitWrite/events:N/sync:S: TaskStore::Write of one batch's mutations and the offsets
//     (one rocksdb::WriteBatch, DB::Write), the WAL fsynced when S is 1.
//   BM_CommitStageAndWrite/events:N/sync:0: the same batch staged through the StateStore
//     interface (Put*/Delete*: copies into the batch overlay of decoded records) and
//     TaskState::Commit (serialization, the write, the records moved into the cache).
// Time is per batch; items are records (mutations; the three meta keys are not counted).
//   BM_StoreGet/present:P: one TaskStore::Get of a contact from a store of 200,000 (P = 1) or of
//     a key it does not hold (P = 0).
//   BM_EngineBatch/events:N: the task's whole state path for a batch of N events of the mix
//     above (without complaints): per event the due timers fired as the runtime does on event
//     time (NextDue, DueTimers, Engine::OnTimer, DeleteTimer), Engine::OnEvent over the
//     TaskState (reads through the batch to RocksDB, writes into the batch), then the changelog
//     records collected (PendingMutations, ChangelogKey) and TaskState::Commit. Items are
//     events; fresh contacts every pass of the mix, the same 5,000 customers.
//   BM_SerializeTasks/threads:T: the serialization of one commit's changelog records over 12
//     tasks, each with the changes of 200 events of that mix (TaskState::PendingMutations of
//     each), on T threads: T = 1 as runtime::TaskManager::CollectChangelog runs it, T = 2 on a
//     WorkerPool of one helper and the caller, the tasks dealt out in turn (the option of
//     docs/performance.md's item 8, not adopted). The engine before and the commit after are
//     not timed. Time is per commit; items are records.

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/event_mix.h"
#include "bench/temp_dir.h"
#include "benchmark/benchmark.h"
#include "processor/domain/engine.h"
#include "processor/runtime/worker_pool.h"
#include "state/task_state.h"
#include "state/task_store.h"
#include "tests/support/event_builders.h"

namespace ccstream::bench {
namespace {

namespace tb = ::ccstream::testing;
using state::Family;
using state::Mutation;

constexpr int kBatches = 16;

// One change as the engine hands it to the store: a record to put, or a key to delete.
struct Op {
  Family family = Family::kContacts;
  bool put = false;
  std::string key;  // for deletes
  v1::ContactState contact;
  v1::ComplaintCase kase;
  v1::CustomerState customer;
  v1::Timer timer;  // puts and deletes
};

struct Batch {
  std::vector<Mutation> mutations;
  std::vector<Op> ops;
  int64_t bytes = 0;
};

struct Batches {
  std::vector<Batch> batches;
  // Per batch, on average.
  double records = 0;
  double bytes = 0;
  std::map<std::string, double> per_kind;
};

std::vector<Op> OpsOf(const std::vector<Mutation>& mutations) {
  std::vector<Op> ops;
  for (const Mutation& m : mutations) {
    Op op;
    op.family = m.family;
    op.put = m.value.has_value();
    op.key = m.key;
    bool parsed = true;
    switch (m.family) {
      case Family::kContacts:
        if (op.put) parsed = op.contact.ParseFromString(*m.value);
        break;
      case Family::kCases:
        if (op.put) parsed = op.kase.ParseFromString(*m.value);
        break;
      case Family::kCustomers:
        if (op.put) parsed = op.customer.ParseFromString(*m.value);
        break;
      case Family::kTimers:
        if (op.put) {
          parsed = op.timer.ParseFromString(*m.value);
        } else {
          op.timer.set_due_ms(state::TimerKeyDue(m.key));
          op.timer.set_timer_id(m.key.substr(8));
        }
        break;
      case Family::kMeta:
        std::abort();
    }
    if (!parsed) std::abort();
    ops.push_back(std::move(op));
  }
  return ops;
}

std::string KindName(const Mutation& m) {
  std::string name(state::FamilyName(m.family));
  return name + (m.value ? "_puts" : "_deletes");
}

// kBatches consecutive commits of `events` events each, from the engine over a real store.
Batches MakeBatches(int events) {
  const std::unique_ptr<domain::Engine> engine = MakeEngine();
  TempDir dir("ccstream-bench-gen");
  absl::StatusOr<std::unique_ptr<state::TaskStore>> opened = state::TaskStore::Open(dir.path());
  if (!opened.ok()) std::abort();
  state::TaskState task(std::shared_ptr<state::TaskStore>(std::move(*opened)));

  // Warm-up batches first, so that the kept ones see contacts, customers and cases that exist.
  constexpr int kWarmup = 4;
  const int total = events * (kBatches + kWarmup);
  const std::vector<v1::ContactEvent> mix = LiveMix(total / 15 + 50, 0);
  std::vector<std::string> to_acknowledge;
  Batches out;
  int64_t offset = 0;
  size_t next = 0;
  for (int b = 0; b < kBatches + kWarmup; ++b) {
    for (int i = 0; i < events; ++i) {
      const v1::ContactEvent& live = mix[next];
      v1::ContactEvent extra;
      if (i % 50 == 25) {
        // A complaint lodged (web form) by the customer of the next live event.
        tb::ContactRef ref;
        ref.contact_id = absl::StrCat("form-", next);
        ref.customer_id = live.customer_id();
        extra = tb::MakeComplaintLodged(ref, live.event_time_ms(), "billing");
      } else if (i % 50 == 40 && !to_acknowledge.empty()) {
        tb::ContactRef ref;
        ref.contact_id = "case-work";
        ref.customer_id = live.customer_id();
        extra = tb::MakeCaseAction(ref, live.event_time_ms(), v1::CaseAction::ACKNOWLEDGE,
                                   to_acknowledge.back(), "lead-1", "called back");
        to_acknowledge.pop_back();
      } else {
        ++next;
      }
      const v1::ContactEvent& event =
          extra.has_case_action() || extra.has_complaint_lodged() ? extra : live;
      if (!engine->OnEvent(event, event.event_time_ms(), task).ok()) std::abort();
    }
    std::vector<Mutation> mutations = task.PendingMutations();
    // Cases opened in this batch are acknowledged in the next.
    to_acknowledge.clear();
    for (const Mutation& m : mutations) {
      if (m.family != Family::kCases || !m.value) continue;
      absl::StatusOr<std::optional<std::string>> stored = task.store().Get(m.family, m.key);
      if (stored.ok() && !stored->has_value()) to_acknowledge.push_back(m.key);
    }
    offset += events;
    if (!task.Commit({offset, offset}).ok()) std::abort();
    if (b < kWarmup) continue;
    Batch batch;
    for (const Mutation& m : mutations) {
      batch.bytes += static_cast<int64_t>(m.key.size() + (m.value ? m.value->size() : 0));
      out.per_kind[KindName(m)] += 1.0 / kBatches;
    }
    out.records += static_cast<double>(mutations.size()) / kBatches;
    out.bytes += static_cast<double>(batch.bytes) / kBatches;
    batch.ops = OpsOf(mutations);
    batch.mutations = std::move(mutations);
    out.batches.push_back(std::move(batch));
  }
  return out;
}

// Prepared once per size and process (Google Benchmark runs a benchmark several times).
const Batches& BatchesOf(int events) {
  static std::map<int, std::unique_ptr<Batches>> cache;
  std::unique_ptr<Batches>& b = cache[events];
  if (b == nullptr) b = std::make_unique<Batches>(MakeBatches(events));
  return *b;
}

std::shared_ptr<state::TaskStore> OpenStore(const TempDir& dir, bool sync) {
  state::TaskStoreOptions options;
  options.sync_writes = sync;
  absl::StatusOr<std::unique_ptr<state::TaskStore>> store =
      state::TaskStore::Open(dir.path(), options);
  if (!store.ok()) std::abort();
  return std::shared_ptr<state::TaskStore>(std::move(*store));
}

void SetCounters(benchmark::State& state, const Batches& batches, int64_t records, int64_t bytes) {
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(bytes);
  state.counters["records_per_batch"] = batches.records;
  state.counters["bytes_per_batch"] = batches.bytes;
  for (const auto& [kind, count] : batches.per_kind) state.counters[kind] = count;
}

void BM_CommitWrite(benchmark::State& state) {
  const Batches& batches = BatchesOf(static_cast<int>(state.range(0)));
  TempDir dir("ccstream-bench-commit");
  const std::shared_ptr<state::TaskStore> store = OpenStore(dir, state.range(1) != 0);
  int64_t offset = 0;
  int64_t records = 0;
  int64_t bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    const Batch& batch = batches.batches[i];
    offset += state.range(0);
    if (absl::Status s = store->Write(batch.mutations, {offset, offset}); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
    records += static_cast<int64_t>(batch.mutations.size());
    bytes += batch.bytes;
    if (++i == batches.batches.size()) i = 0;
  }
  SetCounters(state, batches, records, bytes);
}
BENCHMARK(BM_CommitWrite)
    ->ArgNames({"events", "sync"})
    ->Args({100, 0})
    ->Args({500, 0})
    ->Args({1000, 0})
    ->Args({500, 1})
    ->Unit(benchmark::kMicrosecond);

// A store of one task as a live run leaves it: 200,000 contacts of ~400 bytes written in
// 500-record batches, so that the older ones are in table files and the newer in the memtable.
struct LoadedStore {
  TempDir dir{"ccstream-bench-get"};
  std::shared_ptr<state::TaskStore> store = OpenStore(dir, false);
  static constexpr int kKeys = 200'000;

  LoadedStore() {
    const std::string value(400, 'v');
    std::vector<Mutation> batch;
    for (int i = 0; i < kKeys; ++i) {
      batch.push_back({Family::kContacts, Key(i), value});
      if (batch.size() == 500 || i + 1 == kKeys) {
        if (!store->Write(batch, {i, i}).ok()) std::abort();
        batch.clear();
      }
    }
  }
  static std::string Key(int i) { return absl::StrCat("contact-", i * 7919 % 1'000'003); }
};

// BM_StoreGet/present:P: TaskStore::Get of one contact, P = 1 a key written (the older in table
// files, the newer in the memtable), P = 0 a key never written (a contact's first event).
void BM_StoreGet(benchmark::State& state) {
  static LoadedStore* loaded = new LoadedStore();
  const bool present = state.range(0) != 0;
  uint64_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    // Spread over the keys (a prime stride); an absent key sorts among the written ones.
    const int n = static_cast<int>(i++ * 104'729 % LoadedStore::kKeys);
    absl::StatusOr<std::optional<std::string>> value = loaded->store->Get(
        Family::kContacts, LoadedStore::Key(present ? n : LoadedStore::kKeys + n));
    if (!value.ok()) {
      state.SkipWithError(std::string(value.status().message()).c_str());
      break;
    }
    found += value->has_value() ? 1 : 0;
  }
  if (found != (present ? state.iterations() : 0)) state.SkipWithError("unexpected Get result");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreGet)->ArgNames({"present"})->Arg(1)->Arg(0)->Unit(benchmark::kNanosecond);

absl::Status Stage(const Op& op, state::TaskState& task) {
  switch (op.family) {
    case Family::kContacts:
      return op.put ? task.PutContact(op.contact) : task.DeleteContact(op.key);
    case Family::kCases:
      return op.put ? task.PutCase(op.kase) : task.DeleteCase(op.key);
    case Family::kCustomers:
      return op.put ? task.PutCustomer(op.customer) : task.DeleteCustomer(op.key);
    case Family::kTimers:
      return op.put ? task.PutTimer(op.timer) : task.DeleteTimer(op.timer);
    case Family::kMeta:
      break;
  }
  return absl::InternalError("meta op");
}

void BM_CommitStageAndWrite(benchmark::State& state) {
  const Batches& batches = BatchesOf(static_cast<int>(state.range(0)));
  TempDir dir("ccstream-bench-commit");
  state::TaskState task(OpenStore(dir, state.range(1) != 0));
  int64_t offset = 0;
  int64_t records = 0;
  int64_t bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    const Batch& batch = batches.batches[i];
    for (const Op& op : batch.ops) {
      if (absl::Status s = Stage(op, task); !s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        break;
      }
    }
    offset += state.range(0);
    if (absl::Status s = task.Commit({offset, offset}); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
    records += static_cast<int64_t>(batch.ops.size());
    bytes += batch.bytes;
    if (++i == batches.batches.size()) i = 0;
  }
  SetCounters(state, batches, records, bytes);
}
BENCHMARK(BM_CommitStageAndWrite)
    ->ArgNames({"events", "sync"})
    ->Args({500, 0})
    ->Args({1000, 0})
    ->Unit(benchmark::kMicrosecond);

// Fires the timers due at or before `until_ms` as TaskManager::FireDue does.
bool FireDue(const domain::Engine& engine, state::TaskState& task, int64_t until_ms) {
  absl::StatusOr<std::optional<int64_t>> next = task.NextDue();
  if (!next.ok()) return false;
  if (!next->has_value() || **next > until_ms) return true;
  for (int round = 0; round < 20; ++round) {
    absl::StatusOr<std::vector<v1::Timer>> due = task.DueTimers(until_ms, 1000);
    if (!due.ok()) return false;
    if (due->empty()) break;
    for (const v1::Timer& timer : *due) {
      if (!engine.OnTimer(timer, until_ms, task).ok()) return false;
      if (!task.DeleteTimer(timer).ok()) return false;
    }
  }
  return true;
}

void BM_EngineBatch(benchmark::State& state) {
  const std::unique_ptr<domain::Engine> engine = MakeEngine();
  TempDir dir("ccstream-bench-engine");
  state::TaskState task(OpenStore(dir, false));
  const int events = static_cast<int>(state.range(0));
  constexpr int kContactsPerPass = 2000;
  int pass = 0;
  std::vector<v1::ContactEvent> mix = LiveMix(kContactsPerPass, pass);
  size_t next = 0;
  int64_t offset = 0;
  int64_t processed = 0;
  int64_t changelog_bytes = 0;
  for (auto _ : state) {
    for (int i = 0; i < events; ++i) {
      if (next == mix.size()) {
        state.PauseTiming();
        mix = LiveMix(kContactsPerPass, ++pass);
        next = 0;
        state.ResumeTiming();
      }
      const v1::ContactEvent& event = mix[next++];
      if (!FireDue(*engine, task, event.event_time_ms() - 1) ||
          !engine->OnEvent(event, event.event_time_ms(), task).ok()) {
        state.SkipWithError("engine failed");
        return;
      }
    }
    for (const Mutation& m : task.PendingMutations()) {
      const std::string key = state::ChangelogKey(m.family, m.key);
      changelog_bytes += static_cast<int64_t>(key.size() + (m.value ? m.value->size() : 0));
    }
    offset += events;
    if (!task.Commit({offset, offset}).ok()) {
      state.SkipWithError("commit failed");
      return;
    }
    processed += events;
  }
  state.SetItemsProcessed(processed);
  benchmark::DoNotOptimize(changelog_bytes);
}
BENCHMARK(BM_EngineBatch)->ArgNames({"events"})->Arg(100)->Arg(500)->Unit(benchmark::kMicrosecond);

void BM_SerializeTasks(benchmark::State& state) {
  constexpr int kTasks = 12;
  constexpr int kEventsPerTask = 200;
  constexpr int kContactsPerPass = 2000;
  const int threads = static_cast<int>(state.range(0));
  const std::unique_ptr<domain::Engine> engine = MakeEngine();
  std::vector<std::unique_ptr<TempDir>> dirs;
  std::vector<std::unique_ptr<state::TaskState>> tasks;
  std::vector<std::vector<v1::ContactEvent>> mixes;
  std::vector<size_t> next(kTasks, 0);
  std::vector<int> pass(kTasks, 0);
  for (int t = 0; t < kTasks; ++t) {
    dirs.push_back(std::make_unique<TempDir>("ccstream-bench-serialize"));
    tasks.push_back(std::make_unique<state::TaskState>(OpenStore(*dirs.back(), false)));
    mixes.push_back(LiveMix(kContactsPerPass, t * 1000));
  }
  runtime::WorkerPool pool(threads - 1);
  int64_t offset = 0;
  int64_t records = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int t = 0; t < kTasks; ++t) {
      for (int i = 0; i < kEventsPerTask; ++i) {
        if (next[t] == mixes[t].size()) {
          mixes[t] = LiveMix(kContactsPerPass, t * 1000 + ++pass[t]);
          next[t] = 0;
        }
        const v1::ContactEvent& event = mixes[t][next[t]++];
        if (!FireDue(*engine, *tasks[t], event.event_time_ms() - 1) ||
            !engine->OnEvent(event, event.event_time_ms(), *tasks[t]).ok()) {
          state.SkipWithError("engine failed");
          return;
        }
      }
    }
    state.ResumeTiming();
    pool.Run(threads, [&](int part) {
      for (size_t t = static_cast<size_t>(part); t < tasks.size(); t += threads) {
        tasks[t]->PendingMutations();
      }
    });
    state.PauseTiming();
    offset += kEventsPerTask;
    for (const std::unique_ptr<state::TaskState>& task : tasks) {
      records += static_cast<int64_t>(task->PendingMutations().size());
      if (!task->Commit({offset, offset}).ok()) {
        state.SkipWithError("commit failed");
        return;
      }
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(records);
}
// A fixed number of commits: the untimed engine work of each (~20 ms) would otherwise run for
// minutes while the timed part reaches the minimum time.
BENCHMARK(BM_SerializeTasks)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->Iterations(150)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace ccstream::bench
