// kafka::ResumeAndFetch against the real broker: a partition resumed after a pause is fetched at
// once. librdkafka 2.0.2 alone starts the fetch when its fetching thread next wakes up, which
// with nothing else to fetch is up to a second after the resume (0.82 s at every start of the
// processor, whose partitions are paused while their state is restored).

#include <chrono>
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
using Clock = std::chrono::steady_clock;

struct PartitionList {
  std::vector<RdKafka::TopicPartition*> list;
  ~PartitionList() { RdKafka::TopicPartition::destroy(list); }
};

TEST(ResumeAndFetch, AResumedPartitionIsFetchedAtOnce) {
  v1::KafkaConfig kafka;
  kafka.set_bootstrap_servers(TestBootstrapServers());
  kafka.set_client_id("resume-fetch-it");
  kafka.set_group_id(absl::StrCat("resume-fetch-it-", absl::ToUnixMillis(absl::Now())));
  const std::string topic = kafka.group_id();
  ASSERT_TRUE(kafka::CreateTopic(kafka, topic, 1, {}, 30'000).ok());

  auto producer = kafka::SimpleProducer::Create(kafka::ProducerProperties(kafka, false));
  ASSERT_TRUE(producer.ok()) << producer.status();
  kafka::Properties properties = kafka::ConsumerProperties(kafka);
  auto conf = kafka::MakeConf(properties);
  ASSERT_TRUE(conf.ok()) << conf.status();
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), error));
  ASSERT_NE(consumer, nullptr) << error;
  PartitionList partitions;
  partitions.list.push_back(RdKafka::TopicPartition::create(topic, 0, 0));
  ASSERT_EQ(consumer->assign(partitions.list), RdKafka::ERR_NO_ERROR);

  // Without the wake-up each round waited for what was left of the fetching thread's idle wait
  // of a second: ~0.8 s after 1.2 s paused, in every round. With it: a few milliseconds.
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_EQ(consumer->pause(partitions.list), RdKafka::ERR_NO_ERROR);
    ASSERT_TRUE((*producer)->Produce({topic, "k", absl::StrCat("round ", round), {}, 0}).ok());
    // Paused long enough for the fetching thread to have gone idle.
    const Clock::time_point idle_until = Clock::now() + 1200ms;
    while (Clock::now() < idle_until) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
      ASSERT_NE(m->err(), RdKafka::ERR_NO_ERROR) << "a paused partition delivered a record";
    }
    const Clock::time_point resumed = Clock::now();
    ASSERT_EQ(kafka::ResumeAndFetch(*consumer, partitions.list, 200), RdKafka::ERR_NO_ERROR);
    std::string got;
    while (got.empty() && Clock::now() - resumed < 10s) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(10));
      if (m->err() == RdKafka::ERR_NO_ERROR) {
        got.assign(static_cast<const char*>(m->payload()), m->len());
      }
    }
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - resumed);
    EXPECT_EQ(got, absl::StrCat("round ", round));
    EXPECT_LT(waited.count(), 500)
        << "round " << round << ": the record came " << waited.count() << " ms after the resume";
  }
  consumer->close();
}

}  // namespace
}  // namespace ccstream
