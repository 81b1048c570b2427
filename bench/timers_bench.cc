// The timer index at scale: ccstream keeps a task's pending timers in the `timers` column
// family of its RocksDB store, keyed by (due time, timer id), and reads them back through
// state::TaskState (NextDue before every tick, DueTimers to pop what is due). These benchmarks
// fill a real store in a temporary directory with N pending timers (once per process and size,
// outside the timed region) and measure, at that size:
//   BM_TimerPutCommit: TaskState::PutTimer of one new timer and the commit.
//   BM_TimerDeleteCommit: TaskState::DeleteTimer of one pending timer and the commit.
//   BM_TimerNextDue: TaskState::NextDue with its cache dropped (a seek to the earliest key).
//   BM_TimerPopDue: one round of the runtime's timer loop with a backlog: DueTimers(now, 100),
//     then each timer deleted and rescheduled 30 days later (a recurring milestone), and the
//     commit. Items are timers popped. Each round leaves 100 tombstones at the front of the
//     index, which the next DueTimers scans again: the time per round grows with the pops made
//     since the fixture was opened (popped_before, at the start of the last run).
//   BM_TimerNextDueAfterPops: NextDue once 50,000 timers have been popped from the front
//     (their tombstones are still in the memtable: what a busy task sees between flushes).
// Timers look like the engine's: case milestones, contact and customer expiries, due over 30
// days. The store is filled once per size (in batches of 10,000 timers) and closed; every
// fixture opens a copy of its files. Counters: fill_s (time to fill), rss_growth_MiB (resident
// set with the filled store open minus before), peak_rss_growth_MiB (getrusage), db_MiB (files
// on disk after the fill), popped_before (timers popped from the fixture before the run).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/event_mix.h"
#include "bench/temp_dir.h"
#include "benchmark/benchmark.h"
#include "case.pb.h"
#include "state/task_state.h"
#include "state/task_store.h"

namespace ccstream::bench {
namespace {

constexpr int64_t kDayMs = 86400000;
constexpr int64_t kSpanMs = 30 * kDayMs;

uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The i-th of `size` timers: deterministic, due within 30 days of kT0Ms, in the order of i
// (spread evenly with a jitter, so that the fill writes keys in order, as a compacted store
// holds them).
v1::Timer MakeTimer(int64_t i, int64_t size) {
  static const char* const kMilestones[] = {"acknowledge", "keep_informed", "resolve", "follow_up"};
  v1::Timer timer;
  const int64_t step = std::max<int64_t>(1, kSpanMs / size);
  const int64_t due =
      kT0Ms + i * kSpanMs / size + static_cast<int64_t>(Mix64(static_cast<uint64_t>(i)) % step);
  timer.set_due_ms(due);
  switch (i % 4) {
    case 0:
    case 1: {
      const std::string case_id = absl::StrCat("case-", i / 4);
      const char* milestone = kMilestones[(i / 4) % 4];
      timer.set_timer_id(absl::StrCat("case/", case_id, "/", milestone, "/", due));
      timer.set_case_id(case_id);
      timer.set_milestone(milestone);
      timer.set_kind(v1::CASE_MILESTONE);
      break;
    }
    case 2: {
      const std::string contact_id = absl::StrCat("contact-", i);
      timer.set_timer_id(absl::StrCat("contact/", contact_id, "/expiry/", due));
      timer.set_contact_id(contact_id);
      timer.set_kind(v1::CONTACT_EXPIRY);
      break;
    }
    default: {
      // A pseudonymised customer key is 64 hex digits.
      const std::string key = absl::StrCat(
          absl::Hex(Mix64(i), absl::kZeroPad16), absl::Hex(Mix64(i + 1), absl::kZeroPad16),
          absl::Hex(Mix64(i + 2), absl::kZeroPad16), absl::Hex(Mix64(i + 3), absl::kZeroPad16));
      timer.set_timer_id(absl::StrCat("customer/", key, "/expiry/", due));
      timer.set_customer_key(key);
      timer.set_kind(v1::CUSTOMER_EXPIRY);
      break;
    }
  }
  return timer;
}

// A closed store holding `size` pending timers (written in batches of 10,000, as commits would
// write them), and what filling it cost. Filled once per size and process; each fixture works
// on a copy of its files.
struct Filled {
  explicit Filled(int64_t size) : dir("ccstream-bench-timers-fill") {
    const int64_t rss_before = CurrentRssBytes();
    const int64_t peak_before = PeakRssBytes();
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::unique_ptr<state::TaskStore>> store = state::TaskStore::Open(dir.path());
    if (!store.ok()) std::abort();
    constexpr int64_t kPerBatch = 10000;
    std::vector<state::Mutation> batch;
    int64_t offset = 0;
    for (int64_t i = 0; i < size; ++i) {
      const v1::Timer timer = MakeTimer(i, size);
      batch.push_back({state::Family::kTimers, state::TimerKey(timer.due_ms(), timer.timer_id()),
                       timer.SerializeAsString()});
      if (static_cast<int64_t>(batch.size()) == kPerBatch || i + 1 == size) {
        ++offset;
        if (!(*store)->Write(batch, {offset, offset}).ok()) std::abort();
        batch.clear();
      }
    }
    fill_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // While the store is open, as a task holds it.
    rss_growth = CurrentRssBytes() - rss_before;
    peak_rss_growth = PeakRssBytes() - peak_before;
    store->reset();
    db_bytes = dir.DiskBytes();
  }

