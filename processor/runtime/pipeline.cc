#include "processor/runtime/pipeline.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>

#include <librdkafka/rdkafka.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/log.h"
#include "state/task_store.h"

namespace ccstream::runtime {
namespace {

// Each transactional call's timeout. A commit whose thread has not returned
// processing.commit_deadline_ms after it started is given up on (Pipeline::AbandonCommit).
constexpr int kTxnTimeoutMs = 30'000;
// How long an abort waits for the aborted batch's records to be delivered before it drops them
// (AbortAndRewind): while the brokers are up, a batch's records are delivered well within it.
constexpr int kAbortFlushMs = 2'000;
// How long a resume waits for the answer to the request that wakes the fetchers (see
// kafka::ResumeAndFetch); no answer in time only delays the first fetch.
constexpr int kWakeFetchTimeoutMs = 200;
// How long one look-up of the group's committed offsets may wait (StartOffsets); it is asked
// again after a second.
constexpr int kStartLookupTimeoutMs = 10'000;
// How long the pipeline's thread waits for the broker's answer when it asks where the partitions
// librdkafka has no watermark of begin and end (Pipeline::AskOffsets), and how soon it asks
// again after an answer (the lag is sampled every second) and after none.
constexpr int kAskOffsetsTimeoutMs = 500;
constexpr auto kAskOffsetsEvery = std::chrono::seconds(1);
// How often Tick samples the consumer lag (RecordLag), at most.
constexpr auto kLagSampleEvery = std::chrono::seconds(1);
constexpr auto kAskOffsetsAfterFailure = std::chrono::seconds(10);

// Output records the broker refused for what they are: how many, and the largest (topic,
// partition, key, size and the broker's reason: the broker refuses a whole request's batch of
// records for one too large).
struct RefusedRecords {
  int64_t records = 0;
  size_t largest_bytes = 0;
  std::string largest;
};

// An output record for a log line: its key (escaped; the first 64 bytes) and its value's size.
std::string DescribeKeyAndSize(std::string_view key, size_t value_bytes) {
  constexpr size_t kKeyShown = 64;
  return absl::StrCat("key \"", absl::CHexEscape(std::string(key.substr(0, kKeyShown))),
                      key.size() > kKeyShown ? "...\"" : "\"", " (", value_bytes,
                      " bytes of value)");
}

// On the wall clock, how often a batch looks for due timers between two records (and again at
// its end): the firing is spread over the batch instead of pausing the reading at its end.
constexpr auto kTickEvery = std::chrono::milliseconds(5);
// Valid events read before they are handed to the handler as one run (OnEvents), which may
// handle the events of different partitions at once: librdkafka hands over a partition's fetched
// batch whole (~2,000 of the benchmark's events in 64 KiB), so a run must be longer than that
// to hold several partitions. A run also ends when no record is waiting to be read (live traffic
// is not held up) and in time for its batch to end at its interval (PendingOutlasts).
constexpr size_t kMaxPendingEvents = 4096;

int64_t WallNowMs() { return absl::ToUnixMillis(absl::Now()); }

// Owns a vector of TopicPartition pointers.
struct PartitionList {
  std::vector<RdKafka::TopicPartition*> list;
  ~PartitionList() { RdKafka::TopicPartition::destroy(list); }
};

// `topic`'s partitions at the offsets of `next` (partition → offset).
std::unique_ptr<PartitionList> OffsetsOf(const std::string& topic,
                                         const std::map<int32_t, int64_t>& next) {
  auto offsets = std::make_unique<PartitionList>();
  for (const auto& [partition, offset] : next) {
    offsets->list.push_back(RdKafka::TopicPartition::create(topic, partition, offset));
  }
  return offsets;
}

std::string ErrorText(RdKafka::Error* error) { return error == nullptr ? "" : error->str(); }

}  // namespace

// Forwards librdkafka's rebalance events to the pipeline (called on the pipeline's thread,
// inside consume()).
class Pipeline::Rebalancer : public RdKafka::RebalanceCb {
 public:
  explicit Rebalancer(Pipeline& pipeline) : pipeline_(pipeline) {}
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    pipeline_.stats_->joined = true;
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      // Not at the committed offset that librdkafka would look up: the pipeline reads it
      // itself and seeks there once the partition's state is restored (see StartOffsets).
      // Meanwhile the partition is paused at its end.
      for (RdKafka::TopicPartition* tp : partitions) tp->set_offset(RdKafka::Topic::OFFSET_END);
      std::unique_ptr<RdKafka::Error> error(consumer->incremental_assign(partitions));
      if (error) {
        pipeline_.fatal_ = absl::InternalError(absl::StrCat("assign: ", error->str()));
        return;
      }
      pipeline_.OnAssign(partitions);
    } else if (err == RdKafka::ERR__REVOKE_PARTITIONS) {
      pipeline_.OnRevoke(partitions, consumer->assignment_lost());
      std::unique_ptr<RdKafka::Error> error(consumer->incremental_unassign(partitions));
      if (error) pipeline_.fatal_ = absl::InternalError(absl::StrCat("unassign: ", error->str()));
    } else {
      pipeline_.fatal_ =
          absl::InternalError(absl::StrCat("rebalance failed: ", RdKafka::err2str(err)));
    }
  }

 private:
  Pipeline& pipeline_;
};

// The outputs of each batch (by its number, which every produce passes as the message's
// opaque) still awaiting their delivery reports, those that failed, and the changelog offsets
// they reached. Reports of a batch no longer tracked (aborted) are dropped. Reports are served
// on the pipeline's thread (poll, flush), or on the thread committing a transaction
// (commit_transaction) while the pipeline's thread leaves the producer alone.
class Pipeline::DeliveryTracker : public RdKafka::DeliveryReportCb {
 public:
  struct Outputs {
    int64_t outstanding = 0;
    int64_t failed = 0;
    std::string last_error;
    std::map<int32_t, int64_t> changelog_next;
  };
  explicit DeliveryTracker(std::string changelog_topic)
      : changelog_topic_(std::move(changelog_topic)) {}
  static void* Opaque(uint64_t seq) {
    // NOLINTNEXTLINE(performance-no-int-to-ptr): a number in a pointer, never dereferenced.
    return reinterpret_cast<void*>(static_cast<uintptr_t>(seq));
  }
  void Produced(uint64_t seq) { ++batches_[seq].outstanding; }
  // The batch's outputs (none produced: empty).
  Outputs& Of(uint64_t seq) { return batches_[seq]; }
  void Forget(uint64_t seq) { batches_.erase(seq); }
  void ForgetAll() { batches_.clear(); }
  // The records of a tracked batch the broker refused for what they are (IsRecordRefusal) since
  // the last call; nullopt if none.
  std::optional<RefusedRecords> TakeRefusal() { return std::exchange(refusal_, std::nullopt); }
  void dr_cb(RdKafka::Message& message) override {
    const auto it = batches_.find(reinterpret_cast<uintptr_t>(message.msg_opaque()));
    if (it == batches_.end()) return;
    Outputs& outputs = it->second;
    --outputs.outstanding;
    if (message.err() != RdKafka::ERR_NO_ERROR) {
      ++outputs.failed;
      outputs.last_error = message.errstr();
      if (IsRecordRefusal(message.err())) {
        RefusedRecords& refusal = refusal_ ? *refusal_ : refusal_.emplace();
        if (refusal.records++ == 0 || message.len() > refusal.largest_bytes) {
          refusal.largest_bytes = message.len();
          refusal.largest = DescribeRecord(message);
        }
      }
      return;
    }
    if (message.topic_name() == changelog_topic_) {
      int64_t& next = outputs.changelog_next[message.partition()];
      next = std::max(next, message.offset() + 1);
    }
  }

 private:
  // Errors by which the broker refuses a record itself, so that producing it again fails again.
  static bool IsRecordRefusal(RdKafka::ErrorCode code) {
    switch (code) {
      case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
      case RdKafka::ERR_INVALID_MSG:
      case RdKafka::ERR_INVALID_MSG_SIZE:
      case RdKafka::ERR_INVALID_RECORD:
      case RdKafka::ERR_INVALID_TIMESTAMP:
      case RdKafka::ERR_POLICY_VIOLATION:
      case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
        return true;
      default:
        return false;
    }
  }
  static std::string DescribeRecord(const RdKafka::Message& message) {
    const std::string_view key =
        message.key_pointer() == nullptr
            ? std::string_view()
            : std::string_view(static_cast<const char*>(message.key_pointer()), message.key_len());
    return absl::StrCat("topic ", message.topic_name(), " partition ", message.partition(), " ",
                        DescribeKeyAndSize(key, message.len()), ": ", message.errstr());
  }
  const std::string changelog_topic_;
  std::map<uint64_t, Outputs> batches_;
  std::optional<RefusedRecords> refusal_;
};

struct Pipeline::CommitHooks {
  std::function<bool()> commit_hook;   // PipelineOptions::commit_hook_for_testing
  std::function<int()> before_commit;  // PipelineOptions::before_commit_for_testing
  std::function<bool()> commit_lost;   // PipelineOptions::commit_lost_for_testing
};

