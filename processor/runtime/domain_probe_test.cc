#include "processor/runtime/domain_probe.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "domain_config.pb.h"
#include "prometheus/registry.h"

namespace ccstream::runtime {
namespace {

using domain::Outcome;
using domain::OutcomeKind;
using Labels = std::map<std::string, std::string>;

class DomainProbeTest : public ::testing::Test {
 protected:
  // The value of the series of `family` with exactly these labels (a histogram's: its count);
  // -1 when there is no such series.
  double Value(const std::string& family, const Labels& labels) {
    for (const prometheus::MetricFamily& f : registry_.Collect()) {
      if (f.name != family) continue;
      for (const prometheus::ClientMetric& m : f.metric) {
        Labels have;
        for (const auto& l : m.label) have[l.name] = l.value;
        if (have != labels) continue;
        switch (f.type) {
          case prometheus::MetricType::Counter:
            return m.counter.value;
          case prometheus::MetricType::Gauge:
            return m.gauge.value;
          case prometheus::MetricType::Histogram:
            return static_cast<double>(m.histogram.sample_count);
          default:
            return -1;
        }
      }
    }
    return -1;
  }
  // How many series `family` has.
  size_t Series(const std::string& family) {
    for (const prometheus::MetricFamily& f : registry_.Collect()) {
      if (f.name == family) return f.metric.size();
    }
    return 0;
  }
  static Outcome Contact(OutcomeKind kind, const std::string& queue, v1::Channel channel) {
    Outcome o;
    o.kind = kind;
    o.queue = queue;
    o.channel = channel;
    return o;
  }

