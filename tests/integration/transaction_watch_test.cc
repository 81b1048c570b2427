// runtime::TransactionWatch against the real broker: a partition where read_committed readers
// wait at a transaction that does not end counts as blocked; once it ends, the count goes back.
// And the runbook of the alert on that count, with Kafka's own kafka-transactions.sh
// (deploy/kafka/tools.sh): it names the transaction and ends it.

#include <librdkafka/rdkafkacpp.h>

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/transaction_watch.h"
#include "tests/kafka/broker_env.h"
#include "tests/kafka/committed_reader.h"
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

void Produce(RdKafka::Producer& producer, const std::string& topic, int32_t partition,
             std::string value = "record") {
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

// Runs a shell command; its standard output, and its exit status in `status`.
std::string Shell(const std::string& command, int& status) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return out;
  }
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int raw = pclose(pipe);
  status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

// The CurrentTransactionStartOffset of every producer in a `kafka-transactions.sh
// describe-producers` table (tab-separated, padded, a header line first) that has a transaction
// open on the partition.
std::vector<int64_t> OpenTransactionStarts(const std::string& table) {
  std::vector<int64_t> starts;
  std::istringstream lines(table);
  std::string line;
  int column = -1;
  while (std::getline(lines, line)) {
    std::vector<std::string> cells = absl::StrSplit(line, '\t');
    for (std::string& cell : cells) cell = std::string(absl::StripAsciiWhitespace(cell));
    if (column < 0) {
      for (size_t i = 0; i < cells.size(); ++i) {
        if (cells[i] == "CurrentTransactionStartOffset") column = static_cast<int>(i);
      }
      continue;
    }
    if (static_cast<size_t>(column) >= cells.size()) continue;
    // "None" for a producer without an open transaction.
    if (int64_t start = -1; absl::SimpleAtoi(cells[column], &start) && start >= 0) {
      starts.push_back(start);
    }
  }
  return starts;
}

// The values a read_committed reader finds on the partition, from its start to its end.
std::vector<std::string> CommittedValues(const v1::KafkaConfig& kafka, const std::string& topic,
                                         int32_t partition) {
  std::vector<std::string> values;
  testing::CommittedReadOptions options;
  options.partitions = {partition};
  options.timeout = 30s;
  EXPECT_TRUE(testing::ReadCommitted(
      kafka.bootstrap_servers(), topic,
      [&](RdKafka::Message& m) {
        values.emplace_back(static_cast<const char*>(m.payload()), m.len());
      },
      options))
      << topic << " [" << partition << "] was not read to its end";
  return values;
}

// The runbook of CcstreamOutputBlocked (docs/observability.md), with Kafka's own tool against the
// real broker: `kafka-transactions.sh describe-producers` names the open transaction's start
// offset, the offset the watch reports; `abort` at that offset ends it, the watch stops counting
// the partition, and read_committed readers get the records committed after it, without its own.
TEST(TransactionWatchTest, TheRunbookFindsTheOpenTransactionAndItsAbortFreesThePartition) {
  const char* dir = std::getenv("CCSTREAM_KAFKA_DIR");
  const char* source = std::getenv("CCSTREAM_SOURCE_DIR");
  ASSERT_TRUE(dir != nullptr && source != nullptr)
      << "CCSTREAM_KAFKA_DIR and CCSTREAM_SOURCE_DIR name the broker's work dir and the source "
         "tree (the CTest fixture `kafka` sets both)";
  const std::string tools = absl::StrCat(source, "/deploy/kafka/tools.sh ", dir);
  v1::KafkaConfig kafka;
  kafka.set_bootstrap_servers(TestBootstrapServers());
  kafka.set_client_id("txn-runbook-it");
  const std::string topic = absl::StrCat("txn-runbook-it-", absl::ToUnixMillis(absl::Now()));
  ASSERT_TRUE(kafka::CreateTopic(kafka, topic, 2, {}, 30'000).ok());

  // Committed before: offsets 0 and 1, the commit's marker 2. Then the open transaction's record
  // at 3, and records committed after it, which read_committed readers cannot get past it.
  auto committing = TransactionalProducer(kafka, absl::StrCat(topic, "-committing"));
  ASSERT_NE(committing, nullptr);
  auto commit = [&](const std::vector<std::string>& values) {
    std::unique_ptr<RdKafka::Error> txn(committing->begin_transaction());
    ASSERT_FALSE(txn) << txn->str();
    for (const std::string& value : values) Produce(*committing, topic, 0, value);
    txn.reset(committing->commit_transaction(30'000));
    ASSERT_FALSE(txn) << txn->str();
  };
  commit({"before-1", "before-2"});
  auto open = TransactionalProducer(kafka, absl::StrCat(topic, "-open"));
  ASSERT_NE(open, nullptr);
  std::unique_ptr<RdKafka::Error> txn(open->begin_transaction());
  ASSERT_FALSE(txn) << txn->str();
  Produce(*open, topic, 0, "never-committed");
  commit({"after-1", "after-2"});
  EXPECT_EQ(CommittedValues(kafka, topic, 0), (std::vector<std::string>{"before-1", "before-2"}))
      << "the open transaction did not hold back what was committed after it";

  Reports reports;
  runtime::TransactionWatchOptions options;
  options.interval = 200ms;
  options.blocked_after = 2s;
  auto watch = runtime::TransactionWatch::Start(
      kafka, {topic}, [&](const std::string& t, int blocked) { reports.Set(t, blocked); }, options);
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE(WaitFor([&] { return reports.Get(topic) == 1; }, 60s))
      << "the partition held by the open transaction was not counted";

  int status = 0;
  const std::string producers = Shell(
      absl::StrCat(tools, " transactions describe-producers --topic ", topic, " --partition 0"),
      status);
  ASSERT_EQ(status, 0) << producers;
  EXPECT_EQ(OpenTransactionStarts(producers), std::vector<int64_t>{3})
      << "describe-producers did not name the open transaction's start offset:\n"
      << producers;

  const std::string aborted = Shell(
      absl::StrCat(tools, " transactions abort --topic ", topic, " --partition 0 --start-offset 3"),
      status);
  ASSERT_EQ(status, 0) << aborted;
  EXPECT_TRUE(WaitFor([&] { return reports.Get(topic) == 0; }, 30s))
      << "still counted after the runbook's abort";
  EXPECT_EQ(CommittedValues(kafka, topic, 0),
            (std::vector<std::string>{"before-1", "before-2", "after-1", "after-2"}))
      << "read_committed readers did not get past the aborted transaction, or got its record";
  EXPECT_TRUE(
      OpenTransactionStarts(Shell(absl::StrCat(tools, " transactions describe-producers --topic ",
                                               topic, " --partition 0"),
                                  status))
          .empty())
      << "a transaction is still open on the partition";
}

}  // namespace
}  // namespace ccstream
