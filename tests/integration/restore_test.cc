// The background restore against a real broker: while one partition's store is brought up to
// date from a long changelog, the other partitions are processed and committed; the restoring
// partition's events reach the engine only after its restore, with the restored state; a restore
// error stops the pipeline; a revoke (or shutdown) during a restore cancels it and closes the
// store; a transaction open on the changelog when a restore begins is waited for; the
// timers are derived from the records that hold them, the changelog carrying none; and each
// changelog partition is marked with its format, a later one refused.
//
// Deterministic rather than timed: the TaskManager's restore hook holds partition 0's restore
// in the middle until the test has seen what it waits for.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "processor/domain/engine.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/pipeline.h"
#include "processor/runtime/task_manager.h"
#include "prometheus/registry.h"
#include "state/task_state.h"
#include "state/task_store.h"
#include "tests/kafka/broker_env.h"
#include "tests/kafka/committed_reader.h"
#include "tests/kafka/group_offsets.h"
#include "tests/support/event_builders.h"
#include "tests/support/metric_value.h"
#include "tests/support/wait_for.h"

namespace ccstream {
namespace {

using namespace std::chrono_literals;
namespace tb = ::ccstream::testing;
using ::ccstream::testing::MetricValue;
using ::ccstream::testing::WaitFor;

constexpr char kMarker[] = "restore-marker";

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// Adds the tasks of `partition` that `tasks` handed over to `ready`; true once it holds one.
bool TakeRestored(runtime::TaskManager& tasks, int32_t partition, std::vector<int32_t>& ready) {
  auto taken = tasks.TakeRestored({partition});
  EXPECT_TRUE(taken.ok()) << taken.status();
  if (taken.ok()) ready.insert(ready.end(), taken->begin(), taken->end());
  return !ready.empty();
}

// Records the restore metrics.
class RecordingSink : public runtime::OutcomeSink {
 public:
  void Record(const domain::Outcome&) override {}
  void Restored(int32_t partition, int64_t records, double) override {
    std::lock_guard lock(mu);
    restored[partition].push_back(records);
  }
  void StorePastCommittedOffset(int32_t partition) override {
    std::lock_guard lock(mu);
    ++past_committed[partition];
  }
  std::vector<int64_t> RestoredRecords(int32_t partition) {
    std::lock_guard lock(mu);
    return restored[partition];
  }
  int PastCommitted(int32_t partition) {
    std::lock_guard lock(mu);
    return past_committed[partition];
  }
  std::mutex mu;
  std::map<int32_t, std::vector<int64_t>> restored;
  std::map<int32_t, int> past_committed;
};

class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string run =
        absl::StrCat(::testing::UnitTest::GetInstance()->current_test_info()->name(), "-", NowMs());
    auto* kafka = config_.mutable_kafka();
    kafka->set_bootstrap_servers(TestBootstrapServers());
    kafka->set_input_topic(absl::StrCat("rt-events-", run));
    kafka->set_alerts_topic(absl::StrCat("rt-alerts-", run));
    kafka->set_dead_letter_topic(absl::StrCat("rt-dead-", run));
    kafka->set_changelog_topic(absl::StrCat("rt-changelog-", run));
    kafka->set_group_id(absl::StrCat("rt-group-", run));
    kafka->set_group_instance_id("");
    kafka->set_client_id(absl::StrCat("rt-", run));
    config_.mutable_processing()->set_commit_interval_ms(100);
    config_.mutable_domain()->set_pseudonymisation_key("restore-test-key-0123456789abcdef");
    state_dir_ = std::filesystem::path(::testing::TempDir()) / absl::StrCat("ccstream-", run);
    std::filesystem::remove_all(state_dir_);
    config_.mutable_state()->set_dir(state_dir_.string());
    for (const std::string& topic : {kafka->input_topic(), kafka->changelog_topic()}) {
      ASSERT_TRUE(kafka::CreateTopic(*kafka, topic, 2, {}, 30'000).ok()) << topic;
    }
    for (const std::string& topic : {kafka->alerts_topic(), kafka->dead_letter_topic()}) {
      ASSERT_TRUE(kafka::CreateTopic(*kafka, topic, 1, {}, 30'000).ok()) << topic;
    }
    auto engine = domain::Engine::Create(config_.domain());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }

  void TearDown() override { std::filesystem::remove_all(state_dir_); }

  void Produce(const std::vector<kafka::Record>& records) {
    auto producer = kafka::SimpleProducer::Create(
        kafka::ProducerProperties(config_.kafka(), /*transactional=*/false));
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (const kafka::Record& r : records) ASSERT_TRUE((*producer)->Produce(r).ok());
    ASSERT_TRUE((*producer)->Flush(120'000).ok());
  }

  // Fills changelog partition `partition` with `count` small contact records, the last one
  // being the marker contact.
  void FillChangelog(int32_t partition, int count) {
    std::vector<kafka::Record> records;
    records.reserve(count);
    for (int i = 0; i < count; ++i) {
      v1::ContactState contact;
      contact.set_contact_id(i + 1 == count ? std::string(kMarker) : absl::StrCat("filler-", i));
      contact.set_queue("billing");
      records.push_back({config_.kafka().changelog_topic(),
                         state::ChangelogKey(state::Family::kContacts, contact.contact_id()),
                         contact.SerializeAsString(),
                         {},
                         partition});
    }
    Produce(records);
  }

  // `count` events of new contacts, on input partition `partition`.
  void ProduceEvents(int32_t partition, int count) {
    std::vector<kafka::Record> records;
    for (int i = 0; i < count; ++i) {
      tb::ContactRef ref;
      ref.contact_id = absl::StrCat("p", partition, "-contact-", i);
      ref.customer_id = absl::StrCat("customer-", i);
      v1::ContactEvent event = tb::MakeQueued(ref, NowMs() - 60'000 + i);
      records.push_back({config_.kafka().input_topic(),
                         ref.customer_id,
                         event.SerializeAsString(),
                         {},
                         partition});
    }
    Produce(records);
  }

  // Runs a pipeline over `handler` until it returns by itself, within 120 s (false when it did
  // not: it is then stopped); `result` is what it returned. The pipeline is gone on return.
  bool RunUntilItStops(runtime::EventHandler& handler, absl::Status& result) {
    prometheus::Registry registry;
    runtime::PipelineProbe probe(registry);
    auto pipeline = runtime::Pipeline::Create(config_, handler, probe);
    EXPECT_TRUE(pipeline.ok()) << pipeline.status();
    if (!pipeline.ok()) return false;
    std::atomic<bool> stop{false};
    std::atomic<bool> returned{false};
    std::thread runner([&] {
      result = (*pipeline)->Run(stop);
      returned = true;
    });
    const bool stopped_by_itself = WaitFor([&] { return returned.load(); }, 120s);
    stop = true;
    runner.join();
    return stopped_by_itself;
  }

  // Restores partition 0 across a transaction open on its changelog, then `commit`ted or aborted
  // (below).
  void RestoreAcrossAnOpenTransaction(bool commit);

  v1::ProcessorConfig config_;
  std::filesystem::path state_dir_;
  std::shared_ptr<const domain::Engine> engine_;
  RecordingSink sink_;
};

// Forwards to a TaskManager and checks, on the pipeline's thread, what each event finds.
class ObservingHandler : public runtime::EventHandler {
 public:
  ObservingHandler(runtime::TaskManager& tasks, int64_t changelog_records)
      : tasks_(tasks), changelog_records_(changelog_records) {}

  absl::Status OnEvent(int32_t partition, const v1::ContactEvent& event, int64_t now_ms,
                       runtime::HandlerOutput& out) override {
    if (partition == 0 && events0 == 0) {
      // The first event of partition 0 must find the complete restored state.
      state::TaskState* task = tasks_.task(0);
      if (!restored0.load()) problems.push_back("partition 0 event before its restore was done");
      if (task == nullptr) {
        problems.push_back("partition 0 event without a task");
      } else {
        // All the restored records; one more once the task's own format marker, produced by
        // the first batch after the hand-over, was committed before this event was read.
        const int64_t offset = task->store().offsets().changelog;
        if (offset != changelog_records_ && offset != changelog_records_ + 1) {
          problems.push_back(absl::StrCat("changelog offset ", offset, " at the first event, want ",
                                          changelog_records_, " (or one more, the format marker)"));
        }
        auto marker = task->GetContact(kMarker);
        if (!marker.ok() || !marker->has_value()) {
          problems.push_back("the restored marker contact is missing");
        }
      }
    }
    ++(partition == 0 ? events0 : events1);
    return tasks_.OnEvent(partition, event, now_ms, out);
  }
  absl::Status OnTick(int32_t partition, int64_t now_ms, runtime::HandlerOutput& out) override {
    return tasks_.OnTick(partition, now_ms, out);
  }
  absl::Status OnAssigned(const std::vector<int32_t>& partitions) override {
    return tasks_.OnAssigned(partitions);
  }
  absl::StatusOr<std::vector<int32_t>> TakeRestored(
      const std::vector<int32_t>& restoring) override {
    auto ready = tasks_.TakeRestored(restoring);
    if (ready.ok()) {
      for (const int32_t partition : *ready) {
        if (partition == 0) restored0 = true;
      }
    }
    return ready;
  }
  void OnRevoked(const std::vector<int32_t>& partitions, bool lost) override {
    tasks_.OnRevoked(partitions, lost);
  }
  absl::Status CollectChangelog(std::vector<runtime::ChangelogRecord>& out) override {
    return tasks_.CollectChangelog(out);
  }
  absl::Status OnCommitted(const std::map<int32_t, runtime::CommittedOffsets>& offsets) override {
    if (absl::Status s = tasks_.OnCommitted(offsets); !s.ok()) return s;
    if (const auto it = offsets.find(1); it != offsets.end()) {
      committed1 = std::max<int64_t>(committed1.load(), it->second.input_next);
    }
    return absl::OkStatus();
  }
  void OnAborted() override { tasks_.OnAborted(); }

  std::atomic<int64_t> events0{0};
  std::atomic<int64_t> events1{0};
  std::atomic<int64_t> committed1{0};  // next input offset of partition 1 committed
  std::atomic<bool> restored0{false};
  std::vector<std::string> problems;  // pipeline thread; read after it stopped

 private:
  runtime::TaskManager& tasks_;
  const int64_t changelog_records_;
};

// The consumer lag of `partition` once the pipeline has sampled one (within 30 s, unless
// `cancelled`); -1 without one.
double AwaitLag(prometheus::Registry& registry, const std::string& partition,
                const std::function<bool()>& cancelled) {
  WaitFor(
      [&] {
        return MetricValue(registry, "ccstream_consumer_lag", "partition", partition) >= 0 ||
               cancelled();
      },
      30s);
  return MetricValue(registry, "ccstream_consumer_lag", "partition", partition);
}

TEST_F(RestoreTest, OtherPartitionsAreProcessedWhileOneRestores) {
  constexpr int kChangelog = 300'000;
  constexpr int kEvents = 50;
  FillChangelog(0, kChangelog);
  ProduceEvents(0, kEvents);
  ProduceEvents(1, kEvents);

  runtime::TaskManager tasks(config_, engine_, sink_);
  ObservingHandler handler(tasks, kChangelog);
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  // Partition 0's restore stops in the middle (after its first batch of changelog records)
  // until partition 1's events were processed and committed.
  std::atomic<bool> held{false};
  std::atomic<bool> committed_while_held{false};
  std::atomic<int64_t> events0_while_held{-1};
  std::atomic<double> restoring_while_held{-1};
  std::atomic<double> lag0_while_held{-1};
  tasks.SetRestoreHookForTesting(
      [&](int32_t partition, int64_t applied, const std::function<bool()>& cancelled) {
        if (partition != 0 || applied == 0 || held.exchange(true)) return;
        committed_while_held =
            WaitFor([&] { return handler.committed1.load() >= kEvents || cancelled(); }, 120s);
        committed_while_held = committed_while_held && handler.committed1.load() >= kEvents;
        events0_while_held = handler.events0.load();
        restoring_while_held = MetricValue(registry, "ccstream_partitions_restoring");
        // Never fetched while it restores, its lag is what waits from where it will start
        // (its beginning: nothing committed) to its end, both asked from the broker.
        lag0_while_held = AwaitLag(registry, "0", cancelled);
      });

  auto pipeline = runtime::Pipeline::Create(config_, handler, probe);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread runner([&] { result = (*pipeline)->Run(stop); });
  const bool all_seen = WaitFor(
      [&] { return handler.events0.load() >= kEvents && handler.events1.load() >= kEvents; }, 240s);
  const bool lag0_caught_up = WaitFor(
      [&] { return MetricValue(registry, "ccstream_consumer_lag", "partition", "0") == 0; }, 10s);
  stop = true;
  runner.join();
  ASSERT_TRUE(result.ok()) << result;
  ASSERT_TRUE(all_seen) << "events seen: partition 0 " << handler.events0.load() << ", partition 1 "
                        << handler.events1.load();

  EXPECT_TRUE(held.load()) << "partition 0's restore never reached its middle";
  EXPECT_TRUE(committed_while_held.load())
      << "partition 1 was not processed and committed while partition 0 was restoring";
  EXPECT_EQ(events0_while_held.load(), 0) << "partition 0 events handled during its restore";
  EXPECT_EQ(restoring_while_held.load(), 1) << "ccstream_partitions_restoring during the restore";
  EXPECT_EQ(lag0_while_held.load(), kEvents) << "the lag of the partition restoring";
  EXPECT_TRUE(lag0_caught_up) << "the lag of partition 0 once its events were handled: "
                              << MetricValue(registry, "ccstream_consumer_lag", "partition", "0");
  EXPECT_EQ(MetricValue(registry, "ccstream_partitions_restoring"), 0) << "after the restore";
  EXPECT_TRUE(handler.problems.empty()) << handler.problems.front();
  EXPECT_EQ(handler.events0.load(), kEvents);
  EXPECT_EQ(handler.events1.load(), kEvents);
  EXPECT_EQ(sink_.RestoredRecords(0), std::vector<int64_t>{kChangelog});
  EXPECT_TRUE(sink_.RestoredRecords(1).empty()) << "partition 1 had nothing to restore";
}

// A partition restoring has never been fetched, so librdkafka knows none of its watermarks: its
// lag comes from where it will start (the group's committed offset) to its end as the broker
// tells it.
TEST_F(RestoreTest, APartitionRestoringShowsItsLagFromTheCommittedOffset) {
  constexpr int kChangelog = 30'000;
  constexpr int kEvents = 50;
  constexpr int kCommitted = 20;
  FillChangelog(0, kChangelog);
  ProduceEvents(0, kEvents);
  // The group's offset of partition 0, as an earlier instance would have committed it.
  ASSERT_TRUE(::ccstream::testing::CommitInputOffsets(config_.kafka(), {{0, kCommitted}}).ok());

  runtime::TaskManager tasks(config_, engine_, sink_);
  ObservingHandler handler(tasks, kChangelog);
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  std::atomic<bool> held{false};
  std::atomic<double> lag_while_held{-1};
  tasks.SetRestoreHookForTesting(
      [&](int32_t partition, int64_t applied, const std::function<bool()>& cancelled) {
        if (partition != 0 || applied == 0 || held.exchange(true)) return;
        lag_while_held = AwaitLag(registry, "0", cancelled);
      });

  auto pipeline = runtime::Pipeline::Create(config_, handler, probe);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread runner([&] { result = (*pipeline)->Run(stop); });
  const bool all_seen =
      WaitFor([&] { return handler.events0.load() >= kEvents - kCommitted; }, 120s);
  const bool caught_up = WaitFor(
      [&] { return MetricValue(registry, "ccstream_consumer_lag", "partition", "0") == 0; }, 10s);
  stop = true;
  runner.join();
  ASSERT_TRUE(result.ok()) << result;
  ASSERT_TRUE(all_seen) << "events of partition 0 seen: " << handler.events0.load();

  EXPECT_TRUE(held.load()) << "partition 0's restore never reached its middle";
  EXPECT_EQ(lag_while_held.load(), kEvents - kCommitted) << "the lag of the partition restoring";
  EXPECT_TRUE(caught_up) << "the lag once its events were handled: "
                         << MetricValue(registry, "ccstream_consumer_lag", "partition", "0");
  EXPECT_EQ(handler.events0.load(), kEvents - kCommitted);
  EXPECT_TRUE(handler.problems.empty()) << handler.problems.front();
}

TEST_F(RestoreTest, RestoreErrorStopsThePipeline) {
  FillChangelog(0, 100);
  // A changelog record with an empty key cannot be restored.
  Produce({{config_.kafka().changelog_topic(), "", "junk", {}, 0}});
  ProduceEvents(1, 5);

  runtime::TaskManager tasks(config_, engine_, sink_);
  ObservingHandler handler(tasks, 0);
  absl::Status result;
  EXPECT_TRUE(RunUntilItStops(handler, result)) << "the pipeline went on after a failed restore";
  EXPECT_TRUE(absl::IsDataLoss(result)) << result;  // the restore's "changelog key too short"
  // Where the bad record is: the topic, its partition and offset (after the 100 good ones).
  EXPECT_NE(result.message().find(
                absl::StrCat("changelog ", config_.kafka().changelog_topic(), "[0] at offset 100")),
            std::string::npos)
      << result;
  EXPECT_EQ(handler.events0.load(), 0);
  // The pipeline, gone, dropped the tasks as lost.
  EXPECT_EQ(tasks.task(0), nullptr);
  EXPECT_EQ(tasks.task(1), nullptr);
}

TEST_F(RestoreTest, RevokeDuringRestoreCancelsItAndClosesTheStore) {
  constexpr int kChangelog = 50'000;
  FillChangelog(0, kChangelog);

  runtime::TaskManager tasks(config_, engine_, sink_);
  std::atomic<bool> hold{true};
  std::atomic<bool> held{false};
  std::atomic<bool> saw_cancel{false};
  tasks.SetRestoreHookForTesting(
      [&](int32_t partition, int64_t applied, const std::function<bool()>& cancelled) {
        if (partition != 0 || applied == 0 || !hold.load() || held.exchange(true)) return;
        // Held in the middle of the restore until the revoke cancels it.
        saw_cancel = WaitFor(cancelled, 120s);
      });
  ASSERT_TRUE(tasks.OnAssigned({0}).ok());
  ASSERT_TRUE(WaitFor([&] { return held.load(); }, 120s)) << "the restore did not start";
  EXPECT_EQ(tasks.task(0), nullptr) << "a restoring task is visible";

  tasks.OnRevoked({0}, /*lost=*/false);  // returns once the store is closed
  EXPECT_TRUE(saw_cancel.load());
  EXPECT_EQ(tasks.task(0), nullptr);
  auto ready = tasks.TakeRestored({});
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(ready->empty()) << "a cancelled restore was handed over";
  EXPECT_TRUE(sink_.RestoredRecords(0).empty());

  // The store is closed (RocksDB's LOCK released) and holds what was restored so far.
  int64_t partial = 0;
  {
    auto store = state::TaskStore::Open(tasks.TaskPath(0));
    ASSERT_TRUE(store.ok()) << store.status();
    partial = (*store)->offsets().changelog;
  }
  EXPECT_GT(partial, 0);
  EXPECT_LT(partial, kChangelog);

  // Assigned again, the restore goes on from there to the end.
  hold = false;
  ASSERT_TRUE(tasks.OnAssigned({0}).ok());
  std::vector<int32_t> restored;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ready = tasks.TakeRestored({0});
        if (!ready.ok()) return true;
        restored.insert(restored.end(), ready->begin(), ready->end());
        return !restored.empty();
      },
      120s));
  ASSERT_EQ(restored, std::vector<int32_t>{0});
  ASSERT_NE(tasks.task(0), nullptr);
  EXPECT_EQ(tasks.task(0)->store().offsets().changelog, kChangelog);
  EXPECT_EQ(sink_.RestoredRecords(0), std::vector<int64_t>{kChangelog - partial});
  auto marker = tasks.task(0)->GetContact(kMarker);
  ASSERT_TRUE(marker.ok()) << marker.status();
  EXPECT_TRUE(marker->has_value());
}

TEST_F(RestoreTest, ShutdownDuringRestoreCancelsItAndClosesTheStore) {
  constexpr int kChangelog = 30'000;
  FillChangelog(0, kChangelog);
  std::string path;
  {
    runtime::TaskManager tasks(config_, engine_, sink_);
    path = tasks.TaskPath(0);
    std::atomic<bool> held{false};
    tasks.SetRestoreHookForTesting(
        [&](int32_t partition, int64_t applied, const std::function<bool()>& cancelled) {
          if (partition != 0 || applied == 0 || held.exchange(true)) return;
          WaitFor(cancelled, 120s);
        });
    ASSERT_TRUE(tasks.OnAssigned({0}).ok());
    ASSERT_TRUE(WaitFor([&] { return held.load(); }, 120s)) << "the restore did not start";
  }  // the destructor cancels the restore and joins the restore thread
  EXPECT_TRUE(sink_.RestoredRecords(0).empty());
  auto store = state::TaskStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_LT((*store)->offsets().changelog, kChangelog);
}

// A transaction open on the changelog when a restore begins (the previous owner's last commit,
// still under way as the partition moved) ends read_committed reading at its start. The restore
// waits for it: committed, its records are in the restored store; aborted, they are not.
void RestoreTest::RestoreAcrossAnOpenTransaction(bool commit) {
  FillChangelog(0, 10);
  auto conf = kafka::MakeConf({{"bootstrap.servers", config_.kafka().bootstrap_servers()},
                               {"transactional.id", absl::StrCat(config_.kafka().group_id(), "-t")},
                               {"enable.idempotence", "true"}});
  ASSERT_TRUE(conf.ok()) << conf.status();
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf->get(), error));
  ASSERT_TRUE(producer) << error;
  std::unique_ptr<RdKafka::Error> txn(producer->init_transactions(30'000));
  ASSERT_FALSE(txn) << txn->str();
  txn.reset(producer->begin_transaction());
  ASSERT_FALSE(txn) << txn->str();
  constexpr char kInTransaction[] = "in-the-transaction";
  v1::ContactState contact;
  contact.set_contact_id(kInTransaction);
  contact.set_queue("billing");
  const std::string key = state::ChangelogKey(state::Family::kContacts, kInTransaction);
  const std::string value = contact.SerializeAsString();
  ASSERT_EQ(producer->produce(config_.kafka().changelog_topic(), 0, RdKafka::Producer::RK_MSG_COPY,
                              const_cast<char*>(value.data()), value.size(), key.data(), key.size(),
                              0, nullptr),
            RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(producer->flush(30'000), RdKafka::ERR_NO_ERROR);  // in the log, not committed

  runtime::TaskManager tasks(config_, engine_, sink_);
  ASSERT_TRUE(tasks.OnAssigned({0}).ok());
  std::vector<int32_t> ready;
  auto take = [&] { return TakeRestored(tasks, 0, ready); };
  // Long enough for the ten records before the transaction (a restore takes ~50 ms here).
  EXPECT_FALSE(WaitFor(take, 2s)) << "the task was handed over with a transaction still open";
  txn.reset(commit ? producer->commit_transaction(30'000) : producer->abort_transaction(30'000));
  ASSERT_FALSE(txn) << txn->str();
  ASSERT_TRUE(WaitFor(take, 60s)) << "the restore did not end after the transaction did";
  state::TaskState* task = tasks.task(0);
  ASSERT_NE(task, nullptr);
  auto restored = task->GetContact(kInTransaction);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->has_value(), commit)
      << (commit ? "the committed transaction's record is missing"
                 : "the aborted transaction's record was restored");
  EXPECT_EQ(sink_.RestoredRecords(0), std::vector<int64_t>{commit ? 11 : 10});
}

// A timer as the engine keeps it in a record and the timers family stores it.
v1::Timer MakeTimer(int64_t due_ms, const std::string& id) {
  v1::Timer timer;
  timer.set_due_ms(due_ms);
  timer.set_timer_id(id);
  timer.set_kind(v1::CONTACT_EXPIRY);
  return timer;
}

// Restores partition 0 with `tasks` and returns the keys and values of its timers family.
std::map<std::string, std::string> RestoredTimers(runtime::TaskManager& tasks) {
  std::map<std::string, std::string> timers;
  EXPECT_TRUE(tasks.OnAssigned({0}).ok());
  std::vector<int32_t> ready;
  const bool restored = WaitFor(
      [&] {
        auto taken = tasks.TakeRestored({0});
        if (!taken.ok()) return true;
        ready.insert(ready.end(), taken->begin(), taken->end());
        return !ready.empty();
      },
      120s);
  EXPECT_TRUE(restored && ready == std::vector<int32_t>{0}) << "partition 0 was not restored";
  if (tasks.task(0) == nullptr) return timers;
  const absl::Status s = tasks.task(0)->store().Scan(
      state::Family::kTimers, "", [&](std::string_view key, std::string_view value) {
        timers[std::string(key)] = std::string(value);
        return true;
      });
  EXPECT_TRUE(s.ok()) << s;
  return timers;
}

// The changelog carries no timers: a restore derives the timers family from the contacts, cases
// and customers that hold them, each record's last value in a restore batch against its stored
// value; timer records (of a changelog written before) are left out.
TEST_F(RestoreTest, TheTimersAreDerivedFromTheRecordsThatHoldThem) {
  const std::string& topic = config_.kafka().changelog_topic();
  auto contact = [&](const std::vector<v1::Timer>& timers) {
    v1::ContactState c;
    c.set_contact_id("contact-1");
    for (const v1::Timer& t : timers) *c.add_timers() = t;
    return kafka::Record{topic,
                         state::ChangelogKey(state::Family::kContacts, "contact-1"),
                         c.SerializeAsString(),
                         {},
                         0};
  };
  const v1::Timer a = MakeTimer(1'000, "a"), b = MakeTimer(2'000, "b"), c = MakeTimer(3'000, "c"),
                  d = MakeTimer(4'000, "d"), e = MakeTimer(5'000, "e"),
                  stray = MakeTimer(6'000, "stray");
  v1::ComplaintCase complaint;
  complaint.set_case_id("case-1");
  *complaint.add_timers() = d;
  v1::CustomerState customer;
  customer.set_customer_key("customer-1");
  *customer.add_timers() = e;
  auto key = [](const v1::Timer& t) { return state::TimerKey(t.due_ms(), t.timer_id()); };
  // In one restore batch: the contact with a and b, then with b and c (a goes).
  Produce({contact({a, b}),
           contact({b, c}),
           {topic,
            state::ChangelogKey(state::Family::kCases, "case-1"),
            complaint.SerializeAsString(),
            {},
            0},
           {topic,
            state::ChangelogKey(state::Family::kCustomers, "customer-1"),
            customer.SerializeAsString(),
            {},
            0},
           {topic,
            state::ChangelogKey(state::Family::kTimers, key(stray)),
            stray.SerializeAsString(),
            {},
            0}});
  {
    runtime::TaskManager tasks(config_, engine_, sink_);
    EXPECT_EQ(RestoredTimers(tasks),
              (std::map<std::string, std::string>{{key(b), b.SerializeAsString()},
                                                  {key(c), c.SerializeAsString()},
                                                  {key(d), d.SerializeAsString()},
                                                  {key(e), e.SerializeAsString()}}));
    EXPECT_EQ(sink_.RestoredRecords(0), std::vector<int64_t>{4}) << "timer records applied";
    tasks.OnRevoked({0}, /*lost=*/false);
  }
  // Caught up on the same store: the contact's next value is compared with the stored one.
  Produce({contact({c, a})});
  runtime::TaskManager tasks(config_, engine_, sink_);
  EXPECT_EQ(RestoredTimers(tasks),
            (std::map<std::string, std::string>{{key(a), a.SerializeAsString()},
                                                {key(c), c.SerializeAsString()},
                                                {key(d), d.SerializeAsString()},
                                                {key(e), e.SerializeAsString()}}));
}

// A restore batch is written as one write of each record's last change in it: a record changed
// and then deleted in the batch is deleted (and its timers), one deleted and then put again is
// stored.
TEST_F(RestoreTest, EachRecordsLastChangeInABatchIsTheOneRestored) {
  const std::string& topic = config_.kafka().changelog_topic();
  auto conf = kafka::MakeConf({{"bootstrap.servers", config_.kafka().bootstrap_servers()}});
  ASSERT_TRUE(conf.ok()) << conf.status();
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf->get(), error));
  ASSERT_TRUE(producer) << error;
  auto produce = [&](const std::string& id, const std::vector<v1::Timer>& timers, bool deleted) {
    v1::ContactState contact;
    contact.set_contact_id(id);
    for (const v1::Timer& t : timers) *contact.add_timers() = t;
    const std::string key = state::ChangelogKey(state::Family::kContacts, id);
    std::string value = contact.SerializeAsString();
    EXPECT_EQ(producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY,
                                deleted ? nullptr : value.data(), deleted ? 0 : value.size(),
                                key.data(), key.size(), 0, nullptr),
              RdKafka::ERR_NO_ERROR);
  };
  const v1::Timer a = MakeTimer(1'000, "a"), b = MakeTimer(2'000, "b");
  auto key = [](const v1::Timer& t) { return state::TimerKey(t.due_ms(), t.timer_id()); };
  produce("gone", {a}, /*deleted=*/false);
  ASSERT_EQ(producer->flush(30'000), RdKafka::ERR_NO_ERROR);
  {
    runtime::TaskManager tasks(config_, engine_, sink_);
    EXPECT_EQ(RestoredTimers(tasks),
              (std::map<std::string, std::string>{{key(a), a.SerializeAsString()}}));
    tasks.OnRevoked({0}, /*lost=*/false);
  }
  // Caught up on the same store, in one batch.
  produce("gone", {a, b}, /*deleted=*/false);
  produce("back", {}, /*deleted=*/true);
  produce("gone", {}, /*deleted=*/true);
  produce("back", {b}, /*deleted=*/false);
  ASSERT_EQ(producer->flush(30'000), RdKafka::ERR_NO_ERROR);
  runtime::TaskManager tasks(config_, engine_, sink_);
  EXPECT_EQ(RestoredTimers(tasks),
            (std::map<std::string, std::string>{{key(b), b.SerializeAsString()}}));
  EXPECT_EQ(sink_.RestoredRecords(0), (std::vector<int64_t>{1, 4}));
  state::TaskState* task = tasks.task(0);
  ASSERT_NE(task, nullptr);
  auto gone = task->GetContact("gone");
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_FALSE(gone->has_value()) << "a record deleted last in its batch is still stored";
  auto back = task->GetContact("back");
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(back->has_value()) << "a record put last in its batch was not restored";
  EXPECT_EQ((*back)->timers_size(), 1);
}

// Input offsets moved forward by hand while no instance of the group runs (skipping a backlog,
// docs/observability.md "Moving the input offsets by hand"): the task keeps its state and reads
// on from the new offset; the skipped events are not applied.
TEST_F(RestoreTest, InputOffsetsMovedForwardByHandSkipEventsAndKeepTheState) {
  auto produce = [&](const std::string& prefix, int count) {
    std::vector<kafka::Record> records;
    for (int i = 0; i < count; ++i) {
      tb::ContactRef ref;
      ref.contact_id = absl::StrCat(prefix, "-contact-", i);
      ref.customer_id = absl::StrCat(prefix, "-customer-", i);
      records.push_back({config_.kafka().input_topic(),
                         ref.customer_id,
                         tb::MakeQueued(ref, NowMs() - 60'000 + i).SerializeAsString(),
                         {},
                         0});
    }
    Produce(records);
  };
  // Runs the pipeline until partition 0 had `events` events, then for `more` (to see whether
  // others come), and stops it (the batch in flight commits); returns the events it had.
  auto run = [&](int64_t events, std::chrono::seconds more) {
    runtime::TaskManager tasks(config_, engine_, sink_);
    ObservingHandler handler(tasks, 0);  // its first-event checks are for other tests
    prometheus::Registry registry;
    runtime::PipelineProbe probe(registry);
    auto pipeline = runtime::Pipeline::Create(config_, handler, probe);
    EXPECT_TRUE(pipeline.ok()) << pipeline.status();
    if (!pipeline.ok()) return int64_t{-1};
    std::atomic<bool> stop{false};
    absl::Status result;
    std::thread runner([&] { result = (*pipeline)->Run(stop); });
    EXPECT_TRUE(WaitFor([&] { return handler.events0.load() >= events; }, 120s));
    std::this_thread::sleep_for(more);
    stop = true;
    runner.join();
    EXPECT_TRUE(result.ok()) << result;
    return handler.events0.load();
  };
  produce("before", 5);
  ASSERT_EQ(run(5, 0s), 5);

  produce("skipped", 5);
  {  // What an operator's kafka-consumer-groups.sh --reset-offsets --to-latest does.
    auto conf = kafka::MakeConf({{"bootstrap.servers", config_.kafka().bootstrap_servers()},
                                 {"group.id", config_.kafka().group_id()}});
    ASSERT_TRUE(conf.ok()) << conf.status();
    std::string error;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(
        RdKafka::KafkaConsumer::create(conf->get(), error));
    ASSERT_TRUE(consumer) << error;
    std::vector<RdKafka::TopicPartition*> offsets = {
        RdKafka::TopicPartition::create(config_.kafka().input_topic(), 0, 10)};
    const RdKafka::ErrorCode code = consumer->commitSync(offsets);
    RdKafka::TopicPartition::destroy(offsets);
    ASSERT_EQ(code, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(code);
    consumer->close();
  }
  produce("after", 3);
  EXPECT_EQ(run(3, 2s), 3) << "events before the moved offset were read";

  auto store = state::TaskStore::Open(runtime::TaskManager(config_, engine_, sink_).TaskPath(0));
  ASSERT_TRUE(store.ok()) << store.status();
  for (const auto& [id, kept] : {std::pair<std::string, bool>{"before-contact-4", true},
                                 {"skipped-contact-0", false},
                                 {"after-contact-2", true}}) {
    auto contact = (*store)->Get(state::Family::kContacts, id);
    ASSERT_TRUE(contact.ok()) << contact.status();
    EXPECT_EQ(contact->has_value(), kept) << id;
  }
  EXPECT_EQ((*store)->offsets().input, 13);
  EXPECT_EQ(sink_.PastCommitted(0), 0) << "a store behind the committed offset was counted";
}

// A commit that Kafka lost (sealed_batch_it, AStoreAheadOfTheCommittedOffsetsIsRebuiltFromThe-
// Changelog) leaves the task's store past the group's committed input offset, and the restore
// rebuilds such a store from the changelog. After a failover, the transaction of the instance
// that died holds the group's offsets unstable for up to its timeout: the restore asks for them
// until Kafka answers, rather than trust the store uncompared.
TEST_F(RestoreTest, AStoreAheadOfOffsetsHeldByAnOpenTransactionIsRebuilt) {
  constexpr int kChangelog = 5;
  FillChangelog(0, kChangelog);
  constexpr char kLost[] = "of-the-lost-commit";
  std::string path;
  {
    runtime::TaskManager tasks(config_, engine_, sink_);
    path = tasks.TaskPath(0);
  }
  {  // The store as that commit left it: the changelog's records, one more, and input offset 10.
    auto store = state::TaskStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<state::Mutation> mutations;
    for (const std::string& id : {std::string(kMarker), std::string(kLost)}) {
      v1::ContactState contact;
      contact.set_contact_id(id);
      contact.set_queue("billing");
      mutations.push_back({state::Family::kContacts, id, contact.SerializeAsString()});
    }
    ASSERT_TRUE((*store)->Write(mutations, {.input = 10, .changelog = kChangelog}).ok());
  }
  ASSERT_TRUE(::ccstream::testing::CommitInputOffsets(config_.kafka(), {{0, 4}}).ok());
  ::ccstream::testing::OpenOffsetsTransaction died;
  ASSERT_TRUE(
      died.Open(config_.kafka(), absl::StrCat(config_.kafka().group_id(), "-died"), {{0, 10}})
          .ok());

  runtime::TaskManager tasks(config_, engine_, sink_);
  ASSERT_TRUE(tasks.OnAssigned({0}).ok());
  std::vector<int32_t> ready;
  auto take = [&] { return TakeRestored(tasks, 0, ready); };
  // Two attempts unanswered: the look-up went on past its first.
  ASSERT_TRUE(WaitFor([&] { return tasks.committed_lookup_failures() >= 2; }, 60s))
      << "the look-up of the committed offsets was not retried";
  EXPECT_FALSE(take()) << "the task was handed over before the committed offsets were known";
  ASSERT_TRUE(died.Abort().ok());  // as the broker does at the transaction's timeout
  ASSERT_TRUE(WaitFor(take, 60s)) << "the restore did not end after the transaction did";

  state::TaskState* task = tasks.task(0);
  ASSERT_NE(task, nullptr);
  auto lost = task->GetContact(kLost);
  ASSERT_TRUE(lost.ok()) << lost.status();
  EXPECT_FALSE(lost->has_value()) << "the store ahead of the committed offset was kept";
  auto marker = task->GetContact(kMarker);
  ASSERT_TRUE(marker.ok()) << marker.status();
  EXPECT_TRUE(marker->has_value()) << "the changelog was not restored into the rebuilt store";
  EXPECT_EQ(task->store().offsets().changelog, kChangelog);
  EXPECT_EQ(sink_.RestoredRecords(0), std::vector<int64_t>{kChangelog});
  EXPECT_EQ(sink_.PastCommitted(0), 1) << "the store past the committed offset was not counted";
}

// The values of the format markers on each changelog partition, as a read_committed consumer
// reads them to the end of both partitions.
std::map<int32_t, std::vector<std::string>> FormatMarkers(const v1::KafkaConfig& kafka) {
  std::map<int32_t, std::vector<std::string>> markers;
  testing::CommittedReadOptions options;
  options.partitions = {0, 1};
  EXPECT_TRUE(testing::ReadCommitted(
      kafka.bootstrap_servers(), kafka.changelog_topic(),
      [&](RdKafka::Message& m) {
        if (m.key() != nullptr && *m.key() == state::ChangelogFormatKey()) {
          markers[m.partition()].emplace_back(static_cast<const char*>(m.payload()), m.len());
        }
      },
      options))
      << "the changelog was not read to its end";
  return markers;
}

// Each task marks its changelog partition with the format it writes, once, in a committed batch
// (again after a batch that carried it aborted); a fresh instance whose changelog holds a later
// format's marker refuses to restore it (the build rolled back past a change of the format), and
// processes nothing.
TEST_F(RestoreTest, EachChangelogPartitionIsMarkedWithItsFormatAndALaterOneIsRefused) {
  ProduceEvents(0, 3);
  ProduceEvents(1, 3);
  {
    runtime::TaskManager tasks(config_, engine_, sink_);
    ObservingHandler handler(tasks, 0);  // its first-event checks are for other tests
    prometheus::Registry registry;
    runtime::PipelineProbe probe(registry);
    runtime::PipelineOptions options;
    std::atomic<int> aborted{0};
    // The first batches that carry changes abort: those of both tasks' markers among them.
    options.abort_commit_for_testing = [&] { return aborted.fetch_add(1) < 2; };
    auto pipeline = runtime::Pipeline::Create(config_, handler, probe, options);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    std::atomic<bool> stop{false};
    absl::Status result;
    std::thread runner([&] { result = (*pipeline)->Run(stop); });
    EXPECT_TRUE(
        WaitFor([&] { return handler.events0.load() >= 3 && handler.events1.load() >= 3; }, 120s));
    std::this_thread::sleep_for(1s);
    stop = true;
    runner.join();
    ASSERT_TRUE(result.ok()) << result;
    EXPECT_GE(aborted.load(), 2);
  }
  const std::string format = std::to_string(state::kChangelogFormat);
  auto markers = FormatMarkers(config_.kafka());
  EXPECT_EQ(markers[0], std::vector<std::string>{format});
  EXPECT_EQ(markers[1], std::vector<std::string>{format});

  // A later build's marker, after this build's; then a fresh instance.
  Produce({{config_.kafka().changelog_topic(),
            state::ChangelogFormatKey(),
            std::to_string(state::kChangelogFormat + 1),
            {},
            0}});
  std::filesystem::remove_all(state_dir_);
  runtime::TaskManager tasks(config_, engine_, sink_);
  ObservingHandler handler(tasks, 0);
  absl::Status result;
  EXPECT_TRUE(RunUntilItStops(handler, result))
      << "the pipeline went on after restoring a later format";
  EXPECT_TRUE(absl::IsFailedPrecondition(result)) << result;
  EXPECT_NE(
      result.message().find(absl::StrCat("changelog ", config_.kafka().changelog_topic(), "[0]")),
      std::string::npos)
      << result;
  EXPECT_NE(result.message().find(
                absl::StrCat("changelog format ", state::kChangelogFormat + 1, " by a later")),
            std::string::npos)
      << result;
  EXPECT_EQ(handler.events0.load(), 0);
}

TEST_F(RestoreTest, ARestoreWaitsForAnOpenTransactionThatCommits) {
  RestoreAcrossAnOpenTransaction(/*commit=*/true);
}

TEST_F(RestoreTest, ARestoreWaitsForAnOpenTransactionThatAborts) {
  RestoreAcrossAnOpenTransaction(/*commit=*/false);
}

}  // namespace
}  // namespace ccstream
