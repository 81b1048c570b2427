// kafka::BoundPrefetch against the real broker: what a consumer with ccstream's settings holds
// while a compressed backlog waits for it. The fetch sizes count the bytes on the wire, and
// librdkafka decompresses a response's batches whole as it arrives, so a fetch of lz4-compressed
// events holds several times its size (with 16 MiB fetches: ~300 MiB while building 1,000,000
// keys of state; with 4 MiB, ~100 MiB at the peak of that build, docs/performance.md).

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
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

void ProduceBacklog(const v1::KafkaConfig& kafka, const std::string& topic) {
  auto producer = kafka::SimpleProducer::Create(kafka::ProducerProperties(kafka, false));
  if (!producer.ok()) _exit(2);
  for (int i = 0; i < kRecords; ++i) {
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

TEST(BoundPrefetch, ACompressedBacklogIsNotHeldWhole) {
  v1::KafkaConfig kafka;
  kafka.set_bootstrap_servers(TestBootstrapServers());
  kafka.set_client_id("prefetch-it");
  kafka.set_group_id(absl::StrCat("prefetch-it-", absl::ToUnixMillis(absl::Now())));
  const std::string topic = kafka.group_id();
  ASSERT_TRUE(kafka::CreateTopic(kafka, topic, 4, {}, 30'000).ok());

  // The backlog comes from a child process, so that the producer's buffers are not this
  // process's memory, measured below.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) ProduceBacklog(kafka, topic);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "producing the backlog failed";

  const double before = ResidentMiB();
  auto conf = kafka::MakeConf(kafka::ConsumerProperties(kafka));
  ASSERT_TRUE(conf.ok()) << conf.status();
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), error));
  ASSERT_NE(consumer, nullptr) << error;
  // Every partition from its start at once, as when the processor resumes the partitions whose
  // state it restored: one fetch then asks for all of them.
  std::vector<RdKafka::TopicPartition*> partitions;
  for (int32_t p = 0; p < 4; ++p)
    partitions.push_back(RdKafka::TopicPartition::create(topic, p, 0));
  const RdKafka::ErrorCode assigned = consumer->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);
  ASSERT_EQ(assigned, RdKafka::ERR_NO_ERROR);
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
  // With 1 MiB fetches (256 KiB per partition) it held 51 MiB, most of it the queue of 100,000
  // records; with 4 MiB fetches 57-72 MiB; with 16 MiB fetches (4 MiB per partition) 233 MiB.
  EXPECT_LT(held, 128) << "the consumer holds " << held << " MiB of a " << kRecords
                       << "-record backlog";
  consumer->close();
}

}  // namespace
}  // namespace ccstream
