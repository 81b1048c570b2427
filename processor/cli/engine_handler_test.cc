#include "processor/cli/engine_handler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "processor/domain/engine.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/task_manager.h"
#include "tests/support/event_builders.h"

namespace ccstream::cli {
namespace {

double Sum(prometheus::Registry& registry, const std::string& name) {
  double sum = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) sum += metric.counter.value + metric.gauge.value;
  }
  return sum;
}

// Assigns the partitions and waits until the background restore hands them over.
void AssignAndAwait(runtime::EventHandler& handler, const std::vector<int32_t>& partitions) {
  ASSERT_TRUE(handler.OnAssigned(partitions).ok());
  size_t ready = 0;
  for (int i = 0; i < 200 && ready < partitions.size(); ++i) {
    auto taken = handler.TakeRestored(partitions);
    ASSERT_TRUE(taken.ok()) << taken.status();
    ready += taken->size();
    if (ready < partitions.size()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(ready, partitions.size());
}

class EngineHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = kafka::EmbeddedCluster::Start({{"in", 2}, {"changelog", 2}});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    dir_ = std::filesystem::temp_directory_path() /
           ("engine-handler-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    config_.mutable_kafka()->set_bootstrap_servers(cluster_->bootstrap_servers());
    config_.mutable_kafka()->set_input_topic("in");
    config_.mutable_kafka()->set_changelog_topic("changelog");
    config_.mutable_state()->set_dir(dir_.string());
    config_.mutable_domain()->set_pseudonymisation_key("engine-handler-test-key-0123456789");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<kafka::EmbeddedCluster> cluster_;
  std::filesystem::path dir_;
  v1::ProcessorConfig config_;
};

TEST_F(EngineHandlerTest, OutcomesCountOnlyWhenTheirBatchCommits) {
  prometheus::Registry registry;
  auto handler = MakeEngineHandler(config_, registry, /*follow_moves=*/true);
  ASSERT_TRUE(handler.ok()) << handler.status();
  AssignAndAwait(**handler, {0});
  EXPECT_EQ(StoresOf(**handler).ActiveStores().size(), 1u);
  const testing::ContactRef contact;
  const int64_t t = 1'700'000'000'000;
  runtime::HandlerOutput out;
  ASSERT_TRUE((*handler)->OnEvent(0, testing::MakeQueued(contact, t), t, out).ok());
  EXPECT_EQ(Sum(registry, "ccstream_contacts_offered_total"), 0);  // not yet committed
  (*handler)->OnAborted();  // the batch is redone: its outcomes must not count
  ASSERT_TRUE((*handler)->OnEvent(0, testing::MakeQueued(contact, t), t, out).ok());
  ASSERT_TRUE(
      (*handler)->OnEvent(0, testing::MakeAbandoned(contact, t + 5000), t + 5000, out).ok());
  ASSERT_TRUE((*handler)->OnCommitted({{0, {2, -1}}}).ok());
  EXPECT_EQ(Sum(registry, "ccstream_contacts_offered_total"), 1);
  EXPECT_EQ(Sum(registry, "ccstream_contacts_abandoned_total"), 1);
  // The contact ended in the committed batch: it moved on, once.
  const std::vector<notify::MovedOn> moved = TakeMovedOn(**handler);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].subject, contact.contact_id);
  EXPECT_EQ(moved[0].at_ms, t + 5000);
  EXPECT_TRUE(TakeMovedOn(**handler).empty());
  (*handler)->OnRevoked({0}, /*lost=*/false);
  EXPECT_TRUE(StoresOf(**handler).ActiveStores().empty());
}

