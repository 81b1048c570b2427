#include "processor/runtime/transaction_watch.h"

#include <librdkafka/rdkafkacpp.h>

#include "absl/strings/str_cat.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/log.h"

namespace ccstream::runtime {

absl::StatusOr<std::unique_ptr<TransactionWatch>> TransactionWatch::Start(
    const v1::KafkaConfig& kafka, std::vector<std::string> topics, Report report,
    TransactionWatchOptions options) {
  std::unique_ptr<TransactionWatch> watch(new TransactionWatch());
  watch->topics_ = std::move(topics);
  watch->report_ = std::move(report);
  watch->options_ = options;
  for (const auto& [isolation, client] : {std::pair{"read_committed", &watch->committed_},
                                          std::pair{"read_uncommitted", &watch->uncommitted_}}) {
    kafka::Properties properties = kafka::ReaderProperties(kafka);
    properties["client.id"] = absl::StrCat(kafka.client_id(), "-txn-watch");
    properties["isolation.level"] = isolation;
    auto conf = kafka::MakeConf(properties);
    if (!conf.ok()) return conf.status();
    std::string error;
    client->reset(RdKafka::Consumer::create(conf->get(), error));
    if (*client == nullptr) {
      return absl::InternalError(absl::StrCat("transaction watch client: ", error));
    }
  }
  TransactionWatch* self = watch.get();
  watch->thread_ = std::thread([self] { self->Loop(); });
  return watch;
}

TransactionWatch::~TransactionWatch() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TransactionWatch::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Pass();
    lock.lock();
    cv_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

void TransactionWatch::Pass() {
  auto stopping = [this] {
    std::lock_guard lock(mu_);
    return stopping_;
  };
  for (const std::string& topic : topics_) {
    const absl::StatusOr<int> partitions =
        kafka::PartitionCount(*uncommitted_, topic, options_.query_timeout_ms);
    if (!partitions.ok()) continue;  // not known now: the last report stands
    int blocked = 0;
    for (int32_t partition = 0; partition < *partitions; ++partition) {
      if (stopping()) return;
      PartitionState& state = states_[{topic, partition}];
      const Clock::time_point now = Clock::now();
      int64_t low = 0, stable = 0, high = 0;
      if (committed_->query_watermark_offsets(topic, partition, &low, &stable,
                                              options_.query_timeout_ms) != RdKafka::ERR_NO_ERROR ||
          uncommitted_->query_watermark_offsets(
              topic, partition, &low, &high, options_.query_timeout_ms) != RdKafka::ERR_NO_ERROR) {
        // Unknown meanwhile (the broker away): a partition not blocked yet waits afresh, so that
        // an outage longer than `blocked_after` does not read as a transaction that hangs.
        if (state.blocked) {
          ++blocked;
        } else {
          state.since = now;
        }
        continue;
      }
      if (stable >= high || stable != state.stable) {
        if (state.blocked) {
          LogInfo(absl::StrCat(topic, "[", partition, "]: read_committed readers move on (last ",
                               "stable offset ", stable, ")"));
        }
        state = PartitionState{stable, now, false};
        continue;
      }
      if (!state.blocked && now - state.since >= options_.blocked_after) {
        state.blocked = true;
        LogWarning(absl::StrCat(
            topic, "[", partition, "]: read_committed readers have waited at offset ", stable,
            " for ", std::chrono::duration_cast<std::chrono::seconds>(now - state.since).count(),
            " s, with ", high - stable,
            " record(s) after it: a transaction open there does not end (Kafka may have skipped "
            "its markers; abort it with kafka-transactions.sh, see CcstreamOutputBlocked)"));
      }
      if (state.blocked) ++blocked;
    }
    report_(topic, blocked);
  }
}

}  // namespace ccstream::runtime
