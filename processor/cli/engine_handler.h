#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "config.pb.h"
#include "processor/api/api.h"
#include "processor/notify/alertmanager.h"
#include "processor/runtime/pipeline.h"
#include "prometheus/registry.h"

namespace ccstream::cli {

// Builds the handler that runs the domain engine on each task's events, recording the
// engine's outcomes in metrics registered on `registry`. With `follow_moves`, it also keeps the
// cases and contacts that moved on in each committed batch (see TakeMovedOn).
// With `queues`, committed contact outcomes also feed those per-queue windows (the API).
absl::StatusOr<std::unique_ptr<runtime::EventHandler>> MakeEngineHandler(
    const v1::ProcessorConfig& config, prometheus::Registry& registry, bool follow_moves = false,
    api::QueueWindows* queues = nullptr);

// The stores of the active tasks of a handler made by MakeEngineHandler, for the API's threads.
const api::StoreSource& StoresOf(const runtime::EventHandler& handler);

// The cases (state change, milestone completed, closed) and contacts (ended) that moved on in
// the batches committed since the last call, for a handler made with `follow_moves`. Call on the
// pipeline's thread.
std::vector<notify::MovedOn> TakeMovedOn(runtime::EventHandler& handler);

// Complaint cases opened so far by a handler made by MakeEngineHandler.
int64_t CasesOpened(const runtime::EventHandler& handler);

// Blocks until the open cases of every task the handler has taken over are counted in
// ccstream_cases_open (counted in the background from the moment a task becomes active).
void AwaitOpenCaseCounts(runtime::EventHandler& handler);

}  // namespace ccstream::cli
