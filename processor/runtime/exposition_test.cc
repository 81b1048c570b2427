#include "processor/runtime/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace ccstream::runtime {
namespace {

TEST(ExpositionTest, WritesHelpTypeSeriesAndEscapes) {
  prometheus::Registry registry;
  prometheus::BuildCounter()
      .Name("x_total")
      .Help("A help with a \\ backslash\nand a newline.")
      .Register(registry)
      .Add({{"queue", "a\"b\\c\nd"}})
      .Increment(3);
  prometheus::BuildGauge().Name("g").Help("G.").Register(registry).Add({}).Set(-1.5);
  auto& h = prometheus::BuildHistogram()
                .Name("h_seconds")
                .Help("H.")
                .Register(registry)
                .Add({{"kind", "A"}}, prometheus::Histogram::BucketBoundaries{0.5, 1});
  h.Observe(0.25);
  h.Observe(0.75);
  h.Observe(4);
  EXPECT_EQ(SerializeText(registry.Collect()),
            "# HELP x_total A help with a \\\\ backslash\\nand a newline.\n"
            "# TYPE x_total counter\n"
            "x_total{queue=\"a\\\"b\\\\c\\nd\"} 3\n"
            "# HELP g G.\n"
            "# TYPE g gauge\n"
            "g -1.5\n"
            "# HELP h_seconds H.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{kind=\"A\",le=\"0.5\"} 1\n"
            "h_seconds_bucket{kind=\"A\",le=\"1\"} 2\n"
            "h_seconds_bucket{kind=\"A\",le=\"+Inf\"} 3\n"
            "h_seconds_sum{kind=\"A\"} 5\n"
            "h_seconds_count{kind=\"A\"} 3\n");
}

// series (name and labels as written) → value, from a text exposition.
std::map<std::string, double> Parse(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    const std::string value = line.substr(space + 1);
    out[line.substr(0, space)] = value == "+Inf" ? INFINITY : std::stod(value);
  }
  return out;
}

TEST(ExpositionTest, SameSeriesAndValuesAsPrometheusCpp) {
  prometheus::Registry registry;
  auto& counters = prometheus::BuildCounter().Name("c_total").Help("C.").Register(registry);
  auto& histograms = prometheus::BuildHistogram().Name("w_seconds").Help("W.").Register(registry);
  for (int q = 0; q < 20; ++q) {
    counters.Add({{"queue", "q" + std::to_string(q)}, {"channel", "VOICE"}}).Increment(q * 1e6);
    auto& h = histograms.Add({{"queue", "q" + std::to_string(q)}},
                             prometheus::Histogram::BucketBoundaries{0.001, 5, 10, 20, 60});
    h.Observe(q * 3.7);
  }
  prometheus::BuildGauge().Name("tiny").Help("T.").Register(registry).Add({}).Set(1.25e-7);
  const auto families = registry.Collect();
  const auto ours = Parse(SerializeText(families));
  const auto theirs = Parse(prometheus::TextSerializer().Serialize(families));
  ASSERT_EQ(ours.size(), theirs.size());
  for (const auto& [series, value] : theirs) {
    ASSERT_TRUE(ours.contains(series)) << series;
    EXPECT_DOUBLE_EQ(ours.at(series), value) << series;
  }
}

}  // namespace
}  // namespace ccstream::runtime
