// A topic read as a read_committed consumer reads it, from the beginning of each partition to its
// end: what the integration tests check of a transactional producer's outputs (alerts, dead
// letters, changelog records, a partition whose transaction was aborted).
//
// Header-only; needs librdkafka, GoogleTest and ccstream_kafka (kafka::MakeConf).
#ifndef CCSTREAM_TESTS_KAFKA_COMMITTED_READER_H_
#define CCSTREAM_TESTS_KAFKA_COMMITTED_READER_H_

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "librdkafka/rdkafkacpp.h"
#include "processor/kafka/kafka.h"

namespace ccstream::testing {

struct CommittedReadOptions {
  // The partitions read, each from its beginning; empty: every partition of the topic.
  std::vector<int32_t> partitions;
  // The read ends once every partition is at its end and `done` holds (unset: at once), or when
  // `timeout` has passed. A transaction's records become readable once its markers are written,
  // which may be after the end was first reached: `done` waits for what the test expects.
  std::function<bool()> done;
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  // Added to the reader's properties (e.g. fetch sizes for records above librdkafka's defaults).
  kafka::Properties properties;
};

namespace committed_reader_internal {

inline std::vector<int32_t> TopicPartitions(RdKafka::KafkaConsumer& consumer,
                                            const std::string& topic) {
  std::vector<int32_t> partitions;
  std::string error;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(&consumer, topic, nullptr, error));
  if (!handle) {
    ADD_FAILURE() << "topic handle for " << topic << ": " << error;
    return partitions;
  }
  RdKafka::Metadata* raw = nullptr;
  const RdKafka::ErrorCode code = consumer.metadata(false, handle.get(), &raw, 10'000);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (code != RdKafka::ERR_NO_ERROR || metadata->topics()->empty()) {
    ADD_FAILURE() << "metadata of " << topic << ": " << RdKafka::err2str(code);
    return partitions;
  }
  const RdKafka::TopicMetadata* described = metadata->topics()->front();
  if (described->err() != RdKafka::ERR_NO_ERROR) {
    ADD_FAILURE() << "metadata of " << topic << ": " << RdKafka::err2str(described->err());
    return partitions;
  }
  for (const RdKafka::PartitionMetadata* partition : *described->partitions()) {
    partitions.push_back(partition->id());
  }
  return partitions;
}

}  // namespace committed_reader_internal

// Gives each record of `topic` that a read_committed consumer reads to `visit`, in each
// partition's order, and returns whether the read ended at the end of every partition with
// `done` holding (false: the timeout passed first). A reader that cannot be set up fails the
// test.
inline bool ReadCommitted(const std::string& bootstrap, const std::string& topic,
                          const std::function<void(RdKafka::Message&)>& visit,
                          const CommittedReadOptions& options = {}) {
  static std::atomic<int> readers{0};
  kafka::Properties properties = {
      {"bootstrap.servers", bootstrap},
      // Never joins the group (the partitions are assigned) or commits for it.
      {"group.id", absl::StrCat("ccstream-test-reader-", getpid(), "-", ++readers)},
      {"isolation.level", "read_committed"},
      {"enable.partition.eof", "true"},
      {"enable.auto.commit", "false"},
  };
  for (const auto& [name, value] : options.properties) properties[name] = value;
  auto conf = kafka::MakeConf(properties);
  if (!conf.ok()) {
    ADD_FAILURE() << conf.status();
    return false;
  }
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> reader(
      RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!reader) {
    ADD_FAILURE() << "read_committed reader: " << error;
    return false;
  }
  const std::vector<int32_t> partitions =
      options.partitions.empty() ? committed_reader_internal::TopicPartitions(*reader, topic)
                                 : options.partitions;
  if (partitions.empty()) {
    reader->close();
    return false;
  }
  std::vector<RdKafka::TopicPartition*> assignment;
  for (const int32_t partition : partitions) {
    assignment.push_back(
        RdKafka::TopicPartition::create(topic, partition, RdKafka::Topic::OFFSET_BEGINNING));
  }
  const RdKafka::ErrorCode assigned = reader->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  if (assigned != RdKafka::ERR_NO_ERROR) {
    ADD_FAILURE() << "assign " << topic << ": " << RdKafka::err2str(assigned);
    reader->close();
    return false;
  }
  std::set<int32_t> at_end;
  bool ended = false;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  while (!ended && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> message(reader->consume(500));
    if (message->err() == RdKafka::ERR__PARTITION_EOF) {
      at_end.insert(message->partition());
      ended = at_end.size() == partitions.size() && (!options.done || options.done());
      continue;
    }
    if (message->err() != RdKafka::ERR_NO_ERROR) continue;
    at_end.erase(message->partition());
    visit(*message);
  }
  reader->close();
  return ended;
}

}  // namespace ccstream::testing

#endif  // CCSTREAM_TESTS_KAFKA_COMMITTED_READER_H_
