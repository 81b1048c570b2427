#pragma once

#include <string>
#include <vector>

#include "prometheus/metric_family.h"

namespace ccstream::runtime {

// The Prometheus text exposition format (version 0.0.4) of `families`: HELP and TYPE lines,
// one line per series, histograms as cumulative `_bucket{le=...}` lines with `_sum` and
// `_count`. Equivalent to prometheus-cpp's TextSerializer, about three times faster (no
// iostreams): a scrape of a busy instance stays well under its budget (bench/metrics_bench).
std::string SerializeText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace ccstream::runtime
