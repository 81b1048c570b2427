// Smoke test of the development Kafka broker started by the CTest fixture `kafka`: the ccstream
// topics exist as deploy/kafka/start.sh promises, messages round-trip, and transactions work the
// way exactly-once processing needs (aborted records are hidden from read_committed readers).
//
// Each run uses topics with fresh names and deletes them at the end, so it can run again and again
// against the same broker and never touches the ccstream topics' contents.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/kafka/broker_env.h"
#include "tests/kafka/committed_reader.h"

namespace ccstream {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kTimeoutMs = 15000;

// A name no earlier run used: tests may run repeatedly against one broker.
std::string UniqueName(const std::string& prefix) {
  return prefix + "." + std::to_string(getpid()) + "." +
         std::to_string(Clock::now().time_since_epoch().count());
}

std::unique_ptr<RdKafka::Conf> MakeConf(const std::map<std::string, std::string>& settings) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  EXPECT_EQ(conf->set("bootstrap.servers", TestBootstrapServers(), error), RdKafka::Conf::CONF_OK)
      << error;
  for (const auto& [key, value] : settings) {
    EXPECT_EQ(conf->set(key, value, error), RdKafka::Conf::CONF_OK) << key << ": " << error;
  }
  return conf;
}

std::unique_ptr<RdKafka::Producer> MakeProducer(
    const std::map<std::string, std::string>& settings = {}) {
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(
      RdKafka::Producer::create(MakeConf(settings).get(), error));
  EXPECT_NE(producer, nullptr) << error;
  return producer;
}

// Passes when a transactional call returned no error (takes it), else fails the test naming it.
bool Check(RdKafka::Error* error, const char* what) {
  std::unique_ptr<RdKafka::Error> owned(error);
  EXPECT_EQ(owned, nullptr) << what << ": " << owned->str();
  return owned == nullptr;
}

// A producer with a transactional id of its own, its transactions initialised (null on failure).
std::unique_ptr<RdKafka::Producer> MakeTransactionalProducer(const std::string& prefix) {
  auto producer = MakeProducer({{"transactional.id", UniqueName(prefix)}});
  if (producer == nullptr || !Check(producer->init_transactions(kTimeoutMs), "init_transactions")) {
    return nullptr;
  }
  return producer;
}

// A consumer reading <topic> partition 0 from the beginning (no group offsets involved).
std::unique_ptr<RdKafka::KafkaConsumer> MakeConsumer(const std::string& topic,
                                                     const std::string& isolation_level) {
  std::string error;
  auto conf = MakeConf({{"group.id", UniqueName("ccstream.smoke")},
                        {"isolation.level", isolation_level},
                        {"enable.partition.eof", "true"},
                        {"enable.auto.commit", "false"}});
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  EXPECT_NE(consumer, nullptr) << error;
  if (consumer == nullptr) return consumer;
  std::unique_ptr<RdKafka::TopicPartition> partition(
      RdKafka::TopicPartition::create(topic, 0, RdKafka::Topic::OFFSET_BEGINNING));
  std::vector<RdKafka::TopicPartition*> partitions = {partition.get()};
  EXPECT_EQ(consumer->assign(partitions), RdKafka::ERR_NO_ERROR);
  return consumer;
}

// Reads partition 0 until its end (or the timeout) and returns the values read.
std::vector<std::string> ReadToEnd(RdKafka::KafkaConsumer& consumer, size_t at_least) {
  std::vector<std::string> values;
  const auto deadline = Clock::now() + std::chrono::milliseconds(kTimeoutMs);
  while (Clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> message(consumer.consume(200));
    if (message->err() == RdKafka::ERR_NO_ERROR) {
      values.emplace_back(static_cast<const char*>(message->payload()), message->len());
    } else if (message->err() == RdKafka::ERR__PARTITION_EOF) {
      if (values.size() >= at_least) break;
    } else if (message->err() != RdKafka::ERR__TIMED_OUT) {
      ADD_FAILURE() << "consume: " << message->errstr();
      break;
    }
  }
  consumer.close();
  return values;
}

void Produce(RdKafka::Producer& producer, const std::string& topic, const std::string& key,
             const std::string& value) {
  RdKafka::ErrorCode err = producer.produce(
      topic, 0, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()), value.size(),
      key.data(), key.size(), /*timestamp=*/0, /*msg_opaque=*/nullptr);
  ASSERT_EQ(err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(err);
}

// Waits for one admin result event on <queue> and returns it (caller destroys it).
rd_kafka_event_t* AwaitAdminResult(rd_kafka_queue_t* queue) {
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, kTimeoutMs + 5000);
  EXPECT_NE(event, nullptr) << "no admin result within the timeout";
  if (event != nullptr) {
    EXPECT_EQ(rd_kafka_event_error(event), RD_KAFKA_RESP_ERR_NO_ERROR)
        << rd_kafka_event_error_string(event);
  }
  return event;
}

class KafkaSmokeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = MakeProducer();
    ASSERT_NE(admin_, nullptr);
    queue_ = rd_kafka_queue_new(admin_->c_ptr());
  }

  void TearDown() override {
    if (!created_.empty()) DeleteTopics();
    if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
  }

  // Creates a 1-partition topic with a fresh name and returns the name.
  std::string CreateTopic(const std::string& prefix) {
    std::string name = UniqueName(prefix);
    char error[512];
    rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(name.c_str(), 1, 1, error, sizeof error);
    EXPECT_NE(topic, nullptr) << error;
    rd_kafka_CreateTopics(admin_->c_ptr(), &topic, 1, nullptr, queue_);
    rd_kafka_NewTopic_destroy(topic);
    rd_kafka_event_t* event = AwaitAdminResult(queue_);
    if (event == nullptr) return name;
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    EXPECT_EQ(count, 1u);
    for (size_t i = 0; i < count; ++i) {
      EXPECT_EQ(rd_kafka_topic_result_error(results[i]), RD_KAFKA_RESP_ERR_NO_ERROR)
          << rd_kafka_topic_result_error_string(results[i]);
    }
    rd_kafka_event_destroy(event);
    created_.push_back(name);
    return name;
  }

  void DeleteTopics() {
    std::vector<rd_kafka_DeleteTopic_t*> topics;
    for (const auto& name : created_) topics.push_back(rd_kafka_DeleteTopic_new(name.c_str()));
    rd_kafka_DeleteTopics(admin_->c_ptr(), topics.data(), topics.size(), nullptr, queue_);
    rd_kafka_DeleteTopic_destroy_array(topics.data(), topics.size());
    if (rd_kafka_event_t* event = AwaitAdminResult(queue_)) rd_kafka_event_destroy(event);
  }

  // The value of one config entry of <topic>, or "<missing>".
  std::string TopicConfig(const std::string& topic, const std::string& key) {
    rd_kafka_ConfigResource_t* resource =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
    rd_kafka_DescribeConfigs(admin_->c_ptr(), &resource, 1, nullptr, queue_);
    rd_kafka_ConfigResource_destroy(resource);
    std::string value = "<missing>";
    rd_kafka_event_t* event = AwaitAdminResult(queue_);
    if (event == nullptr) return value;
    size_t resource_count = 0;
    const rd_kafka_ConfigResource_t** resources = rd_kafka_DescribeConfigs_result_resources(
        rd_kafka_event_DescribeConfigs_result(event), &resource_count);
    for (size_t r = 0; r < resource_count; ++r) {
      EXPECT_EQ(rd_kafka_ConfigResource_error(resources[r]), RD_KAFKA_RESP_ERR_NO_ERROR)
          << rd_kafka_ConfigResource_error_string(resources[r]);
      size_t entry_count = 0;
      const rd_kafka_ConfigEntry_t** entries =
          rd_kafka_ConfigResource_configs(resources[r], &entry_count);
      for (size_t e = 0; e < entry_count; ++e) {
        if (key == rd_kafka_ConfigEntry_name(entries[e]) &&
            rd_kafka_ConfigEntry_value(entries[e]) != nullptr) {
          value = rd_kafka_ConfigEntry_value(entries[e]);
        }
      }
    }
    rd_kafka_event_destroy(event);
    return value;
  }

  std::unique_ptr<RdKafka::Producer> admin_;
  rd_kafka_queue_t* queue_ = nullptr;
  std::vector<std::string> created_;
};

TEST_F(KafkaSmokeTest, CcstreamTopicsExistWithTheirPartitionCounts) {
  const char* input_env = std::getenv("CCSTREAM_INPUT_PARTITIONS");
  const int input_partitions = input_env != nullptr ? std::atoi(input_env) : 6;
  const std::map<std::string, int> expected = {{"cc.contact-events", input_partitions},
                                               {"cc.alerts", 6},
                                               {"cc.dead-letter", 1},
                                               {"ccstream-changelog", 6}};

  RdKafka::Metadata* raw = nullptr;
  ASSERT_EQ(admin_->metadata(/*all_topics=*/true, nullptr, &raw, kTimeoutMs),
            RdKafka::ERR_NO_ERROR);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  std::map<std::string, int> found;
  for (const RdKafka::TopicMetadata* topic : *metadata->topics()) {
    if (expected.count(topic->topic()) == 0) continue;
    EXPECT_EQ(topic->err(), RdKafka::ERR_NO_ERROR) << topic->topic();
    found[topic->topic()] = static_cast<int>(topic->partitions()->size());
    for (const RdKafka::PartitionMetadata* partition : *topic->partitions()) {
      EXPECT_EQ(partition->leader(), 1) << topic->topic() << " partition " << partition->id();
    }
  }
  EXPECT_EQ(found, expected);

  EXPECT_EQ(TopicConfig("ccstream-changelog", "cleanup.policy"), "compact");
  EXPECT_EQ(TopicConfig("cc.alerts", "cleanup.policy"), "delete");
}

