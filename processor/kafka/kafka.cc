#include "processor/kafka/kafka.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"

namespace ccstream::kafka {
namespace {

std::string HostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeConfOf(RdKafka::Conf::ConfType type,
                                                          const Properties& properties,
                                                          const char* what) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(type));
  std::string error;
  for (const auto& [name, value] : properties) {
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat(what, " ", name, "=", value, ": ", error));
    }
  }
  return conf;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeConf(const Properties& properties) {
  return MakeConfOf(RdKafka::Conf::CONF_GLOBAL, properties, "Kafka property");
}

absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeTopicConf(const Properties& properties) {
  return MakeConfOf(RdKafka::Conf::CONF_TOPIC, properties, "Kafka topic property");
}

Properties AlertTopicProperties(const v1::KafkaConfig& kafka) {
  const auto& set = kafka.producer_properties();
  if (set.contains("compression.type") || set.contains("compression.codec")) return {};
  return {{"compression.codec", "none"}};
}

std::string TransactionalId(const v1::KafkaConfig& kafka) {
  if (!kafka.group_instance_id().empty()) {
    return absl::StrCat(kafka.group_id(), "-", kafka.group_instance_id());
  }
  return absl::StrCat(kafka.group_id(), "-", kafka.client_id(), "-", HostName());
}

Properties ConsumerProperties(const v1::KafkaConfig& kafka) {
  Properties p = {
      {"bootstrap.servers", kafka.bootstrap_servers()},
      {"group.id", kafka.group_id()},
      {"client.id", kafka.client_id()},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"isolation.level", "read_committed"},
      {"enable.partition.eof", "true"},
      {"receive.message.max.bytes", "100000000"},
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
      {"fetch.wait.max.ms", "50"},
  };
  BoundPrefetch(p);
  if (!kafka.group_instance_id().empty()) p["group.instance.id"] = kafka.group_instance_id();
  for (const auto& [name, value] : kafka.consumer_properties()) p[name] = value;
  return p;
}

void BoundPrefetch(Properties& properties, const Prefetch& prefetch) {
  properties["fetch.max.bytes"] = std::to_string(prefetch.fetch_bytes);
  properties["max.partition.fetch.bytes"] = std::to_string(prefetch.partition_fetch_bytes);
  properties["queued.max.messages.kbytes"] = std::to_string(prefetch.queue_bytes >> 10);
  properties["queued.min.messages"] = std::to_string(prefetch.queue_messages);
}

void UnboundPrefetch(Properties& properties) {
  for (const char* name : {"fetch.max.bytes", "max.partition.fetch.bytes",
                           "queued.max.messages.kbytes", "queued.min.messages"}) {
    properties.erase(name);
  }
}

RdKafka::ErrorCode ResumeAndFetch(RdKafka::KafkaConsumer& consumer,
                                  std::vector<RdKafka::TopicPartition*>& partitions,
                                  int wake_timeout_ms) {
  if (const RdKafka::ErrorCode code = consumer.resume(partitions); code != RdKafka::ERR_NO_ERROR) {
    return code;
  }
  WakeFetchers(consumer, partitions, wake_timeout_ms);
  return RdKafka::ERR_NO_ERROR;
}

void WakeFetchers(RdKafka::KafkaConsumer& consumer,
                  const std::vector<RdKafka::TopicPartition*>& partitions, int wake_timeout_ms) {
  if (partitions.empty()) return;
  // The offset of each entry is the timestamp looked up: -1 asks for the end offset.
  std::vector<RdKafka::TopicPartition*> wake;
  wake.reserve(partitions.size());
  for (const RdKafka::TopicPartition* tp : partitions) {
    wake.push_back(RdKafka::TopicPartition::create(tp->topic(), tp->partition(), -1));
  }
  // Its result does not matter: the requests woke the fetching threads when they were queued.
  consumer.offsetsForTimes(wake, wake_timeout_ms);
  RdKafka::TopicPartition::destroy(wake);
}

namespace {

int64_t PropertyOr(const Properties& properties, const std::string& name, int64_t otherwise) {
  const auto it = properties.find(name);
  int64_t value = 0;
  return it != properties.end() && absl::SimpleAtoi(it->second, &value) && value > 0 ? value
                                                                                     : otherwise;
}

}  // namespace