// AT_LEAST_ONCE: a sealed batch commits alone, its outcomes counted and its state written, while
// the batch after it, already under way, keeps its own for its own commit; an abort then takes
// both.
TEST_F(EngineHandlerTest, ASealedBatchCommitsWithoutTheBatchAfterIt) {
  prometheus::Registry registry;
  auto handler = MakeEngineHandler(config_, registry, /*follow_moves=*/true);
  ASSERT_TRUE(handler.ok()) << handler.status();
  AssignAndAwait(**handler, {0});
  testing::ContactRef first;
  first.contact_id = "contact-first";
  testing::ContactRef second;
  second.contact_id = "contact-second";
  const int64_t t = 1'700'000'000'000;
  runtime::HandlerOutput out;
  ASSERT_TRUE((*handler)->OnEvent(0, testing::MakeQueued(first, t), t, out).ok());
  ASSERT_TRUE((*handler)->OnEvent(0, testing::MakeAbandoned(first, t + 5000), t + 5000, out).ok());
  ASSERT_TRUE((*handler)->OnSealed({0}).ok());
  ASSERT_TRUE((*handler)->OnEvent(0, testing::MakeQueued(second, t + 6000), t + 6000, out).ok());
  ASSERT_TRUE((*handler)->OnCommitted({{0, {2, -1}}}).ok());  // the sealed batch
  EXPECT_EQ(Sum(registry, "ccstream_contacts_offered_total"), 1);
  EXPECT_EQ(Sum(registry, "ccstream_contacts_abandoned_total"), 1);
  const std::vector<notify::MovedOn> moved = TakeMovedOn(**handler);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].subject, first.contact_id);
  // Its write (on the writer's thread) holds the first contact, not the second.
  const api::StoreSource::Stores stores = StoresOf(**handler).ActiveStores();
  ASSERT_EQ(stores.size(), 1u);
  const state::TaskStore& store = *stores[0].second;
  auto stored = [&](const std::string& contact_id) {
    auto found = store.Get(state::Family::kContacts, contact_id);
    return found.ok() && found->has_value();
  };
  for (int i = 0; i < 500 && !stored(first.contact_id); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(stored(first.contact_id));
  EXPECT_FALSE(stored(second.contact_id));

  // The next batch is sealed, then aborted with one more after it: none of it counts or stays.
  ASSERT_TRUE((*handler)->OnSealed({0}).ok());
  ASSERT_TRUE((*handler)->OnEvent(0, testing::MakeAbandoned(second, t + 9000), t + 9000, out).ok());
  (*handler)->OnAborted();
  EXPECT_EQ(Sum(registry, "ccstream_contacts_offered_total"), 1);
  EXPECT_EQ(Sum(registry, "ccstream_contacts_abandoned_total"), 1);
  EXPECT_TRUE(TakeMovedOn(**handler).empty());
  EXPECT_FALSE(stored(second.contact_id));
  (*handler)->OnRevoked({0}, /*lost=*/false);
}

// The next batch's events do not wait for the last batch's local write, and read its records.
TEST_F(EngineHandlerTest, EventsGoOnWhileTheLastBatchIsWritten) {
  class NoSink : public runtime::OutcomeSink {
    void Record(const domain::Outcome&) override {}
  } sink;
  auto engine = domain::Engine::Create(config_.domain());
  ASSERT_TRUE(engine.ok()) << engine.status();
  runtime::TaskManager tasks(config_, std::move(*engine), sink);
  AssignAndAwait(tasks, {0});
  const testing::ContactRef contact;
  const int64_t t = 1'700'000'000'000;
  runtime::HandlerOutput out;
  ASSERT_TRUE(tasks.OnEvent(0, testing::MakeQueued(contact, t), t, out).ok());
  // The writer is held: the batch's write stays in flight.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  tasks.writer_for_testing().Post([released] { released.wait(); });
  ASSERT_TRUE(tasks.OnCommitted({{0, {1, -1}}}).ok());
  auto next = std::async(std::launch::async, [&] {
    runtime::HandlerOutput next_out;
    return tasks.OnEvent(0, testing::MakeAnswered(contact, t + 1000), t + 1000, next_out).ok() &&
           tasks.OnTick(0, t + 1000, next_out).ok();
  });
  const bool went_on = next.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  release.set_value();
  EXPECT_TRUE(went_on) << "the event waited for the write of the batch before";
  EXPECT_TRUE(next.get());
  ASSERT_TRUE(tasks.OnCommitted({{0, {2, -1}}}).ok());
  auto stored = tasks.task(0)->GetContact(contact.contact_id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->queued_ms(), t);  // the answer found the contact queued in flight
  EXPECT_EQ((*stored)->answered_ms(), t + 1000);
  tasks.OnRevoked({0}, /*lost=*/false);
}

// The value of the sample of `name` labelled `label`="`value`" (a counter's or a gauge's), or
// -1 when there is none.
double Sample(prometheus::Registry& registry, const std::string& name, const std::string& label,
              const std::string& value) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      for (const auto& pair : metric.label) {
        if (pair.name == label && pair.value == value) {
          return metric.counter.value + metric.gauge.value;
        }
      }
    }
  }
  return -1;
}