  prometheus::Registry registry_;
};

// Each label set keeps its own series, however often it is recorded, and recording the same
// inputs again adds to the series it went to the first time.
TEST_F(DomainProbeTest, EachQueueAndChannelCountsInItsOwnSeries) {
  DomainProbe probe(registry_, v1::DomainConfig());
  for (int i = 0; i < 3; ++i)
    probe.Record(Contact(OutcomeKind::kContactOffered, "billing", v1::VOICE));
  probe.Record(Contact(OutcomeKind::kContactOffered, "billing", v1::CHAT));
  probe.Record(Contact(OutcomeKind::kContactOffered, "sales", v1::VOICE));
  probe.Record(Contact(OutcomeKind::kContactOffered, "", v1::CHANNEL_UNSPECIFIED));
  probe.Record(Contact(OutcomeKind::kContactAnswered, "billing", v1::VOICE));

  EXPECT_EQ(Value("ccstream_contacts_offered_total", {{"queue", "billing"}, {"channel", "VOICE"}}),
            3);
  EXPECT_EQ(Value("ccstream_contacts_offered_total", {{"queue", "billing"}, {"channel", "CHAT"}}),
            1);
  EXPECT_EQ(Value("ccstream_contacts_offered_total", {{"queue", "sales"}, {"channel", "VOICE"}}),
            1);
  EXPECT_EQ(Value("ccstream_contacts_offered_total", {{"queue", "none"}, {"channel", "none"}}), 1);
  EXPECT_EQ(Series("ccstream_contacts_offered_total"), 4u);
  // Another family with the same inputs has series of its own.
  EXPECT_EQ(Value("ccstream_contacts_answered_total", {{"queue", "billing"}, {"channel", "VOICE"}}),
            1);
  EXPECT_EQ(Series("ccstream_contacts_answered_total"), 1u);
}

// Contacts of anonymous customer ids count apart from the contacts offered.
TEST_F(DomainProbeTest, AnonymousContactsCountByQueueAndChannel) {
  DomainProbe probe(registry_, v1::DomainConfig());
  probe.Record(Contact(OutcomeKind::kContactOffered, "billing", v1::VOICE));
  probe.Record(Contact(OutcomeKind::kAnonymousContact, "billing", v1::VOICE));
  probe.Record(Contact(OutcomeKind::kAnonymousContact, "billing", v1::VOICE));
  probe.Record(Contact(OutcomeKind::kAnonymousContact, "sales", v1::CHAT));
  EXPECT_EQ(
      Value("ccstream_anonymous_contacts_total", {{"queue", "billing"}, {"channel", "VOICE"}}), 2);
  EXPECT_EQ(Value("ccstream_anonymous_contacts_total", {{"queue", "sales"}, {"channel", "CHAT"}}),
            1);
  EXPECT_EQ(Value("ccstream_contacts_offered_total", {{"queue", "billing"}, {"channel", "VOICE"}}),
            1);
}

TEST_F(DomainProbeTest, WaitAndHandleTimesObserveIntoTheirQueuesHistograms) {
  DomainProbe probe(registry_, v1::DomainConfig());
  Outcome wait = Contact(OutcomeKind::kWaitTime, "billing", v1::VOICE);
  wait.value = 12;
  probe.Record(wait);
  probe.Record(wait);
  Outcome handle = Contact(OutcomeKind::kHandleTime, "billing", v1::VOICE);
  handle.value = 300;
  probe.Record(handle);
  wait.queue = "sales";
  probe.Record(wait);

  EXPECT_EQ(Value("ccstream_contact_wait_seconds", {{"queue", "billing"}, {"channel", "VOICE"}}),
            2);
  EXPECT_EQ(Value("ccstream_contact_wait_seconds", {{"queue", "sales"}, {"channel", "VOICE"}}), 1);
  EXPECT_EQ(Value("ccstream_contact_handle_seconds", {{"queue", "billing"}, {"channel", "VOICE"}}),
            1);
}

TEST_F(DomainProbeTest, CsatCountsPerScoreAndChannel) {
  DomainProbe probe(registry_, v1::DomainConfig());
  Outcome o = Contact(OutcomeKind::kCsatResponse, "billing", v1::CHAT);
  o.score = 2;
  probe.Record(o);
  probe.Record(o);
  o.score = 5;
  probe.Record(o);
  o.channel = v1::VOICE;
  probe.Record(o);

  const std::string family = "ccstream_csat_responses_total";
  EXPECT_EQ(Value(family, {{"queue", "billing"}, {"channel", "CHAT"}, {"score", "2"}}), 2);
  EXPECT_EQ(Value(family, {{"queue", "billing"}, {"channel", "CHAT"}, {"score", "5"}}), 1);
  EXPECT_EQ(Value(family, {{"queue", "billing"}, {"channel", "VOICE"}, {"score", "5"}}), 1);
}

TEST_F(DomainProbeTest, CaseFamiliesKeepTheirLabelsApart) {
  DomainProbe probe(registry_, v1::DomainConfig());
  Outcome delta;
  delta.kind = OutcomeKind::kOpenCasesDelta;
  delta.category = "billing_dispute";
  delta.severity = v1::HIGH;
  delta.delta = 3;
  probe.Record(delta);
  delta.severity = v1::LOW;
  delta.delta = 1;
  probe.Record(delta);
  delta.severity = v1::HIGH;
  delta.delta = -1;
  probe.Record(delta);

  Outcome transition;
  transition.kind = OutcomeKind::kCaseTransition;
  transition.state = v1::ACKNOWLEDGED;
  probe.Record(transition);
  transition.state = v1::RESOLVED;
  probe.Record(transition);
  probe.Record(transition);

  Outcome escalation;
  escalation.kind = OutcomeKind::kEscalation;
  escalation.cue = "repeated_dissatisfaction";
  probe.Record(escalation);
  escalation.cue = "escalation_phrase";
  probe.Record(escalation);

  Outcome warning;
  warning.kind = OutcomeKind::kLiveSlaWarning;
  warning.milestone = "queue_wait";
  probe.Record(warning);
  warning.kind = OutcomeKind::kLiveSlaBreach;
  probe.Record(warning);

  const std::string open = "ccstream_cases_open";
  EXPECT_EQ(Value(open, {{"severity", "HIGH"}, {"category", "billing_dispute"}}), 2);
  EXPECT_EQ(Value(open, {{"severity", "LOW"}, {"category", "billing_dispute"}}), 1);
  EXPECT_EQ(Value("ccstream_case_transitions_total", {{"to", "ACKNOWLEDGED"}}), 1);
  EXPECT_EQ(Value("ccstream_case_transitions_total", {{"to", "RESOLVED"}}), 2);
  EXPECT_EQ(Value("ccstream_escalations_total", {{"cue", "repeated_dissatisfaction"}}), 1);
  EXPECT_EQ(Value("ccstream_escalations_total", {{"cue", "escalation_phrase"}}), 1);
  EXPECT_EQ(Value("ccstream_live_sla_warnings_total", {{"clock", "queue_wait"}}), 1);
  EXPECT_EQ(Value("ccstream_live_sla_breaches_total", {{"clock", "queue_wait"}}), 1);
}

// The label of a queue is bounded (256 distinct ones without a configured list, then "other"),
// and a queue keeps the label it first got: one that came in as "other" stays "other", also
// past the label sets the probe keeps looked up.
TEST_F(DomainProbeTest, QueuesBeyondTheBoundStayOther) {
  DomainProbe probe(registry_, v1::DomainConfig());
  for (int q = 0; q < 256; ++q) {
    probe.Record(Contact(OutcomeKind::kContactOffered, "q" + std::to_string(q), v1::VOICE));
  }
  probe.Record(Contact(OutcomeKind::kContactOffered, "late", v1::VOICE));
  probe.Record(Contact(OutcomeKind::kContactOffered, "late", v1::VOICE));
  probe.Record(Contact(OutcomeKind::kContactOffered, "q7", v1::VOICE));
  // More distinct queues than the probe keeps looked up (4,096 per family): still "other".
  for (int q = 0; q < 5000; ++q) {
    probe.Record(Contact(OutcomeKind::kContactOffered, "more" + std::to_string(q), v1::VOICE));
  }
  probe.Record(Contact(OutcomeKind::kContactOffered, "more4999", v1::VOICE));

  const std::string family = "ccstream_contacts_offered_total";
  EXPECT_EQ(Value(family, {{"queue", "other"}, {"channel", "VOICE"}}), 5003);
  EXPECT_EQ(Value(family, {{"queue", "late"}, {"channel", "VOICE"}}), -1);
  EXPECT_EQ(Value(family, {{"queue", "q7"}, {"channel", "VOICE"}}), 2);
  EXPECT_EQ(Series(family), 257u);
}

TEST_F(DomainProbeTest, QueuesOutsideTheConfiguredListAreOther) {
  v1::DomainConfig config;
  config.add_queues()->set_name("billing");
  DomainProbe probe(registry_, config);
  probe.Record(Contact(OutcomeKind::kContactAbandoned, "billing", v1::EMAIL));
  probe.Record(Contact(OutcomeKind::kContactAbandoned, "unlisted", v1::EMAIL));
  probe.Record(Contact(OutcomeKind::kContactAbandoned, "unlisted", v1::EMAIL));

  const std::string family = "ccstream_contacts_abandoned_total";
  EXPECT_EQ(Value(family, {{"queue", "billing"}, {"channel", "EMAIL"}}), 1);
  EXPECT_EQ(Value(family, {{"queue", "other"}, {"channel", "EMAIL"}}), 2);
}

// The events handled on more than one engine thread add up in one counter.
TEST_F(DomainProbeTest, EventsInParallelAddUp) {
  DomainProbe probe(registry_, v1::DomainConfig());
  EXPECT_EQ(Value("ccstream_events_in_parallel_total", {}), 0);
  probe.EventsInParallel(2'000);
  probe.EventsInParallel(96);
  EXPECT_EQ(Value("ccstream_events_in_parallel_total", {}), 2'096);
}

}  // namespace
}  // namespace ccstream::runtime
