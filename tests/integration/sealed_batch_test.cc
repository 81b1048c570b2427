// Sealed batches against a real broker: a batch that ends is sealed (its state set aside) and the
// next one runs while the sealed one commits.
//
// AT_LEAST_ONCE: the sealed batch's offsets and its local write follow the acknowledgements of
// its outputs. A failed delivery aborts the sealed batch with the one after it: both are read
// again from the sealed one's start, and neither's state survives. A drain reads again what an
// abort at its last commit rewound.
//
// EXACTLY_ONCE: the sealed batch's transaction commits on a thread of its own; while behind the
// input the next batch is read and handled meanwhile, its outputs held until the transaction is
// done, and a batch that caught up is committed before the next is read. A failed commit aborts
// the transaction and the batch after it; a read_committed consumer sees every alert once.
//
// With the engine and the tasks' stores: generated traffic processed with small batches and
// failures along the way (failed deliveries in AT_LEAST_ONCE, failed commits in EXACTLY_ONCE)
// ends with the same stores (every family of every task) as the same traffic processed in
// EXACTLY_ONCE without a failure.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "processor/domain/engine.h"
#include "processor/gen/generator.h"
#include "processor/kafka/kafka.h"
#include "processor/runtime/pipeline.h"
#include "processor/runtime/task_manager.h"
#include "prometheus/registry.h"
#include "state/task_store.h"
#include "tests/kafka/broker_env.h"
#include "tests/kafka/committed_reader.h"
#include "tests/support/metric_value.h"

