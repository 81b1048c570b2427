// AT_LEAST_ONCE against a real broker: a batch that ends is sealed (its state set aside) and the
// next one runs while Kafka acknowledges the sealed batch's outputs; its offsets and its local
// write follow the acknowledgements. A failed delivery aborts the sealed batch with the one
// after it: both are read again from the sealed one's start, and neither's state survives.
//
// A drain reads again what an abort at its last commit rewound.
//
// With the engine and the tasks' stores: generated traffic processed in AT_LEAST_ONCE with small
// batches and failed deliveries along the way ends with the same stores (every family of every
// task) as the same traffic processed in EXACTLY_ONCE without a failure.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "processor/domain/engine.h"
#include "processor/gen/generator.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/pipeline.h"
#include "processor/runtime/task_manager.h"
#include "prometheus/registry.h"
#include "state/task_store.h"
#include "tests/kafka/broker_env.h"

namespace ccstream {
namespace {

using namespace std::chrono_literals;
using runtime::HandlerOutput;

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// Points `kafka` at the test broker with the topics and group of `run` (created, `partitions`
// each).
void UseTopics(v1::KafkaConfig& kafka, const std::string& run, int partitions) {
  kafka.set_bootstrap_servers(TestBootstrapServers());
  kafka.set_input_topic(absl::StrCat("alo-events-", run));
  kafka.set_alerts_topic(absl::StrCat("alo-alerts-", run));
  kafka.set_dead_letter_topic(absl::StrCat("alo-dead-", run));
  kafka.set_changelog_topic(absl::StrCat("alo-changelog-", run));
  kafka.set_group_id(absl::StrCat("alo-group-", run));
  kafka.set_group_instance_id("");
  kafka.set_client_id(absl::StrCat("alo-", run));
  for (const std::string& topic : {kafka.input_topic(), kafka.alerts_topic(),
                                   kafka.dead_letter_topic(), kafka.changelog_topic()}) {
    ASSERT_TRUE(kafka::CreateTopic(kafka, topic, partitions, {}, 30'000).ok()) << topic;
  }
}

void ProduceEvents(const v1::KafkaConfig& kafka, const std::vector<v1::ContactEvent>& events) {
  auto producer =
      kafka::SimpleProducer::Create(kafka::ProducerProperties(kafka, /*transactional=*/false));
  ASSERT_TRUE(producer.ok()) << producer.status();
  for (const v1::ContactEvent& e : events) {
    ASSERT_TRUE((*producer)
                    ->Produce({kafka.input_topic(), e.customer_id(), e.SerializeAsString(), {}})
                    .ok());
  }
  ASSERT_TRUE((*producer)->Flush(60'000).ok());
}

// `count` chat turns of one customer, `per_contact` to a contact, a millisecond apart.
std::vector<v1::ContactEvent> CustomerTurns(int count, int per_contact) {
  std::vector<v1::ContactEvent> events;
  const int64_t start_ms = NowMs() - 600'000;
  for (int i = 0; i < count; ++i) {
    v1::ContactEvent e;
    e.set_event_id(absl::StrCat("ev-", i));
    e.set_contact_id(absl::StrCat("contact-", i / per_contact));
    e.set_customer_id("cust-1");
    e.set_channel(v1::CHAT);
    e.set_queue("billing");
    e.set_event_time_ms(start_ms + i);
    e.mutable_turn()->set_speaker(v1::CUSTOMER);
    e.mutable_turn()->set_text("where is my refund?");
    events.push_back(std::move(e));
  }
  return events;
}

// Runs `pipeline` on a thread until `done()` (or a deadline), then stops it; returns Run's
// result.
absl::Status RunUntil(runtime::Pipeline& pipeline, const std::function<bool()>& done) {
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread runner([&] { result = pipeline.Run(stop); });
  const auto deadline = std::chrono::steady_clock::now() + 180s;
  while (std::chrono::steady_clock::now() < deadline && !done()) {
    std::this_thread::sleep_for(20ms);
  }
  stop = true;
  runner.join();
  return result;
}

// Keeps the three layers of a task's state as the pipeline drives them: the open batch's
// events, the sealed batch's, and how often each event reached the committed state.
class LayeredHandler : public runtime::EventHandler {
 public:
  absl::Status OnEvent(int32_t, const v1::ContactEvent& event, int64_t,
                       HandlerOutput& out) override {
    open_.push_back(event.event_id());
    ++handled;
    // One output per event, which Kafka acknowledges (or, by the test hook, not).
    v1::Alert alert;
    alert.set_alert_id(absl::StrCat("alert-", event.event_id()));
    alert.set_contact_id(event.contact_id());
    alert.set_event_time_ms(event.event_time_ms());
    out.alerts.push_back(std::move(alert));
    return absl::OkStatus();
  }
  absl::Status OnSealed(const std::vector<int32_t>&) override {
    if (has_sealed_) return absl::FailedPreconditionError("sealed before the last seal committed");
    sealed_ = std::move(open_);
    open_.clear();
    has_sealed_ = true;
    return absl::OkStatus();
  }
  absl::Status OnCommitted(const std::map<int32_t, runtime::CommittedOffsets>&) override {
    if (!has_sealed_) return absl::FailedPreconditionError("committed without a sealed batch");
    for (const std::string& id : sealed_) ++committed[id];
    committed_events += static_cast<int64_t>(sealed_.size());
    sealed_.clear();
    has_sealed_ = false;
    return absl::OkStatus();
  }
  void OnAborted() override {
    if (has_sealed_ && !open_.empty()) ++aborted_with_open_batch;
    open_.clear();
    sealed_.clear();
    has_sealed_ = false;
  }
  std::map<std::string, int> committed;  // read after the run
  std::atomic<int64_t> committed_events{0};
  std::atomic<int64_t> handled{0};
  int aborted_with_open_batch = 0;

 private:
  std::vector<std::string> open_;
  std::vector<std::string> sealed_;
  bool has_sealed_ = false;
};

TEST(AtLeastOnceTest, AFailedDeliveryAbortsTheSealedBatchWithTheOneAfterIt) {
  constexpr int kEvents = 2'000;
  v1::ProcessorConfig config;
  UseTopics(*config.mutable_kafka(), absl::StrCat("layers-", NowMs()), 1);
  config.mutable_processing()->set_guarantee(v1::ProcessingConfig::AT_LEAST_ONCE);
  config.mutable_processing()->set_clock(v1::ProcessingConfig::EVENT_TIME);
  config.mutable_processing()->set_max_batch_events(20);
  config.mutable_processing()->set_commit_interval_ms(5);
  config.mutable_processing()->set_catch_up_interval_ms(0);
  const std::vector<v1::ContactEvent> events = CustomerTurns(kEvents, 4);
  ProduceEvents(config.kafka(), events);

  LayeredHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  runtime::PipelineOptions options;
  int acknowledged = 0;
  options.fail_delivery_for_testing = [&] {
    ++acknowledged;
    return acknowledged == 4 || acknowledged == 9 || acknowledged == 15;
  };
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const absl::Status result =
      RunUntil(**pipeline, [&] { return handler.committed_events.load() >= kEvents; });
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ((*pipeline)->stats().aborts.load(), 3);
  // Each abort found the batch after the sealed one under way: both went.
  EXPECT_EQ(handler.aborted_with_open_batch, 3);
  EXPECT_GT(handler.handled.load(), kEvents) << "no event was read again";
  ASSERT_EQ(handler.committed.size(), static_cast<size_t>(kEvents));
  for (const auto& [id, count] : handler.committed) {
    ASSERT_EQ(count, 1) << id << " reached the committed state " << count << " times";
  }
  pipeline->reset();

  // The offsets committed are those of the batches committed: a new pipeline of the group gets
  // only what came after.
  ProduceEvents(config.kafka(), {events[0]});
  LayeredHandler after;
  auto second = runtime::Pipeline::Create(config, after, probe);
  ASSERT_TRUE(second.ok()) << second.status();
  const absl::Status second_result =
      RunUntil(**second, [&] { return after.committed_events.load() >= 1; });
  EXPECT_TRUE(second_result.ok()) << second_result;
  std::this_thread::sleep_for(500ms);  // a record read again, if any, shows up meanwhile
  EXPECT_EQ(after.handled.load(), 1);
}

// A drain (replays, the demo) ends only once everything read is committed: a failed delivery of
// the last sealed batch, found as the drain commits it, rewinds it and the drain reads it again.
TEST(AtLeastOnceTest, ADrainReadsAgainWhatTheLastCommitAborted) {
  constexpr int kEvents = 100;
  v1::ProcessorConfig config;
  UseTopics(*config.mutable_kafka(), absl::StrCat("drain-", NowMs()), 1);
  config.mutable_processing()->set_guarantee(v1::ProcessingConfig::AT_LEAST_ONCE);
  config.mutable_processing()->set_clock(v1::ProcessingConfig::EVENT_TIME);
  config.mutable_processing()->set_commit_interval_ms(500);  // one batch holds them all
  const std::vector<v1::ContactEvent> events = CustomerTurns(kEvents, 1);
  ProduceEvents(config.kafka(), events);
  LayeredHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  runtime::PipelineOptions options;
  std::atomic<bool> drain{true};
  options.drain_when = &drain;
  int acknowledged = 0;
  options.fail_delivery_for_testing = [&] { return ++acknowledged == 1; };
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::atomic<bool> stop{false};
  const absl::Status result = (*pipeline)->Run(stop);
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ((*pipeline)->stats().aborts.load(), 1);
  EXPECT_GE(acknowledged, 2);
  EXPECT_EQ(handler.handled.load(), 2 * kEvents);
  ASSERT_EQ(handler.committed.size(), static_cast<size_t>(kEvents))
      << "the drain ended without what the aborted commit held";
  for (const auto& [id, count] : handler.committed) EXPECT_EQ(count, 1) << id;
}

// Every record of every family of the task's store at `path`.
std::map<std::string, std::string> ReadStore(const std::string& path) {
  std::map<std::string, std::string> out;
  auto store = state::TaskStore::Open(path);
  EXPECT_TRUE(store.ok()) << path << ": " << store.status();
  if (!store.ok()) return out;
  for (const state::Family family : {state::Family::kContacts, state::Family::kCases,
                                     state::Family::kCustomers, state::Family::kTimers}) {
    const absl::Status s =
        (*store)->Scan(family, "", [&](std::string_view key, std::string_view value) {
          out[state::ChangelogKey(family, key)] = std::string(value);
          return true;
        });
    EXPECT_TRUE(s.ok()) << s;
  }
  return out;
}

class NoSink : public runtime::OutcomeSink {
 public:
  void Record(const domain::Outcome&) override {}
};

TEST(AtLeastOnceTest, WithFailedDeliveriesTheStoresEndAsInExactlyOnce) {
  constexpr int kPartitions = 2;
  std::vector<v1::ContactEvent> events;
  {
    gen::GeneratorOptions options;
    options.seed = 5;
    options.max_events = 4'000;
    options.events_per_second = 200;
    options.num_customers = 300;
    options.escalating_fraction = 0.25;
    options.start_time_ms = NowMs() - 3'600'000;
    gen::Generator generator(options);
    while (auto e = generator.Next()) events.push_back(std::move(*e));
  }
  ASSERT_GT(events.size(), 1'000u);
  const std::string run = absl::StrCat("stores-", NowMs());
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / absl::StrCat("ccstream-alo-", run);
  std::filesystem::remove_all(dir);

  // Drains the traffic in `guarantee` mode on topics of its own; returns each task's store.
  auto process = [&](v1::ProcessingConfig::Guarantee guarantee,
                     const runtime::PipelineOptions& options) {
    std::vector<std::map<std::string, std::string>> stores(kPartitions);
    v1::ProcessorConfig config;
    const std::string name = v1::ProcessingConfig::Guarantee_Name(guarantee);
    UseTopics(*config.mutable_kafka(), absl::StrCat(run, "-", name), kPartitions);
    config.mutable_processing()->set_guarantee(guarantee);
    config.mutable_processing()->set_clock(v1::ProcessingConfig::EVENT_TIME);
    if (guarantee == v1::ProcessingConfig::AT_LEAST_ONCE) {
      config.mutable_processing()->set_max_batch_events(25);
      config.mutable_processing()->set_commit_interval_ms(5);
      config.mutable_processing()->set_catch_up_interval_ms(0);
    }
    config.mutable_domain()->set_pseudonymisation_key("alo-test-key-0123456789abcdef0123");
    config.mutable_state()->set_dir((dir / name).string());
    ProduceEvents(config.kafka(), events);
    auto engine = domain::Engine::Create(config.domain());
    EXPECT_TRUE(engine.ok()) << engine.status();
    if (!engine.ok()) return stores;
    NoSink sink;
    std::vector<std::string> paths;
    {
      runtime::TaskManager tasks(config, std::move(*engine), sink);
      for (int32_t p = 0; p < kPartitions; ++p) paths.push_back(tasks.TaskPath(p));
      prometheus::Registry registry;
      runtime::PipelineProbe probe(registry);
      std::atomic<bool> drain{true};
      runtime::PipelineOptions drained = options;
      drained.drain_when = &drain;
      auto pipeline = runtime::Pipeline::Create(config, tasks, probe, drained);
      EXPECT_TRUE(pipeline.ok()) << pipeline.status();
      if (!pipeline.ok()) return stores;
      std::atomic<bool> stop{false};
      const absl::Status result = (*pipeline)->Run(stop);
      EXPECT_TRUE(result.ok()) << result;
      EXPECT_GE((*pipeline)->stats().events.load(), static_cast<int64_t>(events.size()));
    }
    for (int32_t p = 0; p < kPartitions; ++p) stores[p] = ReadStore(paths[p]);
    return stores;
  };

  const auto reference = process(v1::ProcessingConfig::EXACTLY_ONCE, {});
  runtime::PipelineOptions failing;
  int acknowledged = 0;
  int failed = 0;
  failing.fail_delivery_for_testing = [&] {
    ++acknowledged;
    const bool fail = acknowledged % 7 == 3;
    failed += fail ? 1 : 0;
    return fail;
  };
  const auto at_least_once = process(v1::ProcessingConfig::AT_LEAST_ONCE, failing);
  EXPECT_GE(failed, 3) << "too few batches to fail some";
  for (int32_t p = 0; p < kPartitions; ++p) {
    EXPECT_FALSE(reference[p].empty()) << "partition " << p;
    EXPECT_EQ(at_least_once[p].size(), reference[p].size()) << "partition " << p;
    EXPECT_TRUE(at_least_once[p] == reference[p])
        << "partition " << p << ": the AT_LEAST_ONCE store differs from the EXACTLY_ONCE one";
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ccstream
