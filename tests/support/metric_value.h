#pragma once

#include <string>

#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace ccstream::testing {

// The value of `metric` of `family`, a counter or a gauge.
inline double CounterOrGaugeValue(const prometheus::MetricFamily& family,
                                  const prometheus::ClientMetric& metric) {
  return family.type == prometheus::MetricType::Counter ? metric.counter.value : metric.gauge.value;
}

// The value of the unlabelled counter or gauge `name` in `registry`; -1 when it is not there.
inline double MetricValue(prometheus::Registry& registry, const std::string& name) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name || family.metric.size() != 1) continue;
    return CounterOrGaugeValue(family, family.metric[0]);
  }
  return -1;
}

// The value of the counter or gauge `name` in `registry` whose label `label` is `value`; -1 when
// there is none.
inline double MetricValue(prometheus::Registry& registry, const std::string& name,
                          const std::string& label, const std::string& value) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const prometheus::ClientMetric::Label& l : metric.label) {
        if (l.name == label && l.value == value) return CounterOrGaugeValue(family, metric);
      }
    }
  }
  return -1;
}

}  // namespace ccstream::testing