namespace ccstream {
namespace {

using namespace std::chrono_literals;
using ccstream::testing::MetricValue;
using runtime::HandlerOutput;

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// Points `kafka` at the test broker with the topics and group of `run` (created, `partitions`
// each).
void UseTopics(v1::KafkaConfig& kafka, const std::string& run, int partitions) {
  kafka.set_bootstrap_servers(TestBootstrapServers());
  kafka.set_input_topic(absl::StrCat("alo-events-", run));
  kafka.set_alerts_topic(absl::StrCat("alo-alerts-", run));
  kafka.set_dead_letter_topic(absl::StrCat("alo-dead-", run));
  kafka.set_changelog_topic(absl::StrCat("alo-changelog-", run));
  kafka.set_group_id(absl::StrCat("alo-group-", run));
  kafka.set_group_instance_id("");
  kafka.set_client_id(absl::StrCat("alo-", run));
  for (const std::string& topic : {kafka.input_topic(), kafka.alerts_topic(),
                                   kafka.dead_letter_topic(), kafka.changelog_topic()}) {
    ASSERT_TRUE(kafka::CreateTopic(kafka, topic, partitions, {}, 30'000).ok()) << topic;
  }
}

void ProduceEvents(const v1::KafkaConfig& kafka, const std::vector<v1::ContactEvent>& events) {
  auto producer =
      kafka::SimpleProducer::Create(kafka::ProducerProperties(kafka, /*transactional=*/false));
  ASSERT_TRUE(producer.ok()) << producer.status();
  for (const v1::ContactEvent& e : events) {
    ASSERT_TRUE((*producer)
                    ->Produce({kafka.input_topic(), e.customer_id(), e.SerializeAsString(), {}})
                    .ok());
  }
  ASSERT_TRUE((*producer)->Flush(60'000).ok());
}

// `count` chat turns of one customer, `per_contact` to a contact, a millisecond apart.
std::vector<v1::ContactEvent> CustomerTurns(int count, int per_contact) {
  std::vector<v1::ContactEvent> events;
  const int64_t start_ms = NowMs() - 600'000;
  for (int i = 0; i < count; ++i) {
    v1::ContactEvent e;
    e.set_event_id(absl::StrCat("ev-", i));
    e.set_contact_id(absl::StrCat("contact-", i / per_contact));
    e.set_customer_id("cust-1");
    e.set_channel(v1::CHAT);
    e.set_queue("billing");
    e.set_event_time_ms(start_ms + i);
    e.mutable_turn()->set_speaker(v1::CUSTOMER);
    e.mutable_turn()->set_text("where is my refund?");
    events.push_back(std::move(e));
  }
  return events;
}

// Runs `pipeline` on a thread until `done()` (or a deadline), then stops it; returns Run's
// result.
absl::Status RunUntil(runtime::Pipeline& pipeline, const std::function<bool()>& done) {
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread runner([&] { result = pipeline.Run(stop); });
  const auto deadline = std::chrono::steady_clock::now() + 180s;
  while (std::chrono::steady_clock::now() < deadline && !done()) {
    std::this_thread::sleep_for(20ms);
  }
  stop = true;
  runner.join();
  return result;
}

// Keeps the three layers of a task's state as the pipeline drives them: the open batch's
// events, the sealed batch's, and how often each event reached the committed state.
class LayeredHandler : public runtime::EventHandler {
 public:
  absl::Status OnEvent(int32_t, const v1::ContactEvent& event, int64_t,
                       HandlerOutput& out) override {
    open_.push_back(event.event_id());
    ++handled;
    // One output per event, which Kafka acknowledges (or, by the test hook, not).
    v1::Alert alert;
    alert.set_alert_id(absl::StrCat("alert-", event.event_id()));
    alert.set_contact_id(event.contact_id());
    alert.set_event_time_ms(event.event_time_ms());
    out.alerts.push_back(std::move(alert));
    return absl::OkStatus();
  }
  absl::Status OnSealed(const std::vector<int32_t>&) override {
    if (has_sealed_) return absl::FailedPreconditionError("sealed before the last seal committed");
    sealed_ = std::move(open_);
    open_.clear();
    has_sealed_ = true;
    handled_at_seal = handled.load();
    return absl::OkStatus();
  }
  absl::Status OnCommitted(const std::map<int32_t, runtime::CommittedOffsets>&) override {
    if (!has_sealed_) return absl::FailedPreconditionError("committed without a sealed batch");
    for (const std::string& id : sealed_) ++committed[id];
    committed_events += static_cast<int64_t>(sealed_.size());
    sealed_.clear();
    has_sealed_ = false;
    return absl::OkStatus();
  }
  void OnAborted() override {
    if (has_sealed_ && !open_.empty()) ++aborted_with_open_batch;
    open_.clear();
    sealed_.clear();
    has_sealed_ = false;
  }
  std::map<std::string, int> committed;  // read after the run
  std::atomic<int64_t> committed_events{0};
  std::atomic<int64_t> handled{0};
  std::atomic<int64_t> handled_at_seal{0};  // as the last batch was sealed
  int aborted_with_open_batch = 0;

 private:
  std::vector<std::string> open_;
  std::vector<std::string> sealed_;
  bool has_sealed_ = false;
};

// `seen` (id → how often) holds `want` ids, each once.
void ExpectEachOnce(const std::map<std::string, int>& seen, int want, const std::string& what) {
  ASSERT_EQ(seen.size(), static_cast<size_t>(want)) << what;
  for (const auto& [id, count] : seen) ASSERT_EQ(count, 1) << what << ": " << id << ", " << count;
}

// After a run over `first` (the events of `config`'s input, all committed): a new pipeline of
// the group gets only an event produced after them, i.e. the offsets committed were those of the
// batches committed.
void ExpectOnlyWhatCameAfter(const v1::ProcessorConfig& config, const v1::ContactEvent& first) {
  ProduceEvents(config.kafka(), {first});
  LayeredHandler after;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  auto second = runtime::Pipeline::Create(config, after, probe);
  ASSERT_TRUE(second.ok()) << second.status();
  const absl::Status result =
      RunUntil(**second, [&] { return after.committed_events.load() >= 1; });
  EXPECT_TRUE(result.ok()) << result;
  std::this_thread::sleep_for(500ms);  // a record read again, if any, shows up meanwhile
  EXPECT_EQ(after.handled.load(), 1);
}

// Runs a pipeline of `config` with `options`, whose test hook fails three commits, each with the
// batch after the failing one under way, until the `count` events on its input are committed;
// every event reaches the committed state once.
void RunThroughThreeFailures(const v1::ProcessorConfig& config,
                             const runtime::PipelineOptions& options, LayeredHandler& handler,
                             int count) {
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const absl::Status result =
      RunUntil(**pipeline, [&] { return handler.committed_events.load() >= count; });
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ((*pipeline)->stats().aborts.load(), 3);
  // Each abort found the batch after the sealed one under way: both went.
  EXPECT_EQ(handler.aborted_with_open_batch, 3);
  EXPECT_GT(handler.handled.load(), count) << "no event was read again";
  ExpectEachOnce(handler.committed, count, "events committed");
}

TEST(AtLeastOnceTest, AFailedDeliveryAbortsTheSealedBatchWithTheOneAfterIt) {
  constexpr int kEvents = 2'000;
  v1::ProcessorConfig config;
  UseTopics(*config.mutable_kafka(), absl::StrCat("layers-", NowMs()), 1);
  config.mutable_processing()->set_guarantee(v1::ProcessingConfig::AT_LEAST_ONCE);
  config.mutable_processing()->set_clock(v1::ProcessingConfig::EVENT_TIME);
  config.mutable_processing()->set_max_batch_events(20);
  config.mutable_processing()->set_commit_interval_ms(5);
  config.mutable_processing()->set_catch_up_interval_ms(0);
  const std::vector<v1::ContactEvent> events = CustomerTurns(kEvents, 4);
  ProduceEvents(config.kafka(), events);

  LayeredHandler handler;
  runtime::PipelineOptions options;
  int acknowledged = 0;
  options.fail_delivery_for_testing = [&] {
    ++acknowledged;
    return acknowledged == 4 || acknowledged == 9 || acknowledged == 15;
  };
  RunThroughThreeFailures(config, options, handler, kEvents);
  ExpectOnlyWhatCameAfter(config, events[0]);
}

// A drain (replays, the demo) ends only once everything read is committed: a failed delivery of
// the last sealed batch, found as the drain commits it, rewinds it and the drain reads it again.
TEST(AtLeastOnceTest, ADrainReadsAgainWhatTheLastCommitAborted) {
  constexpr int kEvents = 100;
  v1::ProcessorConfig config;
  UseTopics(*config.mutable_kafka(), absl::StrCat("drain-", NowMs()), 1);
  config.mutable_processing()->set_guarantee(v1::ProcessingConfig::AT_LEAST_ONCE);
  config.mutable_processing()->set_clock(v1::ProcessingConfig::EVENT_TIME);
  config.mutable_processing()->set_commit_interval_ms(500);  // one batch holds them all
  const std::vector<v1::ContactEvent> events = CustomerTurns(kEvents, 1);
  ProduceEvents(config.kafka(), events);
  LayeredHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  runtime::PipelineOptions options;
  std::atomic<bool> drain{true};
  options.drain_when = &drain;
  int acknowledged = 0;
  options.fail_delivery_for_testing = [&] { return ++acknowledged == 1; };
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::atomic<bool> stop{false};
  const absl::Status result = (*pipeline)->Run(stop);
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ((*pipeline)->stats().aborts.load(), 1);
  EXPECT_GE(acknowledged, 2);
  EXPECT_EQ(handler.handled.load(), 2 * kEvents);
  ExpectEachOnce(handler.committed, kEvents,
                 "events committed (the drain must not end without what the abort rewound)");
}

// The alert ids on `kafka`'s alerts topic as a read_committed consumer sees them, with how often
// each appears; reads until the end of every partition once `want` distinct ids were seen (or a
// deadline).
std::map<std::string, int> CommittedAlerts(const v1::KafkaConfig& kafka, size_t want) {
  std::map<std::string, int> seen;
  testing::CommittedReadOptions options;
  options.done = [&] { return seen.size() >= want; };
  testing::ReadCommitted(
      kafka.bootstrap_servers(), kafka.alerts_topic(),
      [&](RdKafka::Message& m) {
        v1::Alert alert;
        EXPECT_TRUE(alert.ParseFromArray(m.payload(), static_cast<int>(m.len())));
        ++seen[alert.alert_id()];
      },
      options);
  return seen;
}

// EXACTLY_ONCE, one partition, batches of at most 20 events over `events` (closed by the count:
// 100 ms leave each batch the time to fetch its records while the one before commits).
v1::ProcessorConfig ExactlyOnceConfig(const std::string& run,
                                      const std::vector<v1::ContactEvent>& events) {
  v1::ProcessorConfig config;
  UseTopics(*config.mutable_kafka(), run, 1);
  config.mutable_processing()->set_guarantee(v1::ProcessingConfig::EXACTLY_ONCE);
  config.mutable_processing()->set_clock(v1::ProcessingConfig::EVENT_TIME);
  config.mutable_processing()->set_max_batch_events(20);
  config.mutable_processing()->set_commit_interval_ms(100);
  config.mutable_processing()->set_catch_up_interval_ms(0);
  ProduceEvents(config.kafka(), events);
  return config;
}

// Called on the committing thread: waits (up to `wait`) for the pipeline to handle an event after
// the sealed batch's; true when it did, i.e. the next batch ran while this one committed.
bool NextBatchRuns(const LayeredHandler& handler,
                   std::chrono::milliseconds wait = std::chrono::milliseconds(2000)) {
  const int64_t at = handler.handled_at_seal.load();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (handler.handled.load() == at && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  return handler.handled.load() > at;
}

// The commits of a pipeline, and those during which the next batch ran (NextBatchRuns, waiting up
// to `wait`), counted by the commit test hook that Count sets.
struct OverlapCount {
  void Count(runtime::PipelineOptions& options, const LayeredHandler& handler,
             std::chrono::milliseconds wait) {
    options.commit_hook_for_testing = [this, &handler, wait] {
      ++commits;
      if (NextBatchRuns(handler, wait)) ++overlapped;
      return false;
    };
  }
  std::atomic<int> commits{0};
  std::atomic<int> overlapped{0};
};

TEST(ExactlyOnceTest, TheNextBatchRunsWhileTheTransactionCommits) {
  constexpr int kEvents = 2'000;
  const std::vector<v1::ContactEvent> events = CustomerTurns(kEvents, 4);
  const v1::ProcessorConfig config = ExactlyOnceConfig(absl::StrCat("overlap-", NowMs()), events);
  LayeredHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  runtime::PipelineOptions options;
  OverlapCount count;
  count.Count(options, handler, 2000ms);
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const absl::Status result =
      RunUntil(**pipeline, [&] { return handler.committed_events.load() >= kEvents; });
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ((*pipeline)->stats().aborts.load(), 0);
  // All but the last few batches (no input left to run on) overlapped their commit.
  EXPECT_GE(count.commits.load(), kEvents / 20);
  EXPECT_GE(count.overlapped.load(), count.commits.load() - 5)
      << "the next batch did not run while the transaction committed";
  ExpectEachOnce(handler.committed, kEvents, "events committed");
  // The alerts of each batch, held while the transaction before committed, are in Kafka once.
  ExpectEachOnce(CommittedAlerts(config.kafka(), kEvents), kEvents, "alerts read_committed");
}

// A batch that reached the end of its input (the processor keeps up) is committed before the next
// one is read: the commit's round trips get the cores, and its alerts go out first.
TEST(ExactlyOnceTest, ABatchThatCaughtUpCommitsBeforeTheNextIsRead) {
  constexpr int kEvents = 10;
  const std::vector<v1::ContactEvent> events = CustomerTurns(kEvents, 1);
  const v1::ProcessorConfig config = ExactlyOnceConfig(absl::StrCat("caught-up-", NowMs()), {});
  LayeredHandler handler;
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  runtime::PipelineOptions options;
  OverlapCount count;
  count.Count(options, handler, 300ms);
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  // One event every 150 ms: the next arrives while the commit of the one before is held.
  std::thread trickle([&] {
    for (const v1::ContactEvent& e : events) {
      std::this_thread::sleep_for(150ms);
      ProduceEvents(config.kafka(), {e});
    }
  });
  const absl::Status result =
      RunUntil(**pipeline, [&] { return handler.committed_events.load() >= kEvents; });
  trickle.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_GE(count.commits.load(), 3);
  EXPECT_EQ(count.overlapped.load(), 0) << "an event was handled while a caught-up batch committed";
  ExpectEachOnce(handler.committed, kEvents, "events committed");
}

TEST(ExactlyOnceTest, AFailedCommitAbortsTheTransactionWithTheBatchAfterIt) {
  constexpr int kEvents = 2'000;
  const std::vector<v1::ContactEvent> events = CustomerTurns(kEvents, 4);
  const v1::ProcessorConfig config = ExactlyOnceConfig(absl::StrCat("abort-", NowMs()), events);
  LayeredHandler handler;
  runtime::PipelineOptions options;
  std::atomic<int> commits{0};
  options.commit_hook_for_testing = [&] {
    const int n = ++commits;
    const bool fail = n == 4 || n == 9 || n == 15;
    // A failing commit waits until the batch after it is under way: both must go.
    if (fail) {
      EXPECT_TRUE(NextBatchRuns(handler)) << "commit " << n;
    }
    return fail;
  };
  RunThroughThreeFailures(config, options, handler, kEvents);
  // The aborted transactions' alerts are not read; the batches after them never produced
  // theirs.
  ExpectEachOnce(CommittedAlerts(config.kafka(), kEvents), kEvents, "alerts read_committed");
  // The offsets in the transactions committed are those of their batches.
  ExpectOnlyWhatCameAfter(config, events[0]);
}

// The test broker's process (deploy/kafka's, whose directory the fixture names in
// CCSTREAM_KAFKA_DIR) stopped for a while, as a broker that hangs: SIGSTOP, then SIGCONT from a
// child process (`sleep; kill -CONT`), which lets the broker go on even should this test crash
// meanwhile (later tests share the broker).
class BrokerStall {
 public:
  BrokerStall() {
    const char* dir = std::getenv("CCSTREAM_KAFKA_DIR");
    if (dir != nullptr && *dir != '\0') {
      std::ifstream in(std::filesystem::path(dir) / "broker.pid");
      in >> pid_;
    }
  }
  ~BrokerStall() {
    if (waker_ > 0) ::waitpid(waker_, nullptr, 0);
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }
  // Whether the broker's process was found (and is alive).
  bool found() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }
  // Stops the broker now and lets it go on after `pause`, unless a stall is under way; whether
  // it stopped the broker.
  bool Stall(std::chrono::milliseconds pause) {
    if (waker_ > 0) {
      if (::waitpid(waker_, nullptr, WNOHANG) == 0) return false;
      waker_ = 0;
    }
    const std::string script =
        absl::StrCat("sleep ", pause.count() / 1000.0, "; kill -CONT ", pid_);
    const char* argv[] = {"sh", "-c", script.c_str(), nullptr};
    if (::posix_spawnp(&waker_, "sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) !=
        0) {
      ADD_FAILURE() << "cannot start the process that lets the broker go on";
      waker_ = 0;
      return false;
    }
    ::kill(pid_, SIGSTOP);
    ++stalls;
    return true;
  }
  std::atomic<int> stalls{0};

 private:
  pid_t pid_ = 0;
  pid_t waker_ = 0;
};

// A commit_transaction that times out while the broker hangs goes on in the background: it is
// resumed, not aborted (another transactional call meanwhile, such as sending the offsets again,
// conflicts with it), and every event and alert is committed once.
TEST(ExactlyOnceTest, ACommitThatTimesOutIsResumed) {
  constexpr int kEvents = 400;
  const std::vector<v1::ContactEvent> events = CustomerTurns(kEvents, 4);
  const v1::ProcessorConfig config = ExactlyOnceConfig(absl::StrCat("resumed-", NowMs()), events);
  BrokerStall stall;
  ASSERT_TRUE(stall.found()) << "no broker process to stop (CCSTREAM_KAFKA_DIR/broker.pid)";
  LayeredHandler handler;
  runtime::PipelineStats stats;
  runtime::PipelineOptions options;
  options.stats = &stats;
  options.transaction_timeout_ms_for_testing = 1'000;
  // The 4th transaction's commit_transaction waits out the stall. The aborts and rebuilds once
  // its outcome was taken: as the next transaction starts (a later one may still be aborted by
  // the broker's aftermath, e.g. NOT_COORDINATOR for its offsets while the group's coordinator
  // reloads), or else at the end.
  std::atomic<int> transactions{0};
  std::atomic<int64_t> aborts_by_then{-1}, rebuilds_by_then{-1};
  options.commit_hook_for_testing = [&] {
    if (++transactions == 5) {
      aborts_by_then = stats.aborts.load();
      rebuilds_by_then = stats.rebuilds.load();
    }
    return false;  // the commit goes on
  };
  options.before_commit_for_testing = [&] {
    if (transactions.load() == 4) stall.Stall(3s);  // three timeouts of the commit's call
    return 0;
  };
  prometheus::Registry registry;
  runtime::PipelineProbe probe(registry);
  auto pipeline = runtime::Pipeline::Create(config, handler, probe, options);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const absl::Status result =
      RunUntil(**pipeline, [&] { return handler.committed_events.load() >= kEvents; });
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(stall.stalls.load(), 1);
  if (transactions.load() < 5) {
    aborts_by_then = stats.aborts.load();
    rebuilds_by_then = stats.rebuilds.load();
  }
  EXPECT_EQ(aborts_by_then.load(), 0) << "the commit that timed out was aborted";
  EXPECT_EQ(rebuilds_by_then.load(), 0);
  ExpectEachOnce(handler.committed, kEvents, "events committed");
  ExpectEachOnce(CommittedAlerts(config.kafka(), kEvents), kEvents, "alerts read_committed");
  ExpectOnlyWhatCameAfter(config, events[0]);
}

// Every record of every family of the task's store at `path`.
std::map<std::string, std::string> ReadStore(const std::string& path) {
  std::map<std::string, std::string> out;
  auto store = state::TaskStore::Open(path);
  EXPECT_TRUE(store.ok()) << path << ": " << store.status();
  if (!store.ok()) return out;
  for (const state::Family family : {state::Family::kContacts, state::Family::kCases,
                                     state::Family::kCustomers, state::Family::kTimers}) {
    const absl::Status s =
        (*store)->Scan(family, "", [&](std::string_view key, std::string_view value) {
          out[state::ChangelogKey(family, key)] = std::string(value);
          return true;
        });
    EXPECT_TRUE(s.ok()) << s;
  }
  return out;
}

// The first `limit` keys whose records differ between `got` and `want` (missing, extra or with
// another value), for a failure's message.
std::string Differences(const std::map<std::string, std::string>& got,
                        const std::map<std::string, std::string>& want, int limit = 8) {
  std::string out;
  auto note = [&](const std::string& key, const char* how) {
    if (limit-- > 0) absl::StrAppend(&out, "\n  ", how, " ", absl::CHexEscape(key));
  };
  for (const auto& [key, value] : got) {
    const auto it = want.find(key);
    if (it == want.end()) {
      note(key, "extra");
    } else if (it->second != value) {
      note(key, "differs");
    }
  }
  for (const auto& [key, value] : want) {
    if (!got.contains(key)) note(key, "missing");
  }
  return out;
}

class NoSink : public runtime::OutcomeSink {
 public:
  void Record(const domain::Outcome&) override {}
};

// Counts the stores that restores found past the group's committed offset.
class PastCommittedSink : public runtime::OutcomeSink {
 public:
  void Record(const domain::Outcome&) override {}
  void StorePastCommittedOffset(int32_t) override { ++count; }
  std::atomic<int> count{0};
};

// Generated traffic: `count` events of 300 customers, a quarter of them escalating, from `seed`.
std::vector<v1::ContactEvent> GeneratedEvents(uint64_t seed, int count) {
  gen::GeneratorOptions options;
  options.seed = seed;
  options.max_events = count;
  options.events_per_second = 200;
  options.num_customers = 300;
  options.escalating_fraction = 0.25;
  options.start_time_ms = NowMs() - 3'600'000;
  gen::Generator generator(options);
  std::vector<v1::ContactEvent> events;
  while (auto e = generator.Next()) events.push_back(std::move(*e));
  return events;
}

// What a drained run of the engine left: each task's store, and the configuration it ran with.
struct Drained {
  v1::ProcessorConfig config;
  std::vector<std::map<std::string, std::string>> stores;
};

// Drains `events` with the engine and the tasks' stores in `guarantee` mode on topics of their
// own (`run`-`name`, `partitions` each) and stores under `dir`/`name`; the pipeline's metrics in
// `registry`, if given, and its processing settings changed by `configure`, if given. Failing
// (`options` with a hook): in small batches.
Drained DrainWithStores(const std::vector<v1::ContactEvent>& events, const std::string& run,
                        const std::filesystem::path& dir, const std::string& name,
                        v1::ProcessingConfig::Guarantee guarantee,
                        const runtime::PipelineOptions& options, int partitions,
                        prometheus::Registry* registry = nullptr,
                        const std::function<void(v1::ProcessingConfig&)>& configure = {},
                        runtime::OutcomeSink* outcomes = nullptr) {
  Drained out;
  out.stores.resize(partitions);
  v1::ProcessorConfig& config = out.config;
  UseTopics(*config.mutable_kafka(), absl::StrCat(run, "-", name), partitions);
  config.mutable_processing()->set_guarantee(guarantee);
  config.mutable_processing()->set_clock(v1::ProcessingConfig::EVENT_TIME);
  if (options.fail_delivery_for_testing || options.commit_hook_for_testing ||
      options.before_commit_for_testing) {
    config.mutable_processing()->set_max_batch_events(25);
    config.mutable_processing()->set_commit_interval_ms(5);
    config.mutable_processing()->set_catch_up_interval_ms(0);
  }
  if (configure) configure(*config.mutable_processing());
  config.mutable_domain()->set_pseudonymisation_key("alo-test-key-0123456789abcdef0123");
  config.mutable_state()->set_dir((dir / name).string());
  ProduceEvents(config.kafka(), events);
  auto engine = domain::Engine::Create(config.domain());
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return out;
  NoSink no_sink;
  std::vector<std::string> paths;
  {
    runtime::TaskManager tasks(config, std::move(*engine),
                               outcomes != nullptr ? *outcomes : no_sink);
    for (int32_t p = 0; p < partitions; ++p) paths.push_back(tasks.TaskPath(p));
    prometheus::Registry own_registry;
    runtime::PipelineProbe probe(registry != nullptr ? *registry : own_registry);
    std::atomic<bool> drain{true};
    runtime::PipelineOptions drained = options;
    drained.drain_when = &drain;
    auto pipeline = runtime::Pipeline::Create(config, tasks, probe, drained);
    EXPECT_TRUE(pipeline.ok()) << pipeline.status();
    if (!pipeline.ok()) return out;
    std::atomic<bool> stop{false};
    const absl::Status result = (*pipeline)->Run(stop);
    EXPECT_TRUE(result.ok()) << result;
    EXPECT_GE((*pipeline)->stats().events.load(), static_cast<int64_t>(events.size()));
  }
  for (int32_t p = 0; p < partitions; ++p) out.stores[p] = ReadStore(paths[p]);
  return out;
}

// That each partition's store in `got` is the one in `want` (not empty); `what` says how not.
void ExpectSameStores(const std::vector<std::map<std::string, std::string>>& got,
                      const std::vector<std::map<std::string, std::string>>& want,
                      const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t p = 0; p < want.size(); ++p) {
    EXPECT_FALSE(want[p].empty()) << "partition " << p;
    EXPECT_EQ(got[p].size(), want[p].size()) << "partition " << p;
    EXPECT_TRUE(got[p] == want[p]) << "partition " << p << ": " << what
                                   << " from the reference:" << Differences(got[p], want[p]);
  }
}

// That the tasks' stores after `rebuilt` are those after `reference`, partition by partition,
// and that its alerts read_committed are the reference's, each once.
void ExpectAsReference(const Drained& reference, const Drained& rebuilt) {
  ExpectSameStores(rebuilt.stores, reference.stores, "the store after the rebuild differs");
  const std::map<std::string, int> want = CommittedAlerts(reference.config.kafka(), 1);
  ASSERT_FALSE(want.empty());
  const std::map<std::string, int> got = CommittedAlerts(rebuilt.config.kafka(), want.size());
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "the alerts committed differ from the reference's (each once)";
}

TEST(SealedBatchTest, WithFailuresTheStoresEndAsWithout) {
  constexpr int kPartitions = 2;
  const std::vector<v1::ContactEvent> events = GeneratedEvents(5, 4'000);
  ASSERT_GT(events.size(), 1'000u);
  const std::string run = absl::StrCat("stores-", NowMs());
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / absl::StrCat("ccstream-alo-", run);
  std::filesystem::remove_all(dir);
  auto process = [&](const std::string& name, v1::ProcessingConfig::Guarantee guarantee,
                     const runtime::PipelineOptions& options) {
    return DrainWithStores(events, run, dir, name, guarantee, options, kPartitions).stores;
  };

  const auto reference = process("reference", v1::ProcessingConfig::EXACTLY_ONCE, {});
  // Every 7th batch fails (from the 3rd): `failed` counts them.
  int failed = 0;
  auto every_seventh = [&failed, n = 0]() mutable {
    const bool fail = ++n % 7 == 3;
    failed += fail ? 1 : 0;
    return fail;
  };
  runtime::PipelineOptions failed_deliveries;
  failed_deliveries.fail_delivery_for_testing = every_seventh;
  const auto at_least_once = process("alo", v1::ProcessingConfig::AT_LEAST_ONCE, failed_deliveries);
  EXPECT_GE(failed, 3) << "too few batches to fail some";
  failed = 0;
  runtime::PipelineOptions failed_commits;
  failed_commits.commit_hook_for_testing = every_seventh;
  const auto exactly_once = process("eos", v1::ProcessingConfig::EXACTLY_ONCE, failed_commits);
  EXPECT_GE(failed, 3) << "too few batches to fail some";
  ExpectSameStores(at_least_once, reference, "the AT_LEAST_ONCE store differs");
  ExpectSameStores(exactly_once, reference, "the EXACTLY_ONCE store with failed commits differs");
  std::filesystem::remove_all(dir);
}

// Each outcome recorded, in order, with every field.
class OutcomeLog : public runtime::OutcomeSink {
 public:
  void Record(const domain::Outcome& o) override {
    lines.push_back(absl::StrCat(static_cast<int>(o.kind), "|", o.queue, "|", o.channel, "|",
                                 o.category, "|", o.severity, "|", o.previous_severity, "|",
                                 o.state, "|", o.milestone, "|", o.cue, "|", o.detail, "|",
                                 o.alert_kind, "|", o.score, "|", o.delta, "|", o.fraction, "|",
                                 o.value, "|", o.subject, "|", o.at_ms));
    if (!o.subject.empty()) by_subject[o.subject].push_back(lines.back());
  }
  void EventsInParallel(int64_t events) override { in_parallel += events; }
  std::vector<std::string> lines;
  std::map<std::string, std::vector<std::string>> by_subject;
  int64_t in_parallel = 0;
};

// processing.threads: the events of a run handled by partition on four threads leave the same
// stores, alerts and outcomes (in the same order) as on one.
TEST(ProcessingThreadsTest, FourThreadsEndAsOne) {
  constexpr int kPartitions = 4;
  const std::vector<v1::ContactEvent> events = GeneratedEvents(11, 8'000);
  ASSERT_GT(events.size(), 4'000u);
  const std::string run = absl::StrCat("threads-", NowMs());
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / absl::StrCat("ccstream-threads-", run);
  std::filesystem::remove_all(dir);
  auto process = [&](const std::string& name, int threads, OutcomeLog& log) {
    return DrainWithStores(
        events, run, dir, name, v1::ProcessingConfig::EXACTLY_ONCE, {}, kPartitions, nullptr,
        [threads](v1::ProcessingConfig& p) { p.set_threads(static_cast<uint32_t>(threads)); },
        &log);
  };
  OutcomeLog one_log;
  const Drained one = process("one", 1, one_log);
  OutcomeLog four_log;
  const Drained four = process("four", 4, four_log);
  EXPECT_EQ(one_log.in_parallel, 0);
  // Much of the input comes in runs of several partitions (a fetch brings several). How much
  // depends on how often the pipeline empties librdkafka's queue: 2,349 to 7,198 of the 8,000
  // events in 13 runs here, quiet and under CPU load, and once 1,983 (under load, in a suite).
  EXPECT_GT(four_log.in_parallel, static_cast<int64_t>(events.size() / 10))
      << "too few events were handled on more than one thread to compare";
  ExpectAsReference(one, four);
  // The partitions' records interleave as each run's fetches brought them, so the outcomes are
  // compared as a whole and, in order, per case or contact (each on one partition).
  ASSERT_FALSE(one_log.lines.empty());
  EXPECT_EQ(four_log.lines.size(), one_log.lines.size());
  std::vector<std::string> sorted_one = one_log.lines, sorted_four = four_log.lines;
  std::sort(sorted_one.begin(), sorted_one.end());
  std::sort(sorted_four.begin(), sorted_four.end());
  EXPECT_TRUE(sorted_four == sorted_one) << "the outcomes differ";
  EXPECT_GT(one_log.by_subject.size(), 100u);
  EXPECT_TRUE(four_log.by_subject == one_log.by_subject)
      << "a case's or contact's outcomes come in another order";
  std::filesystem::remove_all(dir);
}

// Generated traffic drained in EXACTLY_ONCE on two partitions without a failure (the reference),
// and again with one, on topics and stores of the test's own.
class RebuildTest : public ::testing::Test {
 protected:
  ~RebuildTest() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // The reference run of 2,000 events generated from `seed`; `name` names the test's topics.
  Drained Reference(uint64_t seed, const std::string& name) {
    events_ = GeneratedEvents(seed, 2'000);
    EXPECT_GT(events_.size(), 500u);
    run_ = absl::StrCat(name, "-", NowMs());
    dir_ = std::filesystem::path(::testing::TempDir()) / absl::StrCat("ccstream-eos-", run_);
    std::filesystem::remove_all(dir_);
    return Drain("reference", {});
  }
  // The same events drained with `options` (the pipeline's metrics in `registry`, its
  // processing settings changed by `configure`, if given).
  Drained Drain(const std::string& name, const runtime::PipelineOptions& options,
                prometheus::Registry* registry = nullptr,
                const std::function<void(v1::ProcessingConfig&)>& configure = {},
                runtime::OutcomeSink* outcomes = nullptr) {
    return DrainWithStores(events_, run_, dir_, name, v1::ProcessingConfig::EXACTLY_ONCE, options,
                           /*partitions=*/2, registry, configure, outcomes);
  }

 private:
  std::vector<v1::ContactEvent> events_;
  std::string run_;
  std::filesystem::path dir_;
};

// A commit that gives up while the broker hangs leaves the outcome of its transaction to Kafka:
// abort_transaction conflicts with the commit still in progress, so the producer is replaced,
// and the tasks are rebuilt from what Kafka committed (state from the changelog, input from the
// committed offsets). Whichever way the transaction went, the stores end as without the stall
// and every alert is committed once.
TEST_F(RebuildTest, AfterACommitWithAnUnknownOutcomeTheTasksAreRebuilt) {
  BrokerStall stall;
  ASSERT_TRUE(stall.found()) << "no broker process to stop (CCSTREAM_KAFKA_DIR/broker.pid)";
  const Drained reference = Reference(7, "rebuilt");
  runtime::PipelineStats stats;
  runtime::PipelineOptions options;
  options.stats = &stats;
  options.transaction_timeout_ms_for_testing = 1'000;
  std::atomic<int> commits{0};
  // From the 5th commit until one is aborted, one stall at a time: rarely (in CI, and in 1 of
  // about 40 runs here under CPU load) the stalled commit went through, and the next one's
  // offsets waited out the stall; the commit after that is then stalled again.
  options.before_commit_for_testing = [&] {
    if (++commits < 5 || stats.aborts.load() > 0 || !stall.Stall(4s)) return 0;
    return 1;  // this commit gives up at its first timeout
  };
  prometheus::Registry registry;
  const Drained stalled = Drain("stalled", options, &registry);
  EXPECT_GE(stall.stalls.load(), 1);
  EXPECT_GE(stats.aborts.load(), 1);
  EXPECT_EQ(stats.rebuilds.load(), 1) << "the tasks were not rebuilt from Kafka";
  EXPECT_EQ(MetricValue(registry, "ccstream_task_rebuilds_total"), 1.0);
  ExpectAsReference(reference, stalled);
}

// An abort that finds no transaction on the coordinator fails fatally in librdkafka
// (INVALID_TXN_STATE: it sends the abort after a request that failed in transport, as after a
// hang of the broker, though the coordinator never saw the transaction). No other instance
// fenced this one: the pipeline replaces its producer and rebuilds its tasks from Kafka instead
// of stopping, and the stores and alerts end as without the failure.
TEST_F(RebuildTest, AnAbortThatFindsNoTransactionRebuildsTheTasks) {
  const Drained reference = Reference(11, "no-txn");
  runtime::PipelineStats stats;
  runtime::PipelineOptions options;
  options.stats = &stats;
  std::atomic<int> commits{0};
  options.commit_hook_for_testing = [&] { return ++commits == 5; };
  std::atomic<int> aborts_failed{0};
  options.abort_fails_for_testing = [&] { return ++aborts_failed == 1; };
  const Drained failed = Drain("failed", options);
  EXPECT_EQ(aborts_failed.load(), 1);
  EXPECT_EQ(stats.rebuilds.load(), 1) << "the tasks were not rebuilt from Kafka";
  ExpectAsReference(reference, failed);
}

// A commit whose call of librdkafka does not return (send_offsets_to_transaction can wait for a
// group coordinator long past its timeout, librdkafka issue 5456; here the test hook on the
// committing thread blocks) is given up on at its deadline: the producer is replaced, which
// fences the old one, and the tasks are rebuilt from Kafka. The blocked thread then goes on to
// send the offsets with the old producer, which is refused (were its transaction to commit,
// the rebuilt tasks' alerts of that batch would be read twice); the stores and the alerts
// read_committed end as without the hang.
TEST_F(RebuildTest, ACommitThatDoesNotReturnIsGivenUpAndTheTasksRebuilt) {
  const Drained reference = Reference(13, "hung");
  runtime::PipelineStats stats;
  runtime::PipelineOptions options;
  options.stats = &stats;
  std::atomic<int> commits{0};
  std::atomic<bool> released_by_rebuild{false};
  std::atomic<int64_t> blocked_ms{-1};
  options.commit_hook_for_testing = [&] {
    if (++commits != 5) return false;
    // Blocks until the pipeline went on without this commit, for a minute at most.
    const auto blocked = std::chrono::steady_clock::now();
    const auto until = blocked + 60s;
    while (stats.rebuilds.load() == 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(10ms);
    }
    blocked_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - blocked)
                     .count();
    released_by_rebuild = stats.rebuilds.load() > 0;
    return false;  // the commit goes on, with the old producer
  };
  prometheus::Registry registry;
  const Drained hung = Drain("hung", options, &registry, [](v1::ProcessingConfig& processing) {
    processing.set_commit_deadline_ms(5'000);  // the least processing.commit_deadline_ms allows
  });
  EXPECT_TRUE(released_by_rebuild.load()) << "the pipeline waited for the blocked commit";
  // Given up on at the configured 5 s (the default is 45 s), plus the rebuild's start.
  EXPECT_LT(blocked_ms.load(), 30'000) << "the commit was not given up on at its deadline";
  EXPECT_EQ(stats.abandoned_commits.load(), 1);
  EXPECT_EQ(MetricValue(registry, "ccstream_commits_abandoned_total"), 1.0);
  EXPECT_EQ(stats.rebuilds.load(), 1) << "the tasks were not rebuilt from Kafka";
  ExpectAsReference(reference, hung);
}

// A transaction reported committed whose records Kafka then aborted (the broker skipped its
// markers while the partitions had no leader, and the producer's next abort marker took them):
// the task's local store holds a batch that Kafka's changelog and the group's committed offsets
// do not. When the tasks are next restored (here: rebuilt, after an abort that fails), a store
// past the committed input offset is rebuilt from the changelog instead of trusted, and the
// stores and the alerts read_committed end as without the loss.
TEST_F(RebuildTest, AStoreAheadOfTheCommittedOffsetsIsRebuiltFromTheChangelog) {
  const Drained reference = Reference(17, "ahead");
  runtime::PipelineStats stats;
  runtime::PipelineOptions options;
  options.stats = &stats;
  std::atomic<int> started{0};
  std::atomic<int> lost{0};
  // The 5th commit is lost; the 6th fails, and its abort with it (before any other commit).
  options.commit_lost_for_testing = [&] { return ++lost == 5; };
  options.commit_hook_for_testing = [&] { return ++started == 6; };
  std::atomic<int> aborts_failed{0};
  options.abort_fails_for_testing = [&] { return ++aborts_failed == 1; };
  PastCommittedSink past_committed;
  const Drained rebuilt = Drain("ahead", options, nullptr, {}, &past_committed);
  EXPECT_GE(lost.load(), 5);
  EXPECT_EQ(aborts_failed.load(), 1);
  EXPECT_EQ(stats.rebuilds.load(), 1) << "the tasks were not rebuilt from Kafka";
  // The lost commit's batch held events of one partition or both.
  EXPECT_GE(past_committed.count.load(), 1) << "no store was found past the committed offset";
  EXPECT_LE(past_committed.count.load(), 2);
  ExpectAsReference(reference, rebuilt);
}
}  // namespace
}  // namespace ccstream
