#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace ccstream::runtime {

// What the process's allocator holds, from jemalloc's statistics (`stats.*` of mallctl), in
// bytes. `allocated`: asked for by the program and not yet freed; `active`: the pages those
// allocations occupy; `resident`: the allocator's pages in RAM, freed but not yet returned
// ones included; `retained`: address space kept mapped but given back to the kernel;
// `metadata`: the allocator's own bookkeeping.
struct AllocatorStats {
  int64_t allocated = 0;
  int64_t active = 0;
  int64_t resident = 0;
  int64_t retained = 0;
  int64_t metadata = 0;
};

// The allocator's statistics when the process runs on jemalloc (its `mallctl` is looked up at
// run time, so the code links without it: the service binary links jemalloc, the tests need
// not); nullopt under any other allocator.
std::optional<AllocatorStats> ReadAllocatorStats();

// The process's resources, read from /proc when scraped, under the names of the standard
// process collector that dashboards expect: process_resident_memory_bytes,
// process_virtual_memory_bytes, process_cpu_seconds_total, process_open_fds,
// process_max_fds, process_start_time_seconds; and, under jemalloc,
// ccstream_allocator_bytes{kind=allocated|active|resident|retained|metadata}: what the heap
// holds against what the process holds, the part of the resident set that is freed memory the
// allocator has not returned yet, and (with ccstream_rocksdb_memory_bytes) where the rest is.
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace ccstream::runtime
