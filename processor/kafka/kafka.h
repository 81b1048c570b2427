#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config.pb.h"
#include "librdkafka/rdkafkacpp.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace ccstream::kafka {

using Properties = std::map<std::string, std::string>;

// Builds a librdkafka configuration; an unknown property or bad value is an error naming it.
absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeConf(const Properties& properties);

// The consumer properties ccstream runs with (group, cooperative-sticky assignment, manual
// offsets, read_committed, a bounded prefetch, static membership when configured), with the
// user's extra consumer_properties applied last.
Properties ConsumerProperties(const v1::KafkaConfig& kafka);

// A consumer's prefetch: how much it asks for per fetch and per partition, and how much it keeps
// queued before it stops fetching (`queue_bytes` of values or `queue_messages` records, whichever
// comes first). The processor and the restore take records far slower than a broker hands them
// out. The fetch sizes count the bytes on the wire, and a response's compressed batches are
// decompressed whole as they arrive (the queue limits stop the next fetch, not this one): one
// 16 MiB fetch of lz4-compressed events (~7:1) held ~230 MiB of batches and queued messages at
// once, and each record costs librdkafka ~300 bytes beside its value. Once its queue is full,
// librdkafka 2.0.2 fetches again up to a second after it has room (confluentinc/librdkafka#2879):
// without QueueRefill (below) the queue had to hold more than a second of work (at 20,000
// records the processor fell from ~33,000 to ~22,000 events/s). librdkafka's defaults are
// 64 MiB fetches (1 MiB per partition), a 64 MiB queue and 100,000 records. A batch larger than
// the fetch size is still fetched, alone.
struct Prefetch {
  int64_t fetch_bytes;  // librdkafka requires at least message.max.bytes (1,000,000)
  int64_t partition_fetch_bytes;
  int64_t queue_bytes;
  int64_t queue_messages;
};
// The processing consumer, refilled by QueueRefill: 64 KiB is ~2,500 compressed events of the
// benchmark's `load-state` input, so that a fetch of every partition does not overshoot the queue
// many times over.
inline constexpr Prefetch kProcessingPrefetch = {1 << 20, 64 << 10, 4 << 20, 20'000};
// The restore, refilled by QueueRefill, applies changelog records faster than the processor
// handles events. Without the refill it needed 16 MiB fetches (at 4 MiB it restored 133,000-
// 147,000 records/s instead of 183,000); with it, 4 MiB fetches restored 434,000-630,000
// records/s (four runs at 1,000,000 keys).
inline constexpr Prefetch kRestorePrefetch = {4 << 20, 1 << 20, 16 << 20, 100'000};
void BoundPrefetch(Properties& properties, const Prefetch& prefetch = kProcessingPrefetch);
// Removes what BoundPrefetch sets, leaving librdkafka's defaults (the benchmark's baseline).
void UnboundPrefetch(Properties& properties);

// Resumes `partitions` (topic and partition of each; the offsets are not read; as with
// KafkaConsumer::resume, an entry's error is set on it) and makes the consumer fetch them at
// once. librdkafka 2.0.2 hands a resume to its main thread; the thread that fetches from a
// partition's leader notices it only when that thread next wakes up, which, with no other
// partition of that broker fetching (every start: the partitions are paused while their state
// is restored), is up to a second later. Any request to that broker wakes its thread: this asks
// for the partitions' end offsets (one request per leader, in parallel), waits at most
// `wake_timeout_ms` for the answers and drops them: an answer that does not come in time only
// leaves the fetch to start when the thread wakes on its own.
RdKafka::ErrorCode ResumeAndFetch(RdKafka::KafkaConsumer& consumer,
                                  std::vector<RdKafka::TopicPartition*>& partitions,
                                  int wake_timeout_ms);

// Asks the leaders of `partitions` for their end offsets and drops the answers: any request to a
// broker wakes the thread that fetches from it (see ResumeAndFetch). Waits at most
// `wake_timeout_ms` for the answers; with 0 it only queues the requests.
void WakeFetchers(RdKafka::KafkaConsumer& consumer,
                  const std::vector<RdKafka::TopicPartition*>& partitions, int wake_timeout_ms);

// Keeps a bounded prefetch fetching while the application drains it. librdkafka 2.0.2 stops
// fetching once the consumer's queue holds `queued.min.messages` records or
// `queued.max.messages.kbytes`, and looks again only when its fetching thread next wakes up, up to
// a second later when nothing else wakes it (confluentinc/librdkafka#2879; `fetch.queue.backoff.ms`
// from 2.2): an application that drains the queue faster than that waits for the rest of the
// second, every time the queue fills. QueueRefill counts the records the application takes and,
// each time it has taken half a queue (in records or in bytes), wakes the fetching threads of the
// consumer's assignment without waiting for an answer (one small request per leader). Without it
// the restore read the changelog at ~220,000 records/s with a 100,000-record queue; with it,
// 541,737 records/s with the same queue (one run at 1,000,000 keys, docs/performance.md).
class QueueRefill {
 public:
  // `properties`: the consumer's, for its queue limits (librdkafka's defaults where unset).
  QueueRefill(RdKafka::KafkaConsumer& consumer, const Properties& properties);
  // Counts one record taken from the consumer, of `bytes` (key and value).
  void Taken(size_t bytes) {
    ++records_;
    bytes_ += static_cast<int64_t>(bytes);
    if (records_ >= records_per_wake_ || bytes_ >= bytes_per_wake_) Wake();
  }
  int64_t wakes() const { return wakes_; }

 private:
  void Wake();

  RdKafka::KafkaConsumer& consumer_;
  int64_t records_per_wake_;
  int64_t bytes_per_wake_;
  int64_t records_ = 0;
  int64_t bytes_ = 0;
  int64_t wakes_ = 0;
};

// The base of every other client that reads from ccstream's cluster (the restore's consumer,
// the look-ups of offsets and watermarks, the transaction watch): the bootstrap servers, then
// kafka.consumer_properties, so that they connect as the pipeline's consumer does (security
// settings: security.protocol, sasl.*, ssl.*). Their own settings go on top.
Properties ReaderProperties(const v1::KafkaConfig& kafka);

// The base of the short-lived clients that ask for metadata or create topics (CheckReachable,
// PartitionCount, CreateTopic): the bootstrap servers, the client id, no log, then
// kafka.producer_properties, so that they connect as the producer does.
Properties AdminProperties(const v1::KafkaConfig& kafka);

// The producer properties: idempotent; transactional (transactional.id, and a linger of 50 ms
// instead of 5, see kafka.cc) when `transactional`; then kafka.producer_properties over them.
Properties ProducerProperties(const v1::KafkaConfig& kafka, bool transactional);

// The topic properties of the alerts topic on the producer: no compression (an alert goes out
// within milliseconds, in batches of a few records, where LZ4's per-batch set-up cost more than
// it saved: see docs/performance.md), unless kafka.producer_properties sets compression.type
// or compression.codec, which then holds for every topic. The changelog and the dead letters
// keep the producer's LZ4.
Properties AlertTopicProperties(const v1::KafkaConfig& kafka);

// Makes librdkafka topic-level configuration from properties; an error naming the first one
// librdkafka refuses.
absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeTopicConf(const Properties& properties);

// The transactional.id of this instance: stable across restarts so that a restarted instance
// fences its own zombie: "<group_id>-<group_instance_id>" or "<group_id>-<client_id>-<host>".
std::string TransactionalId(const v1::KafkaConfig& kafka);

// Asks the brokers for metadata; an error when none answers within `timeout_ms`
// ("cannot reach Kafka at HOST:PORT within N ms: …"). Never hangs longer than the timeout.
absl::Status CheckReachable(const v1::KafkaConfig& kafka, int timeout_ms);

// Number of partitions of `topic`, or an error when it does not exist.
absl::StatusOr<int> PartitionCount(const v1::KafkaConfig& kafka, const std::string& topic,
                                   int timeout_ms);
// The same, asked through `client` (any client of the cluster).
absl::StatusOr<int> PartitionCount(RdKafka::Handle& client, const std::string& topic,
                                   int timeout_ms);

// Creates `topic` with `partitions` partitions (replication 1) and topic configs; OK when it
// already exists with that name.
absl::Status CreateTopic(const v1::KafkaConfig& kafka, const std::string& topic, int partitions,
                         const Properties& configs, int timeout_ms);

// A record to produce.
struct Record {
  std::string topic;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  int32_t partition = -1;  // -1: by key
};

// An in-process Kafka cluster (librdkafka's mock cluster) for the embedded demo and replays.
// It does not implement transactional offsets or fencing: the embedded mode therefore runs
// AT_LEAST_ONCE. Owned by the command that starts it; not thread-safe.
class EmbeddedCluster {
 public:
  struct Topic {
    std::string name;
    int partitions = 1;
  };
  static absl::StatusOr<std::unique_ptr<EmbeddedCluster>> Start(const std::vector<Topic>& topics);
  ~EmbeddedCluster();
  const std::string& bootstrap_servers() const { return bootstrap_; }

 private:
  EmbeddedCluster() = default;
  ::rd_kafka_s* handle_ = nullptr;
  ::rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_;
};

// Produces records and waits for their delivery (used by `gen`, `replay` and tests).
// Not thread-safe.
class SimpleProducer {
 public:
  static absl::StatusOr<std::unique_ptr<SimpleProducer>> Create(const Properties& properties);
  ~SimpleProducer();
  // Queues one record (retrying while the local queue is full).
  absl::Status Produce(const Record& record);
  // Waits until every queued record is delivered or failed; an error if any failed.
  absl::Status Flush(int timeout_ms);
  int64_t delivered() const;

 private:
  class DeliveryReport;
  SimpleProducer() = default;
  std::unique_ptr<DeliveryReport> report_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

}  // namespace ccstream::kafka
