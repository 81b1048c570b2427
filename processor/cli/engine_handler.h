#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "config.pb.h"
#include "processor/runtime/pipeline.h"
#include "prometheus/registry.h"

namespace ccstream::cli {

// Builds the handler that runs the domain engine on each task's events, recording the
// engine's outcomes in metrics registered on `registry`.
absl::StatusOr<std::unique_ptr<runtime::EventHandler>> MakeEngineHandler(
    const v1::ProcessorConfig& config, prometheus::Registry& registry);

// Complaint cases opened so far by a handler made by MakeEngineHandler.
int64_t CasesOpened(const runtime::EventHandler& handler);

}  // namespace ccstream::cli
