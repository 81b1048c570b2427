#include "processor/cli/engine_handler.h"

#include "absl/strings/str_cat.h"
#include "processor/domain/engine.h"
#include "processor/runtime/domain_probe.h"
#include "processor/runtime/task_manager.h"

namespace ccstream::cli {
namespace {

// The engine's tasks together with the probe that records their outcomes.
class EngineHandler : public runtime::EventHandler {
 public:
  EngineHandler(const v1::ProcessorConfig& config, std::shared_ptr<const domain::Engine> engine,
                prometheus::Registry& registry)
      : probe_(registry, config.domain()), tasks_(config, std::move(engine), probe_) {}

  absl::Status OnEvent(int32_t partition, const v1::ContactEvent& event, int64_t now_ms,
                       runtime::HandlerOutput& out) override {
    return tasks_.OnEvent(partition, event, now_ms, out);
  }
  absl::Status OnTick(int32_t partition, int64_t now_ms, runtime::HandlerOutput& out) override {
    return tasks_.OnTick(partition, now_ms, out);
  }
  absl::Status OnAssigned(const std::vector<int32_t>& partitions) override {
    return tasks_.OnAssigned(partitions);
  }
  absl::StatusOr<std::vector<int32_t>> TakeRestored(
      const std::vector<int32_t>& restoring) override {
    return tasks_.TakeRestored(restoring);
  }
  void OnRevoked(const std::vector<int32_t>& partitions, bool lost) override {
    tasks_.OnRevoked(partitions, lost);
  }
  absl::Status CollectChangelog(std::vector<runtime::ChangelogRecord>& out) override {
    return tasks_.CollectChangelog(out);
  }
  absl::Status OnCommitted(const std::map<int32_t, runtime::CommittedOffsets>& offsets) override {
    return tasks_.OnCommitted(offsets);
  }
  void OnAborted() override { tasks_.OnAborted(); }

  int64_t cases_opened() const { return tasks_.cases_opened(); }

 private:
  runtime::DomainProbe probe_;
  runtime::TaskManager tasks_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<runtime::EventHandler>> MakeEngineHandler(
    const v1::ProcessorConfig& config, prometheus::Registry& registry) {
  auto engine = domain::Engine::Create(config.domain());
  if (!engine.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("domain configuration: ", engine.status().message()));
  }
  return std::make_unique<EngineHandler>(config, std::move(*engine), registry);
}

int64_t CasesOpened(const runtime::EventHandler& handler) {
  return static_cast<const EngineHandler&>(handler).cases_opened();
}

}  // namespace ccstream::cli