struct Pipeline::CommitCall {
  RdKafka::Producer* producer = nullptr;  // owned by the pipeline, or by AbandonCommit's thread
  int timeout_ms = kTxnTimeoutMs;         // of each transactional call
  // Not called once the commit was abandoned (but for a hook already under way).
  std::shared_ptr<const CommitHooks> hooks;
  std::atomic<bool> abandoned{false};
};

Pipeline::Pipeline(const v1::ProcessorConfig& config, EventHandler& handler, PipelineProbe& probe,
                   const PipelineOptions& options)
    : config_(config),
      handler_(handler),
      probe_(probe),
      options_(options),
      commit_deadline_after_(config.processing().commit_deadline_ms()),
      transactional_(config.processing().guarantee() == v1::ProcessingConfig::EXACTLY_ONCE),
      limits_{config.validation().max_future_skew_ms(), config.validation().max_message_bytes()},
      stats_(options.stats != nullptr ? options.stats : &own_stats_) {
  if (options.commit_hook_for_testing || options.before_commit_for_testing ||
      options.commit_lost_for_testing) {
    commit_hooks_ = std::make_shared<const CommitHooks>(
        CommitHooks{options.commit_hook_for_testing, options.before_commit_for_testing,
                    options.commit_lost_for_testing});
  }
}

Pipeline::~Pipeline() {
  if (committing_.valid() && AwaitCommit(/*wait=*/true) == CommitProgress::kOverdue) {
    AbandonCommit();
  }
  AwaitStartLookup();
  if (consumer_) consumer_->close();
  if (failed_ && !assigned_.empty()) {
    // A consumer that failed fatally does not call the rebalance callback on close: drop the
    // tasks here, their batch in flight discarded, as a lost assignment.
    handler_.OnAborted();
    handler_.OnRevoked(std::vector<int32_t>(assigned_.begin(), assigned_.end()), /*lost=*/true);
    assigned_.clear();
  }
  if (producer_) producer_->flush(failed_ ? 0 : 5000);
}

bool IsFatalKafkaError(const absl::Status& status) { return absl::IsAborted(status); }

absl::StatusOr<std::unique_ptr<Pipeline>> Pipeline::Create(const v1::ProcessorConfig& config,
                                                           EventHandler& handler,
                                                           PipelineProbe& probe,
                                                           const PipelineOptions& options) {
  std::unique_ptr<Pipeline> pipeline(new Pipeline(config, handler, probe, options));
  if (absl::Status status = pipeline->Init(); !status.ok()) return status;
  return pipeline;
}

absl::Status Pipeline::Init() {
  std::string error;
  if (absl::Status s = CreateProducer(/*attempts=*/2); !s.ok()) return s;
  rebalancer_ = std::make_unique<Rebalancer>(*this);
  const kafka::Properties consumer_properties = kafka::ConsumerProperties(config_.kafka());
  auto consumer_conf = kafka::MakeConf(consumer_properties);
  if (!consumer_conf.ok()) return consumer_conf.status();
  (*consumer_conf)->set("rebalance_cb", rebalancer_.get(), error);
  consumer_.reset(RdKafka::KafkaConsumer::create(consumer_conf->get(), error));
  if (!consumer_) return absl::InternalError(absl::StrCat("cannot create consumer: ", error));
  refill_.emplace(*consumer_, consumer_properties);
  const RdKafka::ErrorCode code = consumer_->subscribe({config_.kafka().input_topic()});
  if (code != RdKafka::ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("subscribe: ", RdKafka::err2str(code)));
  }
  return absl::OkStatus();
}

absl::Status Pipeline::CreateProducer(int attempts) {
  std::string error;
  auto conf = kafka::MakeConf(kafka::ProducerProperties(config_.kafka(), transactional_));
  if (!conf.ok()) return conf.status();
  output_topics_.clear();
  producer_.reset();
  // Each producer reports its deliveries to a tracker of its own: an abandoned one
  // (AbandonCommit) may still report on another thread.
  delivery_ = std::make_unique<DeliveryTracker>(config_.kafka().changelog_topic());
  (*conf)->set("dr_cb", delivery_.get(), error);
  producer_.reset(RdKafka::Producer::create(conf->get(), error));
  if (!producer_) return absl::InternalError(absl::StrCat("cannot create producer: ", error));
  WarmUpOutputTopics();
  if (!transactional_) return absl::OkStatus();
  // Registers the transactional id: fences an earlier producer with the same id and aborts
  // its open transaction. Retried while the transaction coordinator is unreachable.
  for (int attempt = 1;; ++attempt) {
    std::unique_ptr<RdKafka::Error> init(producer_->init_transactions(kTxnTimeoutMs));
    if (!init) return absl::OkStatus();
    if (init->is_fatal() || !init->is_retriable() || attempt >= attempts ||
        (stop_ != nullptr && stop_->load())) {
      return absl::UnavailableError(absl::StrCat("init_transactions: ", init->str()));
    }
    LogWarning(absl::StrCat("init_transactions (attempt ", attempt, "): ", init->str()));
  }
}

void Pipeline::WarmUpOutputTopics() {
  // A producer asks for the metadata of a topic it has not written to yet only on its next
  // periodic scan, up to a second after the first record: each of the first two commits after
  // a start waited ~0.8 s for it (the changelog's first record, then the alerts'), which was a
  // fifth of the time to resume after kill -9. The handles keep the topics known, and created
  // before the first record to a topic they set its properties (kafka::AlertTopicProperties):
  // the records produced by the topic's name go through them.
  for (const std::string* name :
       {&config_.kafka().alerts_topic(), &config_.kafka().changelog_topic()}) {
    if (name->empty()) continue;
    std::unique_ptr<RdKafka::Conf> conf;
    if (const kafka::Properties properties = kafka::AlertTopicProperties(config_.kafka());
        name == &config_.kafka().alerts_topic() && !properties.empty()) {
      absl::StatusOr<std::unique_ptr<RdKafka::Conf>> made = kafka::MakeTopicConf(properties);
      if (!made.ok()) {
        LogWarning(absl::StrCat("producer topic ", *name, ": ", made.status().message()));
      } else {
        conf = *std::move(made);
      }
    }
    std::string error;
    std::unique_ptr<RdKafka::Topic> topic(
        RdKafka::Topic::create(producer_.get(), *name, conf.get(), error));
    if (!topic) {
      LogWarning(absl::StrCat("producer topic ", *name, ": ", error));
      continue;
    }
    RdKafka::Metadata* metadata = nullptr;
    const RdKafka::ErrorCode code = producer_->metadata(false, topic.get(), &metadata, 5000);
    delete metadata;
    if (code != RdKafka::ERR_NO_ERROR) {
      LogWarning(absl::StrCat("metadata of ", *name, ": ", RdKafka::err2str(code),
                              " (its first records wait for it)"));
    }
    output_topics_.push_back(std::move(topic));
  }
}

absl::Status Pipeline::FatalProducerError(const std::string& what) const {
  std::string reason;
  if (producer_->fatal_error(reason) != RdKafka::ERR_NO_ERROR) {
    return absl::AbortedError(absl::StrCat(what, ": the producer failed fatally: ", reason,
                                           " (fenced by another instance with the same "
                                           "transactional id?)"));
  }
  return absl::AbortedError(absl::StrCat(what, ": the producer failed fatally"));
}

absl::Status Pipeline::ConsumerFatalError() const {
  std::string reason;
  if (consumer_->fatal_error(reason) == RdKafka::ERR_NO_ERROR) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat("consumer: ", reason));
}

void Pipeline::OnAssign(const std::vector<RdKafka::TopicPartition*>& partitions) {
  std::vector<int32_t> ids;
  for (const RdKafka::TopicPartition* tp : partitions) {
    assigned_.insert(tp->partition());
    ids.push_back(tp->partition());
  }
  probe_.PartitionsAssigned(static_cast<int>(assigned_.size()));
  LogInfo(absl::StrCat("assigned ", ids.size(), " partition(s); now ", assigned_.size()));
  if (absl::Status status = StartRestoring(ids, !options_.skip_pause_on_assign_for_testing);
      !status.ok()) {
    fatal_ = status;
  }
}

absl::Status Pipeline::StartRestoring(const std::vector<int32_t>& ids, bool pause) {
  for (const int32_t partition : ids) {
    restoring_.insert(partition);
    restored_.erase(partition);
    at_end_.erase(partition);
    start_unknown_[partition] = ++start_generation_;
    start_at_.erase(partition);
    progress_.erase(partition);
    asked_.erase(partition);
  }
  probe_.PartitionsWithoutStartOffset(static_cast<int>(start_unknown_.size()));
  CountRestoring();
  if (ids.empty()) return absl::OkStatus();
  // Nothing of these partitions is fetched until their state is restored; resume() then
  // fetches from their position, or from the committed offset when no record was delivered.
  // The other partitions go on meanwhile.
  PartitionList paused;
  for (const int32_t partition : ids) {
    paused.list.push_back(
        RdKafka::TopicPartition::create(config_.kafka().input_topic(), partition));
  }
  RdKafka::ErrorCode code = pause ? consumer_->pause(paused.list) : RdKafka::ERR_NO_ERROR;
  for (const RdKafka::TopicPartition* tp : paused.list) {
    if (code == RdKafka::ERR_NO_ERROR) code = tp->err();
  }
  if (code != RdKafka::ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("pause: ", RdKafka::err2str(code)));
  }
  return handler_.OnAssigned(ids);
}

