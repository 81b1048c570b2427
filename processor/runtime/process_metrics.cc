#include "processor/runtime/process_metrics.h"

#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>

namespace ccstream::runtime {
namespace {

using MallctlFn = int (*)(const char*, void*, size_t*, void*, size_t);

MallctlFn Mallctl() {
  static const MallctlFn fn = reinterpret_cast<MallctlFn>(dlsym(RTLD_DEFAULT, "mallctl"));
  return fn;
}

bool ReadSize(MallctlFn mallctl, const char* name, int64_t& out) {
  size_t value = 0;
  size_t length = sizeof(value);
  if (mallctl(name, &value, &length, nullptr, 0) != 0) return false;
  out = static_cast<int64_t>(value);
  return true;
}

// The fields of /proc/self/stat this collector reads (proc(5), counted from 1).
struct ProcStat {
  double user_ticks = 0;      // 14 utime
  double system_ticks = 0;    // 15 stime
  double start_ticks = 0;     // 22 starttime, since boot
  double virtual_bytes = 0;   // 23 vsize
  double resident_pages = 0;  // 24 rss
};

std::optional<ProcStat> ReadProcStat() {
  std::ifstream in("/proc/self/stat");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces: count from its end.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 1));
  std::string field;
  ProcStat stat;
  for (int n = 3; n <= 24 && fields >> field; ++n) {
    if (n == 14) stat.user_ticks = std::stod(field);
    if (n == 15) stat.system_ticks = std::stod(field);
    if (n == 22) stat.start_ticks = std::stod(field);
    if (n == 23) stat.virtual_bytes = std::stod(field);
    if (n == 24) stat.resident_pages = std::stod(field);
  }
  return stat;
}

// The boot time in seconds since the epoch (`btime` of /proc/stat), 0 when unknown.
double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

void Add(prometheus::MetricFamily& family, double value,
         std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

}  // namespace

std::optional<AllocatorStats> ReadAllocatorStats() {
  const MallctlFn mallctl = Mallctl();
  if (mallctl == nullptr) return std::nullopt;
  // jemalloc's statistics are a snapshot taken when the epoch advances.
  uint64_t epoch = 1;
  size_t length = sizeof(epoch);
  if (mallctl("epoch", &epoch, &length, &epoch, length) != 0) return std::nullopt;
  AllocatorStats stats;
  if (!ReadSize(mallctl, "stats.allocated", stats.allocated) ||
      !ReadSize(mallctl, "stats.active", stats.active) ||
      !ReadSize(mallctl, "stats.resident", stats.resident) ||
      !ReadSize(mallctl, "stats.retained", stats.retained) ||
      !ReadSize(mallctl, "stats.metadata", stats.metadata)) {
    return std::nullopt;
  }
  return stats;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  if (const std::optional<ProcStat> stat = ReadProcStat()) {
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    auto& cpu = families.emplace_back(Family("process_cpu_seconds_total",
                                             "User and system CPU time spent, in seconds.",
                                             MetricType::Counter));
    Add(cpu, (stat->user_ticks + stat->system_ticks) / ticks);
    auto& resident = families.emplace_back(Family(
        "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge));
    Add(resident, stat->resident_pages * page);
    auto& virt = families.emplace_back(
        Family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge));
    Add(virt, stat->virtual_bytes);
    if (const double boot = BootTime(); boot > 0) {
      auto& start = families.emplace_back(
          Family("process_start_time_seconds",
                 "Start time of the process since the Unix epoch, in seconds.", MetricType::Gauge));
      Add(start, boot + stat->start_ticks / ticks);
    }
  }
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  if (!ec) {
    auto& open = families.emplace_back(
        Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge));
    Add(open, fds - 1);  // the directory iterator's own descriptor
  }
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    auto& max = families.emplace_back(
        Family("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge));
    Add(max, static_cast<double>(limit.rlim_cur));
  }
  if (const std::optional<AllocatorStats> a = ReadAllocatorStats()) {
    auto& allocator = families.emplace_back(Family(
        "ccstream_allocator_bytes",
        "What the allocator (jemalloc) holds, by kind: allocated (in use by the program), active "
        "(the pages of those allocations), resident (its pages in RAM, freed ones not yet "
        "returned included), retained (mapped, given back to the kernel), metadata (its own).",
        MetricType::Gauge));
    Add(allocator, static_cast<double>(a->allocated), {{"kind", "allocated"}});
    Add(allocator, static_cast<double>(a->active), {{"kind", "active"}});
    Add(allocator, static_cast<double>(a->resident), {{"kind", "resident"}});
    Add(allocator, static_cast<double>(a->retained), {{"kind", "retained"}});
    Add(allocator, static_cast<double>(a->metadata), {{"kind", "metadata"}});
  }
  return families;
}

}  // namespace ccstream::runtime
