#include "processor/runtime/domain_probe.h"

#include "case.pb.h"

namespace ccstream::runtime {
namespace {

constexpr size_t kMaxDistinctLabels = 256;
// Label sets kept per family's cache; beyond, a metric is looked up in its family each time.
constexpr size_t kMaxCachedLabelSets = 4096;

// Bucket bounds suited to contact-centre waits and handle times, in seconds.
const prometheus::Histogram::BucketBoundaries kWaitBuckets = {5,  10,  15,  20,  30,  45,  60,
                                                              90, 120, 180, 300, 600, 1200};
const prometheus::Histogram::BucketBoundaries kHandleBuckets = {30,  60,  120,  180,  300, 450,
                                                                600, 900, 1200, 1800, 3600};

template <typename B>
auto& Build(B builder, prometheus::Registry& registry, const char* name, const char* help) {
  return builder.Name(name).Help(help).Register(registry);
}

std::string ChannelLabel(v1::Channel channel) {
  return channel == v1::CHANNEL_UNSPECIFIED ? "none" : v1::Channel_Name(channel);
}

}  // namespace

DomainProbe::DomainProbe(prometheus::Registry& r, const v1::DomainConfig& config)
    : offered_(Build(prometheus::BuildCounter(), r, "ccstream_contacts_offered_total",
                     "Contacts offered (entered a queue), by queue and channel.")),
      answered_(Build(prometheus::BuildCounter(), r, "ccstream_contacts_answered_total",
                      "Contacts answered by an agent, by queue and channel.")),
      within_threshold_(Build(prometheus::BuildCounter(), r,
                              "ccstream_contacts_answered_within_threshold_total",
                              "Contacts answered within the service-level threshold.")),
      abandoned_(Build(prometheus::BuildCounter(), r, "ccstream_contacts_abandoned_total",
                       "Contacts abandoned while waiting, by queue and channel.")),
      wait_(Build(prometheus::BuildHistogram(), r, "ccstream_contact_wait_seconds",
                  "Queue wait of answered contacts, in seconds.")),
      handle_(Build(prometheus::BuildHistogram(), r, "ccstream_contact_handle_seconds",
                    "Handle time from answer to end, hold included, in seconds.")),
      anonymous_(Build(prometheus::BuildCounter(), r, "ccstream_anonymous_contacts_total",
                       "Contacts offered with an anonymous customer id "
                       "(domain.anonymous_customer_ids), by queue and channel.")),
      repeat_(Build(prometheus::BuildCounter(), r, "ccstream_repeat_contacts_total",
                    "Contacts from a customer who had another contact within the window.")),
      csat_(Build(prometheus::BuildCounter(), r, "ccstream_csat_responses_total",
                  "Survey answers, by queue, channel and CSAT score 1..5.")),
      live_warnings_(Build(prometheus::BuildCounter(), r, "ccstream_live_sla_warnings_total",
                           "Live-contact clocks that reached a warning fraction, by clock.")),
      live_breaches_(Build(prometheus::BuildCounter(), r, "ccstream_live_sla_breaches_total",
                           "Live-contact clocks that passed their limit, by clock.")),
      cases_opened_(Build(prometheus::BuildCounter(), r, "ccstream_cases_opened_total",
                          "Complaint cases opened, by category.")),
      cases_open_(Build(prometheus::BuildGauge(), r, "ccstream_cases_open",
                        "Complaint cases open now, by severity and category (this instance).")),
      transitions_(Build(prometheus::BuildCounter(), r, "ccstream_case_transitions_total",
                         "Case lifecycle transitions applied, by target state.")),
      invalid_transitions_(Build(prometheus::BuildCounter(), r,
                                 "ccstream_invalid_transitions_total",
                                 "Staff actions refused as invalid transitions.")
                               .Add({})),
      escalations_(Build(prometheus::BuildCounter(), r, "ccstream_escalations_total",
                         "Escalation alerts, once per cue behind each.")),
      sla_warnings_(Build(prometheus::BuildCounter(), r, "ccstream_sla_warnings_total",
                          "SLA warnings raised, by milestone.")),
      sla_breaches_(Build(prometheus::BuildCounter(), r, "ccstream_sla_breaches_total",
                          "SLA breaches raised, by milestone.")),
      restore_records_(Build(prometheus::BuildCounter(), r, "ccstream_restore_records_total",
                             "Changelog records applied while restoring task state.")
                           .Add({})),
      restore_seconds_(Build(prometheus::BuildGauge(), r, "ccstream_restore_last_seconds",
                             "Duration of the latest restore of tasks from the changelog.")
                           .Add({})),
      stores_past_committed_(
          Build(prometheus::BuildCounter(), r, "ccstream_stores_past_committed_total",
                "Restores that found a task's store past the group's committed input offset and "
                "rebuilt it from the changelog: a commit Kafka acknowledged and then lost, or "
                "offsets moved back by hand.")
              .Add({})),
      timers_fired_(Build(prometheus::BuildCounter(), r, "ccstream_timers_fired_total",
                          "Timers (SLA milestones, live clocks, expiries) fired.")
                        .Add({})),
      events_in_parallel_(
          Build(prometheus::BuildCounter(), r, "ccstream_events_in_parallel_total",
                "Events handled in runs shared out over more than one engine thread "
                "(processing.threads).")
              .Add({})),
      timers_pending_(Build(prometheus::BuildGauge(), r, "ccstream_timers_pending",
                            "Timers pending in this instance's tasks (RocksDB estimate).")
                          .Add({})),
      state_reads_(Build(prometheus::BuildCounter(), r, "ccstream_state_reads_total",
                         "Reads of committed task state: answered by the decoded cache, or by "
                         "RocksDB.")),
      reads_from_cache_(state_reads_.Add({{"source", "cache"}})),
      reads_from_store_(state_reads_.Add({{"source", "store"}})),
      rocksdb_memory_(Build(prometheus::BuildGauge(), r, "ccstream_rocksdb_memory_bytes",
                            "Memory RocksDB holds for this instance's stores, by kind: the "
                            "shared block cache (memtables' reservations included), the "
                            "memtables, the table readers' index and filter blocks.")),
      block_cache_bytes_(rocksdb_memory_.Add({{"kind", "block_cache"}})),
      memtable_bytes_(rocksdb_memory_.Add({{"kind", "memtables"}})),
      table_reader_bytes_(rocksdb_memory_.Add({{"kind", "table_readers"}})),
      erasures_(Build(prometheus::BuildCounter(), r, "ccstream_erasures_total",
                      "Erasure requests carried out.")
                    .Add({})) {
  for (const v1::QueueConfig& queue : config.queues()) known_queues_.insert(queue.name());
}

std::string DomainProbe::QueueLabel(const std::string& queue) {
  if (queue.empty()) return "none";
  if (!known_queues_.empty()) return known_queues_.contains(queue) ? queue : "other";
  std::lock_guard lock(labels_mu_);
  if (seen_queues_.contains(queue)) return queue;
  if (seen_queues_.size() >= kMaxDistinctLabels) return "other";
  seen_queues_.insert(queue);
  return queue;
}

std::string DomainProbe::CategoryLabel(const std::string& category) {
  if (category.empty()) return "none";
  std::lock_guard lock(labels_mu_);
  if (seen_categories_.contains(category)) return category;
  if (seen_categories_.size() >= kMaxDistinctLabels) return "other";
  seen_categories_.insert(category);
  return category;
}

template <typename T, typename Add>
T& DomainProbe::Metric(MetricCache<T>& cache, std::string_view text, int64_t number, Add add) {
  std::lock_guard lock(cache_mu_);
  if (auto it = cache.find(CacheKeyView{text, number}); it != cache.end()) return *it->second;
  T& metric = add();
  if (cache.size() < kMaxCachedLabelSets)
    cache.emplace(CacheKey{std::string(text), number}, &metric);
  return metric;
}

void DomainProbe::Record(const domain::Outcome& o) {
  using K = domain::OutcomeKind;
  auto contact_labels = [&]() -> std::map<std::string, std::string> {
    return {{"queue", QueueLabel(o.queue)}, {"channel", ChannelLabel(o.channel)}};
  };
  // A family's metric by queue and channel (`extra`: what else its Add takes, a histogram's
  // buckets).
  auto by_contact = [&](auto& cache, auto& family, const auto&... extra) -> auto& {
    auto add = [&]() -> auto& { return family.Add(contact_labels(), extra...); };
    return Metric(cache, o.queue, o.channel, add);
  };
  // A family's metric by one label made from a text.
  auto by_text = [&](auto& cache, auto& family, const char* label, const std::string& text,
                     auto make) -> auto& {
    auto add = [&]() -> auto& { return family.Add({{label, make(text)}}); };
    return Metric(cache, text, 0, add);
  };
  auto as_is = [](const std::string& text) { return text; };
  auto category = [&](const std::string& text) { return CategoryLabel(text); };
  switch (o.kind) {
    case K::kContactOffered:
      by_contact(offered_cache_, offered_).Increment();
      break;
    case K::kContactAnswered:
      by_contact(answered_cache_, answered_).Increment();
      break;
    case K::kAnsweredWithinThreshold:
      by_contact(within_threshold_cache_, within_threshold_).Increment();
      break;
    case K::kContactAbandoned:
      by_contact(abandoned_cache_, abandoned_).Increment();
      break;
    case K::kWaitTime:
      by_contact(wait_cache_, wait_, kWaitBuckets).Observe(o.value);
      break;
    case K::kHandleTime:
      by_contact(handle_cache_, handle_, kHandleBuckets).Observe(o.value);
      break;
    case K::kAnonymousContact:
      by_contact(anonymous_cache_, anonymous_).Increment();
      break;
    case K::kRepeatContact:
      by_contact(repeat_cache_, repeat_).Increment();
      break;
    case K::kCsatResponse: {
      const int64_t number = (int64_t{o.channel} << 32) | static_cast<uint32_t>(o.score);
      auto add = [&]() -> auto& {
        auto labels = contact_labels();
        labels["score"] = std::to_string(o.score);
        return csat_.Add(labels);
      };
      Metric(csat_cache_, o.queue, number, add).Increment();
      break;
    }
    case K::kLiveSlaWarning:
      by_text(live_warnings_cache_, live_warnings_, "clock", o.milestone, as_is).Increment();
      break;
    case K::kLiveSlaBreach:
      by_text(live_breaches_cache_, live_breaches_, "clock", o.milestone, as_is).Increment();
      break;
    case K::kCaseOpened:
      by_text(cases_opened_cache_, cases_opened_, "category", o.category, category).Increment();
      break;
    case K::kOpenCasesDelta: {
      auto add = [&]() -> auto& {
        return cases_open_.Add(
            {{"severity", v1::Severity_Name(o.severity)}, {"category", CategoryLabel(o.category)}});
      };
      Metric(cases_open_cache_, o.category, o.severity, add)
          .Increment(static_cast<double>(o.delta));
      break;
    }
    case K::kCaseTransition: {
      auto add = [&]() -> auto& { return transitions_.Add({{"to", v1::CaseState_Name(o.state)}}); };
      Metric(transitions_cache_, "", o.state, add).Increment();
      break;
    }
    case K::kInvalidTransition:
      invalid_transitions_.Increment();
      break;
    case K::kEscalation:
      by_text(escalations_cache_, escalations_, "cue", o.cue, as_is).Increment();
      break;
    case K::kSlaWarning:
      by_text(sla_warnings_cache_, sla_warnings_, "milestone", o.milestone, as_is).Increment();
      break;
    case K::kSlaBreach:
      by_text(sla_breaches_cache_, sla_breaches_, "milestone", o.milestone, as_is).Increment();
      break;
    case K::kErasure:
      erasures_.Increment();
      break;
    default:
      break;
  }
}

void DomainProbe::Restored(int32_t, int64_t records, double seconds) {
  restore_records_.Increment(static_cast<double>(records));
  restore_seconds_.Set(seconds);
}

}  // namespace ccstream::runtime