absl::Status Pipeline::ResumeRestored() {
  if (restoring_.empty()) return absl::OkStatus();
  StartOffsets();
  std::vector<int32_t> asked;
  for (const int32_t partition : restoring_) {
    if (!restored_.contains(partition)) asked.push_back(partition);
  }
  if (!asked.empty()) {
    auto ready = handler_.TakeRestored(asked);
    if (!ready.ok()) return ready.status();
    for (const int32_t partition : *ready) {
      if (restoring_.contains(partition)) restored_.insert(partition);
    }
  }
  // Restored, and where to start known: sought there (the partition waited at its end) and
  // resumed.
  const std::string& topic = config_.kafka().input_topic();
  PartitionList resume;
  for (auto it = restored_.begin(); it != restored_.end();) {
    const int32_t partition = *it;
    const auto start = start_at_.find(partition);
    if (start == start_at_.end()) {
      ++it;
      continue;
    }
    // No offset committed yet: from the start, as the group's auto.offset.reset (earliest).
    if (const RdKafka::ErrorCode code = SeekInput(partition, start->second);
        code != RdKafka::ERR_NO_ERROR) {
      if (absl::Status fatal = ConsumerFatalError(); !fatal.ok()) return fatal;
      return absl::InternalError(absl::StrCat("start partition ", partition, " at offset ",
                                              start->second, ": ", RdKafka::err2str(code)));
    }
    at_end_.erase(partition);
    progress_[partition] = {
        .sought = start->second, .since = idle_, .stalled = false, .restarted = {}, .restarts = 0};
    start_at_.erase(start);
    restoring_.erase(partition);
    it = restored_.erase(it);
    if (options_.keep_paused_for_testing && options_.keep_paused_for_testing(partition)) continue;
    resume.list.push_back(RdKafka::TopicPartition::create(topic, partition));
  }
  CountRestoring();
  if (resume.list.empty()) return absl::OkStatus();
  // Fetching starts at once, not when librdkafka's fetcher next wakes up (up to a second).
  if (const RdKafka::ErrorCode code =
          kafka::ResumeAndFetch(*consumer_, resume.list, kWakeFetchTimeoutMs);
      code != RdKafka::ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("resume: ", RdKafka::err2str(code)));
  }
  LogInfo(absl::StrCat("resumed ", resume.list.size(), " restored partition(s); ",
                       restoring_.size(), " still restoring"));
  return absl::OkStatus();
}

absl::Status Pipeline::RepauseRestoring(int32_t partition, int64_t offset) {
  // librdkafka 2.0.2 can deliver records of a partition paused from the rebalance callback when
  // the pause races the assignment's first fetch (seen under load; the pause and the assignment
  // are ops handled on its own threads, cf. confluentinc/librdkafka#2190). The record is not
  // handled: the partition is paused (again) and sought back to it, which also drops whatever
  // else of it was fetched, and resumes from there once restored.
  LogWarning(absl::StrCat("record of partition ", partition, " at offset ", offset,
                          " delivered while it restores; pausing it again and rewinding to it"));
  PartitionList pause;
  pause.list.push_back(RdKafka::TopicPartition::create(config_.kafka().input_topic(), partition));
  RdKafka::ErrorCode code = consumer_->pause(pause.list);
  if (code == RdKafka::ERR_NO_ERROR) code = pause.list[0]->err();
  if (code == RdKafka::ERR_NO_ERROR) {
    std::unique_ptr<RdKafka::TopicPartition> tp(
        RdKafka::TopicPartition::create(config_.kafka().input_topic(), partition, offset));
    code = consumer_->seek(*tp, 5000);
  }
  if (code != RdKafka::ERR_NO_ERROR) {
    if (absl::Status fatal = ConsumerFatalError(); !fatal.ok()) return fatal;
    return absl::InternalError(absl::StrCat("record of partition ", partition, " at offset ",
                                            offset,
                                            " delivered while it restores; pause and "
                                            "rewind: ",
                                            RdKafka::err2str(code)));
  }
  return absl::OkStatus();
}

void Pipeline::OnRevoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost) {
  in_rebalance_ = true;
  if (failed_) {
    // The pipeline already stopped on an error: nothing of the batch may be committed.
    DropPending();
    handler_.OnAborted();
  } else if (lost) {
    if (in_transaction_) {
      if (absl::Status status = AbortAndRewind("partitions lost"); !status.ok()) fatal_ = status;
    } else if (absl::Status status = HandlePending(); !status.ok()) {
      // AT_LEAST_ONCE: the events read so far are handled as they would have been before this
      // poll; those of the lost partitions go with their tasks below.
      fatal_ = status;
    }
    // AT_LEAST_ONCE: their tasks go without committing; so do their offsets (another member
    // may own them by now).
    for (const RdKafka::TopicPartition* tp : partitions) {
      batch_start_.erase(tp->partition());
      batch_next_.erase(tp->partition());
      if (sealed_) {
        sealed_->start.erase(tp->partition());
        sealed_->next.erase(tp->partition());
      }
    }
  } else if (absl::Status status = CommitBatch(/*wait=*/true); !status.ok()) {
    fatal_ = status;
  }
  std::vector<int32_t> ids;
  for (const RdKafka::TopicPartition* tp : partitions) {
    assigned_.erase(tp->partition());
    restoring_.erase(tp->partition());
    restored_.erase(tp->partition());
    start_unknown_.erase(tp->partition());
    start_at_.erase(tp->partition());
    progress_.erase(tp->partition());
    asked_.erase(tp->partition());
    rebuild_.erase(tp->partition());
    at_end_.erase(tp->partition());
    stream_time_.erase(tp->partition());
    committed_stream_time_.erase(tp->partition());
    probe_.ConsumerLag(tp->partition(), -1);
    ids.push_back(tp->partition());
  }
  probe_.PartitionsAssigned(static_cast<int>(assigned_.size()));
  probe_.PartitionsWithoutStartOffset(static_cast<int>(start_unknown_.size()));
  CountRestoring();
  LogInfo(absl::StrCat(lost ? "lost " : "revoked ", ids.size(), " partition(s)"));
  handler_.OnRevoked(ids, lost);
  in_rebalance_ = false;
}

absl::Status Pipeline::EnsureTransaction() {
  if (!transactional_ || in_transaction_) return absl::OkStatus();
  std::unique_ptr<RdKafka::Error> error(producer_->begin_transaction());
  if (error) return absl::InternalError(absl::StrCat("begin_transaction: ", error->str()));
  in_transaction_ = true;
  return absl::OkStatus();
}

absl::Status Pipeline::Produce(const std::string& topic, const std::string& key,
                               const std::string& value, RdKafka::Headers* headers) {
  if (committing_.valid()) {
    // One transaction at a time: held until the sealed batch's has committed.
    held_.push_back({topic, key, value, std::unique_ptr<RdKafka::Headers>(headers)});
    produced_ = true;
    return absl::OkStatus();
  }
  for (;;) {
    const RdKafka::ErrorCode code =
        producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                           const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                           headers, DeliveryTracker::Opaque(batch_seq_));
    if (code == RdKafka::ERR_NO_ERROR) {
      delivery_->Produced(batch_seq_);
      produced_ = true;
      return absl::OkStatus();
    }
    if (code == RdKafka::ERR__QUEUE_FULL) {
      producer_->poll(10);
      continue;
    }
    delete headers;
    return ProduceError(topic, key, value.size(), code);
  }
}

absl::Status Pipeline::ProduceError(const std::string& topic, std::string_view key, size_t bytes,
                                    RdKafka::ErrorCode code) {
  if (code == RdKafka::ERR__FATAL) return FatalProducerError(absl::StrCat("produce to ", topic));
  if (code == RdKafka::ERR__STATE && transactional_ && in_transaction_ && !in_rebalance_) {
    // The transaction failed with an abortable error (librdkafka logged it: e.g. a record the
    // broker refused, or sequence numbers out of order) and takes no more records: Run aborts
    // the batch and reads it again.
    transaction_failed_ = true;
    return absl::UnavailableError(
        absl::StrCat("produce to ", topic, ": the transaction failed and must be aborted"));
  }
  // E.g. a record larger than the producer's message.max.bytes, refused before it is sent.
  return absl::InternalError(absl::StrCat("produce to ", topic, " ", DescribeKeyAndSize(key, bytes),
                                          ": ", RdKafka::err2str(code)));
}

int64_t Pipeline::ClockFor(int32_t partition) const {
  if (config_.processing().clock() == v1::ProcessingConfig::WALL_CLOCK) return WallNowMs();
  const auto it = stream_time_.find(partition);
  return it == stream_time_.end() ? 0 : it->second;
}

absl::Status Pipeline::PublishAlerts(HandlerOutput& out) {
  for (const v1::Alert& alert : out.alerts) {
    const std::string& key = alert.case_id().empty() ? alert.contact_id() : alert.case_id();
    RdKafka::Headers* headers = RdKafka::Headers::create();
    headers->add("ccstream.alert_id", alert.alert_id());
    headers->add("ccstream.kind", v1::AlertKind_Name(alert.kind()));
    if (absl::Status s =
            Produce(config_.kafka().alerts_topic(), key, alert.SerializeAsString(), headers);
        !s.ok()) {
      return s;
    }
  }
  for (v1::Alert& alert : out.alerts) batch_alerts_.push_back(std::move(alert));
  out.alerts.clear();
  return absl::OkStatus();
}

