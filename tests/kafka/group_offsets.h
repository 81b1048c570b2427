// The group's committed offsets of the input topic, as integration tests set them up on the
// test broker: committed from outside the group's membership, and held unstable by another
// producer's open transaction (as after a failover).
//
// Header-only; needs librdkafka and ccstream_kafka (kafka::MakeConf).
#ifndef CCSTREAM_TESTS_KAFKA_GROUP_OFFSETS_H_
#define CCSTREAM_TESTS_KAFKA_GROUP_OFFSETS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "config.pb.h"
#include "librdkafka/rdkafkacpp.h"
#include "processor/kafka/kafka.h"

namespace ccstream::testing {

// A transaction of another producer that holds offsets of the group of `kafka` for the input
// topic's partitions and is left open: until it ends, the group's committed offsets of those
// partitions are unstable, and a read_committed consumer that looks them up (librdkafka asks for
// stable offsets) is answered UNSTABLE_OFFSET_COMMIT and asks again. So it is after a failover:
// the transaction of the instance that died holds the offsets until the broker aborts it.
class OpenOffsetsTransaction {
 public:
  absl::Status Open(const v1::KafkaConfig& kafka, const std::string& transactional_id,
                    const std::map<int32_t, int64_t>& offsets) {
    auto conf = kafka::MakeConf(
        {{"bootstrap.servers", kafka.bootstrap_servers()}, {"transactional.id", transactional_id}});
    if (!conf.ok()) return conf.status();
    std::string error;
    producer_.reset(RdKafka::Producer::create(conf->get(), error));
    if (!producer_) return absl::InternalError(error);
    auto group_conf = kafka::MakeConf(
        {{"bootstrap.servers", kafka.bootstrap_servers()}, {"group.id", kafka.group_id()}});
    if (!group_conf.ok()) return group_conf.status();
    std::unique_ptr<RdKafka::KafkaConsumer> group(
        RdKafka::KafkaConsumer::create(group_conf->get(), error));
    if (!group) return absl::InternalError(error);
    std::unique_ptr<RdKafka::ConsumerGroupMetadata> metadata(group->groupMetadata());
    group->close();
    for (RdKafka::Error* e :
         {producer_->init_transactions(30'000), producer_->begin_transaction()}) {
      if (std::unique_ptr<RdKafka::Error> owned(e); owned) return absl::InternalError(owned->str());
    }
    std::vector<RdKafka::TopicPartition*> list;
    for (const auto& [partition, offset] : offsets) {
      list.push_back(RdKafka::TopicPartition::create(kafka.input_topic(), partition, offset));
    }
    std::unique_ptr<RdKafka::Error> sent(
        producer_->send_offsets_to_transaction(list, metadata.get(), 30'000));
    RdKafka::TopicPartition::destroy(list);
    if (sent) return absl::InternalError(sent->str());
    return absl::OkStatus();
  }
  absl::Status Abort() {
    if (std::unique_ptr<RdKafka::Error> e(producer_->abort_transaction(30'000)); e) {
      return absl::InternalError(e->str());
    }
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<RdKafka::Producer> producer_;
};

// Commits `offsets` of the input topic for the group of `kafka`, as a consumer outside the
// group's membership may.
inline absl::Status CommitInputOffsets(const v1::KafkaConfig& kafka,
                                       const std::map<int32_t, int64_t>& offsets) {
  auto conf = kafka::MakeConf(
      {{"bootstrap.servers", kafka.bootstrap_servers()}, {"group.id", kafka.group_id()}});
  if (!conf.ok()) return conf.status();
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!consumer) return absl::InternalError(error);
  std::vector<RdKafka::TopicPartition*> list;
  for (const auto& [partition, offset] : offsets) {
    list.push_back(RdKafka::TopicPartition::create(kafka.input_topic(), partition, offset));
  }
  const RdKafka::ErrorCode code = consumer->commitSync(list);
  RdKafka::TopicPartition::destroy(list);
  consumer->close();
  if (code != RdKafka::ERR_NO_ERROR) return absl::InternalError(RdKafka::err2str(code));
  return absl::OkStatus();
}

}  // namespace ccstream::testing

#endif  // CCSTREAM_TESTS_KAFKA_GROUP_OFFSETS_H_