  TempDir dir;
  double fill_s = 0;
  int64_t rss_growth = 0;
  int64_t peak_rss_growth = 0;
  int64_t db_bytes = 0;
};

// A store with `size` pending timers, open through a TaskState.
struct Fixture {
  Fixture(int64_t size, const Filled& filled)
      : size(size), filled(filled), dir("ccstream-bench-timers") {
    std::error_code ec;
    std::filesystem::copy(filled.dir.path(), dir.path(), std::filesystem::copy_options::recursive,
                          ec);
    if (ec) std::abort();
    absl::StatusOr<std::unique_ptr<state::TaskStore>> opened = state::TaskStore::Open(dir.path());
    if (!opened.ok()) std::abort();
    offset = (*opened)->offsets().input;
    task =
        std::make_unique<state::TaskState>(std::shared_ptr<state::TaskStore>(std::move(*opened)));
    if (!task->NextDue().ok()) std::abort();
  }

  void Commit() {
    ++offset;
    if (!task->Commit({offset, offset}).ok()) std::abort();
  }

  void SetCounters(benchmark::State& state) const {
    state.counters["fill_s"] = filled.fill_s;
    state.counters["rss_growth_MiB"] = static_cast<double>(filled.rss_growth) / (1 << 20);
    state.counters["peak_rss_growth_MiB"] = static_cast<double>(filled.peak_rss_growth) / (1 << 20);
    state.counters["db_MiB"] = static_cast<double>(filled.db_bytes) / (1 << 20);
  }