absl::Status Pipeline::HandleRecord(RdKafka::Message& message) {
  const int32_t partition = message.partition();
  if (restoring_.contains(partition)) {
    // Not for a task whose state is not restored yet.
    return RepauseRestoring(partition, message.offset());
  }
  if (absl::Status s = EnsureTransaction(); !s.ok()) return s;
  batch_start_.try_emplace(partition, message.offset());
  batch_next_[partition] = message.offset() + 1;
  at_end_.erase(partition);
  ++stats_->records;

  const std::string_view bytes(static_cast<const char*>(message.payload()), message.len());
  if (pending_events_.size() == pending_.size()) pending_events_.emplace_back();
  v1::ContactEvent& event = pending_events_[pending_.size()];
  const ingest::Verdict verdict = ingest::DecodeAndValidate(bytes, WallNowMs(), limits_, &event);
  if (!verdict.ok()) {
    RdKafka::Headers* headers = RdKafka::Headers::create();
    if (RdKafka::Headers* original = message.headers(); original != nullptr) {
      for (const RdKafka::Headers::Header& h : original->get_all()) {
        headers->add(h.key(), h.value(), h.value_size());
      }
    }
    headers->add("ccstream.reason", std::string(ingest::RefusalReasonName(verdict.reason)));
    headers->add("ccstream.detail", verdict.detail);
    headers->add("ccstream.source.topic", message.topic_name());
    headers->add("ccstream.source.partition", std::to_string(partition));
    headers->add("ccstream.source.offset", std::to_string(message.offset()));
    const std::string key = message.key() != nullptr ? *message.key() : std::string();
    if (absl::Status s =
            Produce(config_.kafka().dead_letter_topic(), key, std::string(bytes), headers);
        !s.ok()) {
      return s;
    }
    probe_.DeadLettered(verdict.reason);
    ++stats_->dead_letters;
    return absl::OkStatus();
  }
  int64_t& stream_time = stream_time_[partition];
  if (event.event_time_ms() <
      stream_time - static_cast<int64_t>(config_.processing().late_event_tolerance_ms())) {
    probe_.LateEvent();
    ++stats_->late_events;
  }
  stream_time = std::max(stream_time, event.event_time_ms());
  pending_.push_back({partition, nullptr, ClockFor(partition)});
  return absl::OkStatus();
}

absl::Status Pipeline::HandlePending() {
  if (pending_.empty()) return absl::OkStatus();
  const auto started = std::chrono::steady_clock::now();
  const size_t n = pending_.size();
  for (size_t i = 0; i < n; ++i) pending_[i].event = &pending_events_[i];
  if (pending_outs_.size() < n) pending_outs_.resize(n);
  for (size_t i = 0; i < n; ++i) pending_outs_[i].alerts.clear();  // of a run that failed
  absl::Status status = handler_.OnEvents(pending_, pending_outs_);
  pending_.clear();
  if (!status.ok()) return status;
  batch_events_ += static_cast<int64_t>(n);
  stats_->events += static_cast<int64_t>(n);
  for (size_t i = 0; i < n; ++i) {
    if (absl::Status s = PublishAlerts(pending_outs_[i]); !s.ok()) return s;
  }
  const double per_event =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - started).count() /
      static_cast<double>(n);
  ns_per_pending_event_ = 0.75 * ns_per_pending_event_ + 0.25 * per_event;
  return absl::OkStatus();
}

bool Pipeline::PendingOutlasts(std::chrono::steady_clock::time_point deadline) const {
  const auto handling = std::chrono::nanoseconds(
      static_cast<int64_t>(ns_per_pending_event_ * static_cast<double>(pending_.size())));
  return std::chrono::steady_clock::now() + handling >= deadline;
}

void Pipeline::DropPending() { pending_.clear(); }

void Pipeline::CountRestoring() {
  stats_->restoring = static_cast<int>(restoring_.size());
  probe_.PartitionsRestoring(static_cast<int>(restoring_.size() - restored_.size()));
}

void Pipeline::AskOffsets(const std::vector<int32_t>& unknown,
                          std::chrono::steady_clock::time_point now) {
  std::erase_if(asked_, [&](const auto& entry) {
    return std::find(unknown.begin(), unknown.end(), entry.first) == unknown.end();
  });
  if (unknown.empty() || now < next_ask_) return;
  // Where each ends (ListOffsets for the latest offset), in one request per broker; where those
  // without a committed offset begin, as they will be read from there.
  const std::string& topic = config_.kafka().input_topic();
  PartitionList ends;
  PartitionList begins;
  for (const int32_t partition : unknown) {
    ends.list.push_back(
        RdKafka::TopicPartition::create(topic, partition, RdKafka::Topic::OFFSET_END));
    const auto start = start_at_.find(partition);
    if (start != start_at_.end() && start->second < 0) {
      begins.list.push_back(
          RdKafka::TopicPartition::create(topic, partition, RdKafka::Topic::OFFSET_BEGINNING));
    }
  }
  RdKafka::ErrorCode code = consumer_->offsetsForTimes(ends.list, kAskOffsetsTimeoutMs);
  if (code == RdKafka::ERR_NO_ERROR && !begins.list.empty()) {
    code = consumer_->offsetsForTimes(begins.list, kAskOffsetsTimeoutMs);
  }
  next_ask_ = now + (code == RdKafka::ERR_NO_ERROR ? kAskOffsetsEvery : kAskOffsetsAfterFailure);
  if (code != RdKafka::ERR_NO_ERROR) return;
  for (const RdKafka::TopicPartition* tp : ends.list) {
    asked_[tp->partition()].end = tp->err() == RdKafka::ERR_NO_ERROR ? tp->offset() : -1;
  }
  for (const RdKafka::TopicPartition* tp : begins.list) {
    asked_[tp->partition()].begin = tp->err() == RdKafka::ERR_NO_ERROR ? tp->offset() : -1;
  }
}

