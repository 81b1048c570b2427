#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"

#include "domain_config.pb.h"
#include "processor/domain/outcomes.h"
#include "processor/runtime/task_manager.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace ccstream::runtime {

// Turns the engine's outcomes into Prometheus metrics: contact-centre KPIs per queue and
// channel, case counts by category and severity, transitions, escalations by cue, SLA warnings
// and breaches by milestone, restores. Label values are bounded: queues outside the configured
// list (or beyond 256 distinct ones when no list is configured) are reported as "other".
// Called from the pipeline's thread, and Record also from the thread that counts the open cases
// of a task taken over (the label bookkeeping is locked); prometheus metrics are safe to scrape
// and update concurrently. Each family's metric for a set of label inputs is looked up once and
// kept (MetricCache): recording an outcome is then a hash lookup and an atomic add, not a label
// map built and hashed under the family's lock.
class DomainProbe : public OutcomeSink {
 public:
  DomainProbe(prometheus::Registry& registry, const v1::DomainConfig& config);
  void Record(const domain::Outcome& outcome) override;
  void Restored(int32_t partition, int64_t records, double seconds) override;
  void StorePastCommittedOffset(int32_t) override { stores_past_committed_.Increment(); }
  void TimerFired() override { timers_fired_.Increment(); }
  void EventsInParallel(int64_t events) override {
    events_in_parallel_.Increment(static_cast<double>(events));
  }
  void TimersPending(int64_t count) override { timers_pending_.Set(static_cast<double>(count)); }
  void StateReads(int64_t from_cache, int64_t from_store) override {
    reads_from_cache_.Increment(static_cast<double>(from_cache));
    reads_from_store_.Increment(static_cast<double>(from_store));
  }
  void StateMemory(const state::StoreMemory& memory) override {
    block_cache_bytes_.Set(static_cast<double>(memory.block_cache));
    memtable_bytes_.Set(static_cast<double>(memory.memtables));
    table_reader_bytes_.Set(static_cast<double>(memory.table_readers));
  }

 private:
  std::string QueueLabel(const std::string& queue);
  std::string CategoryLabel(const std::string& category);

  // What a family's labels are made from: the raw text (queue, category, milestone, cue; ""
  // when none) and a number (channel, score, severity, state; 0 when none). The same inputs
  // always give the same labels (a queue keeps the label it first got: itself, or "other").
  struct CacheKey {
    std::string text;
    int64_t number = 0;
  };
  struct CacheKeyView {
    std::string_view text;
    int64_t number = 0;
  };
  struct CacheHash {
    using is_transparent = void;
    size_t operator()(const CacheKey& k) const { return (*this)(CacheKeyView{k.text, k.number}); }
    size_t operator()(const CacheKeyView& k) const { return absl::HashOf(k.text, k.number); }
  };
  struct CacheEq {
    using is_transparent = void;
    static CacheKeyView View(const CacheKey& k) { return {k.text, k.number}; }
    static CacheKeyView View(const CacheKeyView& k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a).text == View(b).text && View(a).number == View(b).number;
    }
  };
  template <typename T>
  using MetricCache = absl::flat_hash_map<CacheKey, T*, CacheHash, CacheEq>;
  // The family's metric for these inputs: from the cache, else `add()` (which calls the
  // family's Add with the labels made from them), kept unless the cache is full (raw queue
  // names are unbounded even though their labels are not).
  template <typename T, typename Add>
  T& Metric(MetricCache<T>& cache, std::string_view text, int64_t number, Add add);

  std::set<std::string> known_queues_;
  std::mutex labels_mu_;  // guards the two sets below
  std::set<std::string> seen_queues_;
  std::set<std::string> seen_categories_;
  prometheus::Family<prometheus::Counter>& offered_;
  prometheus::Family<prometheus::Counter>& answered_;
  prometheus::Family<prometheus::Counter>& within_threshold_;
  prometheus::Family<prometheus::Counter>& abandoned_;
  prometheus::Family<prometheus::Histogram>& wait_;
  prometheus::Family<prometheus::Histogram>& handle_;
  prometheus::Family<prometheus::Counter>& anonymous_;
  prometheus::Family<prometheus::Counter>& repeat_;
  prometheus::Family<prometheus::Counter>& csat_;
  prometheus::Family<prometheus::Counter>& live_warnings_;
  prometheus::Family<prometheus::Counter>& live_breaches_;
  prometheus::Family<prometheus::Counter>& cases_opened_;
  prometheus::Family<prometheus::Gauge>& cases_open_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Counter& invalid_transitions_;
  prometheus::Family<prometheus::Counter>& escalations_;
  prometheus::Family<prometheus::Counter>& sla_warnings_;
  prometheus::Family<prometheus::Counter>& sla_breaches_;
  prometheus::Counter& restore_records_;
  prometheus::Gauge& restore_seconds_;
  prometheus::Counter& stores_past_committed_;
  prometheus::Counter& timers_fired_;
  prometheus::Counter& events_in_parallel_;
  prometheus::Gauge& timers_pending_;
  prometheus::Family<prometheus::Counter>& state_reads_;
  prometheus::Counter& reads_from_cache_;
  prometheus::Counter& reads_from_store_;
  prometheus::Family<prometheus::Gauge>& rocksdb_memory_;
  prometheus::Gauge& block_cache_bytes_;
  prometheus::Gauge& memtable_bytes_;
  prometheus::Gauge& table_reader_bytes_;
  prometheus::Counter& erasures_;

  std::mutex cache_mu_;  // guards the caches below (Record runs on two threads)
  MetricCache<prometheus::Counter> offered_cache_, answered_cache_, within_threshold_cache_,
      abandoned_cache_, anonymous_cache_, repeat_cache_, csat_cache_, live_warnings_cache_,
      live_breaches_cache_, cases_opened_cache_, transitions_cache_, escalations_cache_,
      sla_warnings_cache_, sla_breaches_cache_;
  MetricCache<prometheus::Histogram> wait_cache_, handle_cache_;
  MetricCache<prometheus::Gauge> cases_open_cache_;
};

}  // namespace ccstream::runtime