QueueRefill::QueueRefill(RdKafka::KafkaConsumer& consumer, const Properties& properties)
    : consumer_(consumer),
      // librdkafka's defaults: 100,000 records, 65,536 KiB.
      records_per_wake_(
          std::max<int64_t>(1, PropertyOr(properties, "queued.min.messages", 100'000) / 2)),
      bytes_per_wake_(std::max<int64_t>(
          1, PropertyOr(properties, "queued.max.messages.kbytes", 65'536) * 1024 / 2)) {}

void QueueRefill::Wake() {
  records_ = 0;
  bytes_ = 0;
  std::vector<RdKafka::TopicPartition*> assignment;
  if (consumer_.assignment(assignment) == RdKafka::ERR_NO_ERROR) {
    WakeFetchers(consumer_, assignment, /*wake_timeout_ms=*/0);
    ++wakes_;
  }
  RdKafka::TopicPartition::destroy(assignment);
}

Properties ProducerProperties(const v1::KafkaConfig& kafka, bool transactional) {
  Properties p = {
      {"bootstrap.servers", kafka.bootstrap_servers()},
      {"client.id", kafka.client_id()},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // EXACTLY_ONCE: nothing is readable before the commit, whose flush sends what lingers at
      // once (librdkafka >= 1.8 ignores linger.ms while flushing), so a batch's outputs may wait
      // for it: fewer, larger produce requests, which the broker on the same cores serves with
      // less CPU. AT_LEAST_ONCE: an alert is readable once sent, so its linger is latency.
      {"linger.ms", transactional ? "50" : "5"},
      {"message.max.bytes", "16777216"},
      {"compression.type", "lz4"},
  };
  if (transactional) {
    p["transactional.id"] = TransactionalId(kafka);
    p["transaction.timeout.ms"] = "30000";
  }
  for (const auto& [name, value] : kafka.producer_properties()) p[name] = value;
  return p;
}

Properties ReaderProperties(const v1::KafkaConfig& kafka) {
  Properties p = {{"bootstrap.servers", kafka.bootstrap_servers()}};
  for (const auto& [name, value] : kafka.consumer_properties()) p[name] = value;
  return p;
}

Properties AdminProperties(const v1::KafkaConfig& kafka) {
  Properties p = {{"bootstrap.servers", kafka.bootstrap_servers()},
                  {"client.id", kafka.client_id()},
                  {"log_level", "0"}};
  for (const auto& [name, value] : kafka.producer_properties()) p[name] = value;
  return p;
}

absl::Status CheckReachable(const v1::KafkaConfig& kafka, int timeout_ms) {
  auto conf = MakeConf(AdminProperties(kafka));
  if (!conf.ok()) return conf.status();
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf->get(), error));
  if (!producer) return absl::InternalError(absl::StrCat("cannot create Kafka client: ", error));
  RdKafka::Metadata* metadata = nullptr;
  const RdKafka::ErrorCode code = producer->metadata(true, nullptr, &metadata, timeout_ms);
  std::unique_ptr<RdKafka::Metadata> owned(metadata);
  if (code != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("cannot reach Kafka at ", kafka.bootstrap_servers(),
                                               " within ", timeout_ms,
                                               " ms: ", RdKafka::err2str(code)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PartitionCount(const v1::KafkaConfig& kafka, const std::string& topic,
                                   int timeout_ms) {
  auto conf = MakeConf(AdminProperties(kafka));
  if (!conf.ok()) return conf.status();
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf->get(), error));
  if (!producer) return absl::InternalError(error);
  return PartitionCount(*producer, topic, timeout_ms);
}

absl::StatusOr<int> PartitionCount(RdKafka::Handle& client, const std::string& topic,
                                   int timeout_ms) {
  std::string error;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(&client, topic, nullptr, error));
  if (!handle) return absl::InternalError(absl::StrCat("topic ", topic, ": ", error));
  RdKafka::Metadata* metadata = nullptr;
  const RdKafka::ErrorCode code = client.metadata(false, handle.get(), &metadata, timeout_ms);
  std::unique_ptr<RdKafka::Metadata> owned(metadata);
  if (code != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("metadata of ", topic, ": ", RdKafka::err2str(code)));
  }
  for (const RdKafka::TopicMetadata* t : *metadata->topics()) {
    if (t->topic() != topic) continue;
    if (t->err() != RdKafka::ERR_NO_ERROR) {
      return absl::NotFoundError(absl::StrCat("topic ", topic, ": ", RdKafka::err2str(t->err())));
    }
    return static_cast<int>(t->partitions()->size());
  }
  return absl::NotFoundError(absl::StrCat("topic ", topic, " does not exist"));
}

absl::Status CreateTopic(const v1::KafkaConfig& kafka, const std::string& topic, int partitions,
                         const Properties& configs, int timeout_ms) {
  auto conf = MakeConf(AdminProperties(kafka));
  if (!conf.ok()) return conf.status();
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf->get(), error));
  if (!producer) return absl::InternalError(error);
  rd_kafka_t* rk = producer->c_ptr();
  char errstr[512];
  rd_kafka_NewTopic_t* new_topic =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, errstr, sizeof(errstr));
  if (new_topic == nullptr) return absl::InvalidArgumentError(errstr);
  for (const auto& [name, value] : configs) {
    rd_kafka_NewTopic_set_config(new_topic, name.c_str(), value.c_str());
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, timeout_ms, errstr, sizeof(errstr));
  rd_kafka_CreateTopics(rk, &new_topic, 1, options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, timeout_ms + 1000);
  absl::Status status = absl::OkStatus();
  if (event == nullptr) {
    status = absl::DeadlineExceededError(absl::StrCat("create topic ", topic, ": no answer"));
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = absl::UnavailableError(
        absl::StrCat("create topic ", topic, ": ", rd_kafka_event_error_string(event)));
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    for (size_t i = 0; i < count; ++i) {
      const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        status = absl::UnavailableError(absl::StrCat(
            "create topic ", topic, ": ", rd_kafka_topic_result_error_string(results[i])));
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(new_topic);
  return status;
}

absl::StatusOr<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::Start(
    const std::vector<Topic>& topics) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof(error));
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("embedded cluster: ", error));
  }
  std::unique_ptr<EmbeddedCluster> cluster(new EmbeddedCluster());
  cluster->handle_ = handle;
  cluster->cluster_ = rd_kafka_mock_cluster_new(handle, 1);
  if (cluster->cluster_ == nullptr) return absl::InternalError("embedded cluster: cannot start");
  for (const Topic& topic : topics) {
    const rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(cluster->cluster_, topic.name.c_str(), topic.partitions, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::InternalError(
          absl::StrCat("embedded cluster: topic ", topic.name, ": ", rd_kafka_err2str(err)));
    }
  }
  cluster->bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster->cluster_);
  return cluster;
}

