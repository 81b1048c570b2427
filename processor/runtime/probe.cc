#include "processor/runtime/probe.h"

#include <string>

namespace ccstream::runtime {

PipelineProbe::PipelineProbe(prometheus::Registry& registry) {
  events_processed_ = &prometheus::BuildCounter()
                           .Name("ccstream_events_processed_total")
                           .Help(
                               "Valid input events handed to the engine, counted when their "
                               "batch commits.")
                           .Register(registry)
                           .Add({});
  auto& dead = prometheus::BuildCounter()
                   .Name("ccstream_events_dead_lettered_total")
                   .Help("Input records refused and sent to the dead-letter topic, by reason.")
                   .Register(registry);
  for (size_t r = 1; r < dead_lettered_.size(); ++r) {
    dead_lettered_[r] = &dead.Add({{"reason", std::string(ingest::RefusalReasonName(
                                                  static_cast<ingest::RefusalReason>(r)))}});
  }
  dead_lettered_[0] = dead_lettered_[1];
  alerts_family_ = &prometheus::BuildCounter()
                        .Name("ccstream_alerts_published_total")
                        .Help("Alerts committed to the alerts topic, by kind.")
                        .Register(registry);
  auto& latency = prometheus::BuildHistogram()
                      .Name("ccstream_alert_latency_seconds")
                      .Help(
                          "Time from the event time of what raised an alert to the commit that "
                          "published it, by kind (wall-clock mode only).")
                      .Register(registry);
  late_events_ = &prometheus::BuildCounter()
                      .Name("ccstream_late_events_total")
                      .Help(
                          "Events further behind their partition's latest event time than "
                          "processing.late_event_tolerance_ms (still processed).")
                      .Register(registry)
                      .Add({});
  for (int kind = v1::AlertKind_MIN; kind <= v1::AlertKind_MAX; ++kind) {
    if (!v1::AlertKind_IsValid(kind) || kind == v1::ALERT_KIND_UNSPECIFIED) continue;
    const std::string name = v1::AlertKind_Name(static_cast<v1::AlertKind>(kind));
    alerts_by_kind_[kind] = &alerts_family_->Add({{"kind", name}});
    latency_by_kind_[kind] = &latency.Add(
        {{"kind", name}}, prometheus::Histogram::BucketBoundaries{
                              0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
  }
  batches_committed_ = &prometheus::BuildCounter()
                            .Name("ccstream_batches_committed_total")
                            .Help("Batches whose effects and input offsets were committed.")
                            .Register(registry)
                            .Add({});
  commit_seconds_ =
      &prometheus::BuildHistogram()
           .Name("ccstream_batch_commit_seconds")
           .Help("Time to commit one batch (transaction or offset commit).")
           .Register(registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1, 0.25, 0.5, 1, 2.5, 5});
  auto& batch_events =
      prometheus::BuildHistogram()
          .Name("ccstream_batch_events")
          .Help(
              "Valid events per committed batch; behind=\"true\": the batch closed while the "
              "input still had records waiting (the processor was catching up).")
          .Register(registry);
  const prometheus::Histogram::BucketBoundaries sizes{1,    10,    100,   500,   1000,
                                                      5000, 10000, 20000, 50000, 100000};
  batch_events_live_ = &batch_events.Add({{"behind", "false"}}, sizes);
  batch_events_behind_ = &batch_events.Add({{"behind", "true"}}, sizes);
  catch_up_held_ = &prometheus::BuildCounter()
                        .Name("ccstream_catch_up_batches_held_total")
                        .Help(
                            "Batches that closed while the input still had records waiting but "
                            "were kept to the commit interval (not run to "
                            "processing.catch_up_interval_ms): the state's RocksDB memtables "
                            "held more than their share (state.write_buffers_mib) when the batch "
                            "began, their flushes behind the writes.")
                        .Register(registry)
                        .Add({});
  changelog_records_ = &prometheus::BuildCounter()
                            .Name("ccstream_changelog_records_total")
                            .Help("State changes written to the changelog by committed batches.")
                            .Register(registry)
                            .Add({});
  changelog_bytes_ = &prometheus::BuildCounter()
                          .Name("ccstream_changelog_bytes_total")
                          .Help(
                              "Bytes (keys and values) of the changelog records of committed "
                              "batches, before compression.")
                          .Register(registry)
                          .Add({});
  aborts_ = &prometheus::BuildCounter()
                 .Name("ccstream_transaction_aborts_total")
                 .Help("Batches aborted and rewound to the last committed offsets.")
                 .Register(registry)
                 .Add({});
  rebuilds_ = &prometheus::BuildCounter()
                   .Name("ccstream_task_rebuilds_total")
                   .Help(
                       "Times this instance's tasks were rebuilt from Kafka (the changelog and the "
                       "committed offsets) because a transaction's outcome was unknown.")
                   .Register(registry)
                   .Add({});
  abandoned_commits_ = &prometheus::BuildCounter()
                            .Name("ccstream_commits_abandoned_total")
                            .Help(
                                "Commits given up on: their call had not returned "
                                "processing.commit_deadline_ms after the commit began.")
                            .Register(registry)
                            .Add({});
  lag_family_ = &prometheus::BuildGauge()
                     .Name("ccstream_consumer_lag")
                     .Help("Input records not yet read, per assigned partition.")
                     .Register(registry);
  assigned_ = &prometheus::BuildGauge()
                   .Name("ccstream_assigned_partitions")
                   .Help("Input partitions currently assigned to this instance.")
                   .Register(registry)
                   .Add({});
  without_start_ = &prometheus::BuildGauge()
                        .Name("ccstream_partitions_not_started")
                        .Help(
                            "Assigned input partitions not read yet because the group's "
                            "committed offset, where reading them starts, is not known yet.")
                        .Register(registry)
                        .Add({});
  restoring_ = &prometheus::BuildGauge()
                    .Name("ccstream_partitions_restoring")
                    .Help(
                        "Assigned input partitions whose state is being restored from the "
                        "changelog, or waits for its turn; not read until it is.")
                    .Register(registry)
                    .Add({});
  blocked_family_ = &prometheus::BuildGauge()
                         .Name("ccstream_output_partitions_blocked")
                         .Help(
                             "Partitions of the topics ccstream writes in transactions whose "
                             "read_committed readers have waited at one transaction for 90 s: a "
                             "transaction that does not end (its markers skipped by Kafka).")
                         .Register(registry);
  stalled_ = &prometheus::BuildGauge()
                  .Name("ccstream_partitions_stalled")
                  .Help(
                      "Started input partitions whose read position has not moved for a minute "
                      "of the instance's waiting for records although records wait on them, or "
                      "of which no fetch was answered.")
                  .Register(registry)
                  .Add({});
  fetch_restarts_ = &prometheus::BuildCounter()
                         .Name("ccstream_partition_fetch_restarts_total")
                         .Help(
                             "Fetches of started input partitions started again (a seek to where "
                             "the partition stands and a resume): its read position had not "
                             "moved for 10 s of the instance's waiting for records although "
                             "records waited on it, or no fetch of it was answered; again every "
                             "10 s while it stays so.")
                         .Register(registry)
                         .Add({});
  start_lookup_failures_ =
      &prometheus::BuildCounter()
           .Name("ccstream_start_offset_lookup_failures_total")
           .Help(
               "Look-ups of the group's committed offsets of new partitions that failed (timed "
               "out: offsets held by an open transaction, or no coordinator); each is asked "
               "again after a second.")
           .Register(registry)
           .Add({});
}

void PipelineProbe::ConsumerLag(int32_t partition, int64_t lag) {
  auto it = lag_.find(partition);
  if (lag < 0) {
    if (it != lag_.end()) {
      lag_family_->Remove(it->second);
      lag_.erase(it);
    }
    return;
  }
  if (it == lag_.end()) {
    it = lag_.emplace(partition, &lag_family_->Add({{"partition", std::to_string(partition)}}))
             .first;
  }
  it->second->Set(static_cast<double>(lag));
}

void PipelineProbe::AlertCommitted(v1::AlertKind kind, double latency_s) {
  const int index = static_cast<int>(kind);
  if (index <= 0 || index >= static_cast<int>(alerts_by_kind_.size()) ||
      alerts_by_kind_[index] == nullptr) {
    return;
  }
  alerts_by_kind_[index]->Increment();
  if (latency_s >= 0) latency_by_kind_[index]->Observe(latency_s);
}

}  // namespace ccstream::runtime
