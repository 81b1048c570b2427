#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "alert.pb.h"
#include "config.pb.h"
#include "events.pb.h"
#include "librdkafka/rdkafkacpp.h"
#include "processor/ingest/validate.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/probe.h"

namespace ccstream::runtime {

// What one event or tick produced for the output topics.
struct HandlerOutput {
  std::vector<v1::Alert> alerts;
};

// One valid event of a run handed to EventHandler::OnEvents.
struct HandlerEvent {
  int32_t partition = 0;
  const v1::ContactEvent* event = nullptr;
  int64_t now_ms = 0;  // the partition's clock for it
};

// One state change for the changelog topic: key, and value (nullopt = tombstone), on the
// changelog partition of the task's input partition. The value is not copied: it points into
// the handler's pending batch and stays valid until the handler is next called.
struct ChangelogRecord {
  int32_t partition = 0;
  std::string key;
  std::optional<std::string_view> value;
  // A change the task's store keeps and the changelog does not carry (its timers, which a
  // restore derives from the records that hold them): not produced, but counted in the batch's
  // state-change bytes that bound the next batches (processing.max_batch_bytes).
  bool local = false;
};

// Offsets of one committed batch for one task: the next input offset and, when the batch wrote
// to the changelog, the changelog offset after its last record (-1 when it wrote none).
struct CommittedOffsets {
  int64_t input_next = -1;
  int64_t changelog_next = -1;
};

// Receives the valid events of the input partitions, in partition order, and the clock ticks
// that let it fire timers. Implemented by the engine adapter (and by test recorders). Called
// only from the pipeline's thread.
class EventHandler {
 public:
  virtual ~EventHandler() = default;
  virtual absl::Status OnEvent(int32_t partition, const v1::ContactEvent& event, int64_t now_ms,
                               HandlerOutput& out) = 0;
  // A run of events read one after the other, as OnEvent for each in turn: `outs[i]` gets the
  // output of `events[i]`. A handler may handle the events of different partitions at once (on
  // threads of its own), each partition's in order, as long as what it reports is what handling
  // them one by one would have. An error: the first in the run's order; the outputs are then
  // left unspecified. By default, OnEvent for each.
  virtual absl::Status OnEvents(const std::vector<HandlerEvent>& events,
                                std::vector<HandlerOutput>& outs) {
    for (size_t i = 0; i < events.size(); ++i) {
      const HandlerEvent& e = events[i];
      if (absl::Status s = OnEvent(e.partition, *e.event, e.now_ms, outs[i]); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  // Called for each assigned partition with its clock at the end of every batch and, on the
  // wall clock, also within a batch, about every 5 ms between two records or empty polls.
  virtual absl::Status OnTick(int32_t partition, int64_t now_ms, HandlerOutput& out) {
    (void)partition, (void)now_ms, (void)out;
    return absl::OkStatus();
  }
  // New partitions: start opening (and restoring) their state. Must not wait for a restore:
  // the pipeline pauses the partitions and delivers none of their events or ticks until
  // TakeRestored reported them ready.
  virtual absl::Status OnAssigned(const std::vector<int32_t>& partitions) {
    (void)partitions;
    return absl::OkStatus();
  }
  // Polled on every loop turn while some partitions are restoring (`restoring`: those assigned
  // and not yet reported ready): returns the partitions that became ready for their events
  // since the last call, or the error that stopped a restore (the pipeline then fails with it).
  // The default, for handlers without a background restore, reports all of them ready at once.
  virtual absl::StatusOr<std::vector<int32_t>> TakeRestored(const std::vector<int32_t>& restoring) {
    return restoring;
  }
  // `lost`: the partitions were taken away without a chance to commit. Also called for
  // partitions still restoring: their restore is cancelled and their state closed before it
  // returns (without waiting for the restore to finish).
  virtual void OnRevoked(const std::vector<int32_t>& partitions, bool lost) {
    (void)partitions, (void)lost;
  }
  // Before a batch commits: the batch's state changes, to go into the same transaction (the
  // values may point into the handler's batch, see ChangelogRecord).
  virtual absl::Status CollectChangelog(std::vector<ChangelogRecord>& out) {
    (void)out;
    return absl::OkStatus();
  }
  // AT_LEAST_ONCE, as a batch ends (after CollectChangelog): set the batch's state changes
  // aside, still readable, and start the next batch on top of them; it runs while Kafka
  // acknowledges this one's outputs. `partitions`: those with input records in the batch. The
  // OnCommitted that follows makes the sealed changes durable (the open batch's stay pending);
  // an OnAborted forgets them with the open batch's. At most one batch is sealed at a time.
  virtual absl::Status OnSealed(const std::vector<int32_t>& partitions) {
    (void)partitions;
    return absl::OkStatus();
  }
  // After the batch committed in Kafka: make its state durable locally with these offsets
  // (partitions without input records in the batch have input_next = -1). After OnSealed, the
  // sealed batch's.
  virtual absl::Status OnCommitted(const std::map<int32_t, CommittedOffsets>& offsets) {
    (void)offsets;
    return absl::OkStatus();
  }
  // The batch was aborted: forget its state changes, and those of a sealed batch not yet
  // committed.
  virtual void OnAborted() {}
};

// Totals since start; read by the commands for their status lines and final report.
struct PipelineStats {
  std::atomic<int64_t> records{0};
  std::atomic<int64_t> events{0};
  std::atomic<int64_t> dead_letters{0};
  std::atomic<int64_t> alerts{0};
  std::atomic<int64_t> batches{0};
  std::atomic<int64_t> aborts{0};
  // Times the tasks were rebuilt from Kafka because a transaction's outcome was unknown.
  std::atomic<int64_t> rebuilds{0};
  // Commits given up on because their call of librdkafka had not returned by the commit's
  // deadline (each also rebuilds the tasks).
  std::atomic<int64_t> abandoned_commits{0};
  std::atomic<int64_t> late_events{0};
  // For the readiness probe: the steady-clock time (ms) of the last loop turn, whether the
  // consumer has joined the group (a first assignment, possibly empty, was received), and how
  // many assigned partitions are not yet ready to process (restoring, or restored and waiting
  // for the committed offset where reading them starts).
  std::atomic<int64_t> last_loop_steady_ms{0};
  std::atomic<bool> joined{false};
  std::atomic<int> restoring{0};
};

struct PipelineOptions {
  // When set, Run returns once this flag is true and every assigned partition has been read to
  // its end (used by embedded replays and the demo). Default: nullptr (run until stopped).
  const std::atomic<bool>* drain_when = nullptr;
  // Where the totals are counted; a service that replaces its pipeline after a fatal error keeps
  // one set of totals across pipelines. Default: nullptr (the pipeline's own).
  PipelineStats* stats = nullptr;
  // Called on the pipeline's thread after each successful commit with the alerts that batch
  // published (after EventHandler::OnCommitted), which it may move out (the pipeline clears
  // the vector after); must return quickly. Default: none.
  std::function<void(std::vector<v1::Alert>&)> on_committed_alerts;
  // Asked at the start of each batch while processing.catch_up_interval_ms is on: true keeps a
  // batch of a backlog to the commit interval (ccstream_catch_up_batches_held_total). Default:
  // none, the state's RocksDB memtables holding more than their share (state.write_buffers_mib):
  // flushes behind the writes.
  std::function<bool()> state_over_budget;
  // Tests: asked before each commit; true aborts and rewinds the batch instead, as an abortable
  // Kafka error does. Default: none.
  std::function<bool()> abort_commit_for_testing;
  // Tests, AT_LEAST_ONCE: asked once a sealed batch's outputs are all acknowledged; true takes
  // one of them as not delivered, as a delivery error would. Default: none.
  std::function<bool()> fail_delivery_for_testing;
  // Tests, EXACTLY_ONCE: called on the thread that commits a sealed batch's transaction, once
  // its records are delivered and before its offsets are sent; it may block (the next batch
  // runs meanwhile). True fails the commit as an abortable Kafka error would. Default: none.
  std::function<bool()> commit_hook_for_testing;
  // Tests, EXACTLY_ONCE: called on the committing thread once the sealed batch's offsets are in
  // its transaction and its records delivered, before commit_transaction; it may block. Returns
  // how many times this commit's call may be made before the batch is aborted (0: 10 times).
  // Default: none.
  std::function<int()> before_commit_for_testing;
  // Tests, EXACTLY_ONCE: asked on the committing thread once the offsets are in the
  // transaction; true aborts the transaction and reports it committed, as when the broker
  // skipped a committed transaction's markers (partitions without a leader) and its next abort
  // marker took the records. Default: none.
  std::function<bool()> commit_lost_for_testing;
  // Tests, EXACTLY_ONCE: the time each transactional call of a commit may take. Default: 0
  // (30 s).
  int transaction_timeout_ms_for_testing = 0;
  // Tests, EXACTLY_ONCE: asked before an abort_transaction; true first raises on the producer
  // the fatal error librdkafka raises when the coordinator holds no transaction to abort
  // (INVALID_TXN_STATE). Default: none.
  std::function<bool()> abort_fails_for_testing;
  // Tests: new partitions are not paused while they restore, as when librdkafka lets a pause
  // made in the rebalance callback lose the race with the assignment's first fetch. Default:
  // false.
  bool skip_pause_on_assign_for_testing = false;
  // Tests: asked for each restored partition as it is sought to its start; true leaves it
  // paused there, as a partition whose fetch librdkafka never starts. Default: none.
  std::function<bool(int32_t partition)> keep_paused_for_testing;
  // How long a started partition's read position may stay put while records wait on it (or
  // while librdkafka has answered no fetch of it at all) before it counts as stalled
  // (ccstream_partitions_stalled). Default: 60 s.
  int partition_stall_ms = 60'000;
  // How long a started partition's read position may stay put so (records waiting, or no fetch
  // answered) before its fetch is started again (RestartFetch), and again after as long while
  // it stays put (ccstream_partition_fetch_restarts_total). Default: 10 s.
  // Both count only the time the pipeline waited for records (idle_): while it is busy with
  // other partitions (a backlog, which the broker serves in the order librdkafka names the
  // partitions) or held elsewhere (a commit waiting for the broker), a partition is not
  // counted as not reading on.
  int partition_restart_ms = 10'000;
};

// The pipeline's own: what a committed batch reports (metrics, totals, committed alerts).
struct BatchOutcome {
  std::vector<v1::Alert> alerts;
  int64_t events = 0;
  bool behind = false;
  int64_t changelog_records = 0;
  int64_t changelog_bytes = 0;
  double pause_s = 0;  // the time the loop spent committing it
};
// The pipeline's own: a batch that ended, its outputs produced and its state sealed
// (EventHandler::OnSealed), which commits while the next batch runs, so that the loop does not
// stop reading for the broker's round trips. AT_LEAST_ONCE: its offsets are committed once
// Kafka acknowledged all its outputs. EXACTLY_ONCE: its transaction commits on a thread of its
// own; the next batch's outputs are held until it is done (one transaction at a time). A batch
// that caught up with its input is committed before the next one starts (EXACTLY_ONCE).
struct SealedBatch {
  uint64_t seq = 0;
  std::map<int32_t, int64_t> start;        // partition → first offset
  std::map<int32_t, int64_t> next;         // partition → offset after the last record
  std::map<int32_t, int64_t> stream_time;  // as the batch ended
  BatchOutcome outcome;
};

// The service loop: consumes `kafka.input_topic` in group `kafka.group_id` (cooperative-sticky,
// read_committed), decodes and validates each record, hands valid events to the handler, sends
// refused records to the dead-letter topic with their original bytes and the reason in headers,
// publishes the handler's alerts, and commits per batch (commit interval or batch size,
// whichever first), while the next batch runs (see SealedBatch). EXACTLY_ONCE: one Kafka
// transaction per batch holds the dead letters, the alerts, the changelog and the input
// offsets; a failed commit aborts it with the batch after it. AT_LEAST_ONCE: a batch's offsets
// are committed once Kafka acknowledged its outputs; a failed delivery aborts it likewise.
// Owned by one command; Run is called from one thread.
// True for the errors after which the pipeline's Kafka clients cannot go on (fencing, fatal
// librdkafka errors); a new pipeline, with new clients, can rejoin the group.
bool IsFatalKafkaError(const absl::Status& status);

class Pipeline {
 public:
  static absl::StatusOr<std::unique_ptr<Pipeline>> Create(const v1::ProcessorConfig& config,
                                                          EventHandler& handler,
                                                          PipelineProbe& probe,
                                                          const PipelineOptions& options = {});
  ~Pipeline();

  // Runs until `stop` becomes true (then finishes the batch in flight, commits and returns OK),
  // until drained (see PipelineOptions), or until an error, which is returned. A fatal Kafka
  // error (the producer or the static consumer was fenced, or librdkafka failed fatally) is
  // returned as ABORTED: the pipeline cannot go on, but a new one may rejoin (see
  // IsFatalKafkaError). Destroying a pipeline that failed discards the batch in flight and drops
  // its tasks as lost, so that a new pipeline can open their stores again.
  absl::Status Run(const std::atomic<bool>& stop);

  const PipelineStats& stats() const { return *stats_; }

 private:
  class Rebalancer;
  class DeliveryTracker;
  Pipeline(const v1::ProcessorConfig& config, EventHandler& handler, PipelineProbe& probe,
           const PipelineOptions& options);
  absl::Status Init();
  absl::Status RunLoop(const std::atomic<bool>& stop);
  // (Re)creates the producer; in EXACTLY_ONCE also init_transactions, tried up to `attempts`
  // times while the coordinator is unreachable.
  absl::Status CreateProducer(int attempts);
  // Asks for the partitions and leaders of the topics every batch writes (alerts, changelog)
  // as soon as the producer exists, and keeps the producer's handles of them.
  void WarmUpOutputTopics();
  // The error for a producer that failed fatally (typically fenced), with librdkafka's reason.
  absl::Status FatalProducerError(const std::string& what) const;
  // ABORTED with librdkafka's reason when the consumer failed fatally (e.g. a fenced static
  // member), else OK.
  absl::Status ConsumerFatalError() const;
  // Books a record into the open batch; a valid event joins the pending run, an invalid one goes
  // to the dead letters.
  absl::Status HandleRecord(RdKafka::Message& message);
  // Hands the pending run of valid events to the handler (OnEvents) and publishes their alerts.
  // Called once kMaxPendingEvents are pending, when no record is waiting to be read, when the
  // run would take the batch past its interval (PendingOutlasts), and before whatever needs
  // every event read so far handled: a tick, a commit, the sealed batch's commit or abort, a
  // rebalance.
  absl::Status HandlePending();
  // Forgets the pending run (the batch aborts: its records are read again).
  void DropPending();
  // Whether handling the pending run, at the recent time per event, would end at or after
  // `deadline`.
  bool PendingOutlasts(std::chrono::steady_clock::time_point deadline) const;
  absl::Status Produce(const std::string& topic, const std::string& key, const std::string& value,
                       RdKafka::Headers* headers);
  // The status for a record produce() refused with `code`. A transaction that failed with an
  // abortable error refuses records with ERR__STATE: that sets transaction_failed_, and Run
  // aborts and rewinds the batch.
  absl::Status ProduceError(const std::string& topic, std::string_view key, size_t bytes,
                            RdKafka::ErrorCode code);
  absl::Status PublishAlerts(HandlerOutput& out);
  absl::Status EnsureTransaction();
  absl::Status ProduceChangelog();
  // Commits the sealed batch, if any, then seals the open one and starts its commit (see
  // SealedBatch; EXACTLY_ONCE: its transaction commits on a thread of its own,
  // CommitOnItsThread); `wait`, or EXACTLY_ONCE and caught up (!batch_behind_): and waits for
  // that too.
  absl::Status CommitBatch(bool wait);
  // Commits the sealed batch once done: AT_LEAST_ONCE, its offsets and its state once Kafka
  // acknowledged all its outputs; EXACTLY_ONCE, its state once its transaction committed, and
  // then the open batch's held outputs. `wait`: waits for that, else returns at once while it
  // is not done. A failed delivery or commit aborts it with the open batch (AbortAndRewind).
  absl::Status CommitSealed(bool wait);
  // What committing a sealed batch's transaction came to.
  struct TransactionResult {
    enum Kind { kCommitted, kAbort, kFatal } kind = kCommitted;
    std::string error;
  };
  // What the committing thread works with, shared with it: the pipeline may give the thread up
  // (AbandonCommit) and be destroyed while a call of librdkafka still blocks in it.
  struct CommitCall;
  // The options' test hooks of the committing thread: one copy, shared by the pipeline and every
  // CommitCall (a hook may count its calls).
  struct CommitHooks;
  // On the committing thread: sends the offsets to the transaction and commits it. Touches
  // nothing of the pipeline but `call` (and the producer it names).
  static TransactionResult CommitOnItsThread(CommitCall& call,
                                             const std::vector<RdKafka::TopicPartition*>& offsets,
                                             RdKafka::ConsumerGroupMetadata* group);
  // EXACTLY_ONCE, with a commit on its thread: kDone once the thread returned (committing_ is
  // ready); kRunning while it has not, without `wait` (else it waits for it until the commit's
  // deadline); kOverdue once the deadline passed without it.
  enum class CommitProgress { kDone, kRunning, kOverdue };
  CommitProgress AwaitCommit(bool wait);
  // Gives up the commit whose thread did not return by its deadline (librdkafka may block in
  // send_offsets_to_transaction past its timeout while the group coordinator is unknown, issue
  // 5456): the producer, its delivery reports and the thread are handed to a thread of their
  // own, which destroys them once the call returns. The caller replaces the producer (which
  // fences the old one) and rebuilds the tasks, the transaction's outcome being unknown.
  void AbandonCommit();
  // The sealed batch committed: its state (EventHandler::OnCommitted), metrics and totals.
  absl::Status SealedCommitted(std::chrono::steady_clock::time_point started);
  // EXACTLY_ONCE: produces the outputs held while the sealed batch's transaction committed.
  absl::Status ProduceHeld();
  // The open batch's outcome, moved out.
  BatchOutcome TakeOutcome();
  // Metrics and totals of a committed batch.
  void RecordCommitted(BatchOutcome& outcome);
  // Aborts the open batch (and the sealed one, if its commit did not go through) and rewinds the
  // consumer to its start. Returns FAILED_PRECONDITION, once rewound, when the broker refused an
  // output record of each of the last processing.max_refused_record_aborts batches aborted with
  // none committed between: the records would be refused again on every try.
  absl::Status AbortAndRewind(const std::string& why);
  // After the producer was replaced with a transaction's outcome unknown (AbortAndRewind): drops
  // the tasks of `rebuild_` still assigned and restores them from what Kafka committed, their
  // state from the changelog and their input from the group's committed offsets.
  absl::Status RebuildTasks();
  // Marks the partitions restoring, pauses them (unless `pause` is false, a test's option) and
  // hands them to the handler to restore (EventHandler::OnAssigned); ResumeRestored resumes
  // them once restored.
  absl::Status StartRestoring(const std::vector<int32_t>& ids, bool pause);
  absl::Status Tick();
  // Counts the partitions not ready yet in the stats (/readyz) and those restoring in the probe.
  void CountRestoring();
  // Samples the consumer lag of every assigned partition into the probe; a started partition
  // that does not read on has its fetch started again (RestartFetch), and later counts as
  // stalled.
  void RecordLag();
  // Seeks a stalled partition to `offset` (negative: its beginning) and resumes it, waking the
  // fetchers: librdkafka 2.0.2 can lose a resume or a seek made close to the pause of an
  // assignment (confluentinc/librdkafka#5591, #2190), which leaves the partition unfetched with
  // no error; a second seek and resume, well after, start its fetch. Records already delivered
  // are before `offset`, so nothing is read twice or skipped.
  void RestartFetch(int32_t partition, int64_t offset);
  // Seeks the input's `partition` to `offset` (negative: its beginning).
  RdKafka::ErrorCode SeekInput(int32_t partition, int64_t offset);
  // Asks the broker where the partitions librdkafka knows no watermark of (`unknown`: restoring,
  // so paused since their assignment, or of which no fetch was answered) end, and where those
  // without a committed offset begin, into `asked_` (RecordLag), when it is time to ask again.
  void AskOffsets(const std::vector<int32_t>& unknown, std::chrono::steady_clock::time_point now);
  int64_t ClockFor(int32_t partition) const;
  // PipelineOptions::state_over_budget, or the RocksDB stores' memtables over their share.
  bool StateOverBudget() const;
  bool Drained() const;
  // Resumes the partitions whose restore finished and whose start offset is known (see
  // StartOffsets), sought to it first; the error of a failed restore.
  absl::Status ResumeRestored();
  // Reads the group's committed offsets of the partitions assigned (or rebuilt) whose start is
  // not known yet, on a thread of its own, one look-up at a time, asked again a second after
  // one fails; takes the answers of the look-up that finished. A partition is not read before
  // its start is known. librdkafka is not left to look the offsets up on its assignment:
  // librdkafka 2.0.2 started a partition at auto.offset.reset (the earliest offset: everything
  // read again) when the assignment changed while its look-up was answered "unstable" (a
  // transaction holding the offsets still open, as after a failover), and left a partition
  // unread for good after some failed look-ups (confluentinc/librdkafka#5586).
  void StartOffsets();
  // Waits for the look-up in flight, if any (it uses the consumer).
  void AwaitStartLookup();
  // A record of a partition still restoring was delivered (its pause lost a race in
  // librdkafka): pauses the partition again and rewinds it to `offset`, so that the record is
  // fetched again once the partition resumes.
  absl::Status RepauseRestoring(int32_t partition, int64_t offset);
  void OnAssign(const std::vector<RdKafka::TopicPartition*>& partitions);
  void OnRevoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost);

  const v1::ProcessorConfig config_;
  EventHandler& handler_;
  PipelineProbe& probe_;
  const PipelineOptions options_;
  const std::chrono::milliseconds commit_deadline_after_;  // see AbandonCommit
  const bool transactional_;
  const ingest::ValidationLimits limits_;

  std::unique_ptr<DeliveryTracker> delivery_;  // producer_'s delivery reports, replaced with it
  std::unique_ptr<Rebalancer> rebalancer_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  // Wakes the consumer's fetching once half its queue has been taken (kafka::QueueRefill).
  std::optional<kafka::QueueRefill> refill_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::vector<std::unique_ptr<RdKafka::Topic>> output_topics_;  // of producer_, released first

  // Where each new partition starts (StartOffsets): those whose committed offset is to be read,
  // by the number of their assignment (a look-up's answer for an earlier one is dropped);
  // those read (negative: none committed); the look-up in flight; those restored (still in
  // restoring_ until they start).
  std::map<int32_t, uint64_t> start_unknown_;
  std::map<int32_t, int64_t> start_at_;
  uint64_t start_generation_ = 0;
  struct StartLookup {
    struct Result {
      std::map<int32_t, int64_t> offsets;
      std::string error;  // for the partitions without an offset
    };
    std::map<int32_t, uint64_t> partitions;
    std::future<Result> result;
  };
  std::optional<StartLookup> start_lookup_;
  std::chrono::steady_clock::time_point next_start_lookup_;
  std::set<int32_t> restored_;

  bool in_transaction_ = false;
  bool failed_ = false;  // Run returned an error: commit nothing more
  const std::atomic<bool>* stop_ = nullptr;
  bool produced_ = false;                   // outputs produced since the last commit
  std::map<int32_t, int64_t> batch_start_;  // partition → first offset of the batch
  std::map<int32_t, int64_t> batch_next_;   // partition → offset after the last record handled
  std::set<int32_t> assigned_;
  std::set<int32_t> restoring_;  // assigned, paused until the handler restored their state
  std::set<int32_t> rebuild_;    // assigned, to be rebuilt from Kafka (RebuildTasks)
  bool in_rebalance_ = false;    // in the rebalance callback's revoke (OnRevoke)
  // A record was refused by a transaction that failed (ProduceError).
  bool transaction_failed_ = false;
  // Aborts since the last commit whose batch had an output record the broker refused.
  uint32_t refused_aborts_ = 0;
  std::set<int32_t> at_end_;
  std::map<int32_t, int64_t> stream_time_;  // partition → largest event time seen
  // The stream time as of the last commit: an abort rewinds the clock with the offsets, so that
  // no timer fires ahead of the events that are read again (EVENT_TIME).
  std::map<int32_t, int64_t> committed_stream_time_;
  std::vector<v1::Alert> batch_alerts_;  // published in the open batch
  int64_t batch_events_ = 0;             // valid events handled in the open batch
  bool batch_behind_ = false;            // the open batch closed with input still waiting
  int64_t batch_changelog_records_ = 0;  // produced to the changelog by the open batch
  int64_t batch_changelog_bytes_ = 0;    // their keys and values
  int64_t batch_local_bytes_ = 0;        // those of its changes kept locally only
  // The open batch's number, which its outputs carry to their delivery reports.
  uint64_t batch_seq_ = 1;
  // The batch whose commit is under way, if any.
  std::optional<SealedBatch> sealed_;
  // EXACTLY_ONCE: the sealed batch's transaction committing on its own thread (valid while it
  // is not taken), and the open batch's outputs held until it is done.
  std::future<TransactionResult> committing_;
  std::shared_ptr<CommitCall> commit_call_;  // of committing_
  std::shared_ptr<const CommitHooks> commit_hooks_;
  // When committing_ is given up on if its thread has not returned (AbandonCommit).
  std::chrono::steady_clock::time_point commit_deadline_;
  struct HeldOutput {
    std::string topic;
    std::string key;
    std::string value;
    std::unique_ptr<RdKafka::Headers> headers;
  };
  std::vector<HeldOutput> held_;
  // State-change bytes (produced to the changelog or kept locally only) per valid event of the
  // last batch with events that ended (-1: none yet).
  double changelog_bytes_per_event_ = -1;
  absl::Status fatal_;
  std::chrono::steady_clock::time_point next_lag_sample_;
  // The time the pipeline spent in polls that waited for records and got none: the clock on
  // which a partition that does not read on is timed (RecordLag).
  std::chrono::steady_clock::duration idle_{};
  // Each started partition (sought and resumed, not restoring): the offset it was last sought
  // to (its start, or where an abort rewound it; negative: its beginning), which is its read
  // position while librdkafka reports none; the position last sampled and since when it has
  // stayed there with records waiting (RecordLag); whether it was logged as stalled, when its
  // fetch was last started again (RestartFetch: at most once per partition_restart_ms) and how
  // often since it last read on. The times are readings of idle_.
  struct ReadProgress {
    int64_t sought = 0;
    int64_t position = -1;
    std::chrono::steady_clock::duration since{};
    bool stalled = false;
    std::chrono::steady_clock::duration restarted{};
    int restarts = 0;
  };
  std::map<int32_t, ReadProgress> progress_;
  // The offsets AskOffsets last had from the broker, by partition (-1: not known), and when it
  // asks next.
  struct AskedOffsets {
    int64_t begin = -1;
    int64_t end = -1;
  };
  std::map<int32_t, AskedOffsets> asked_;
  std::chrono::steady_clock::time_point next_ask_;
  PipelineStats own_stats_;
  PipelineStats* stats_;
  // The pending run: its events' decode buffers (reused; the first pending_.size() in use) and
  // the events as handed over, with their outputs.
  std::vector<v1::ContactEvent> pending_events_;
  std::vector<HandlerEvent> pending_;
  std::vector<HandlerOutput> pending_outs_;
  // Time a run took per event, handling and publishing (a moving average; 20 µs before the
  // first).
  double ns_per_pending_event_ = 20'000;
};

}  // namespace ccstream::runtime