EmbeddedCluster::~EmbeddedCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

class SimpleProducer::DeliveryReport : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() != RdKafka::ERR_NO_ERROR) {
      failed_.fetch_add(1);
      if (first_error_.empty()) first_error_ = message.errstr();
    } else {
      delivered_.fetch_add(1);
    }
  }
  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> failed_{0};
  std::string first_error_;
};

absl::StatusOr<std::unique_ptr<SimpleProducer>> SimpleProducer::Create(
    const Properties& properties) {
  auto conf = MakeConf(properties);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<SimpleProducer> producer(new SimpleProducer());
  producer->report_ = std::make_unique<DeliveryReport>();
  std::string error;
  (*conf)->set("dr_cb", producer->report_.get(), error);
  producer->producer_.reset(RdKafka::Producer::create(conf->get(), error));
  if (!producer->producer_) {
    return absl::InternalError(absl::StrCat("cannot create Kafka producer: ", error));
  }
  return producer;
}

SimpleProducer::~SimpleProducer() {
  if (producer_) producer_->flush(5000);
}

absl::Status SimpleProducer::Produce(const Record& record) {
  RdKafka::Headers* headers = nullptr;
  if (!record.headers.empty()) {
    headers = RdKafka::Headers::create();
    for (const auto& [name, value] : record.headers) headers->add(name, value);
  }
  for (;;) {
    const RdKafka::ErrorCode code = producer_->produce(
        record.topic, record.partition < 0 ? RdKafka::Topic::PARTITION_UA : record.partition,
        RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(record.value.data()), record.value.size(),
        record.key.data(), record.key.size(), 0, headers, nullptr);
    if (code == RdKafka::ERR_NO_ERROR) return absl::OkStatus();
    if (code == RdKafka::ERR__QUEUE_FULL) {
      producer_->poll(50);
      continue;
    }
    delete headers;
    return absl::InternalError(
        absl::StrCat("produce to ", record.topic, ": ", RdKafka::err2str(code)));
  }
}

absl::Status SimpleProducer::Flush(int timeout_ms) {
  const RdKafka::ErrorCode code = producer_->flush(timeout_ms);
  if (code != RdKafka::ERR_NO_ERROR) {
    return absl::DeadlineExceededError(
        absl::StrCat("records not delivered within ", timeout_ms, " ms: ", RdKafka::err2str(code)));
  }
  if (report_->failed_.load() > 0) {
    return absl::UnavailableError(
        absl::StrCat(report_->failed_.load(), " records failed: ", report_->first_error_));
  }
  return absl::OkStatus();
}

int64_t SimpleProducer::delivered() const { return report_->delivered_.load(); }

}  // namespace ccstream::kafka