void Pipeline::RecordLag() {
  PartitionList positions;
  for (const int32_t partition : assigned_) {
    positions.list.push_back(
        RdKafka::TopicPartition::create(config_.kafka().input_topic(), partition));
  }
  if (positions.list.empty() || consumer_->position(positions.list) != RdKafka::ERR_NO_ERROR) {
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  // librdkafka knows the watermarks from the partition's fetch responses (an empty one too):
  // none known means that no fetch of it was answered, as for a partition restoring.
  std::map<int32_t, std::pair<int64_t, int64_t>> watermarks;
  std::vector<int32_t> unknown;
  for (const RdKafka::TopicPartition* tp : positions.list) {
    int64_t low = -1, high = -1;
    if (consumer_->get_watermark_offsets(tp->topic(), tp->partition(), &low, &high) !=
        RdKafka::ERR_NO_ERROR) {
      low = high = -1;
    }
    watermarks[tp->partition()] = {low, high};
    if (high < 0) unknown.push_back(tp->partition());
  }
  AskOffsets(unknown, now);
  const auto stall_after = std::chrono::milliseconds(options_.partition_stall_ms);
  const auto restart_after = std::chrono::milliseconds(options_.partition_restart_ms);
  // How long a partition has not read on is counted in the time the pipeline waited for records
  // and got none: a partition behind others in a backlog, or held up while the pipeline's
  // thread is elsewhere, is not counted.
  const std::chrono::steady_clock::duration idle = idle_;
  int stalled = 0;
  for (const RdKafka::TopicPartition* tp : positions.list) {
    const int32_t partition = tp->partition();
    auto [low, high] = watermarks[partition];
    int64_t position = tp->offset();
    const auto read = progress_.find(partition);
    const auto asked = asked_.find(partition);
    // librdkafka reports no position until a record of the partition was delivered since it
    // was sought: a started one is still where it was sought to (from its beginning: the first
    // offset, when librdkafka knows it). One not started yet (restoring) will start at the
    // group's committed offset, or at its beginning without one.
    if (position < 0 && read != progress_.end()) {
      position = read->second.sought >= 0 ? read->second.sought : low;
    } else if (position < 0) {
      const auto start = start_at_.find(partition);
      if (start != start_at_.end()) {
        position = start->second >= 0      ? start->second
                   : asked != asked_.end() ? asked->second.begin
                                           : -1;
      }
    }
    // Without a fetch of it answered, its end as the broker last told it.
    const int64_t end = high >= 0 ? high : asked != asked_.end() ? asked->second.end : -1;
    if (end >= 0 && position >= 0) {
      probe_.ConsumerLag(partition, std::max<int64_t>(0, end - position));
    }
    if (read == progress_.end()) continue;  // not started (restoring)
    ReadProgress& progress = read->second;
    const bool waiting = high < 0 || (position >= 0 && high > position);
    if (!waiting || position != progress.position) {
      progress.position = position;
      progress.since = idle;
      const int restarts = std::exchange(progress.restarts, 0);
      if (std::exchange(progress.stalled, false) || restarts > 0) {
        LogInfo(absl::StrCat("partition ", partition, " reads on from offset ", position, " after ",
                             restarts, " start(s) of its fetch"));
      }
      continue;
    }
    const auto unmoved = idle - progress.since;
    const auto stuck = [&, high = high] {
      return absl::StrCat("partition ", partition, ": its read position ", position,
                          " has not moved while the instance waited for records for ",
                          std::chrono::duration_cast<std::chrono::seconds>(unmoved).count(), " s, ",
                          high >= 0 ? absl::StrCat("with ", high - position, " record(s) waiting")
                                    : std::string("and no fetch of it was answered"));
    };
    if (unmoved >= restart_after && idle - progress.restarted >= restart_after) {
      // Logged at the first start of a stretch; counted each time.
      if (progress.restarts++ == 0) {
        LogWarning(absl::StrCat(stuck(), "; starting its fetch again"));
      }
      progress.restarted = idle;
      probe_.FetchRestarted();
      // Sought there again: where it stands while librdkafka reports no position.
      if (position >= 0) progress.sought = position;
      RestartFetch(partition, progress.sought);
    }
    if (unmoved < stall_after) continue;
    ++stalled;
    if (!std::exchange(progress.stalled, true)) {
      LogWarning(absl::StrCat(stuck(), " (ccstream_partitions_stalled) after ", progress.restarts,
                              " start(s) of its fetch"));
    }
  }
  probe_.PartitionsStalled(stalled);
}

RdKafka::ErrorCode Pipeline::SeekInput(int32_t partition, int64_t offset) {
  std::unique_ptr<RdKafka::TopicPartition> at(
      RdKafka::TopicPartition::create(config_.kafka().input_topic(), partition,
                                      offset >= 0 ? offset : RdKafka::Topic::OFFSET_BEGINNING));
  return consumer_->seek(*at, 5000);
}

void Pipeline::RestartFetch(int32_t partition, int64_t offset) {
  if (const RdKafka::ErrorCode code = SeekInput(partition, offset); code != RdKafka::ERR_NO_ERROR) {
    LogWarning(absl::StrCat("partition ", partition, ": seek to ", offset,
                            " to start its fetch again: ", RdKafka::err2str(code)));
    return;
  }
  PartitionList resume;
  resume.list.push_back(RdKafka::TopicPartition::create(config_.kafka().input_topic(), partition));
  if (const RdKafka::ErrorCode code =
          kafka::ResumeAndFetch(*consumer_, resume.list, kWakeFetchTimeoutMs);
      code != RdKafka::ERR_NO_ERROR) {
    LogWarning(absl::StrCat("partition ", partition,
                            ": resume to start its fetch again: ", RdKafka::err2str(code)));
  }
}

absl::Status Pipeline::Tick() {
  // A partition's timers fire after the events read before them.
  if (absl::Status s = HandlePending(); !s.ok()) return s;
  if (const auto now = std::chrono::steady_clock::now(); now >= next_lag_sample_) {
    RecordLag();
    next_lag_sample_ = now + kLagSampleEvery;
  }
  for (const int32_t partition : assigned_) {
    if (restoring_.contains(partition)) continue;  // its task is not ready yet
    HandlerOutput out;
    if (absl::Status s = handler_.OnTick(partition, ClockFor(partition), out); !s.ok()) return s;
    if (!out.alerts.empty()) {
      if (absl::Status s = EnsureTransaction(); !s.ok()) return s;
      if (absl::Status s = PublishAlerts(out); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Pipeline::AbortAndRewind(const std::string& why) {
  LogWarning(absl::StrCat("aborting batch: ", why));
  DropPending();
  if (committing_.valid()) {
    // The sealed batch's transaction finishes first; committed, it stays so and only the open
    // batch goes. Not finished by its deadline, it is given up on with the producer.
    const auto started = std::chrono::steady_clock::now();
    if (AwaitCommit(/*wait=*/true) == CommitProgress::kOverdue) {
      AbandonCommit();
    } else {
      const TransactionResult result = committing_.get();
      if (result.kind == TransactionResult::kFatal) {
        return FatalProducerError("commit_transaction");
      }
      if (result.kind == TransactionResult::kCommitted) {
        if (absl::Status s = SealedCommitted(started); !s.ok()) return s;
      }
    }
  }
  held_.clear();
  // The commit was abandoned with the producer (AbandonCommit), or the abort below fails: the
  // producer is replaced, and the tasks are rebuilt (below).
  bool replace = transactional_ && !producer_;
  // Records were dropped unsent, or refused by the broker: only a new producer (below) numbers
  // the next ones right.
  bool renew = false;
  if (transactional_ && in_transaction_ && producer_) {
    // What is queued or in flight is delivered first (flush sends what lingers at once), as
    // abort_transaction itself does. Records dropped here would leave a gap in the producer's
    // sequence numbers: librdkafka skips only those its own abort drops, so the broker would
    // refuse the next transaction's records with OUT_OF_ORDER_SEQUENCE_NUMBER, and that batch
    // would fail too. What cannot be delivered in time (e.g. while the brokers are away) is
    // dropped, so that the abort does not wait for it, and the producer is renewed after it.
    producer_->flush(kAbortFlushMs);
    if (producer_->outq_len() > 0) {
      producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
      for (int i = 0; i < 50 && producer_->outq_len() > 0; ++i) producer_->poll(100);
      renew = true;
    }
    if (options_.abort_fails_for_testing && options_.abort_fails_for_testing()) {
      // The producer fails as librdkafka makes it fail on the broker's answer (below).
      rd_kafka_test_fatal_error(producer_->c_ptr(), RD_KAFKA_RESP_ERR_INVALID_TXN_STATE,
                                "the abort found no transaction");
    }
    std::unique_ptr<RdKafka::Error> error(producer_->abort_transaction(kTxnTimeoutMs));
    // INVALID_TXN_STATE: the coordinator held no transaction to abort (librdkafka counts a
    // request that failed in transport as one the coordinator may have received, and so sends
    // the abort, e.g. after the broker came back from a hang). librdkafka makes it fatal, but
    // no other instance fenced this one: a new producer serves as for any other failed abort.
    std::string fatal_reason;
    const RdKafka::ErrorCode fatal = producer_->fatal_error(fatal_reason);
    if (((error && error->is_fatal()) || fatal != RdKafka::ERR_NO_ERROR) &&
        fatal != RdKafka::ERR_INVALID_TXN_STATE) {
      in_transaction_ = false;
      return FatalProducerError("abort_transaction");
    }
    if (error || fatal != RdKafka::ERR_NO_ERROR) {
      // The producer is in a state it cannot leave by itself.
      LogWarning(absl::StrCat("abort_transaction: ", error ? error->str() : fatal_reason,
                              "; recreating the producer"));
      replace = true;
    }
  }
  in_transaction_ = false;
  // The broker's reports on the batch's records are in (delivered or dropped above; AT_LEAST_ONCE:
  // all of them before a failed delivery aborts).
  absl::Status give_up = absl::OkStatus();
  std::optional<RefusedRecords> refusal;
  // None with a commit given up on: its reports went with its producer (AbandonCommit).
  if (delivery_ != nullptr) refusal = delivery_->TakeRefusal();
  if (refusal) {
    const uint32_t limit = config_.processing().max_refused_record_aborts();
    ++refused_aborts_;
    LogWarning(absl::StrCat("the broker refused ", refusal->records,
                            " output record(s) of the aborted batch (", refused_aborts_, " of ",
                            limit, " such aborts in a row), the largest: ", refusal->largest));
    if (refused_aborts_ >= limit) {
      give_up = absl::FailedPreconditionError(absl::StrCat(
          "the broker refused an output record of each of the last ", refused_aborts_,
          " batches aborted, and none committed between (processing.max_refused_record_aborts): "
          "it would be refused again on every try; stopping with nothing committed past the "
          "batch, which is read again on the next start. The largest refused: ",
          refusal->largest));
    }
    // librdkafka 2.0.2 does not skip the sequence numbers of records the broker refused: the
    // next transaction would fail with OUT_OF_ORDER_SEQUENCE_NUMBER, a batch aborted for
    // nothing.
    renew = transactional_ && give_up.ok();
  }
  if (replace) {
    // A new producer with the same transactional id fences the old one, and its registration
    // completes the open transaction on the coordinator. Whether a commit in flight went
    // through (a timed-out or abandoned commit is still in progress, and abort_transaction
    // conflicts with it) only Kafka knows: rewound to the sealed batch, a batch that did commit
    // would be read again, its outputs published twice. So the tasks are rebuilt from what
    // Kafka holds instead.
    if (absl::Status s = CreateProducer(/*attempts=*/60); !s.ok()) return s;
    rebuild_ = assigned_;
  } else if (renew) {
    // Aborted: the batches are rewound as for any abort. The new producer's registration bumps
    // the epoch, which starts the sequence numbers afresh.
    LogWarning(
        "records of the aborted batch were dropped unsent or refused; renewing the producer");
    if (absl::Status s = CreateProducer(/*attempts=*/60); !s.ok()) return s;
  }
  // A sealed batch goes with the open one: both are read again from the sealed one's start.
  std::map<int32_t, int64_t> rewind = std::move(batch_start_);
  if (sealed_) {
    for (const auto& [partition, offset] : sealed_->start) rewind[partition] = offset;
    sealed_.reset();
  }
  for (const auto& [partition, offset] : rewind) {
    at_end_.erase(partition);  // read again: not drained until its end is reached again
    if (!assigned_.contains(partition) || rebuild_.contains(partition)) continue;
    std::unique_ptr<RdKafka::TopicPartition> tp(
        RdKafka::TopicPartition::create(config_.kafka().input_topic(), partition, offset));
    const RdKafka::ErrorCode code = consumer_->seek(*tp, 5000);
    if (code != RdKafka::ERR_NO_ERROR) {
      // A fenced static member's consumer fails fatally; the caller may rejoin.
      if (absl::Status fatal = ConsumerFatalError(); !fatal.ok()) return fatal;
      return absl::InternalError(
          absl::StrCat("rewind partition ", partition, ": ", RdKafka::err2str(code)));
    }
    if (auto read = progress_.find(partition); read != progress_.end()) {
      read->second.sought = offset;
    }
  }
  batch_start_.clear();
  batch_next_.clear();
  batch_alerts_.clear();
  batch_events_ = 0;
  for (auto it = stream_time_.begin(); it != stream_time_.end();) {
    const auto committed = committed_stream_time_.find(it->first);
    if (committed == committed_stream_time_.end()) {
      it = stream_time_.erase(it);
    } else {
      it->second = committed->second;
      ++it;
    }
  }
  // Reports still to come for the outputs of the aborted batches are dropped.
  delivery_->ForgetAll();
  ++batch_seq_;
  produced_ = false;
  batch_changelog_records_ = 0;
  batch_changelog_bytes_ = 0;
  batch_local_bytes_ = 0;
  handler_.OnAborted();
  probe_.TransactionAborted();
  ++stats_->aborts;
  if (!give_up.ok()) return give_up;
  // Not from the rebalance callback: the partitions lost there go, and a new assignment is
  // restored from Kafka anyway.
  return in_rebalance_ ? absl::OkStatus() : RebuildTasks();
}

absl::Status Pipeline::RebuildTasks() {
  if (rebuild_.empty()) return absl::OkStatus();
  std::vector<int32_t> ids;
  for (const int32_t partition : std::exchange(rebuild_, {})) {
    if (assigned_.contains(partition)) ids.push_back(partition);
  }
  if (ids.empty()) return absl::OkStatus();
  LogWarning(absl::StrCat("a transaction's outcome is unknown: rebuilding ", ids.size(),
                          " task(s) from the changelog and the committed offsets"));
  ++stats_->rebuilds;
  probe_.TasksRebuilt();
  handler_.OnRevoked(ids, /*lost=*/true);
  for (const int32_t partition : ids) {
    stream_time_.erase(partition);
    committed_stream_time_.erase(partition);
  }
  // Paused and restored as a new assignment, then read again from the offsets committed, which
  // are final now that the new producer's registration completed the transaction (read as for
  // a new assignment: StartOffsets).
  return StartRestoring(ids, /*pause=*/true);
}

void Pipeline::StartOffsets() {
  const auto now = std::chrono::steady_clock::now();
  if (start_lookup_ &&
      start_lookup_->result.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    StartLookup lookup = std::move(*start_lookup_);
    start_lookup_.reset();
    StartLookup::Result result = lookup.result.get();
    std::string failed;
    for (const auto& [partition, generation] : lookup.partitions) {
      const auto unknown = start_unknown_.find(partition);
      // Revoked, or assigned again since it was asked: its answer may be stale.
      if (unknown == start_unknown_.end() || unknown->second != generation) continue;
      const auto found = result.offsets.find(partition);
      if (found == result.offsets.end()) {
        absl::StrAppend(&failed, failed.empty() ? "" : ", ", partition);
        continue;
      }
      start_at_[partition] = found->second;
      start_unknown_.erase(unknown);
    }
    if (!failed.empty()) {
      probe_.StartOffsetLookupFailed();
      LogWarning(absl::StrCat("the group's committed offsets of partition(s) ", failed, " of ",
                              config_.kafka().input_topic(), ": ", result.error,
                              "; they are not read until these are known; asking again"));
      next_start_lookup_ = now + std::chrono::seconds(1);
    }
    probe_.PartitionsWithoutStartOffset(static_cast<int>(start_unknown_.size()));
  }
  if (start_lookup_ || start_unknown_.empty() || now < next_start_lookup_) return;
  // Asked on a thread of its own: while a transaction that holds them is still open (that of an
  // instance that failed, until the broker aborts it) they are unstable, and the group's
  // coordinator answers only once they are not; the other partitions go on meanwhile.
  StartLookup& lookup = start_lookup_.emplace();
  lookup.partitions = start_unknown_;
  std::vector<int32_t> ids;
  for (const auto& [partition, generation] : start_unknown_) ids.push_back(partition);
  lookup.result = std::async(
      std::launch::async,
      [consumer = consumer_.get(), topic = config_.kafka().input_topic(), ids = std::move(ids)] {
        StartLookup::Result result;
        PartitionList partitions;
        for (const int32_t partition : ids) {
          partitions.list.push_back(RdKafka::TopicPartition::create(topic, partition));
        }
        const RdKafka::ErrorCode code = consumer->committed(partitions.list, kStartLookupTimeoutMs);
        if (code != RdKafka::ERR_NO_ERROR) {
          result.error = RdKafka::err2str(code);
          return result;
        }
        for (const RdKafka::TopicPartition* tp : partitions.list) {
          if (tp->err() == RdKafka::ERR_NO_ERROR) {
            result.offsets[tp->partition()] = tp->offset();  // negative: none committed
          } else if (result.error.empty()) {
            result.error = RdKafka::err2str(tp->err());
          }
        }
        return result;
      });
}

void Pipeline::AwaitStartLookup() {
  if (start_lookup_) start_lookup_->result.wait();
  start_lookup_.reset();
}

absl::Status Pipeline::ProduceChangelog() {
  std::vector<ChangelogRecord> records;
  if (absl::Status s = handler_.CollectChangelog(records); !s.ok()) return s;
  if (records.empty()) return absl::OkStatus();
  const std::string& topic = config_.kafka().changelog_topic();
  for (const ChangelogRecord& record : records) {
    if (record.local) {
      batch_local_bytes_ +=
          static_cast<int64_t>(record.key.size() + (record.value ? record.value->size() : 0));
      continue;
    }
    if (absl::Status s = EnsureTransaction(); !s.ok()) return s;
    ++batch_changelog_records_;
    batch_changelog_bytes_ +=
        static_cast<int64_t>(record.key.size() + (record.value ? record.value->size() : 0));
    for (;;) {
      const RdKafka::ErrorCode code =
          producer_->produce(topic, record.partition, RdKafka::Producer::RK_MSG_COPY,
                             record.value ? const_cast<char*>(record.value->data()) : nullptr,
                             record.value ? record.value->size() : 0, record.key.data(),
                             record.key.size(), 0, nullptr, DeliveryTracker::Opaque(batch_seq_));
      if (code == RdKafka::ERR_NO_ERROR) {
        delivery_->Produced(batch_seq_);
        break;
      }
      if (code != RdKafka::ERR__QUEUE_FULL) {
        return ProduceError(topic, record.key, record.value ? record.value->size() : 0, code);
      }
      producer_->poll(10);
    }
  }
  produced_ = true;  // local changes too: the batch commits to write them
  return absl::OkStatus();
}

BatchOutcome Pipeline::TakeOutcome() {
  BatchOutcome outcome;
  outcome.alerts = std::move(batch_alerts_);
  outcome.events = std::exchange(batch_events_, 0);
  outcome.behind = batch_behind_;
  outcome.changelog_records = std::exchange(batch_changelog_records_, 0);
  outcome.changelog_bytes = std::exchange(batch_changelog_bytes_, 0);
  const int64_t local_bytes = std::exchange(batch_local_bytes_, 0);
  batch_alerts_.clear();
  // The next batches are bounded by this one's bytes (it ended; its commit may still run).
  if (outcome.events > 0) {
    changelog_bytes_per_event_ = static_cast<double>(outcome.changelog_bytes + local_bytes) /
                                 static_cast<double>(outcome.events);
  }
  return outcome;
}

void Pipeline::RecordCommitted(BatchOutcome& outcome) {
  // Counted now, after the batch's outcomes: a scrape that sees an event processed sees its KPIs.
  probe_.EventsProcessed(outcome.events);
  probe_.BatchCommitted(outcome.pause_s, outcome.events, outcome.behind);
  probe_.ChangelogCommitted(outcome.changelog_records, outcome.changelog_bytes);
  ++stats_->batches;
  const bool wall_clock = config_.processing().clock() == v1::ProcessingConfig::WALL_CLOCK;
  const int64_t now_ms = WallNowMs();
  for (const v1::Alert& alert : outcome.alerts) {
    probe_.AlertCommitted(
        alert.kind(),
        wall_clock ? std::max<int64_t>(0, now_ms - alert.event_time_ms()) / 1e3 : -1.0);
  }
  stats_->alerts += static_cast<int64_t>(outcome.alerts.size());
  if (options_.on_committed_alerts) options_.on_committed_alerts(outcome.alerts);
}

absl::Status Pipeline::CommitBatch(bool wait) {
  if (absl::Status s = HandlePending(); !s.ok()) return s;
  // One sealed batch at a time: the one before is committed first (AT_LEAST_ONCE: its outputs
  // have had this whole batch to be acknowledged; EXACTLY_ONCE: its transaction has been
  // committing meanwhile). A failure aborts it with this one.
  if (absl::Status s = CommitSealed(/*wait=*/true); !s.ok()) return s;
  const auto started = std::chrono::steady_clock::now();
  if (absl::Status s = ProduceChangelog(); !s.ok()) return s;
  if (batch_next_.empty() && !in_transaction_ && !produced_) return absl::OkStatus();
  if (options_.abort_commit_for_testing && options_.abort_commit_for_testing()) {
    return AbortAndRewind("aborted by the test hook");
  }
  // EXACTLY_ONCE: a batch of records without outputs has no transaction yet; its offsets need
  // one.
  if (absl::Status s = EnsureTransaction(); !s.ok()) return s;
  std::vector<int32_t> partitions;
  for (const auto& [partition, next] : batch_next_) partitions.push_back(partition);
  if (absl::Status s = handler_.OnSealed(partitions); !s.ok()) return s;
  SealedBatch& sealed = sealed_.emplace();
  sealed.seq = batch_seq_++;
  sealed.start = std::exchange(batch_start_, {});
  sealed.next = std::exchange(batch_next_, {});
  sealed.stream_time = stream_time_;
  sealed.outcome = TakeOutcome();
  produced_ = false;
  if (transactional_) {
    // The broker's round trips (the offsets to the transaction, its commit) run on a thread of
    // their own, while this one goes on with the next batch (whose outputs wait in held_) if
    // this one closed with input waiting; a batch that caught up is committed before the next
    // starts (below).
    std::unique_ptr<PartitionList> offsets = OffsetsOf(config_.kafka().input_topic(), sealed.next);
    std::unique_ptr<RdKafka::ConsumerGroupMetadata> group;
    if (!offsets->list.empty()) group.reset(consumer_->groupMetadata());
    auto call = std::make_shared<CommitCall>();
    call->producer = producer_.get();
    if (options_.transaction_timeout_ms_for_testing > 0) {
      call->timeout_ms = options_.transaction_timeout_ms_for_testing;
    }
    call->hooks = commit_hooks_;
    commit_call_ = call;
    commit_deadline_ = std::chrono::steady_clock::now() + commit_deadline_after_;
    committing_ = std::async(
        std::launch::async,
        [call = std::move(call), offsets = std::move(offsets), group = std::move(group)] {
          return CommitOnItsThread(*call, offsets->list, group.get());
        });
  }
  // AT_LEAST_ONCE: the records produced last wait out the producer's linger without a flush;
  // the next batch runs meanwhile.
  sealed.outcome.pause_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // EXACTLY_ONCE and caught up: the transaction's round trips are quickest with this thread out
  // of their way (the broker shares the cores), and its alerts are out before the next batch's.
  if (wait || (transactional_ && !batch_behind_)) return CommitSealed(/*wait=*/true);
  return absl::OkStatus();
}

absl::Status Pipeline::CommitSealed(bool wait) {
  if (transactional_) {
    if (!committing_.valid()) return absl::OkStatus();
    const auto started = std::chrono::steady_clock::now();
    switch (AwaitCommit(wait)) {
      case CommitProgress::kRunning:
        return absl::OkStatus();
      case CommitProgress::kOverdue:
        return AbortAndRewind(absl::StrCat("its commit has not returned ",
                                           commit_deadline_after_.count() / 1000.0,
                                           " s after it started"));
      case CommitProgress::kDone:
        break;
    }
    // The events read meanwhile are handled first, as they would have been one by one: the
    // batch after the sealed one is under way when the sealed one commits or aborts.
    if (absl::Status s = HandlePending(); !s.ok()) return s;
    const TransactionResult result = committing_.get();
    switch (result.kind) {
      case TransactionResult::kFatal:
        return FatalProducerError("commit_transaction");
      case TransactionResult::kAbort:
        if (absl::Status fatal = ConsumerFatalError(); !fatal.ok()) return fatal;
        return AbortAndRewind(result.error);
      case TransactionResult::kCommitted:
        break;
    }
    if (absl::Status s = SealedCommitted(started); !s.ok()) return s;
    return ProduceHeld();
  }
  if (!sealed_) return absl::OkStatus();
  const auto started = std::chrono::steady_clock::now();
  DeliveryTracker::Outputs& outputs = delivery_->Of(sealed_->seq);
  if (outputs.outstanding > 0) {
    if (!wait) {
      producer_->poll(0);  // serves the delivery reports that arrived
      if (outputs.outstanding > 0) return absl::OkStatus();
    }
    // flush() sends what lingers at once (it also waits for the open batch's outputs).
    while (outputs.outstanding > 0) producer_->flush(1000);
  }
  // As above: the batch after the sealed one is under way when the sealed one commits or aborts.
  if (absl::Status s = HandlePending(); !s.ok()) return s;
  if (outputs.failed == 0 && options_.fail_delivery_for_testing &&
      options_.fail_delivery_for_testing()) {
    outputs.failed = 1;
    outputs.last_error = "failed by the test hook";
  }
  if (outputs.failed > 0) {
    return AbortAndRewind(
        absl::StrCat(outputs.failed, " output record(s) not delivered: ", outputs.last_error));
  }
  const std::unique_ptr<PartitionList> offsets =
      OffsetsOf(config_.kafka().input_topic(), sealed_->next);
  if (!offsets->list.empty()) {
    for (int attempt = 0;; ++attempt) {
      const RdKafka::ErrorCode code = consumer_->commitSync(offsets->list);
      if (code == RdKafka::ERR_NO_ERROR) break;
      if (attempt >= 10) {
        return absl::UnavailableError(absl::StrCat("commit offsets: ", RdKafka::err2str(code)));
      }
      LogWarning(absl::StrCat("offset commit retry: ", RdKafka::err2str(code)));
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  return SealedCommitted(started);
}

absl::Status Pipeline::SealedCommitted(std::chrono::steady_clock::time_point started) {
  in_transaction_ = false;  // EXACTLY_ONCE: its transaction is done
  refused_aborts_ = 0;
  std::map<int32_t, CommittedOffsets> committed;
  for (const auto& [partition, next] : sealed_->next) committed[partition].input_next = next;
  for (const auto& [partition, next] : delivery_->Of(sealed_->seq).changelog_next) {
    committed[partition].changelog_next = next;
  }
  delivery_->Forget(sealed_->seq);
  SealedBatch batch = std::move(*sealed_);
  sealed_.reset();
  if (absl::Status s = handler_.OnCommitted(committed); !s.ok()) return s;
  committed_stream_time_ = std::move(batch.stream_time);
  batch.outcome.pause_s +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  RecordCommitted(batch.outcome);
  return absl::OkStatus();
}

absl::Status Pipeline::ProduceHeld() {
  if (held_.empty()) return absl::OkStatus();
  if (absl::Status s = EnsureTransaction(); !s.ok()) return s;
  std::vector<HeldOutput> held = std::exchange(held_, {});
  for (HeldOutput& output : held) {
    if (absl::Status s = Produce(output.topic, output.key, output.value, output.headers.release());
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

Pipeline::TransactionResult Pipeline::CommitOnItsThread(
    CommitCall& call, const std::vector<RdKafka::TopicPartition*>& offsets,
    RdKafka::ConsumerGroupMetadata* group) {
  RdKafka::Producer& producer = *call.producer;
  const CommitHooks* hooks = call.hooks.get();
  if (hooks != nullptr && hooks->commit_hook) {
    // Fails the commit as the broker would: once the transaction's records are delivered.
    producer.flush(kTxnTimeoutMs);
    if (hooks->commit_hook()) return {TransactionResult::kAbort, "failed by the test hook"};
  }
  const int timeout_ms = call.timeout_ms;
  int attempts = 10;
  // A call that timed out goes on in the background and is resumed by calling it again; any
  // other transactional call meanwhile fails with a conflict. So only the call that failed is
  // repeated: sending the offsets again after commit_transaction timed out made an outage of
  // the broker abort a transaction that was still committing.
  bool offsets_sent = offsets.empty();
  bool committing = false;
  bool lost_asked = false;
  for (int attempt = 1;; ++attempt) {
    std::unique_ptr<RdKafka::Error> error;
    if (!offsets_sent) {
      error.reset(producer.send_offsets_to_transaction(offsets, group, timeout_ms));
      offsets_sent = error == nullptr;
    }
    if (!error && !std::exchange(committing, true) && hooks != nullptr && hooks->before_commit &&
        !call.abandoned.load()) {
      producer.flush(timeout_ms);  // the hook finds the records delivered: only the commit waits
      if (const int limit = hooks->before_commit(); limit > 0) attempts = attempt - 1 + limit;
    }
    if (!error && !std::exchange(lost_asked, true) && hooks != nullptr && hooks->commit_lost &&
        !call.abandoned.load() && hooks->commit_lost()) {
      error.reset(producer.abort_transaction(timeout_ms));
      if (!error) return {};  // reported committed: the broker's fault the hook stands for
    }
    if (!error) error.reset(producer.commit_transaction(timeout_ms));
    if (!error) return {};
    if (error->is_fatal()) return {TransactionResult::kFatal, ErrorText(error.get())};
    if (error->txn_requires_abort() || !error->is_retriable() || attempt >= attempts ||
        call.abandoned.load()) {
      return {TransactionResult::kAbort, ErrorText(error.get())};
    }
    LogWarning(
        absl::StrCat(offsets_sent ? "commit retry: " : "commit retry (offsets): ", error->str()));
  }
}

Pipeline::CommitProgress Pipeline::AwaitCommit(bool wait) {
  const std::future_status status = wait ? committing_.wait_until(commit_deadline_)
                                         : committing_.wait_for(std::chrono::seconds(0));
  if (status == std::future_status::ready) return CommitProgress::kDone;
  return std::chrono::steady_clock::now() >= commit_deadline_ ? CommitProgress::kOverdue
                                                              : CommitProgress::kRunning;
}

void Pipeline::AbandonCommit() {
  LogWarning(absl::StrCat("the commit of a transaction has not returned ",
                          commit_deadline_after_.count() / 1000.0,
                          " s after it started: giving it up with the producer"));
  commit_call_->abandoned = true;
  commit_call_.reset();
  ++stats_->abandoned_commits;
  probe_.CommitAbandoned();
  // The call may block long after this (librdkafka issue 5456); when it goes on, the producer
  // that replaces this one has fenced it. Until it returns, the producer must live, and its
  // delivery reports must have a tracker.
  std::thread([topics = std::move(output_topics_), producer = std::move(producer_),
               delivery = std::move(delivery_), committing = std::move(committing_)]() mutable {
    const TransactionResult result = committing.get();
    LogInfo(
        absl::StrCat("the commit given up on returned: ",
                     result.kind == TransactionResult::kCommitted ? "committed" : result.error));
    topics.clear();
    producer.reset();
    delivery.reset();
  }).detach();
  output_topics_.clear();
}

bool Pipeline::StateOverBudget() const {
  if (options_.state_over_budget) return options_.state_over_budget();
  return state::SharedStoreMemory().memtables_over_budget();
}

bool Pipeline::Drained() const {
  if (options_.drain_when == nullptr || !options_.drain_when->load()) return false;
  // A restoring partition is paused, not at its end.
  if (assigned_.empty() || !restoring_.empty() || !batch_next_.empty()) return false;
  for (const int32_t partition : assigned_) {
    if (!at_end_.contains(partition)) return false;
  }
  return true;
}

absl::Status Pipeline::Run(const std::atomic<bool>& stop) {
  stop_ = &stop;
  absl::Status status = RunLoop(stop);
  // A record refused because the transaction failed (ProduceError): the batch aborts, as a
  // failed commit does, and the loop goes on from the rewound offsets.
  while (!status.ok() && std::exchange(transaction_failed_, false) && fatal_.ok()) {
    status = AbortAndRewind(std::string(status.message()));
    if (status.ok()) status = RunLoop(stop);
  }
  if (!status.ok()) failed_ = true;
  return status;
}

absl::Status Pipeline::RunLoop(const std::atomic<bool>& stop) {
  const auto interval = std::chrono::milliseconds(config_.processing().commit_interval_ms());
  // Off (0) or not above the interval: the interval always.
  const auto catch_up = std::max<std::chrono::milliseconds>(
      interval, std::chrono::milliseconds(config_.processing().catch_up_interval_ms()));
  const uint32_t max_batch_events = config_.processing().max_batch_events();
  const uint64_t max_batch_bytes = config_.processing().max_batch_bytes();
  const uint64_t max_catch_up_bytes = config_.processing().max_catch_up_batch_bytes();
  const int poll_ms = static_cast<int>(config_.processing().poll_timeout_ms());
  const bool wall_clock = config_.processing().clock() == v1::ProcessingConfig::WALL_CLOCK;
  auto next_tick = std::chrono::steady_clock::now() + kTickEvery;
  while (!stop.load()) {
    const auto batch_started = std::chrono::steady_clock::now();
    uint32_t in_batch = 0;
    // A batch holds at most this many records: max_batch_events, and the byte bound over the
    // last batch's changelog bytes per event (at least one record; unbounded by bytes before a
    // batch ended and for events that wrote no changelog).
    uint32_t max_batch = max_batch_events;
    if (max_batch_bytes > 0 && changelog_bytes_per_event_ > 0) {
      max_batch = static_cast<uint32_t>(std::clamp<double>(
          static_cast<double>(max_batch_bytes) / changelog_bytes_per_event_, 1.0, max_batch));
    }
    // Past the interval, a batch of a backlog runs to at most this many records (0: catch-up
    // off): max_batch_events and the catch-up byte bound, which takes the place of
    // max_batch_bytes (not extended before a batch ended; events that wrote no changelog are
    // not bounded by it). Not extended at all while the state's memtables hold more than their
    // share: the flushes are behind the writes, and a larger batch would add to what waits.
    uint32_t catch_up_max = catch_up > interval ? max_batch_events : 0;
    if (catch_up_max > 0 && max_catch_up_bytes > 0 && changelog_bytes_per_event_ != 0) {
      catch_up_max = changelog_bytes_per_event_ < 0
                         ? 0
                         : static_cast<uint32_t>(std::min<double>(
                               max_batch_events, static_cast<double>(max_catch_up_bytes) /
                                                     changelog_bytes_per_event_));
    }
    const bool held = catch_up_max > 0 && StateOverBudget();
    if (held) catch_up_max = 0;
    // Behind the input while no poll of the batch came back empty or reached the end of a
    // partition: the batch may then run to the catch-up interval.
    bool behind = true;
    // How long this batch may run: the catch-up interval while behind within its bound.
    const auto batch_limit = [&] {
      return behind && in_batch < catch_up_max ? catch_up : interval;
    };
    stats_->last_loop_steady_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(batch_started.time_since_epoch())
            .count();
    while (!stop.load() && in_batch < (behind ? std::max(max_batch, catch_up_max) : max_batch) &&
           std::chrono::steady_clock::now() - batch_started < batch_limit()) {
      // Those left by an abort in the rebalance callback (whose own partitions went).
      if (absl::Status s = RebuildTasks(); !s.ok()) return s;
      if (absl::Status s = ResumeRestored(); !s.ok()) return s;
      // With events pending, only what is already waiting: when nothing is, they are handled
      // before the poll waits.
      const bool waits = pending_.empty();
      const auto poll_started =
          waits ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      std::unique_ptr<RdKafka::Message> message(consumer_->consume(waits ? poll_ms : 0));
      if (!fatal_.ok()) return fatal_;
      switch (message->err()) {
        case RdKafka::ERR_NO_ERROR:
          refill_->Taken(message->len() + message->key_len());
          if (absl::Status s = HandleRecord(*message); !s.ok()) return s;
          ++in_batch;
          // A run ends in time for the batch to end at its interval, its handling included.
          if (pending_.size() >= kMaxPendingEvents ||
              PendingOutlasts(batch_started + batch_limit())) {
            if (absl::Status s = HandlePending(); !s.ok()) return s;
          }
          break;
        case RdKafka::ERR__PARTITION_EOF:
          at_end_.insert(message->partition());
          behind = false;
          break;
        case RdKafka::ERR__TIMED_OUT:
          if (!waits) {
            if (absl::Status s = HandlePending(); !s.ok()) return s;
            break;
          }
          // Waited for records and got none: the clock on which RecordLag times a partition
          // that does not read on.
          idle_ += std::chrono::steady_clock::now() - poll_started;
          behind = false;
          break;
        default:
          if (message->err() == RdKafka::ERR__FATAL) {
            if (absl::Status fatal = ConsumerFatalError(); !fatal.ok()) return fatal;
            return absl::AbortedError(absl::StrCat("consumer: ", message->errstr()));
          }
          LogWarning(absl::StrCat("consumer: ", message->errstr()));
          break;
      }
      if (Drained()) break;
      // The batch before, once Kafka acknowledged its outputs (AT_LEAST_ONCE).
      if (absl::Status s = CommitSealed(/*wait=*/false); !s.ok()) return s;
      if (wall_clock) {
        if (const auto now = std::chrono::steady_clock::now(); now >= next_tick) {
          if (absl::Status s = Tick(); !s.ok()) return s;
          next_tick = now + kTickEvery;
        }
      }
    }
    if (absl::Status s = ResumeRestored(); !s.ok()) return s;
    if (absl::Status s = Tick(); !s.ok()) return s;
    next_tick = std::chrono::steady_clock::now() + kTickEvery;
    batch_behind_ = behind && in_batch > 0;
    if (held && batch_behind_) probe_.CatchUpHeld();
    if (absl::Status s = CommitBatch(/*wait=*/false); !s.ok()) return s;
    if (!fatal_.ok()) return fatal_;
    if (Drained()) {
      // The sealed batch too (AT_LEAST_ONCE); an abort rewinds, and the loop reads it again.
      const int64_t aborts = stats_->aborts.load();
      if (absl::Status s = CommitBatch(/*wait=*/true); !s.ok()) return s;
      if (stats_->aborts.load() == aborts) break;
    }
  }
  batch_behind_ = false;
  if (absl::Status s = CommitBatch(/*wait=*/true); !s.ok()) return s;
  AwaitStartLookup();
  consumer_->close();
  if (!fatal_.ok()) return fatal_;
  return absl::OkStatus();
}

}  // namespace ccstream::runtime
