#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config.pb.h"
#include "processor/api/api.h"
#include "processor/runtime/pipeline.h"
#include "processor/runtime/process_metrics.h"
#include "processor/runtime/transaction_watch.h"
#include "prometheus/registry.h"

namespace ccstream::http {
class Server;
}
namespace ccstream::notify {
class AlertmanagerSink;
}

namespace ccstream::cli {

// How a command runs the service around the pipeline.
struct ServiceOptions {
  // Serve /metrics, /healthz and /readyz on the configured http.bind_address:http.port.
  // Default: true.
  bool serve_metrics = true;
  // Print a one-line status to stdout every second. Default: false.
  bool status_line = false;
  // Pipeline clock and drain settings. Default: wall clock, run until stopped.
  runtime::PipelineOptions pipeline;
  // After a fatal Kafka error (fenced, or librdkafka failed fatally) drop the tasks and rejoin
  // the group with new clients; a second fatal error within `rejoin_window_s` of a rejoin ends
  // the run with that error (two live instances share one identity). Default: true, 300 s.
  bool rejoin_on_fatal = true;
  int rejoin_window_s = 300;
};

// Final figures of a run, printed as the last line of `demo` and `replay --embedded`.
struct ServiceReport {
  int64_t records = 0;
  int64_t events = 0;
  int64_t dead_letters = 0;
  int64_t alerts = 0;
  int64_t cases_opened = 0;
  int64_t batches = 0;
  int64_t aborts = 0;
  int64_t rejoins = 0;  // after fatal Kafka errors
  double seconds = 0;
  std::string ToJson() const;
};

// The running service: metrics registry and HTTP exposer, the event handler (the domain
// engine) and the pipeline. Owned by one command; Run is called from one thread.
class Service {
 public:
  static absl::StatusOr<std::unique_ptr<Service>> Create(const v1::ProcessorConfig& config,
                                                         const ServiceOptions& options);
  ~Service();
  // Runs until `stop` (SIGTERM) or drained; returns the pipeline's status. Rejoins after a fatal
  // Kafka error as ServiceOptions says.
  absl::Status Run(const std::atomic<bool>& stop);
  ServiceReport Report() const;
  // The Prometheus text exposition of every metric right now.
  std::string MetricsText() const;
  // Ready to process: the consumer joined the group, every assigned partition is restored, the
  // pipeline loop turned within the last 15 s and no rejoin is under way. Else the reason.
  absl::Status Readiness() const;
  // The port the HTTP server listens on (0 when it does not run).
  int http_port() const;

 private:
  Service() = default;
  absl::Status StartHttp();
  v1::ProcessorConfig config_;
  ServiceOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  runtime::ProcessCollector process_;  // process_* and the allocator's, read when scraped
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<notify::AlertmanagerSink> alertmanager_;
  std::unique_ptr<runtime::PipelineProbe> probe_;
  // EXACTLY_ONCE: watches the outputs for a transaction that does not end (reports to probe_).
  std::unique_ptr<runtime::TransactionWatch> watch_;
  std::unique_ptr<runtime::EventHandler> handler_;
  std::unique_ptr<runtime::Pipeline> pipeline_;
  // Replaces the failed pipeline with a new one (new clients, tasks reopened on assignment).
  absl::Status Rejoin(const std::atomic<bool>& stop);
  runtime::PipelineStats stats_;  // across the pipelines of this run
  api::QueueWindows queues_;      // per-queue KPIs of the last hour, for the API
  api::AlertFeed feed_;           // committed alerts, for the alert stream
  std::atomic<int64_t> rejoins_{0};
  std::atomic<bool> rejoining_{false};
  double seconds_ = 0;
};

// Sets `flag` on SIGTERM and SIGINT (a second signal exits at once).
void InstallStopSignals(std::atomic<bool>* flag);

// Writes `text` to `path`; an error naming the file on failure.
absl::Status WriteFile(const std::string& path, const std::string& text);

}  // namespace ccstream::cli
