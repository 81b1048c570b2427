#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "config.pb.h"

namespace RdKafka {
class Consumer;
}  // namespace RdKafka

namespace ccstream::runtime {

struct TransactionWatchOptions {
  // How often the watched partitions' offsets are read.
  std::chrono::milliseconds interval{10'000};
  // How long a partition's last stable offset may stay where it is, below its high watermark,
  // before the partition counts as blocked. No transaction outlives its timeout (ccstream's:
  // 30 s) unless Kafka skipped its markers; three of them leave room for a coordinator that
  // aborts a timed-out transaction late.
  std::chrono::milliseconds blocked_after{90'000};
  // Each read of a partition's offsets waits this long for the broker at most.
  int query_timeout_ms = 2'000;
};

// Watches the topics ccstream writes in transactions (alerts, changelog, dead letters) for a
// transaction that does not end. A read_committed reader stops at a partition's last stable
// offset (LSO), the start of its oldest open transaction. When Kafka skips a transaction's
// markers (a partition without a leader at that moment, KAFKA-5202; docs/architecture.md,
// step 4), that transaction hangs for good: every read_committed reader of the partition, the
// alerts' consumers among them, waits at it until someone aborts it by hand. The broker says
// nothing; this watch does: a partition whose LSO has stayed below its high watermark without
// moving for `blocked_after` (every read in between answered) counts as blocked. It is logged
// once, and again when it moves on, and the count per topic is reported after every pass.
//
// One thread of its own; two clients (read_committed for the LSO, read_uncommitted for the
// high watermark) that join no group.
class TransactionWatch {
 public:
  // Called on the watch's thread after each pass over a topic: its blocked partitions.
  using Report = std::function<void(const std::string& topic, int blocked)>;

  static absl::StatusOr<std::unique_ptr<TransactionWatch>> Start(
      const v1::KafkaConfig& kafka, std::vector<std::string> topics, Report report,
      TransactionWatchOptions options = {});
  ~TransactionWatch();  // stops the thread (within one read's timeout)

  TransactionWatch(const TransactionWatch&) = delete;
  TransactionWatch& operator=(const TransactionWatch&) = delete;

 private:
  TransactionWatch() = default;
  void Loop();
  void Pass();

  using Clock = std::chrono::steady_clock;
  struct PartitionState {
    int64_t stable = -1;      // the LSO last read
    Clock::time_point since;  // since when it has been there, every read answered
    bool blocked = false;
  };

  std::vector<std::string> topics_;
  Report report_;
  TransactionWatchOptions options_;
  std::unique_ptr<RdKafka::Consumer> committed_;    // read_committed: the LSO
  std::unique_ptr<RdKafka::Consumer> uncommitted_;  // read_uncommitted: the high watermark
  std::map<std::pair<std::string, int32_t>, PartitionState> states_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace ccstream::runtime
