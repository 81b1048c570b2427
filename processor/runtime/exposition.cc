#include "processor/runtime/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace ccstream::runtime {
namespace {

void AppendNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    std::to_chars_result r;
    if (value == std::trunc(value) && std::fabs(value) < 1e15) {
      r = std::to_chars(buffer, buffer + sizeof(buffer), static_cast<int64_t>(value));
    } else {
      r = std::to_chars(buffer, buffer + sizeof(buffer), value);
    }
    out.append(buffer, r.ptr);
  }
}

// Label values escape backslash, double quote and newline; HELP text backslash and newline.
void AppendEscaped(std::string& out, std::string_view text, bool quotes) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quotes && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// name{labels[,extra="value"]} value
void AppendSeries(std::string& out, const std::string& name, std::string_view suffix,
                  const std::vector<prometheus::ClientMetric::Label>& labels,
                  std::string_view extra_name, std::string_view extra_value, double value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra_name.empty()) {
    out += '{';
    bool first = true;
    for (const auto& label : labels) {
      if (!first) out += ',';
      first = false;
      out += label.name;
      out += "=\"";
      AppendEscaped(out, label.value, true);
      out += '"';
    }
    if (!extra_name.empty()) {
      if (!first) out += ',';
      out += extra_name;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  AppendNumber(out, value);
  out += '\n';
}

const char* TypeName(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Histogram:
      return "histogram";
    case prometheus::MetricType::Summary:
      return "summary";
    default:
      return "untyped";
  }
}

}  // namespace

std::string SerializeText(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  out.reserve(64 * 1024);
  std::string bound;
  for (const prometheus::MetricFamily& family : families) {
    if (family.metric.empty()) continue;
    if (!family.help.empty()) {
      out += "# HELP ";
      out += family.name;
      out += ' ';
      AppendEscaped(out, family.help, false);
      out += '\n';
    }
    out += "# TYPE ";
    out += family.name;
    out += ' ';
    out += TypeName(family.type);
    out += '\n';
    for (const prometheus::ClientMetric& m : family.metric) {
      switch (family.type) {
        case prometheus::MetricType::Counter:
          AppendSeries(out, family.name, "", m.label, "", "", m.counter.value);
          break;
        case prometheus::MetricType::Gauge:
          AppendSeries(out, family.name, "", m.label, "", "", m.gauge.value);
          break;
        case prometheus::MetricType::Histogram: {
          for (const auto& bucket : m.histogram.bucket) {
            bound.clear();
            AppendNumber(bound, bucket.upper_bound);
            AppendSeries(out, family.name, "_bucket", m.label, "le", bound,
                         static_cast<double>(bucket.cumulative_count));
          }
          if (m.histogram.bucket.empty() || !std::isinf(m.histogram.bucket.back().upper_bound)) {
            AppendSeries(out, family.name, "_bucket", m.label, "le", "+Inf",
                         static_cast<double>(m.histogram.sample_count));
          }
          AppendSeries(out, family.name, "_sum", m.label, "", "", m.histogram.sample_sum);
          AppendSeries(out, family.name, "_count", m.label, "", "",
                       static_cast<double>(m.histogram.sample_count));
          break;
        }
        case prometheus::MetricType::Summary: {
          for (const auto& q : m.summary.quantile) {
            bound.clear();
            AppendNumber(bound, q.quantile);
            AppendSeries(out, family.name, "", m.label, "quantile", bound, q.value);
          }
          AppendSeries(out, family.name, "_sum", m.label, "", "", m.summary.sample_sum);
          AppendSeries(out, family.name, "_count", m.label, "", "",
                       static_cast<double>(m.summary.sample_count));
          break;
        }
        default:
          AppendSeries(out, family.name, "", m.label, "", "", m.untyped.value);
          break;
      }
    }
  }
  return out;
}

}  // namespace ccstream::runtime
