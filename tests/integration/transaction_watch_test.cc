// runtime::TransactionWatch against the real broker: a partition where read_committed readers
// wait at a transaction that does not end counts as blocked; once it ends, the count goes back.

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/transaction_watch.h"
#include "tests/kafka/broker_env.h"
#include "tests/support/wait_for.h"

namespace ccstream {
namespace {

using namespace std::chrono_literals;
using ::ccstream::testing::WaitFor;

// A transactional producer of its own id; its transactions live up to 10 minutes.
std::unique_ptr<RdKafka::Producer> TransactionalProducer(const v1::KafkaConfig& kafka,
                                                         const std::string& id) {
  auto conf = kafka::MakeConf({{"bootstrap.servers", kafka.bootstrap_servers()},
                               {"transactional.id", id},
                               {"transaction.timeout.ms", "600000"},
                               {"enable.idempotence", "true"}});
  EXPECT_TRUE(conf.ok()) << conf.status();
  if (!conf.ok()) return nullptr;
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf->get(), error));
  EXPECT_TRUE(producer) << error;
  if (!producer) return nullptr;
  std::unique_ptr<RdKafka::Error> txn(producer->init_transactions(30'000));
  EXPECT_FALSE(txn) << txn->str();
  return txn ? nullptr : std::move(producer);
}

void Produce(RdKafka::Producer& producer, const std::string& topic, int32_t partition) {
  std::string value = "record";
  ASSERT_EQ(producer.produce(topic, partition, RdKafka::Producer::RK_MSG_COPY, value.data(),
                             value.size(), nullptr, 0, 0, nullptr),
            RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(producer.flush(30'000), RdKafka::ERR_NO_ERROR);
}

class Reports {
 public:
  void Set(const std::string& topic, int blocked) {
    std::lock_guard lock(mu_);
    blocked_[topic] = blocked;
  }
  int Get(const std::string& topic) {
    std::lock_guard lock(mu_);
    auto it = blocked_.find(topic);
    return it == blocked_.end() ? -1 : it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> blocked_;
};

// Partition 0 holds a transaction left open (as one whose markers Kafka skipped would stay);
// partition 1 only committed records; partition 2 nothing. Only partition 0 counts, once the
// transaction has been open for `blocked_after`, and no longer once it is aborted.
TEST(TransactionWatchTest, APartitionHeldByATransactionThatDoesNotEndCountsAsBlocked) {
  v1::KafkaConfig kafka;
  kafka.set_bootstrap_servers(TestBootstrapServers());
  kafka.set_client_id("txn-watch-it");
  const std::string topic = absl::StrCat("txn-watch-it-", absl::ToUnixMillis(absl::Now()));
  ASSERT_TRUE(kafka::CreateTopic(kafka, topic, 3, {}, 30'000).ok());

  auto committing = TransactionalProducer(kafka, absl::StrCat(topic, "-committing"));
  ASSERT_NE(committing, nullptr);
  std::unique_ptr<RdKafka::Error> txn(committing->begin_transaction());
  ASSERT_FALSE(txn) << txn->str();
  Produce(*committing, topic, 0);
  Produce(*committing, topic, 1);
  txn.reset(committing->commit_transaction(30'000));
  ASSERT_FALSE(txn) << txn->str();

  auto open = TransactionalProducer(kafka, absl::StrCat(topic, "-open"));
  ASSERT_NE(open, nullptr);
  txn.reset(open->begin_transaction());
  ASSERT_FALSE(txn) << txn->str();
  Produce(*open, topic, 0);

  Reports reports;
  runtime::TransactionWatchOptions options;
  options.interval = 200ms;
  options.blocked_after = 2s;
  const auto started = std::chrono::steady_clock::now();
  auto watch = runtime::TransactionWatch::Start(
      kafka, {topic}, [&](const std::string& t, int blocked) { reports.Set(t, blocked); }, options);
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE(WaitFor([&] { return reports.Get(topic) == 0; }, 30s))
      << "no pass over the topic reported";
  ASSERT_TRUE(WaitFor([&] { return reports.Get(topic) != 0; }, 30s))
      << "the partition held by the open transaction was not counted";
  EXPECT_GE(std::chrono::steady_clock::now() - started, options.blocked_after)
      << "counted before the transaction had been open for blocked_after";
  EXPECT_EQ(reports.Get(topic), 1) << "a partition without an open transaction was counted";

  txn.reset(open->abort_transaction(30'000));
  ASSERT_FALSE(txn) << txn->str();
  EXPECT_TRUE(WaitFor([&] { return reports.Get(topic) == 0; }, 30s))
      << "still counted after the transaction ended";
}

}  // namespace
}  // namespace ccstream
