// kafka::BoundPrefetch against the real broker: what a consumer with ccstream's settings holds
// while a compressed backlog waits for it. The fetch sizes count the bytes on the wire, and
// librdkafka decompresses a response's batches whole as it arrives, so a fetch of lz4-compressed
// events holds several times its size (with 16 MiB fetches: ~300 MiB while building 1,000,000
// keys of state; with 4 MiB, ~100 MiB at the peak of that build, docs/performance.md).
// And kafka::QueueRefill: a consumer that drains its bounded queue does not wait for librdkafka
// to fetch again on its own.

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "processor/kafka/kafka.h"
#include "tests/kafka/broker_env.h"

namespace ccstream {
namespace {

using namespace std::chrono_literals;

double ResidentMiB() {
  std::ifstream in("/proc/self/statm");
  double size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

// 600,000 events of ~200 bytes (120 MB) that lz4 packs about 7:1, as it packs the benchmark's
// load-state events: ~17 MB on the broker, more than one fetch of ccstream's former size.
constexpr int kRecords = 600'000;

void ProduceBacklog(const v1::KafkaConfig& kafka, const std::string& topic,
                    int records = kRecords) {
  auto producer = kafka::SimpleProducer::Create(kafka::ProducerProperties(kafka, false));
  if (!producer.ok()) _exit(2);
  for (int i = 0; i < records; ++i) {
    const std::string value =
        absl::StrCat("{\"event_id\":\"load-q-", i, "\",\"contact_id\":\"load-contact-", i,
                     "\",\"customer_id\":\"load-customer-", i,
                     "\",\"channel\":\"VOICE\",\"queue\":\"billing\","
                     "\"event_time_ms\":",
                     1767258000000 + i, ",\"queued\":{}}");
    if (!(*producer)->Produce({topic, absl::StrCat("load-customer-", i), value, {}, -1}).ok()) {
      _exit(3);
    }
  }
  _exit((*producer)->Flush(120'000).ok() ? 0 : 4);
}

v1::KafkaConfig TestKafka(const std::string& name) {
  v1::KafkaConfig kafka;
  kafka.set_bootstrap_servers(TestBootstrapServers());
  kafka.set_client_id(name);
  kafka.set_group_id(absl::StrCat(name, "-", absl::ToUnixMillis(absl::Now())));
  return kafka;
}

// A topic of `records` on 4 partitions, produced by a child process, so that the producer's
// buffers are not this process's memory.
void CreateBacklog(const v1::KafkaConfig& kafka, const std::string& topic, int records) {
  ASSERT_TRUE(kafka::CreateTopic(kafka, topic, 4, {}, 30'000).ok());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) ProduceBacklog(kafka, topic, records);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "producing the backlog failed";
}

std::unique_ptr<RdKafka::KafkaConsumer> AssignedConsumer(const kafka::Properties& properties,
                                                         const std::string& topic) {
  auto conf = kafka::MakeConf(properties);
  EXPECT_TRUE(conf.ok()) << conf.status();
  if (!conf.ok()) return nullptr;
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), error));
  EXPECT_NE(consumer, nullptr) << error;
  if (consumer == nullptr) return nullptr;
  // Every partition from its start at once, as when the processor resumes the partitions whose
  // state it restored: one fetch then asks for all of them.
  std::vector<RdKafka::TopicPartition*> partitions;
  for (int32_t p = 0; p < 4; ++p)
    partitions.push_back(RdKafka::TopicPartition::create(topic, p, 0));
  const RdKafka::ErrorCode assigned = consumer->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);
  EXPECT_EQ(assigned, RdKafka::ERR_NO_ERROR);
  return assigned == RdKafka::ERR_NO_ERROR ? std::move(consumer) : nullptr;
}

TEST(BoundPrefetch, ACompressedBacklogIsNotHeldWhole) {
  const v1::KafkaConfig kafka = TestKafka("prefetch-it");
  const std::string& topic = kafka.group_id();
  CreateBacklog(kafka, topic, kRecords);
  if (HasFatalFailure()) return;

  const double before = ResidentMiB();
  std::unique_ptr<RdKafka::KafkaConsumer> consumer =
      AssignedConsumer(kafka::ConsumerProperties(kafka), topic);
  ASSERT_NE(consumer, nullptr);
  // One record read, the rest left waiting as behind a busy processor; librdkafka prefetches
  // in the background until its limits stop it.
  bool got = false;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!got && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    got = m->err() == RdKafka::ERR_NO_ERROR;
  }
  ASSERT_TRUE(got) << "no record within 60 s";
  std::this_thread::sleep_for(3s);
  const double held = ResidentMiB() - before;
  std::printf("the consumer holds %.1f MiB of the backlog\n", held);
  // With 64 KiB per partition and a queue of 20,000 records it held 12.5 MiB; with 1 MiB fetches
  // (256 KiB per partition) and 100,000 records 51 MiB, most of it the queue; with 4 MiB fetches
  // 57-72 MiB; with 16 MiB fetches (4 MiB per partition) 233 MiB.
  EXPECT_LT(held, 128) << "the consumer holds " << held << " MiB of a " << kRecords
                       << "-record backlog";
  consumer->close();
}

struct Drain {
  int records = 0;
  // Polls of 100 ms that returned nothing before the whole backlog was read: the consumer
  // waiting for librdkafka to fetch.
  int empty_polls = 0;
  int64_t wakes = 0;
};

// Reads `records` with a queue of 2,000 records, which one fetch (16 KiB from each of the 4
// partitions, ~2,200 records) fills, so that the queue fills and drains ~30 times.
Drain DrainBacklog(const v1::KafkaConfig& kafka, const std::string& topic, int records,
                   bool refill) {
  kafka::Properties properties = kafka::ConsumerProperties(kafka);
  properties["group.id"] = absl::StrCat(kafka.group_id(), refill ? "-refill" : "-plain");
  kafka::BoundPrefetch(properties, {1 << 20, 16 << 10, 1 << 20, 2'000});
  std::unique_ptr<RdKafka::KafkaConsumer> consumer = AssignedConsumer(properties, topic);
  Drain drain;
  if (consumer == nullptr) return drain;
  std::optional<kafka::QueueRefill> queue_refill;
  if (refill) queue_refill.emplace(*consumer, properties);
  const auto deadline = std::chrono::steady_clock::now() + 240s;
  while (drain.records < records && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() == RdKafka::ERR__TIMED_OUT) ++drain.empty_polls;
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    ++drain.records;
    if (queue_refill) queue_refill->Taken(m->len() + m->key_len());
  }
  if (queue_refill) drain.wakes = queue_refill->wakes();
  consumer->close();
  return drain;
}

TEST(QueueRefill, ADrainedQueueIsFetchedAgainAtOnce) {
  const v1::KafkaConfig kafka = TestKafka("refill-it");
  const std::string& topic = kafka.group_id();
  constexpr int kBacklog = 60'000;
  CreateBacklog(kafka, topic, kBacklog);
  if (HasFatalFailure()) return;

  const Drain plain = DrainBacklog(kafka, topic, kBacklog, /*refill=*/false);
  const Drain refilled = DrainBacklog(kafka, topic, kBacklog, /*refill=*/true);
  std::printf("without refill: %d empty polls; with refill: %d empty polls, %lld wakes\n",
              plain.empty_polls, refilled.empty_polls, static_cast<long long>(refilled.wakes));
  ASSERT_EQ(plain.records, kBacklog);
  ASSERT_EQ(refilled.records, kBacklog);
  // Without it librdkafka 2.0.2 fetches again up to a second after the queue had room, each of
  // the ~30 times it filled (measured: 90-91 empty polls, 27 once on a busy machine, where the
  // fetches came sooner); with it, none (60 wakes). Under 10 (a second), the plain consumer
  // hardly waited and there is nothing to compare.
  EXPECT_GE(plain.empty_polls, 10) << "the plain consumer did not wait: the test shows nothing";
  EXPECT_GE(refilled.wakes, 30);
  EXPECT_LT(refilled.empty_polls * 5, plain.empty_polls);
}

}  // namespace
}  // namespace ccstream
