#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "alert.pb.h"
#include "processor/ingest/validate.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace ccstream::runtime {

// Records the pipeline's metrics (events, dead letters, alerts, commits, aborts) in a
// prometheus registry. The pipeline calls it; nothing else in the pipeline knows about
// prometheus. Counters are atomic, so it is safe to call from the pipeline thread while the
// HTTP thread scrapes. Owned by the command that runs the pipeline.
class PipelineProbe {
 public:
  explicit PipelineProbe(prometheus::Registry& registry);

  // `count` valid events of a committed batch.
  void EventsProcessed(int64_t count) {
    if (count > 0) events_processed_->Increment(static_cast<double>(count));
  }
  void DeadLettered(ingest::RefusalReason reason) {
    dead_lettered_[static_cast<size_t>(reason)]->Increment();
  }
  // An alert was committed (counted by kind); `latency_s` >= 0 (event time → commit, wall
  // clock only) is observed in ccstream_alert_latency_seconds.
  void AlertCommitted(v1::AlertKind kind, double latency_s);
  // An event arrived further behind its partition's stream time than the tolerance.
  void LateEvent() { late_events_->Increment(); }
  // A batch of `events` valid events committed in `seconds`; `behind`: it closed while the
  // input still had records waiting (see ProcessingConfig.catch_up_interval_ms).
  void BatchCommitted(double seconds, int64_t events, bool behind) {
    batches_committed_->Increment();
    commit_seconds_->Observe(seconds);
    (behind ? batch_events_behind_ : batch_events_live_)->Observe(static_cast<double>(events));
  }
  // A batch that closed while behind its input was kept to the commit interval: the state's
  // memory was over its share when it began (PipelineOptions::state_over_budget).
  void CatchUpHeld() { catch_up_held_->Increment(); }
  // A committed batch wrote `records` changelog records of `bytes` (keys and values).
  void ChangelogCommitted(int64_t records, int64_t bytes) {
    if (records == 0) return;
    changelog_records_->Increment(static_cast<double>(records));
    changelog_bytes_->Increment(static_cast<double>(bytes));
  }
  void TransactionAborted() { aborts_->Increment(); }
  void TasksRebuilt() { rebuilds_->Increment(); }
  // A commit had not returned processing.commit_deadline_ms after it began and was given up on.
  void CommitAbandoned() { abandoned_commits_->Increment(); }
  void PartitionsAssigned(int count) { assigned_->Set(count); }
  // Records still to read on `partition` (high watermark minus position); -1 forgets it.
  void ConsumerLag(int32_t partition, int64_t lag);
  // Assigned partitions not read yet because the group's committed offset, where reading them
  // starts, is not known yet.
  void PartitionsWithoutStartOffset(int count) { without_start_->Set(count); }
  // Assigned partitions whose state is being restored from the changelog (or waits for it).
  void PartitionsRestoring(int count) { restoring_->Set(count); }
  // Started partitions whose read position has not moved for a while although records wait
  // on them (or no fetch of them was answered): PipelineOptions::partition_stall_ms.
  void PartitionsStalled(int count) { stalled_->Set(count); }
  // The fetch of a started partition that did not read on was started again (a seek to where it
  // stands and a resume): PipelineOptions::partition_restart_ms.
  void FetchRestarted() { fetch_restarts_->Increment(); }
  // Partitions of `topic` (an output written in transactions) where read_committed readers wait
  // at a transaction that does not end (TransactionWatch). From the watch's thread.
  void OutputPartitionsBlocked(const std::string& topic, int count) {
    blocked_family_->Add({{"topic", topic}}).Set(count);
  }
  // A look-up of the group's committed offsets failed (timed out, unreachable coordinator).
  void StartOffsetLookupFailed() { start_lookup_failures_->Increment(); }

 private:
  prometheus::Counter* events_processed_;
  prometheus::Counter* catch_up_held_;
  std::array<prometheus::Counter*, static_cast<size_t>(ingest::RefusalReason::kInvalidField) + 1>
      dead_lettered_{};
  prometheus::Family<prometheus::Counter>* alerts_family_;
  std::array<prometheus::Counter*, 16> alerts_by_kind_{};
  std::array<prometheus::Histogram*, 16> latency_by_kind_{};
  prometheus::Counter* late_events_;
  prometheus::Counter* batches_committed_;
  prometheus::Histogram* commit_seconds_;
  prometheus::Histogram* batch_events_live_;
  prometheus::Histogram* batch_events_behind_;
  prometheus::Counter* changelog_records_;
  prometheus::Counter* changelog_bytes_;
  prometheus::Counter* aborts_;
  prometheus::Counter* rebuilds_;
  prometheus::Counter* abandoned_commits_;
  prometheus::Gauge* assigned_;
  prometheus::Gauge* without_start_;
  prometheus::Gauge* stalled_;
  prometheus::Counter* fetch_restarts_;
  prometheus::Family<prometheus::Gauge>* blocked_family_;
  prometheus::Gauge* restoring_;
  prometheus::Counter* start_lookup_failures_;
  prometheus::Family<prometheus::Gauge>* lag_family_;
  std::map<int32_t, prometheus::Gauge*> lag_;
};

}  // namespace ccstream::runtime