TEST_F(EngineHandlerTest, StateReadsCountTheCacheAndTheStoreOnceEach) {
  prometheus::Registry registry;
  auto handler = MakeEngineHandler(config_, registry);
  ASSERT_TRUE(handler.ok()) << handler.status();
  AssignAndAwait(**handler, {0});
  const testing::ContactRef contact;
  const int64_t t = 1'700'000'000'000;
  runtime::HandlerOutput out;
  // A new contact: read from the store (absent), then, after the commit, from the cache.
  ASSERT_TRUE((*handler)->OnEvent(0, testing::MakeQueued(contact, t), t, out).ok());
  ASSERT_TRUE((*handler)->OnCommitted({{0, {1, -1}}}).ok());
  ASSERT_TRUE((*handler)->OnEvent(0, testing::MakeAnswered(contact, t + 1000), t + 1000, out).ok());
  ASSERT_TRUE((*handler)->OnCommitted({{0, {2, -1}}}).ok());
  ASSERT_TRUE((*handler)->OnTick(0, t + 1000, out).ok());  // the first tick samples
  const double from_store = Sample(registry, "ccstream_state_reads_total", "source", "store");
  const double from_cache = Sample(registry, "ccstream_state_reads_total", "source", "cache");
  EXPECT_GE(from_store, 1);
  EXPECT_GE(from_cache, 1);
  // A later sample with no reads in between adds nothing: each read counts once.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE((*handler)->OnTick(0, t + 1000, out).ok());
  EXPECT_EQ(Sample(registry, "ccstream_state_reads_total", "source", "store"), from_store);
  EXPECT_EQ(Sample(registry, "ccstream_state_reads_total", "source", "cache"), from_cache);
  (*handler)->OnRevoked({0}, /*lost=*/false);
}

// The events of a run shared out over the engine threads are counted in the probe's
// ccstream_events_in_parallel_total (the recorder passes the count on).
TEST_F(EngineHandlerTest, EventsHandledInParallelAreCounted) {
  config_.mutable_processing()->set_threads(2);
  prometheus::Registry registry;
  auto handler = MakeEngineHandler(config_, registry);
  ASSERT_TRUE(handler.ok()) << handler.status();
  AssignAndAwait(**handler, {0, 1});
  const int64_t t = 1'700'000'000'000;
  std::vector<v1::ContactEvent> events;
  for (int i = 0; i < 32; ++i) events.push_back(testing::MakeQueued(testing::ContactRef(), t + i));
  std::vector<runtime::HandlerEvent> run;
  for (size_t i = 0; i < events.size(); ++i) {
    run.push_back({static_cast<int32_t>(i % 2), &events[i], t + static_cast<int64_t>(i)});
  }
  std::vector<runtime::HandlerOutput> outs(run.size());
  ASSERT_TRUE((*handler)->OnEvents(run, outs).ok());
  EXPECT_EQ(Sum(registry, "ccstream_events_in_parallel_total"), 32);
  (*handler)->OnRevoked({0, 1}, /*lost=*/false);
}

TEST_F(EngineHandlerTest, RocksDbMemoryIsSampledOnTheTick) {
  prometheus::Registry registry;
  auto handler = MakeEngineHandler(config_, registry);
  ASSERT_TRUE(handler.ok()) << handler.status();
  AssignAndAwait(**handler, {0});
  const int64_t t = 1'700'000'000'000;
  runtime::HandlerOutput out;
  for (int i = 0; i < 20; ++i) {
    const testing::ContactRef contact;
    ASSERT_TRUE((*handler)->OnEvent(0, testing::MakeQueued(contact, t + i), t + i, out).ok());
  }
  ASSERT_TRUE((*handler)->OnCommitted({{0, {20, -1}}}).ok());
  // The next commit waits for the batch's write (on the writer thread) before its own.
  ASSERT_TRUE((*handler)->OnCommitted({{0, {21, -1}}}).ok());
  ASSERT_TRUE((*handler)->OnTick(0, t + 20, out).ok());  // the first tick samples
  const double memtables = Sample(registry, "ccstream_rocksdb_memory_bytes", "kind", "memtables");
  // The batch's records are in a memtable, which is charged to the block cache.
  EXPECT_GT(memtables, 0);
  EXPECT_GE(Sample(registry, "ccstream_rocksdb_memory_bytes", "kind", "block_cache"), memtables);
  // Nothing was flushed to a table file yet: no table readers.
  EXPECT_EQ(Sample(registry, "ccstream_rocksdb_memory_bytes", "kind", "table_readers"), 0);
  (*handler)->OnRevoked({0}, /*lost=*/false);
}