  const int64_t size;
  const Filled& filled;
  TempDir dir;
  std::unique_ptr<state::TaskState> task;
  int64_t offset = 0;
  // The next index the delete benchmark deletes; timers popped (and rescheduled) so far.
  int64_t next_delete = 0;
  int64_t popped = 0;
};

// The filled stores, per size, and the fixture of the benchmark running. Released by main()
// before the process exits: a store must close while RocksDB's own statics are still alive.
std::map<int64_t, std::unique_ptr<Filled>>& FilledStores() {
  static auto* filled = new std::map<int64_t, std::unique_ptr<Filled>>();
  return *filled;
}
struct Current {
  std::pair<int64_t, std::string> key;
  std::unique_ptr<Fixture> fixture;
};
Current& CurrentFixture() {
  static auto* current = new Current();
  return *current;
}
void ReleaseFixtures() {
  CurrentFixture().fixture.reset();
  FilledStores().clear();
}

// The fixture of one benchmark at one size: a fresh copy of the filled store, kept while that
// benchmark runs (Google Benchmark runs it several times in a row), so that no benchmark sees
// the tombstones another one left. Only one is open at a time.
Fixture& FixtureOf(int64_t size, const std::string& benchmark) {
  std::unique_ptr<Filled>& fill = FilledStores()[size];
  if (fill == nullptr) fill = std::make_unique<Filled>(size);
  Current& current = CurrentFixture();
  if (current.fixture == nullptr || current.key != std::pair(size, benchmark)) {
    current.fixture.reset();
    current.fixture = std::make_unique<Fixture>(size, *fill);
    current.key = {size, benchmark};
  }
  return *current.fixture;
}

void BM_TimerPutCommit(benchmark::State& state) {
  Fixture& f = FixtureOf(state.range(0), "put");
  static int64_t serial = 0;
  std::mt19937_64 rng(42);
  std::vector<v1::Timer> added;
  for (auto _ : state) {
    v1::Timer timer = MakeTimer(state.range(0) + serial++, state.range(0));
    timer.set_due_ms(kT0Ms + static_cast<int64_t>(rng() % kSpanMs));
    timer.set_timer_id(absl::StrCat(timer.timer_id(), "/put"));
    if (!f.task->PutTimer(timer).ok()) std::abort();
    f.Commit();
    added.push_back(std::move(timer));
  }
  // Back to `size` pending timers, outside the timed region.
  for (const v1::Timer& timer : added) (void)f.task->DeleteTimer(timer);
  f.Commit();
  state.SetItemsProcessed(state.iterations());
  f.SetCounters(state);
}

void BM_TimerDeleteCommit(benchmark::State& state) {
  Fixture& f = FixtureOf(state.range(0), "delete");
  std::vector<int64_t> deleted;
  for (auto _ : state) {
    // A pseudo-random pending timer (a stride coprime with the size visits each once).
    const int64_t i = (f.next_delete++ * 7919) % f.size;
    const v1::Timer timer = MakeTimer(i, f.size);
    if (!f.task->DeleteTimer(timer).ok()) std::abort();
    f.Commit();
    deleted.push_back(i);
  }
  for (const int64_t i : deleted) (void)f.task->PutTimer(MakeTimer(i, f.size));
  f.Commit();
  state.SetItemsProcessed(state.iterations());
  f.SetCounters(state);
}

void BM_TimerNextDue(benchmark::State& state) {
  Fixture& f = FixtureOf(state.range(0), "next_due");
  for (auto _ : state) {
    f.task->Discard();  // drops the cached answer; nothing is pending
    absl::StatusOr<std::optional<int64_t>> next = f.task->NextDue();
    if (!next.ok() || !next->has_value()) std::abort();
    benchmark::DoNotOptimize(next);
  }
  state.SetItemsProcessed(state.iterations());
  f.SetCounters(state);
}

// Pops `limit` due timers (rescheduling each 30 days later) and commits; the number popped.
int64_t PopRound(Fixture& f, size_t limit) {
  // Everything is due, rescheduled timers included (a backlog that never runs out).
  const int64_t now_ms = kT0Ms + 1000 * kSpanMs;
  absl::StatusOr<std::vector<v1::Timer>> due = f.task->DueTimers(now_ms, limit);
  if (!due.ok()) std::abort();
  for (v1::Timer& timer : *due) {
    if (!f.task->DeleteTimer(timer).ok()) std::abort();
    timer.set_due_ms(timer.due_ms() + kSpanMs);
    timer.set_timer_id(absl::StrCat(timer.timer_id(), "+"));
    if (!f.task->PutTimer(timer).ok()) std::abort();
  }
  f.Commit();
  f.popped += static_cast<int64_t>(due->size());
  return static_cast<int64_t>(due->size());
}

void BM_TimerPopDue(benchmark::State& state) {
  Fixture& f = FixtureOf(state.range(0), "pop");
  state.counters["popped_before"] = static_cast<double>(f.popped);
  int64_t popped = 0;
  for (auto _ : state) popped += PopRound(f, 100);
  state.SetItemsProcessed(popped);
  f.SetCounters(state);
}

void BM_TimerNextDueAfterPops(benchmark::State& state) {
  Fixture& f = FixtureOf(state.range(0), "next_due_after_pops");
  constexpr int64_t kPopped = 50000;
  while (f.popped < std::min(kPopped, f.size / 2)) PopRound(f, 1000);
  for (auto _ : state) {
    f.task->Discard();
    absl::StatusOr<std::optional<int64_t>> next = f.task->NextDue();
    if (!next.ok() || !next->has_value()) std::abort();
    benchmark::DoNotOptimize(next);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["popped_before"] = static_cast<double>(f.popped);
  f.SetCounters(state);
}

// Live batches: the pipeline looks for the next due timer between events (NextDue, then
// DueTimers for it), fires it (deleted, and the next step of its clock scheduled later) and
// commits every 15 fires, about a task's share of a 50 ms batch at 5,000 events/s. Counts the
// RocksDB scans of the stored timers per batch (`store_scans_per_batch`): the looks after a
// commit need none while the landed write is merged into the read-ahead window.
void BM_TimerFireLiveBatches(benchmark::State& state) {
  Fixture& f = FixtureOf(state.range(0), "live_batches");
  constexpr int kFiresPerBatch = 15;
  const int64_t scans_before = f.task->timer_store_scans();
  for (auto _ : state) {
    for (int i = 0; i < kFiresPerBatch; ++i) {
      absl::StatusOr<std::optional<int64_t>> next = f.task->NextDue();
      if (!next.ok() || !next->has_value()) std::abort();
      absl::StatusOr<std::vector<v1::Timer>> due = f.task->DueTimers(**next, 1);
      if (!due.ok() || due->size() != 1) std::abort();
      v1::Timer& timer = (*due)[0];
      if (!f.task->DeleteTimer(timer).ok()) std::abort();
      timer.set_due_ms(timer.due_ms() + kSpanMs);
      timer.set_timer_id(absl::StrCat(timer.timer_id(), "+"));
      if (!f.task->PutTimer(timer).ok()) std::abort();
    }
    f.Commit();
  }
  f.popped += static_cast<int64_t>(state.iterations()) * kFiresPerBatch;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kFiresPerBatch);
  state.counters["store_scans_per_batch"] =
      static_cast<double>(f.task->timer_store_scans() - scans_before) /
      static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  f.SetCounters(state);
}

void Sizes(benchmark::internal::Benchmark* b) { b->ArgName("timers")->Arg(10000)->Arg(1000000); }
BENCHMARK(BM_TimerPutCommit)->Apply(Sizes);
BENCHMARK(BM_TimerDeleteCommit)->Apply(Sizes);
BENCHMARK(BM_TimerNextDue)->Apply(Sizes);
BENCHMARK(BM_TimerPopDue)->Apply(Sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TimerNextDueAfterPops)->Apply(Sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TimerFireLiveBatches)->Apply(Sizes)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ccstream::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  ccstream::bench::ReleaseFixtures();
  benchmark::Shutdown();
  return 0;
}