TEST_F(KafkaSmokeTest, ProducedMessagesAreConsumedInOrder) {
  const std::string topic = CreateTopic("ccstream.smoke.roundtrip");
  auto producer = MakeProducer({{"enable.idempotence", "true"}});
  ASSERT_NE(producer, nullptr);
  std::vector<std::string> sent;
  for (int i = 0; i < 20; ++i) {
    sent.push_back("value-" + std::to_string(i));
    Produce(*producer, topic, "customer-" + std::to_string(i % 3), sent.back());
  }
  ASSERT_EQ(producer->flush(kTimeoutMs), RdKafka::ERR_NO_ERROR);

  auto consumer = MakeConsumer(topic, "read_committed");
  ASSERT_NE(consumer, nullptr);
  EXPECT_EQ(ReadToEnd(*consumer, sent.size()), sent);
}

TEST_F(KafkaSmokeTest, AbortedTransactionIsInvisibleToReadCommitted) {
  const std::string topic = CreateTopic("ccstream.smoke.txn");
  auto producer = MakeTransactionalProducer("ccstream.smoke.txn");
  ASSERT_NE(producer, nullptr);

  ASSERT_TRUE(Check(producer->begin_transaction(), "begin_transaction"));
  for (int i = 0; i < 3; ++i) Produce(*producer, topic, "k", "aborted-" + std::to_string(i));
  ASSERT_EQ(producer->flush(kTimeoutMs), RdKafka::ERR_NO_ERROR);
  ASSERT_TRUE(Check(producer->abort_transaction(kTimeoutMs), "abort_transaction"));

  ASSERT_TRUE(Check(producer->begin_transaction(), "begin_transaction"));
  for (int i = 0; i < 3; ++i) Produce(*producer, topic, "k", "committed-" + std::to_string(i));
  ASSERT_TRUE(Check(producer->commit_transaction(kTimeoutMs), "commit_transaction"));

  // The aborted records really are in the log: a read_uncommitted reader sees both batches ...
  auto uncommitted = MakeConsumer(topic, "read_uncommitted");
  ASSERT_NE(uncommitted, nullptr);
  const std::vector<std::string> all = {"aborted-0",   "aborted-1",   "aborted-2",
                                        "committed-0", "committed-1", "committed-2"};
  EXPECT_EQ(ReadToEnd(*uncommitted, all.size()), all);

  // ... while a read_committed reader sees only the committed one.
  auto committed = MakeConsumer(topic, "read_committed");
  ASSERT_NE(committed, nullptr);
  const std::vector<std::string> visible = {"committed-0", "committed-1", "committed-2"};
  EXPECT_EQ(ReadToEnd(*committed, visible.size()), visible);
}

// testing::ReadCommitted (committed_reader.h) reads every partition to its end, and with `done`
// it reads on past an end reached while a transaction was still open, until that transaction's
// records are readable.
TEST_F(KafkaSmokeTest, CommittedReaderReadsOnUntilWhatTheTestExpectsIsCommitted) {
  const std::string topic = CreateTopic("ccstream.smoke.reader");
  auto producer = MakeTransactionalProducer("ccstream.smoke.reader");
  ASSERT_NE(producer, nullptr);
  ASSERT_TRUE(Check(producer->begin_transaction(), "begin_transaction"));
  for (int i = 0; i < 2; ++i) Produce(*producer, topic, "k", "first-" + std::to_string(i));
  ASSERT_TRUE(Check(producer->commit_transaction(kTimeoutMs), "commit_transaction"));

  std::vector<std::string> values;
  const auto collect = [&](RdKafka::Message& m) {
    values.emplace_back(static_cast<const char*>(m.payload()), m.len());
  };
  EXPECT_TRUE(testing::ReadCommitted(TestBootstrapServers(), topic, collect));
  EXPECT_EQ(values, (std::vector<std::string>{"first-0", "first-1"}));

  // A transaction open while the reader reaches the end: committed a second later.
  ASSERT_TRUE(Check(producer->begin_transaction(), "begin_transaction"));
  for (int i = 0; i < 2; ++i) Produce(*producer, topic, "k", "second-" + std::to_string(i));
  ASSERT_EQ(producer->flush(kTimeoutMs), RdKafka::ERR_NO_ERROR);
  RdKafka::Error* committed = nullptr;
  std::thread commit([&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    committed = producer->commit_transaction(kTimeoutMs);
  });
  values.clear();
  testing::CommittedReadOptions options;
  options.done = [&] { return values.size() >= 4; };
  options.timeout = std::chrono::seconds(30);
  const bool ended = testing::ReadCommitted(TestBootstrapServers(), topic, collect, options);
  commit.join();
  EXPECT_TRUE(Check(committed, "commit_transaction"));
  EXPECT_TRUE(ended);
  EXPECT_EQ(values, (std::vector<std::string>{"first-0", "first-1", "second-0", "second-1"}));
}

}  // namespace
}  // namespace ccstream