TEST_F(EngineHandlerTest, OpenCasesGaugeFollowsTheTasksThisInstanceHolds) {
  const int64_t t = 1'700'000'000'000;
  const testing::ContactRef contact;
  {
    prometheus::Registry registry;
    auto handler = MakeEngineHandler(config_, registry);
    ASSERT_TRUE(handler.ok()) << handler.status();
    AssignAndAwait(**handler, {0});
    runtime::HandlerOutput out;
    ASSERT_TRUE((*handler)->OnEvent(0, testing::MakeComplaintLodged(contact, t), t, out).ok());
    ASSERT_TRUE((*handler)->OnCommitted({{0, {1, -1}}}).ok());
    // Committed deltas count once the stored cases of every task taken over are counted.
    AwaitOpenCaseCounts(**handler);
    EXPECT_EQ(Sum(registry, "ccstream_cases_open"), 1);
    (*handler)->OnRevoked({0}, /*lost=*/false);  // the task goes: so does its open case
    EXPECT_EQ(Sum(registry, "ccstream_cases_open"), 0);
    AssignAndAwait(**handler, {0});  // and comes back
    AwaitOpenCaseCounts(**handler);
    EXPECT_EQ(Sum(registry, "ccstream_cases_open"), 1);
    (*handler)->OnRevoked({0}, /*lost=*/false);
  }
  // A new process (a restart) counts the case it finds in the store.
  prometheus::Registry registry;
  auto restarted = MakeEngineHandler(config_, registry);
  ASSERT_TRUE(restarted.ok());
  AssignAndAwait(**restarted, {0});
  AwaitOpenCaseCounts(**restarted);
  EXPECT_EQ(Sum(registry, "ccstream_cases_open"), 1);
  (*restarted)->OnRevoked({0}, /*lost=*/true);
  EXPECT_EQ(Sum(registry, "ccstream_cases_open"), 0);
}

TEST_F(EngineHandlerTest, OpenCasesCountedInTheBackgroundAddUpWithCasesOpenedMeanwhile) {
  const int64_t t = 1'700'000'000'000;
  constexpr int kStored = 300;
  auto customer = [](int i) {
    testing::ContactRef ref;
    ref.contact_id = "contact-" + std::to_string(i);
    ref.customer_id = "customer-" + std::to_string(i);
    return ref;
  };
  {
    prometheus::Registry registry;
    auto handler = MakeEngineHandler(config_, registry);
    ASSERT_TRUE(handler.ok()) << handler.status();
    AssignAndAwait(**handler, {0});
    runtime::HandlerOutput out;
    for (int i = 0; i < kStored; ++i) {
      ASSERT_TRUE(
          (*handler)->OnEvent(0, testing::MakeComplaintLodged(customer(i), t + i), t, out).ok());
    }
    ASSERT_TRUE((*handler)->OnCommitted({{0, {kStored, -1}}}).ok());
    AwaitOpenCaseCounts(**handler);
    EXPECT_EQ(Sum(registry, "ccstream_cases_open"), kStored);
    (*handler)->OnRevoked({0}, /*lost=*/false);
  }
  // A restart: the stored cases are counted on another thread while the first batch opens two
  // more and commits. The count reads the store as it was when the task became active, so the
  // cases of that batch are counted once, by their committed deltas.
  prometheus::Registry registry;
  auto restarted = MakeEngineHandler(config_, registry);
  ASSERT_TRUE(restarted.ok());
  AssignAndAwait(**restarted, {0});
  runtime::HandlerOutput out;
  for (int i = kStored; i < kStored + 2; ++i) {
    ASSERT_TRUE(
        (*restarted)->OnEvent(0, testing::MakeComplaintLodged(customer(i), t + i), t, out).ok());
  }
  ASSERT_TRUE((*restarted)->OnCommitted({{0, {kStored + 2, -1}}}).ok());
  EXPECT_GE(Sum(registry, "ccstream_cases_open"), 0);
  AwaitOpenCaseCounts(**restarted);
  EXPECT_EQ(Sum(registry, "ccstream_cases_open"), kStored + 2);
  (*restarted)->OnRevoked({0}, /*lost=*/false);
  EXPECT_EQ(Sum(registry, "ccstream_cases_open"), 0);
  // Let go at once after a takeover, the task waits for its count before taking it away.
  AssignAndAwait(**restarted, {0});
  (*restarted)->OnRevoked({0}, /*lost=*/false);
  EXPECT_EQ(Sum(registry, "ccstream_cases_open"), 0);
  AssignAndAwait(**restarted, {0});
  AwaitOpenCaseCounts(**restarted);
  EXPECT_EQ(Sum(registry, "ccstream_cases_open"), kStored + 2);
  (*restarted)->OnRevoked({0}, /*lost=*/false);
}

}  // namespace
}  // namespace ccstream::cli
