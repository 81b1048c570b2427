// The foundation's promise against a real broker: every good event reaches the engine exactly
// once, every bad record lands in the dead-letter topic with its reason and original bytes,
// and a restart resumes after the last committed offset.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafkacpp.h"
#include "processor/ingest/validate.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/pipeline.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "tests/kafka/broker_env.h"
#include "tests/kafka/committed_reader.h"
#include "tests/kafka/group_offsets.h"
#include "tests/support/metric_value.h"
#include "tests/support/wait_for.h"

namespace ccstream {
namespace {

using ccstream::testing::MetricValue;
using runtime::HandlerOutput;

// Records every event the pipeline hands over.
class RecordingHandler : public runtime::EventHandler {
 public:
  absl::Status OnEvent(int32_t, const v1::ContactEvent& event, int64_t, HandlerOutput&) override {
    ++seen[event.event_id()];
    ++total;
    return absl::OkStatus();
  }
  std::map<std::string, int> seen;
  std::atomic<int64_t> total{0};
};

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

v1::ContactEvent GoodEvent(int i) {
  v1::ContactEvent e;
  e.set_event_id(absl::StrCat("ev-", i));
  e.set_contact_id(absl::StrCat("contact-", i / 4));
  e.set_customer_id(absl::StrCat("cust-", i % 97));
  e.set_channel(v1::CHAT);
  e.set_queue("billing");
  e.set_event_time_ms(NowMs() - 600'000 + i % 100'000);
  auto* turn = e.mutable_turn();
  turn->set_speaker(v1::CUSTOMER);
  turn->set_text("where is my refund?");
  return e;
}

// A bad record of kind `k` and the reason the pipeline must give.
std::pair<std::string, std::string> BadRecord(int k, int i) {
  v1::ContactEvent e = GoodEvent(1'000'000 + i);
  switch (k) {
    case 0:
      return {std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12), "undecodable"};
    case 1:
      e.clear_event_id();
      return {e.SerializeAsString(), "missing_event_id"};
    case 2:
      e.clear_contact_id();
      return {e.SerializeAsString(), "missing_contact_id"};
    case 3:
      e.clear_customer_id();
      return {e.SerializeAsString(), "missing_customer_id"};
    case 4:
      e.clear_event_time_ms();
      return {e.SerializeAsString(), "missing_event_time"};
    case 5:
      e.set_event_time_ms(915'148'800'000);
      return {e.SerializeAsString(), "event_time_too_old"};
    case 6:
      e.set_event_time_ms(NowMs() + 86'400'000);
      return {e.SerializeAsString(), "event_time_in_future"};
    case 7:
      e.clear_payload();
      return {e.SerializeAsString(), "unknown_payload"};
    case 8:
      e.mutable_turn()->set_text(std::string((1 << 20) + 10, 'x'));
      return {e.SerializeAsString(), "oversized"};
    default:
      e.mutable_survey()->set_csat(9);
      return {e.SerializeAsString(), "invalid_field"};
  }
}

class PipelineIntegrationTest : public ::testing::TestWithParam<v1::ProcessingConfig::Guarantee> {
 protected:
  void SetUp() override {
    const std::string run =
        absl::StrCat(v1::ProcessingConfig::Guarantee_Name(GetParam()), "-", NowMs());
    auto* kafka = config_.mutable_kafka();
    kafka->set_bootstrap_servers(TestBootstrapServers());
    kafka->set_input_topic(absl::StrCat("it-events-", run));
    kafka->set_alerts_topic(absl::StrCat("it-alerts-", run));
    kafka->set_dead_letter_topic(absl::StrCat("it-dead-", run));
    kafka->set_group_id(absl::StrCat("it-group-", run));
    kafka->set_group_instance_id("");
    kafka->set_client_id(absl::StrCat("it-", run));
    config_.mutable_processing()->set_guarantee(GetParam());
    const kafka::Properties big = {{"max.message.bytes", "16777216"}};
    ASSERT_TRUE(kafka::CreateTopic(*kafka, kafka->input_topic(), 4, big, 30'000).ok());
    ASSERT_TRUE(kafka::CreateTopic(*kafka, kafka->alerts_topic(), 2, {}, 30'000).ok());
    ASSERT_TRUE(kafka::CreateTopic(*kafka, kafka->dead_letter_topic(), 1, big, 30'000).ok());
  }

  void Produce(const std::vector<kafka::Record>& records) {
    auto producer = kafka::SimpleProducer::Create(
        kafka::ProducerProperties(config_.kafka(), /*transactional=*/false));
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (const kafka::Record& r : records) ASSERT_TRUE((*producer)->Produce(r).ok());
    ASSERT_TRUE((*producer)->Flush(60'000).ok());
  }

  // Runs a pipeline until `want_events` events and `want_dead` dead letters were handled.
  void RunUntil(RecordingHandler& handler, int64_t want_events, int64_t want_dead,
                const runtime::PipelineOptions& options = {}) {
    prometheus::Registry registry;
    runtime::PipelineProbe probe(registry);
    auto pipeline = runtime::Pipeline::Create(config_, handler, probe, options);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    std::atomic<bool> stop{false};
    absl::Status result;
    std::thread runner([&] { result = (*pipeline)->Run(stop); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    while (std::chrono::steady_clock::now() < deadline &&
           (handler.total.load() < want_events ||
            (*pipeline)->stats().dead_letters.load() < want_dead)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // Give a duplicate, if the pipeline were to deliver one, the chance to show up.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
    runner.join();
    EXPECT_TRUE(result.ok()) << result;
    EXPECT_EQ((*pipeline)->stats().dead_letters.load(), want_dead);
  }

  v1::ProcessorConfig config_;
};

TEST_P(PipelineIntegrationTest, GoodEventsOnceBadOnesDeadLetteredRestartResumes) {
  constexpr int kTotal = 10'000;
  constexpr int kBad = 100;
  std::mt19937 rng(42);
  std::set<int> bad_positions;
  while (bad_positions.size() < kBad) bad_positions.insert(static_cast<int>(rng() % kTotal));

  std::vector<kafka::Record> records;
  std::set<std::string> good_ids;
  std::map<std::string, std::string> bad_reason_by_key;  // key → reason
  std::map<std::string, std::string> bad_bytes_by_key;
  int bad_index = 0;
  for (int i = 0; i < kTotal; ++i) {
    if (bad_positions.contains(i)) {
      auto [bytes, reason] = BadRecord(bad_index % 10, bad_index);
      const std::string key = absl::StrCat("bad-", bad_index++);
      bad_reason_by_key[key] = reason;
      bad_bytes_by_key[key] = bytes;
      records.push_back({config_.kafka().input_topic(), key, bytes, {}, -1});
      continue;
    }
    v1::ContactEvent e = GoodEvent(i);
    good_ids.insert(e.event_id());
    records.push_back(
        {config_.kafka().input_topic(), e.customer_id(), e.SerializeAsString(), {}, -1});
  }
  Produce(records);

  RecordingHandler first;
  RunUntil(first, kTotal - kBad, kBad);
  ASSERT_EQ(first.seen.size(), good_ids.size());
  for (const std::string& id : good_ids) {
    ASSERT_EQ(first.seen[id], 1) << "event " << id << " reached the engine " << first.seen[id]
                                 << " times";
  }

  // The dead letters, read as a read_committed consumer would.
  std::map<std::string, std::string> dead_reason_by_key;
  testing::CommittedReadOptions dead_letters;
  dead_letters.done = [&] { return dead_reason_by_key.size() >= kBad; };
  dead_letters.properties = {{"max.partition.fetch.bytes", "16777216"},
                             {"fetch.max.bytes", "67108864"},
                             {"receive.message.max.bytes", "100000000"}};
  EXPECT_TRUE(testing::ReadCommitted(
      config_.kafka().bootstrap_servers(), config_.kafka().dead_letter_topic(),
      [&](RdKafka::Message& m) {
        const std::string key = *m.key();
        RdKafka::Headers::Header reason = m.headers()->get_last("ccstream.reason");
        ASSERT_EQ(reason.err(), RdKafka::ERR_NO_ERROR) << "dead letter without a reason header";
        ASSERT_FALSE(m.headers()->get_last("ccstream.detail").err());
        EXPECT_EQ(std::string(static_cast<const char*>(m.payload()), m.len()),
                  bad_bytes_by_key[key])
            << "dead letter " << key << " does not carry the original bytes";
        EXPECT_FALSE(dead_reason_by_key.contains(key)) << "dead letter " << key << " twice";
        dead_reason_by_key[key] =
            std::string(static_cast<const char*>(reason.value()), reason.value_size());
      },
      dead_letters))
      << "the dead letters were not read to their end";
  EXPECT_EQ(dead_reason_by_key, bad_reason_by_key);

  // A restart resumes after the last committed offset: only the new events arrive.
  std::vector<kafka::Record> more;
  std::set<std::string> new_ids;
  for (int i = kTotal; i < kTotal + 500; ++i) {
    v1::ContactEvent e = GoodEvent(i);
    new_ids.insert(e.event_id());
    more.push_back({config_.kafka().input_topic(), e.customer_id(), e.SerializeAsString(), {}, -1});
  }
  Produce(more);
  RecordingHandler second;
  RunUntil(second, 500, 0);
  EXPECT_EQ(second.seen.size(), new_ids.size());
  for (const auto& [id, count] : second.seen) {
    EXPECT_TRUE(new_ids.contains(id)) << "restart re-delivered " << id;
    EXPECT_EQ(count, 1) << id;
  }
}

// A partition whose pause lost the race with its first fetch (librdkafka 2.0.2, under load)
// delivers records while its state restores: they are not handled then, and every one of them
// is handled once, after the restore.
class SlowRestoreHandler : public RecordingHandler {
 public:
  absl::Status OnEvent(int32_t partition, const v1::ContactEvent& event, int64_t now_ms,
                       HandlerOutput& out) override {
    if (!ready_.contains(partition)) ++before_ready;
    return RecordingHandler::OnEvent(partition, event, now_ms, out);
  }
  absl::Status OnAssigned(const std::vector<int32_t>&) override {
    if (on_assigned) on_assigned();
    assigned_at_ = std::chrono::steady_clock::now();
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<int32_t>> TakeRestored(
      const std::vector<int32_t>& restoring) override {
    if (std::chrono::steady_clock::now() - assigned_at_ < std::chrono::milliseconds(1500)) {
      return std::vector<int32_t>();
    }
    ready_.insert(restoring.begin(), restoring.end());
    return restoring;
  }
  int before_ready = 0;
  std::function<void()> on_assigned;  // on the pipeline's thread, as the restore begins

 private:
  std::chrono::steady_clock::time_point assigned_at_;
  std::set<int32_t> ready_;
};

TEST_P(PipelineIntegrationTest, RecordsDeliveredWhileRestoringAreHandledOnceAfterIt) {
  std::vector<kafka::Record> records;
  for (int i = 0; i < 2'000; ++i) {
    v1::ContactEvent e = GoodEvent(i);
    records.push_back(
        {config_.kafka().input_topic(), e.customer_id(), e.SerializeAsString(), {}, -1});
  }
  // Half before the assignment, half while the partitions restore: a partition waits at its
  // end until its state is restored, so only these come while it restores.
  const std::vector<kafka::Record> later(records.begin() + 1'000, records.end());
  records.resize(1'000);
  Produce(records);
  SlowRestoreHandler handler;
  std::thread producing;
  handler.on_assigned = [&] {
    if (producing.joinable()) return;
    producing = std::thread([&] {
      // In ten parts, 100 ms apart, within the restore's 1.5 s: a partition starts fetching at
      // its end once librdkafka knows its leader, which may take a moment.
      for (size_t part = 0; part < 10; ++part) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        Produce({later.begin() + static_cast<std::ptrdiff_t>(part * later.size() / 10),
                 later.begin() + static_cast<std::ptrdiff_t>((part + 1) * later.size() / 10)});
      }
    });
  };
  runtime::PipelineOptions options;
  options.skip_pause_on_assign_for_testing = true;
  RunUntil(handler, 2'000, 0, options);
  producing.join();
  EXPECT_EQ(handler.before_ready, 0);
  EXPECT_EQ(handler.seen.size(), 2'000u);
  for (const auto& [id, count] : handler.seen) EXPECT_EQ(count, 1) << id;
}

// Event time: the clock handed to OnTick never runs ahead of the events that count. After an
// abort the offsets rewind to the last commit, and so must the stream clock: a tick between the
// rewind and the re-read must not fire timers that the reference run fires only after (or never
// before) the events read again.
class ClockCheckingHandler : public runtime::EventHandler {
 public:
  absl::Status OnEvent(int32_t, const v1::ContactEvent& event, int64_t, HandlerOutput&) override {
    batch_max = std::max(batch_max, event.event_time_ms());
    ++total;
    return absl::OkStatus();
  }
  absl::Status OnTick(int32_t, int64_t now_ms, HandlerOutput&) override {
    if (now_ms > std::max(committed_max.load(), batch_max)) ++ahead;
    return absl::OkStatus();
  }
  absl::Status OnCommitted(const std::map<int32_t, runtime::CommittedOffsets>&) override {
    committed_max = std::max(committed_max.load(), batch_max);
    return absl::OkStatus();
  }
  void OnAborted() override {
    batch_max = committed_max;
    ++aborts;
  }
  std::atomic<int64_t> committed_max{0};
  int64_t batch_max = 0;
  int ahead = 0;
  int aborts = 0;
  std::atomic<int64_t> total{0};
};

// Points `kafka` at the test broker with the topics and group of `run`, and creates its four
// topics with one partition each.
absl::Status UseOnePartitionTopics(v1::KafkaConfig& kafka, const std::string& run) {
  kafka.set_bootstrap_servers(TestBootstrapServers());
  kafka.set_input_topic(absl::StrCat("it-events-", run));
  kafka.set_alerts_topic(absl::StrCat("it-alerts-", run));
  kafka.set_dead_letter_topic(absl::StrCat("it-dead-", run));
  kafka.set_changelog_topic(absl::StrCat("it-changelog-", run));
  kafka.set_group_id(absl::StrCat("it-group-", run));
  kafka.set_client_id(absl::StrCat("it-", run));
  for (const std::string& topic : {kafka.input_topic(), kafka.alerts_topic(),
                                   kafka.dead_letter_topic(), kafka.changelog_topic()}) {
    if (absl::Status s = kafka::CreateTopic(kafka, topic, 1, {}, 30'000); !s.ok()) return s;
  }
  return absl::OkStatus();
}

TEST(PipelineEventTimeTest, AnAbortRewindsTheStreamClockWithTheOffsets) {
  v1::ProcessorConfig config;
  auto* kafka = config.mutable_kafka();
  ASSERT_TRUE(UseOnePartitionTopics(*kafka, absl::StrCat("clock-", NowMs())).ok());
  config.mutable_processing()->set_clock(v1::ProcessingConfig::EVENT_TIME);
  config.mutable_processing()->set_max_batch_events(20);
  config.mutable_processing()->set_commit_interval_ms(5);    // ticks come between few records
  config.mutable_processing()->set_catch_up_interval_ms(0);  // also while the backlog lasts
  {
    auto producer =
        kafka::SimpleProducer::Create(kafka::ProducerProperties(*kafka, /*transactional=*/false));
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int i = 0; i < 200; ++i) {
      v1::ContactEvent e = GoodEvent(i);
      e.set_event_time_ms(NowMs() - 600'000 + i * 1000);  // rising: the clock moves with them
      ASSERT_TRUE(
          (*producer)->Produce({kafka->input_topic(), "k", e.SerializeAsString(), {}}).ok());
    }
    ASSERT_TRUE((*producer)->Flush(60'000).ok());
  }
  ClockCheckingHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  runtime::PipelineOptions options;
  int commits = 0;
  options.abort_commit_for_testing = [&] {
    ++commits;
    return commits == 3 || commits == 6;  // two batches aborted on their first try
  };
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread runner([&] { result = (*pipeline)->Run(stop); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline && handler.committed_max == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  while (std::chrono::steady_clock::now() < deadline && (*pipeline)->stats().batches.load() < 12) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a few more ticks
  stop = true;
  runner.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(handler.aborts, 2);
  EXPECT_GE(handler.total.load(), 200);  // every event, the aborted ones twice
  EXPECT_EQ(handler.ahead, 0) << "OnTick got a clock ahead of the events that count";
}

// On the wall clock, due timers are looked for within a batch too (every few milliseconds,
// between two records or empty polls), not only at its end: a timer is not held back by the
// commit interval, and firing them does not pause the reading at the end of every batch.
class TickCountingHandler : public runtime::EventHandler {
 public:
  absl::Status OnEvent(int32_t, const v1::ContactEvent&, int64_t, HandlerOutput&) override {
    ++events;
    return absl::OkStatus();
  }
  absl::Status OnTick(int32_t, int64_t, HandlerOutput&) override {
    ++ticks;
    return absl::OkStatus();
  }
  std::atomic<int> events{0};
  std::atomic<int> ticks{0};
};

TEST(PipelineWallClockTest, DueTimersAreLookedForWithinABatch) {
  v1::ProcessorConfig config;
  auto* kafka = config.mutable_kafka();
  ASSERT_TRUE(UseOnePartitionTopics(*kafka, absl::StrCat("ticks-", NowMs())).ok());
  config.mutable_processing()->set_clock(v1::ProcessingConfig::WALL_CLOCK);
  config.mutable_processing()->set_commit_interval_ms(10'000);
  config.mutable_processing()->set_poll_timeout_ms(10);
  TickCountingHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  auto pipeline = runtime::Pipeline::Create(config, handler, probe);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread runner([&] { result = (*pipeline)->Run(stop); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && handler.ticks.load() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Within one 10 s batch: ticks every few ms (~200 in 2 s) rather than one at its end.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const int ticks = handler.ticks.load();
  stop = true;
  runner.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_GE(ticks, 20) << "the wall clock ticked only at the end of the batch";
}

// Publishes one alert per event, its id the event's; the alert of an event in `big` carries
// as many bytes of detail as given there, that do not compress.
class AlertingHandler : public runtime::EventHandler {
 public:
  explicit AlertingHandler(std::map<std::string, size_t> big = {}) : big(std::move(big)) {}
  absl::Status OnEvent(int32_t, const v1::ContactEvent& event, int64_t,
                       HandlerOutput& out) override {
    v1::Alert& alert = out.alerts.emplace_back();
    alert.set_alert_id(event.event_id());
    alert.set_kind(v1::ESCALATION);
    alert.set_contact_id(event.contact_id());
    if (const auto it = big.find(event.event_id()); it != big.end()) {
      std::mt19937 rng(7);
      std::string detail(it->second, ' ');
      for (char& c : detail) c = static_cast<char>('a' + rng() % 26);
      alert.add_reasons()->set_detail(detail);
    }
    handled.insert(event.event_id());
    ++total;
    return absl::OkStatus();
  }
  void OnAborted() override {
    if (on_aborted) on_aborted();
  }
  std::map<std::string, size_t> big;
  std::function<void()> on_aborted;  // called on the pipeline's thread at each abort
  std::set<std::string> handled;     // the ids of the events handled (on the pipeline's thread)
  std::atomic<int64_t> total{0};
};

// How often each alert id is on the (one-partition) alerts topic, read as a read_committed
// consumer reads it to its end.
std::map<std::string, int> CommittedAlertIds(const v1::KafkaConfig& kafka) {
  std::map<std::string, int> ids;
  testing::CommittedReadOptions options;
  options.partitions = {0};
  EXPECT_TRUE(testing::ReadCommitted(
      kafka.bootstrap_servers(), kafka.alerts_topic(),
      [&](RdKafka::Message& m) {
        v1::Alert alert;
        EXPECT_TRUE(alert.ParseFromArray(m.payload(), static_cast<int>(m.len())));
        ++ids[alert.alert_id()];
      },
      options))
      << "the alerts were not read to their end";
  return ids;
}

// The group's committed offset of the (one-partition) input topic; -1001 (OFFSET_INVALID) when
// none.
absl::StatusOr<int64_t> CommittedInputOffset(const v1::KafkaConfig& kafka) {
  auto conf = kafka::MakeConf(
      {{"bootstrap.servers", kafka.bootstrap_servers()}, {"group.id", kafka.group_id()}});
  if (!conf.ok()) return conf.status();
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> reader(
      RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!reader) return absl::InternalError(error);
  std::vector<RdKafka::TopicPartition*> partitions = {
      RdKafka::TopicPartition::create(kafka.input_topic(), 0)};
  const RdKafka::ErrorCode code = reader->committed(partitions, 30'000);
  const int64_t offset = partitions[0]->offset();
  const RdKafka::ErrorCode partition_code = partitions[0]->err();
  RdKafka::TopicPartition::destroy(partitions);
  reader->close();
  if (code != RdKafka::ERR_NO_ERROR || partition_code != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat(
        "committed: ", RdKafka::err2str(code != RdKafka::ERR_NO_ERROR ? code : partition_code)));
  }
  return offset;
}

// Sets one configuration of `topic` (AlterConfigs: the topic's other settings go back to the
// broker's defaults).
absl::Status SetTopicConfig(const v1::KafkaConfig& kafka, const std::string& topic,
                            const std::string& name, const std::string& value) {
  auto conf = kafka::MakeConf({{"bootstrap.servers", kafka.bootstrap_servers()}});
  if (!conf.ok()) return conf.status();
  std::string error;
  std::unique_ptr<RdKafka::Producer> admin(RdKafka::Producer::create(conf->get(), error));
  if (!admin) return absl::InternalError(error);
  rd_kafka_t* rk = admin->c_ptr();
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  rd_kafka_ConfigResource_set_config(resource, name.c_str(), value.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AlterConfigs(rk, &resource, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30'000);
  absl::Status status = absl::OkStatus();
  if (event == nullptr) {
    status = absl::DeadlineExceededError("alter configs: no answer");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = absl::UnavailableError(rd_kafka_event_error_string(event));
  } else {
    size_t count = 0;
    const rd_kafka_ConfigResource_t** results =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(event), &count);
    for (size_t i = 0; i < count; ++i) {
      if (rd_kafka_ConfigResource_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        status = absl::UnavailableError(rd_kafka_ConfigResource_error_string(results[i]));
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_ConfigResource_destroy(resource);
  return status;
}

// Runs `pipeline` on a thread of its own until `done` returns true or the pipeline stops, and
// returns its result.
absl::Status RunPipelineUntil(runtime::Pipeline& pipeline, const std::function<bool()>& done,
                              std::chrono::seconds limit = std::chrono::seconds(120)) {
  std::atomic<bool> stop{false};
  std::atomic<bool> stopped{false};
  absl::Status result;
  std::thread runner([&] {
    result = pipeline.Run(stop);
    stopped = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!stopped.load() && !done() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  runner.join();
  return result;
}

// An abort delivers the aborted batch's records before it aborts the transaction, as
// abort_transaction would: dropping them unsent left a gap in the producer's sequence numbers,
// the broker refused the next transaction's records (OUT_OF_ORDER_SEQUENCE_NUMBER), and that
// batch failed too. With a linger of a second, the aborted batch's alerts are still queued when
// the test hook aborts it.
TEST(PipelineAbortTest, TheBatchAfterAnAbortCommitsAtItsFirstTry) {
  v1::ProcessorConfig config;
  auto* kafka = config.mutable_kafka();
  ASSERT_TRUE(UseOnePartitionTopics(*kafka, absl::StrCat("gap-", NowMs())).ok());
  (*kafka->mutable_producer_properties())["linger.ms"] = "1000";
  config.mutable_processing()->set_max_batch_events(10);
  constexpr int kEvents = 40;
  {
    auto producer =
        kafka::SimpleProducer::Create(kafka::ProducerProperties(*kafka, /*transactional=*/false));
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int i = 0; i < kEvents; ++i) {
      ASSERT_TRUE((*producer)
                      ->Produce({kafka->input_topic(), "k", GoodEvent(i).SerializeAsString(), {}})
                      .ok());
    }
    ASSERT_TRUE((*producer)->Flush(60'000).ok());
  }
  AlertingHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  runtime::PipelineOptions options;
  std::atomic<int> commits{0};
  options.abort_commit_for_testing = [&] { return ++commits == 2; };
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const absl::Status result =
      RunPipelineUntil(**pipeline, [&] { return (*pipeline)->stats().alerts.load() >= kEvents; });
  ASSERT_TRUE(result.ok()) << result;
  EXPECT_EQ((*pipeline)->stats().alerts.load(), kEvents);
  EXPECT_EQ((*pipeline)->stats().aborts.load(), 1) << "the batch after the abort failed too";
  const std::map<std::string, int> ids = CommittedAlertIds(*kafka);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kEvents));
  for (const auto& [id, count] : ids) EXPECT_EQ(count, 1) << id;
}

// As UseOnePartitionTopics, with an alerts topic that takes records of at most 2 KiB, and each
// alert sent at once (linger.ms 0).
absl::Status UseTopicsOfSmallAlerts(v1::KafkaConfig& kafka, const std::string& run) {
  kafka.set_bootstrap_servers(TestBootstrapServers());
  if (absl::Status s = kafka::CreateTopic(kafka, absl::StrCat("it-alerts-", run), 1,
                                          {{"max.message.bytes", "2048"}}, 30'000);
      !s.ok()) {
    return s;
  }
  (*kafka.mutable_producer_properties())["linger.ms"] = "0";
  return UseOnePartitionTopics(kafka, run);
}

// Produces GoodEvent(0..events-1) to the input, one every 100 ms, once `pipeline` joined its
// group, on a thread of its own; calls `before(i)`, if given, before event i.
std::thread FeedOnceJoined(const runtime::Pipeline& pipeline, const v1::KafkaConfig& kafka,
                           int events, std::function<void(int)> before = nullptr) {
  return std::thread([&pipeline, kafka, events, before = std::move(before)] {
    auto producer =
        kafka::SimpleProducer::Create(kafka::ProducerProperties(kafka, /*transactional=*/false));
    ASSERT_TRUE(producer.ok()) << producer.status();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!pipeline.stats().joined.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (int i = 0; i < events; ++i) {
      if (before) before(i);
      ASSERT_TRUE((*producer)
                      ->Produce({kafka.input_topic(), "k", GoodEvent(i).SerializeAsString(), {}})
                      .ok());
      ASSERT_TRUE((*producer)->Flush(10'000).ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

// A record the broker refuses fails the transaction with an abortable error, and librdkafka
// then refuses the batch's further records (ERR__STATE): the batch aborts and is read again,
// as after a failed commit, instead of the pipeline stopping. Here the alerts topic takes
// records of at most 2 KiB until the test raises its limit, after the first abort; the events
// arrive one by one, so that a record follows the refusal within the transaction.
TEST(PipelineAbortTest, ARecordTheBrokerRefusesAbortsItsBatchWhichIsReadAgain) {
  v1::ProcessorConfig config;
  auto* kafka = config.mutable_kafka();
  const std::string run = absl::StrCat("refused-", NowMs());
  ASSERT_TRUE(UseTopicsOfSmallAlerts(*kafka, run).ok());
  config.mutable_processing()->set_commit_interval_ms(2'000);
  // However many aborts happen before the raised limit applies.
  config.mutable_processing()->set_max_refused_record_aborts(1'000);
  constexpr int kEvents = 20;
  AlertingHandler handler({{GoodEvent(3).event_id(), 8'192}});
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  auto pipeline = runtime::Pipeline::Create(config, handler, probe);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::thread feeder = FeedOnceJoined(**pipeline, *kafka, kEvents);
  bool raised = false;
  absl::Status raise = absl::OkStatus();
  const absl::Status result = RunPipelineUntil(**pipeline, [&] {
    if (!raised && (*pipeline)->stats().aborts.load() > 0) {
      raise = SetTopicConfig(*kafka, kafka->alerts_topic(), "max.message.bytes", "1048576");
      raised = true;
    }
    return (*pipeline)->stats().alerts.load() >= kEvents;
  });
  feeder.join();
  ASSERT_TRUE(raise.ok()) << raise;
  ASSERT_TRUE(result.ok()) << result;
  EXPECT_TRUE(raised) << "no batch aborted";
  EXPECT_GE((*pipeline)->stats().aborts.load(), 1);
  const std::map<std::string, int> ids = CommittedAlertIds(*kafka);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kEvents));
  for (const auto& [id, count] : ids) EXPECT_EQ(count, 1) << id;
}

// The aborts for refused records counted toward processing.max_refused_record_aborts are those in
// a row: a commit ends the streak. Limit 2; the alerts topic takes 2 KiB, raised at an abort
// (on the pipeline's thread, before the batch is read again) to 4 KiB, then, once event 7 was
// handled, to 1 MiB. Event 3's alert (3 KiB) is refused once, and commits; event 7, produced
// only once event 3's alert is committed, has an 8 KiB alert, refused once: counted with the
// first, the two would stop the pipeline. EXACTLY_ONCE.
TEST(PipelineAbortTest, ACommitEndsAStreakOfRefusedRecords) {
  v1::ProcessorConfig config;
  auto* kafka = config.mutable_kafka();
  const std::string run = absl::StrCat("streak-", NowMs());
  ASSERT_TRUE(UseTopicsOfSmallAlerts(*kafka, run).ok());
  config.mutable_processing()->set_max_refused_record_aborts(2);
  config.mutable_processing()->set_threads(1);
  constexpr int kEvents = 10;
  AlertingHandler handler({{GoodEvent(3).event_id(), 3'072}, {GoodEvent(7).event_id(), 8'192}});
  std::vector<absl::Status> raises;
  handler.on_aborted = [&] {
    if (!raises.empty() && !handler.handled.contains(GoodEvent(7).event_id())) return;
    raises.push_back(SetTopicConfig(*kafka, kafka->alerts_topic(), "max.message.bytes",
                                    raises.empty() ? "4096" : "1048576"));
    // The broker applies it once its metadata log has it.
    std::this_thread::sleep_for(std::chrono::seconds(1));
  };
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  auto pipeline = runtime::Pipeline::Create(config, handler, probe);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::thread feeder = FeedOnceJoined(**pipeline, *kafka, kEvents, [&](int i) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (i == 7 && (*pipeline)->stats().alerts.load() < 4 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const absl::Status result =
      RunPipelineUntil(**pipeline, [&] { return (*pipeline)->stats().alerts.load() >= kEvents; });
  feeder.join();
  ASSERT_TRUE(result.ok()) << result;
  // One abort for each refused record: the producer is renewed after the abort, or the next
  // transaction fails too (OUT_OF_ORDER_SEQUENCE_NUMBER).
  EXPECT_EQ((*pipeline)->stats().aborts.load(), 2);
  ASSERT_EQ(raises.size(), 2u) << "each big alert is refused once";
  for (const absl::Status& raise : raises) EXPECT_TRUE(raise.ok()) << raise;
  const std::map<std::string, int> ids = CommittedAlertIds(*kafka);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kEvents));
  for (const auto& [id, count] : ids) EXPECT_EQ(count, 1) << id;
}

// A record the broker refuses on every try: after processing.max_refused_record_aborts aborts in
// a row, none committed between, the pipeline stops with an error that names the record, and
// commits nothing past its batch. Once the cause is fixed (here the alerts topic's limit
// raised), the next start delivers every alert. In both guarantees (AT_LEAST_ONCE: a failed
// delivery aborts).
class RefusedOnEveryTryTest : public ::testing::TestWithParam<v1::ProcessingConfig::Guarantee> {};

TEST_P(RefusedOnEveryTryTest, StopsNamingTheRecordAndTheNextStartDeliversAll) {
  v1::ProcessorConfig config;
  auto* kafka = config.mutable_kafka();
  const std::string run = absl::StrCat("poison-", GetParam(), "-", NowMs());
  ASSERT_TRUE(UseTopicsOfSmallAlerts(*kafka, run).ok());
  config.mutable_processing()->set_guarantee(GetParam());
  config.mutable_processing()->set_max_refused_record_aborts(3);
  constexpr int kEvents = 10;
  const v1::ContactEvent poison = GoodEvent(3);
  {
    AlertingHandler handler({{poison.event_id(), 8'192}});
    prometheus::Registry registry;
    runtime::PipelineProbe probe(registry);
    auto pipeline = runtime::Pipeline::Create(config, handler, probe);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    std::thread feeder = FeedOnceJoined(**pipeline, *kafka, kEvents);
    const absl::Status result = RunPipelineUntil(**pipeline, [] { return false; });
    feeder.join();
    EXPECT_TRUE(absl::IsFailedPrecondition(result)) << result;
    for (const std::string& part : {std::string("max_refused_record_aborts"),
                                    absl::StrCat("topic ", kafka->alerts_topic(),
                                                 " partition 0 key \"", poison.contact_id(), "\""),
                                    std::string("Message size too large")}) {
      EXPECT_TRUE(absl::StrContains(result.message(), part)) << result << "\nlacks: " << part;
    }
    EXPECT_EQ((*pipeline)->stats().aborts.load(), 3);
  }
  // The input's offsets were committed up to the refused record's event at most (the events are
  // at offsets 0..kEvents-1), and its alert not at all.
  const absl::StatusOr<int64_t> committed = CommittedInputOffset(*kafka);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_LE(*committed, 3);
  const std::map<std::string, int> before = CommittedAlertIds(*kafka);
  EXPECT_FALSE(before.contains(poison.event_id()));
  ASSERT_TRUE(SetTopicConfig(*kafka, kafka->alerts_topic(), "max.message.bytes", "1048576").ok());
  AlertingHandler handler({{poison.event_id(), 8'192}});
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  auto pipeline = runtime::Pipeline::Create(config, handler, probe);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  // Those of the events not committed before (OFFSET_INVALID: none was).
  const int64_t redone = kEvents - std::max<int64_t>(*committed, 0);
  const absl::Status result =
      RunPipelineUntil(**pipeline, [&] { return (*pipeline)->stats().alerts.load() >= redone; });
  ASSERT_TRUE(result.ok()) << result;
  const std::map<std::string, int> ids = CommittedAlertIds(*kafka);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kEvents));
  if (GetParam() == v1::ProcessingConfig::EXACTLY_ONCE) {
    for (const auto& [id, count] : ids) EXPECT_EQ(count, 1) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Guarantees, RefusedOnEveryTryTest,
                         ::testing::Values(v1::ProcessingConfig::EXACTLY_ONCE,
                                           v1::ProcessingConfig::AT_LEAST_ONCE),
                         [](const auto& info) {
                           return v1::ProcessingConfig::Guarantee_Name(info.param);
                         });

// Batches while behind the input: with a backlog, a batch runs past commit_interval_ms to
// catch_up_interval_ms (here to max_batch_events first); once the input is drained (polls come
// back empty, partitions reach their end), the interval closes batches again.
// Takes 1 ms per event; writes one changelog record of `value_bytes` per event (none for 0),
// kept in the store only when `local` (as the timers are).
class SlowHandler : public runtime::EventHandler {
 public:
  explicit SlowHandler(size_t value_bytes, bool local = false)
      : value_(value_bytes, 'v'), local_(local) {}
  absl::Status OnEvent(int32_t, const v1::ContactEvent&, int64_t, HandlerOutput&) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // past a 1 ms interval
    ++total;
    ++uncollected_;
    return absl::OkStatus();
  }
  absl::Status CollectChangelog(std::vector<runtime::ChangelogRecord>& out) override {
    for (; !value_.empty() && uncollected_ > 0; --uncollected_) {
      out.push_back({0, absl::StrCat("k", total.load(), "-", uncollected_), value_, local_});
    }
    uncollected_ = 0;
    return absl::OkStatus();
  }
  std::atomic<int64_t> total{0};

 private:
  const std::string value_;
  const bool local_;
  int uncollected_ = 0;
};

class CatchUpBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto* kafka = config_.mutable_kafka();
    ASSERT_TRUE(UseOnePartitionTopics(*kafka, absl::StrCat("catchup-", NowMs(), "-", rng_())).ok());
    auto producer =
        kafka::SimpleProducer::Create(kafka::ProducerProperties(*kafka, /*transactional=*/false));
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = std::move(*producer);
  }

  void Produce(int from, int count) {
    for (int i = from; i < from + count; ++i) {
      v1::ContactEvent e = GoodEvent(i);
      ASSERT_TRUE(
          producer_->Produce({config_.kafka().input_topic(), "k", e.SerializeAsString(), {}}).ok());
    }
    ASSERT_TRUE(producer_->Flush(60'000).ok());
  }

  // Runs a pipeline over the backlog of `backlog` events, then, when `live` > 0, produces that
  // many more 300 ms apart; stops once every event was handled. Returns the batches committed.
  // `value_bytes` of changelog per event, against a catch-up batch bound of `max_bytes`.
  int64_t Run(uint32_t catch_up_interval_ms, int backlog, int live, size_t value_bytes = 0,
              uint64_t max_bytes = 0) {
    config_.mutable_processing()->set_commit_interval_ms(commit_interval_ms_);
    config_.mutable_processing()->set_max_batch_events(100);
    config_.mutable_processing()->set_max_batch_bytes(max_batch_bytes_);
    config_.mutable_processing()->set_catch_up_interval_ms(catch_up_interval_ms);
    config_.mutable_processing()->set_max_catch_up_batch_bytes(max_bytes);
    Produce(0, backlog);
    SlowHandler handler(value_bytes, local_);
    prometheus::Registry registry;
    runtime::PipelineProbe probe(registry);
    auto pipeline = runtime::Pipeline::Create(config_, handler, probe, options_);
    EXPECT_TRUE(pipeline.ok()) << pipeline.status();
    if (!pipeline.ok()) return -1;
    std::atomic<bool> stop{false};
    absl::Status result;
    std::thread runner([&] { result = (*pipeline)->Run(stop); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline && handler.total.load() < backlog) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the backlog's last commit
    const int64_t before_live = (*pipeline)->stats().batches.load();
    for (int i = 0; i < live; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      Produce(backlog + i, 1);
    }
    // Each live event alone in its batch, closed at the 1 ms interval (not 60 s later).
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline &&
           (*pipeline)->stats().batches.load() < before_live + live) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const int64_t live_batches = (*pipeline)->stats().batches.load() - before_live;
    stop = true;
    runner.join();
    EXPECT_TRUE(result.ok()) << result;
    EXPECT_EQ(handler.total.load(), backlog + live);
    if (live > 0) {
      EXPECT_GE(live_batches, live)
          << "live events waited for the catch-up interval instead of the commit interval";
    }
    for (const prometheus::MetricFamily& family : registry.Collect()) {
      if (family.name == "ccstream_changelog_records_total") {
        changelog_records_ = static_cast<int64_t>(family.metric.at(0).counter.value);
      }
      if (family.name == "ccstream_catch_up_batches_held_total") {
        held_batches_ = static_cast<int64_t>(family.metric.at(0).counter.value);
      }
      if (family.name != "ccstream_batch_events") continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        const bool behind = metric.label.at(0).value == "true";
        (behind ? behind_batches_ : live_batches_) =
            static_cast<int64_t>(metric.histogram.sample_count);
      }
    }
    return (*pipeline)->stats().batches.load();
  }

  // The commit interval and the byte bound of every batch that Run sets; whether the handler's
  // state changes are kept locally only.
  uint32_t commit_interval_ms_ = 1;
  uint64_t max_batch_bytes_ = 0;
  bool local_ = false;
  // What the pipeline is created with.
  runtime::PipelineOptions options_;
  // ccstream_changelog_records_total and ccstream_catch_up_batches_held_total after Run.
  int64_t changelog_records_ = -1;
  int64_t held_batches_ = -1;
  // Committed batches in ccstream_batch_events by its `behind` label, after Run.
  int64_t behind_batches_ = -1;
  int64_t live_batches_ = -1;
  std::mt19937 rng_{std::random_device{}()};
  v1::ProcessorConfig config_;
  std::unique_ptr<kafka::SimpleProducer> producer_;
};

TEST_F(CatchUpBatchTest, ABacklogIsCommittedInFullBatches) {
  // 600 events at 1 ms each: batches of max_batch_events (100), not of the 1 ms interval; one
  // more at most, the first (not extended: nothing is known of its bytes yet). Events that
  // write no changelog are not bounded by bytes.
  const int64_t batches = Run(/*catch_up_interval_ms=*/60'000, /*backlog=*/600, /*live=*/0,
                              /*value_bytes=*/0, /*max_bytes=*/1 << 20);
  EXPECT_GE(batches, 6);
  EXPECT_LE(batches, 7);
  // Closed with input waiting (all but the last, which reached the end of the partition).
  EXPECT_GE(behind_batches_, 6);
  EXPECT_EQ(behind_batches_ + live_batches_, batches);
  EXPECT_EQ(held_batches_, 0);  // the state within its share (no store here: none held)
}

// While the state's memory is over its share (by default: RocksDB's memtables, their flushes
// behind the writes), a batch of a backlog is not extended: the commit interval closes it, as
// without catch-up, and it is counted as held.
TEST_F(CatchUpBatchTest, AStateOverItsShareKeepsABacklogToTheCommitInterval) {
  std::atomic<int> asked{0};
  options_.state_over_budget = [&asked] {
    ++asked;
    return true;
  };
  const int64_t batches = Run(/*catch_up_interval_ms=*/60'000, /*backlog=*/200, /*live=*/0,
                              /*value_bytes=*/0, /*max_bytes=*/1 << 20);
  EXPECT_GE(batches, 60);  // one or two events per 1 ms batch
  EXPECT_GT(asked.load(), 0);
  // Every batch that closed behind the input, the first (nothing known of its bytes: not
  // extended anyway, not asked) aside.
  EXPECT_GE(held_batches_, behind_batches_ - 1);
  EXPECT_GT(held_batches_, 50);
}

TEST_F(CatchUpBatchTest, WithoutCatchUpTheIntervalClosesBatchesOfABacklog) {
  const int64_t batches = Run(/*catch_up_interval_ms=*/0, /*backlog=*/200, /*live=*/0);
  EXPECT_GE(batches, 60);  // one or two events per 1 ms batch
}

TEST_F(CatchUpBatchTest, TheChangelogBytesPerEventBoundABacklogBatch) {
  // 1,000 bytes of changelog per event (and its key) against 30,000: batches of ~29 events once
  // the first batch (not extended: nothing is known of its bytes yet) has ended.
  const int64_t batches = Run(/*catch_up_interval_ms=*/60'000, /*backlog=*/600, /*live=*/0,
                              /*value_bytes=*/1000, /*max_bytes=*/30'000);
  EXPECT_GE(batches, 20);
  EXPECT_LE(batches, 25);
}

// While behind, the catch-up byte bound takes the place of max_batch_bytes: 1,000 bytes of
// changelog per event (and its key) against 60,000, batches of ~59 events, where
// max_batch_bytes (30,000) would close them at ~29.
TEST_F(CatchUpBatchTest, TheCatchUpByteBoundTakesThePlaceOfMaxBatchBytes) {
  max_batch_bytes_ = 30'000;
  const int64_t batches = Run(/*catch_up_interval_ms=*/60'000, /*backlog=*/600, /*live=*/0,
                              /*value_bytes=*/1000, /*max_bytes=*/60'000);
  EXPECT_GE(batches, 10);
  EXPECT_LE(batches, 14);
}

TEST_F(CatchUpBatchTest, WithoutAByteBoundMaxBatchEventsBoundsIt) {
  const int64_t batches = Run(/*catch_up_interval_ms=*/60'000, /*backlog=*/600, /*live=*/0,
                              /*value_bytes=*/1000, /*max_bytes=*/0);
  EXPECT_GE(batches, 6);
  EXPECT_LE(batches, 7);
}

// Without catch-up, max_batch_bytes closes every batch before max_batch_events (and the
// interval, here 60 s): 1,000 bytes of changelog per event (and its key) against 30,000, so
// batches of ~29 events once the first (bounded by max_batch_events: nothing is known of its
// bytes yet) has committed; 100 each without the bound.
TEST_F(CatchUpBatchTest, TheChangelogBytesPerEventBoundEveryBatch) {
  commit_interval_ms_ = 60'000;
  max_batch_bytes_ = 30'000;
  const int64_t batches = Run(/*catch_up_interval_ms=*/0, /*backlog=*/600, /*live=*/0,
                              /*value_bytes=*/1000);
  EXPECT_GE(batches, 17);
  EXPECT_LE(batches, 22);
  EXPECT_EQ(changelog_records_, 600);
}

// State changes kept locally only (the timers) are not produced, and bound the batches as the
// changelog's records do.
TEST_F(CatchUpBatchTest, LocalStateChangesBoundEveryBatchAndAreNotProduced) {
  commit_interval_ms_ = 60'000;
  max_batch_bytes_ = 30'000;
  local_ = true;
  const int64_t batches = Run(/*catch_up_interval_ms=*/0, /*backlog=*/600, /*live=*/0,
                              /*value_bytes=*/1000);
  EXPECT_GE(batches, 17);
  EXPECT_LE(batches, 22);
  EXPECT_EQ(changelog_records_, 0);
}

// Events that write no changelog are not bounded by bytes.
TEST_F(CatchUpBatchTest, EventsWithoutStateChangesAreNotBoundedByBytes) {
  commit_interval_ms_ = 60'000;
  max_batch_bytes_ = 30'000;
  const int64_t batches = Run(/*catch_up_interval_ms=*/0, /*backlog=*/600, /*live=*/0);
  EXPECT_GE(batches, 6);
  EXPECT_LE(batches, 7);
}

TEST_F(CatchUpBatchTest, OnceCaughtUpTheIntervalClosesBatchesAgain) {
  Run(/*catch_up_interval_ms=*/60'000, /*backlog=*/200, /*live=*/5);
  EXPECT_GE(live_batches_, 5);  // the live events' batches, counted as such
}

// Records each event's partition and offset.
class OffsetRecordingHandler : public runtime::EventHandler {
 public:
  absl::Status OnEvent(int32_t partition, const v1::ContactEvent& event, int64_t,
                       HandlerOutput&) override {
    std::lock_guard lock(mutex);
    ++seen[{partition, event.event_id()}];
    ++total;
    return absl::OkStatus();
  }
  std::mutex mutex;
  std::map<std::pair<int32_t, std::string>, int> seen;
  std::atomic<int64_t> total{0};
};

// Points `kafka` at topics of its own (UseOnePartitionTopics) with an input topic of
// `partitions` partitions, each holding `per_partition` events (GoodEvent(partition * 1000 + i)).
absl::Status UsePartitionedInput(v1::KafkaConfig& kafka, const std::string& run, int partitions,
                                 int per_partition) {
  if (absl::Status s = UseOnePartitionTopics(kafka, run); !s.ok()) return s;
  kafka.set_input_topic(absl::StrCat("it-events", partitions, "-", run));
  if (absl::Status s = kafka::CreateTopic(kafka, kafka.input_topic(), partitions, {}, 30'000);
      !s.ok()) {
    return s;
  }
  auto producer =
      kafka::SimpleProducer::Create(kafka::ProducerProperties(kafka, /*transactional=*/false));
  if (!producer.ok()) return producer.status();
  for (int32_t partition = 0; partition < partitions; ++partition) {
    for (int i = 0; i < per_partition; ++i) {
      const v1::ContactEvent e = GoodEvent(partition * 1000 + i);
      if (absl::Status s = (*producer)->Produce(
              {kafka.input_topic(), "k", e.SerializeAsString(), {}, partition});
          !s.ok()) {
        return s;
      }
    }
  }
  return (*producer)->Flush(60'000);
}

// After a failover, the group's committed offsets stay unstable while the transaction of the
// instance that died is open. The new owner starts reading each partition at the offset
// committed once they are stable, not from the start: librdkafka 2.0.2, when its assignment
// changed (here: a second member joined) while its own look-up of them was being answered
// "unstable", started the partition at auto.offset.reset. Until the offsets are known the
// partitions are counted as not started; a look-up that times out is asked again.
TEST(PipelineStartOffsetTest, UnstableOffsetsAndAnAssignmentChangeStartAtTheCommittedOffset) {
  v1::ProcessorConfig config;
  auto* kafka = config.mutable_kafka();
  const std::string run = absl::StrCat("startat-", NowMs());
  constexpr int kPerPartition = 40;
  constexpr int kCommitted = 20;
  ASSERT_TRUE(UsePartitionedInput(*kafka, run, 2, kPerPartition).ok());
  ASSERT_TRUE(
      ::ccstream::testing::CommitInputOffsets(*kafka, {{0, kCommitted}, {1, kCommitted}}).ok());
  ::ccstream::testing::OpenOffsetsTransaction died;
  ASSERT_TRUE(
      died.Open(*kafka, absl::StrCat("it-died-", run), {{0, kCommitted + 5}, {1, kCommitted + 5}})
          .ok());

  OffsetRecordingHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  auto pipeline = runtime::Pipeline::Create(config, handler, probe);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread runner([&] { result = (*pipeline)->Run(stop); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && !(*pipeline)->stats().joined.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(MetricValue(registry, "ccstream_partitions_not_started"), 2);
  EXPECT_EQ((*pipeline)->stats().restoring.load(), 2) << "ready (/readyz) before reading";

  // A second member takes one of the partitions: the first one's assignment changes.
  auto member_conf = kafka::MakeConf(kafka::ConsumerProperties(*kafka));
  ASSERT_TRUE(member_conf.ok()) << member_conf.status();
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> member(
      RdKafka::KafkaConsumer::create(member_conf->get(), error));
  ASSERT_NE(member, nullptr) << error;
  ASSERT_EQ(member->subscribe({kafka->input_topic()}), RdKafka::ERR_NO_ERROR);
  std::set<int32_t> member_has;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && member_has.empty()) {
    delete member->consume(100);
    std::vector<RdKafka::TopicPartition*> assignment;
    member->assignment(assignment);
    for (const RdKafka::TopicPartition* tp : assignment) member_has.insert(tp->partition());
    RdKafka::TopicPartition::destroy(assignment);
  }
  ASSERT_EQ(member_has.size(), 1u);
  for (int i = 0; i < 30; ++i) delete member->consume(100);  // 3 s more of the answers
  EXPECT_EQ(handler.total.load(), 0) << "read before the committed offsets were known";
  EXPECT_EQ(MetricValue(registry, "ccstream_partitions_not_started"), 1);
  EXPECT_EQ((*pipeline)->stats().restoring.load(), 1);
  // A look-up that times out (10 s) is counted, and asked again.
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         MetricValue(registry, "ccstream_start_offset_lookup_failures_total") < 1) {
    delete member->consume(100);
  }
  EXPECT_GE(MetricValue(registry, "ccstream_start_offset_lookup_failures_total"), 1);
  EXPECT_EQ(handler.total.load(), 0) << "read before the committed offsets were known";

  ASSERT_TRUE(died.Abort().ok());  // as the broker does once the transaction times out
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         handler.total.load() < kPerPartition - kCommitted) {
    delete member->consume(100);
  }
  for (int i = 0; i < 10; ++i) delete member->consume(100);  // a record before it would show
  EXPECT_EQ((*pipeline)->stats().restoring.load(), 0);
  stop = true;
  runner.join();
  member->close();
  EXPECT_TRUE(result.ok()) << result;
  const int32_t mine = member_has.contains(0) ? 1 : 0;
  std::lock_guard lock(handler.mutex);
  EXPECT_EQ(handler.total.load(), kPerPartition - kCommitted);
  for (int i = 0; i < kPerPartition; ++i) {
    const std::pair<int32_t, std::string> key{mine, absl::StrCat("ev-", mine * 1000 + i)};
    EXPECT_EQ(handler.seen.contains(key) ? handler.seen.at(key) : 0, i < kCommitted ? 0 : 1)
        << "partition " << mine << ", offset " << i;
  }
  EXPECT_EQ(MetricValue(registry, "ccstream_partitions_not_started"), 0);
}

// What a run of PipelineStall saw.
struct StallRun {
  bool set_up = false;       // the input and the group's offsets were there
  bool read_one = false;     // partition 1 was read to its end
  int64_t read_before = 0;   // events read by then
  bool counted = false;      // ccstream_partitions_stalled reached 1
  double lag0_counted = -1;  // partition 0's lag as it was counted
  double most_stalled = 0;   // the largest ccstream_partitions_stalled seen
  bool read_on = false;      // partition 0 was read too
  bool cleared = false;      // then no partition counted as stalled, and partition 0 showed no lag
  double lag1 = -1, lag2 = -1;
  double restarts = -1;  // ccstream_partition_fetch_restarts_total at the end
  int64_t total = 0;
  std::map<std::pair<int32_t, std::string>, int> seen;
};

// Three partitions of 10 events, 3 of them committed on partitions 0 and 1, all on partition 2
// (which idles from its start); the test hook leaves partition 0 paused once it was sought to
// its committed offset, as librdkafka does when it loses the resume. Runs a pipeline with
// `stall_ms` and `restart_ms` (PipelineOptions) until partition 0 is read and counts no longer
// (or a minute); `count_stall` waits for it to count as stalled first.
StallRun RunWithAPartitionNeverFetched(int stall_ms, int restart_ms, bool count_stall) {
  StallRun out;
  v1::ProcessorConfig config;
  auto* kafka = config.mutable_kafka();
  const std::string run = absl::StrCat("stall-", NowMs());
  constexpr int kPerPartition = 10;
  constexpr int kCommitted = 3;
  if (absl::Status s = UsePartitionedInput(*kafka, run, 3, kPerPartition); !s.ok()) {
    ADD_FAILURE() << s;
    return out;
  }
  if (absl::Status s = ::ccstream::testing::CommitInputOffsets(
          *kafka, {{0, kCommitted}, {1, kCommitted}, {2, kPerPartition}});
      !s.ok()) {
    ADD_FAILURE() << s;
    return out;
  }
  out.set_up = true;
  OffsetRecordingHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  runtime::PipelineOptions options;
  options.keep_paused_for_testing = [](int32_t partition) { return partition == 0; };
  options.partition_stall_ms = stall_ms;
  options.partition_restart_ms = restart_ms;
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  if (!pipeline.ok()) return out;
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread runner([&] { result = (*pipeline)->Run(stop); });
  auto wait_for = [&](const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      out.most_stalled =
          std::max(out.most_stalled, MetricValue(registry, "ccstream_partitions_stalled"));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  };
  out.read_one = wait_for([&] { return handler.total.load() >= kPerPartition - kCommitted; });
  out.read_before = handler.total.load();
  if (count_stall) {
    // The lag sampled as the stall is counted.
    out.counted = wait_for([&] {
      if (MetricValue(registry, "ccstream_partitions_stalled") < 1) return false;
      out.lag0_counted = MetricValue(registry, "ccstream_consumer_lag", "partition", "0");
      return true;
    });
  }
  out.read_on = wait_for([&] { return handler.total.load() >= 2 * (kPerPartition - kCommitted); });
  out.cleared = wait_for([&] {
    return MetricValue(registry, "ccstream_partitions_stalled") == 0 &&
           MetricValue(registry, "ccstream_consumer_lag", "partition", "0") == 0;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1'500));  // nothing more is read
  out.lag1 = MetricValue(registry, "ccstream_consumer_lag", "partition", "1");
  out.lag2 = MetricValue(registry, "ccstream_consumer_lag", "partition", "2");
  out.restarts = MetricValue(registry, "ccstream_partition_fetch_restarts_total");
  stop = true;
  runner.join();
  EXPECT_TRUE(result.ok()) << result;
  out.total = handler.total.load();
  out.seen = handler.seen;
  return out;
}

// Partition 0's 7 events and partition 1's, each read once, and no other; no lag left.
void ExpectEachReadOnce(const StallRun& run) {
  EXPECT_TRUE(run.read_on) << "the partition never fetched was not read on: " << run.total;
  EXPECT_TRUE(run.cleared) << "the partition read on still counts as stalled, or shows lag";
  EXPECT_EQ(run.lag1, 0);
  EXPECT_EQ(run.lag2, 0);
  EXPECT_EQ(run.total, 14);
  std::map<int32_t, int> per_partition;
  for (const auto& [key, count] : run.seen) {
    EXPECT_EQ(count, 1) << "partition " << key.first << " event " << key.second << " read twice";
    ++per_partition[key.first];
  }
  EXPECT_EQ(per_partition[0], 7);
  EXPECT_EQ(per_partition[1], 7);
}

// A started partition whose fetch librdkafka never starts has no read position and no high
// watermark from librdkafka: its lag runs from where it was sought to, to its end as the broker
// tells it. Once it has stayed there for `partition_restart_ms` its fetch is started again (a
// seek to where it stands and a resume, ccstream_partition_fetch_restarts_total): it then reads
// on, each of its records once, and never counts as stalled (`partition_stall_ms`, a minute).
// Neither the partition read to its end nor one with nothing to read from its start is
// restarted; the latter, which has no read position either, shows its lag (0) from where it was
// sought to.
TEST(PipelineStallTest, AStartedPartitionThatIsNeverFetchedHasItsFetchStartedAgain) {
  const StallRun run = RunWithAPartitionNeverFetched(/*stall_ms=*/60'000, /*restart_ms=*/1'000,
                                                     /*count_stall=*/false);
  ASSERT_TRUE(run.set_up);
  ASSERT_TRUE(run.read_one) << "partition 1 was not read: " << run.total << " events";
  EXPECT_EQ(run.read_before, 7) << "partition 0 was read before its fetch was started again";
  ExpectEachReadOnce(run);
  EXPECT_EQ(run.restarts, 1) << "only partition 0's fetch, once";
  EXPECT_EQ(run.most_stalled, 0) << "a partition counted as stalled";
}

// Should its fetch not be started again in time (`partition_restart_ms` 4 s, past the
// `partition_stall_ms` of 2 s here), the partition counts in ccstream_partitions_stalled (and is
// logged) with its lag (7); once its fetch is started again it reads on and no longer counts.
TEST(PipelineStallTest, AStartedPartitionThatIsNeverFetchedCountsAsStalledUntilItReadsOn) {
  const StallRun run = RunWithAPartitionNeverFetched(/*stall_ms=*/2'000, /*restart_ms=*/4'000,
                                                     /*count_stall=*/true);
  ASSERT_TRUE(run.set_up);
  ASSERT_TRUE(run.read_one) << "partition 1 was not read: " << run.total << " events";
  EXPECT_EQ(run.read_before, 7) << "partition 0 was read before its stall";
  EXPECT_TRUE(run.counted) << "the partition never fetched was not counted as stalled";
  EXPECT_EQ(run.lag0_counted, 7) << "the lag of the partition never fetched";
  EXPECT_EQ(run.most_stalled, 1) << "only partition 0 counts";
  ExpectEachReadOnce(run);
  EXPECT_EQ(run.restarts, 1);
}

// Takes 2 ms over each event, as a busy engine would.
class BusyHandler : public OffsetRecordingHandler {
 public:
  absl::Status OnEvent(int32_t partition, const v1::ContactEvent& event, int64_t now_ms,
                       HandlerOutput& out) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return OffsetRecordingHandler::OnEvent(partition, event, now_ms, out);
  }
};

// Only the time the pipeline waited for records counts against a partition that does not read
// on: while the others keep it busy (in a backlog the broker serves partitions in the order
// librdkafka names them, and one can wait for the others' backlog to be done), it is neither
// started again nor counted. Partition 0 is never fetched (the test hook, as above); partition
// 1's 1,500 events keep the pipeline busy for 3 s or more, past the 1 s partition_restart_ms, in
// batches of 50 (a lag sample, RecordLag, at most every second between two batches).
TEST(PipelineStallTest, APartitionIsNotStartedAgainWhileTheOthersKeepThePipelineBusy) {
  v1::ProcessorConfig config;
  auto* kafka = config.mutable_kafka();
  constexpr int kPerPartition = 1'500;
  ASSERT_TRUE(UsePartitionedInput(*kafka, absl::StrCat("busy-", NowMs()), 2, kPerPartition).ok());
  config.mutable_processing()->set_max_batch_events(50);
  BusyHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  runtime::PipelineOptions options;
  options.keep_paused_for_testing = [](int32_t partition) { return partition == 0; };
  options.partition_restart_ms = 1'000;
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread runner([&] { result = (*pipeline)->Run(stop); });
  auto wait_for = [](const std::function<bool()>& done) {
    return ::ccstream::testing::WaitFor(done, std::chrono::seconds(60));
  };
  const auto started = std::chrono::steady_clock::now();
  const bool read_one = wait_for([&] { return handler.total.load() >= kPerPartition; });
  const auto busy = std::chrono::steady_clock::now() - started;
  const double restarts_while_busy =
      MetricValue(registry, "ccstream_partition_fetch_restarts_total");
  const bool read_both = wait_for([&] { return handler.total.load() >= 2 * kPerPartition; });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // nothing more is read
  const double restarts = MetricValue(registry, "ccstream_partition_fetch_restarts_total");
  stop = true;
  runner.join();
  ASSERT_TRUE(result.ok()) << result;
  ASSERT_TRUE(read_one) << "partition 1 was not read: " << handler.total.load();
  EXPECT_GE(busy, std::chrono::seconds(2)) << "partition 1 did not keep the pipeline busy";
  EXPECT_EQ(restarts_while_busy, 0) << "partition 0 was started again while the pipeline was busy";
  EXPECT_TRUE(read_both) << "partition 0 was not read on once the pipeline waited";
  EXPECT_EQ(restarts, 1);
  EXPECT_EQ(handler.total.load(), 2 * kPerPartition);
}

// An input written in transactions (as by an upstream exactly-once job) ends each partition with
// a commit marker, a record the consumer never delivers: read to its end, a partition's read
// position must step over it, or it would look as if a record waited that is never read, and its
// fetch would be started again every partition_restart_ms (1 s here).
TEST(PipelineStallTest, AnInputWrittenInTransactionsIsReadToItsEndAndNotStartedAgain) {
  v1::ProcessorConfig config;
  auto* kafka = config.mutable_kafka();
  ASSERT_TRUE(UseOnePartitionTopics(*kafka, absl::StrCat("txn-input-", NowMs())).ok());
  auto conf = kafka::MakeConf({{"bootstrap.servers", kafka->bootstrap_servers()},
                               {"transactional.id", absl::StrCat(kafka->input_topic(), "-up")},
                               {"enable.idempotence", "true"}});
  ASSERT_TRUE(conf.ok()) << conf.status();
  std::string error;
  std::unique_ptr<RdKafka::Producer> upstream(RdKafka::Producer::create(conf->get(), error));
  ASSERT_TRUE(upstream) << error;
  std::unique_ptr<RdKafka::Error> txn(upstream->init_transactions(30'000));
  ASSERT_FALSE(txn) << txn->str();
  constexpr int kEvents = 10;
  for (int t = 0; t < 2; ++t) {  // two transactions of five events
    txn.reset(upstream->begin_transaction());
    ASSERT_FALSE(txn) << txn->str();
    for (int i = 0; i < kEvents / 2; ++i) {
      const std::string value = GoodEvent(t * 100 + i).SerializeAsString();
      ASSERT_EQ(
          upstream->produce(kafka->input_topic(), 0, RdKafka::Producer::RK_MSG_COPY,
                            const_cast<char*>(value.data()), value.size(), "k", 1, 0, nullptr),
          RdKafka::ERR_NO_ERROR);
    }
    txn.reset(upstream->commit_transaction(30'000));
    ASSERT_FALSE(txn) << txn->str();
  }

  RecordingHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  runtime::PipelineOptions options;
  options.partition_restart_ms = 1'000;
  options.partition_stall_ms = 2'000;
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread runner([&] { result = (*pipeline)->Run(stop); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (handler.total.load() < kEvents && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(3'500));  // past both thresholds
  const double lag = MetricValue(registry, "ccstream_consumer_lag", "partition", "0");
  const double restarts = MetricValue(registry, "ccstream_partition_fetch_restarts_total");
  const double stalled = MetricValue(registry, "ccstream_partitions_stalled");
  stop = true;
  runner.join();
  ASSERT_TRUE(result.ok()) << result;
  EXPECT_EQ(handler.total.load(), kEvents);
  EXPECT_EQ(lag, 0) << "the commit marker counts as a record waiting";
  EXPECT_EQ(restarts, 0) << "the fetch of a partition read to its end was started again";
  EXPECT_EQ(stalled, 0);
}

INSTANTIATE_TEST_SUITE_P(Guarantees, PipelineIntegrationTest,
                         ::testing::Values(v1::ProcessingConfig::EXACTLY_ONCE,
                                           v1::ProcessingConfig::AT_LEAST_ONCE),
                         [](const auto& info) {
                           return v1::ProcessingConfig::Guarantee_Name(info.param);
                         });

}  // namespace
}  // namespace ccstream
