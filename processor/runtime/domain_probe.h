#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

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
// and update concurrently.
class DomainProbe : public OutcomeSink {
 public:
  DomainProbe(prometheus::Registry& registry, const v1::DomainConfig& config);
  void Record(const domain::Outcome& outcome) override;
  void Restored(int32_t partition, int64_t records, double seconds) override;
  void TimerFired() override { timers_fired_.Increment(); }
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
  prometheus::Counter& timers_fired_;
  prometheus::Gauge& timers_pending_;
  prometheus::Family<prometheus::Counter>& state_reads_;
  prometheus::Counter& reads_from_cache_;
  prometheus::Counter& reads_from_store_;
  prometheus::Family<prometheus::Gauge>& rocksdb_memory_;
  prometheus::Gauge& block_cache_bytes_;
  prometheus::Gauge& memtable_bytes_;
  prometheus::Gauge& table_reader_bytes_;
  prometheus::Counter& erasures_;
};

}  // namespace ccstream::runtime
