#include "processor/cli/service.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "embedded/wallboard_html.h"
#include "processor/cli/engine_handler.h"
#include "processor/http/server.h"
#include "processor/notify/alertmanager.h"
#include "processor/runtime/exposition.h"
#include "processor/runtime/log.h"

namespace ccstream::cli {
namespace {

std::atomic<bool>* g_stop_flag = nullptr;

void OnStopSignal(int) {
  if (g_stop_flag == nullptr) return;
  if (g_stop_flag->exchange(true)) std::_Exit(130);
}

}  // namespace

void InstallStopSignals(std::atomic<bool>* flag) {
  g_stop_flag = flag;
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat(path, ": cannot write"));
  return absl::OkStatus();
}

std::string ServiceReport::ToJson() const {
  return absl::StrFormat(
      "{\"events\": %d, \"dead_letters\": %d, \"alerts\": %d, \"cases_opened\": %d, "
      "\"records\": %d, \"batches\": %d, \"aborts\": %d, \"rejoins\": %d, \"seconds\": %.3f}",
      events, dead_letters, alerts, cases_opened, records, batches, aborts, rejoins, seconds);
}

absl::StatusOr<std::unique_ptr<Service>> Service::Create(const v1::ProcessorConfig& config,
                                                         const ServiceOptions& options) {
  std::unique_ptr<Service> service(new Service());
  service->config_ = config;
  service->options_ = options;
  service->registry_ = std::make_shared<prometheus::Registry>();
  service->probe_ = std::make_unique<runtime::PipelineProbe>(*service->registry_);
  const bool alertmanager = !config.alertmanager().url().empty();
  auto handler = MakeEngineHandler(config, *service->registry_, /*follow_moves=*/alertmanager,
                                   &service->queues_);
  if (!handler.ok()) return handler.status();
  service->handler_ = std::move(*handler);
  if (options.serve_metrics && config.http().port() != 0) {
    if (absl::Status s = service->StartHttp(); !s.ok()) return s;
  }
  if (alertmanager) {
    service->alertmanager_ =
        std::make_unique<notify::AlertmanagerSink>(config.alertmanager(), *service->registry_);
    runtime::LogInfo(absl::StrCat("posting SLA breaches and escalations to ",
                                  config.alertmanager().url(), "/api/v2/alerts"));
  }
  Service* self = service.get();
  service->options_.pipeline.on_committed_alerts = [self](std::vector<v1::Alert>& a) {
    if (self->alertmanager_) self->alertmanager_->Committed(a, TakeMovedOn(*self->handler_));
    self->feed_.Publish(std::move(a));  // the feed keeps the alerts themselves, not copies
  };
  if (config.processing().guarantee() == v1::ProcessingConfig::EXACTLY_ONCE) {
    // A transaction of ours whose markers Kafka skipped holds back every read_committed reader
    // of its partitions (the floor's alerts) for good; the broker does not say so.
    std::vector<std::string> topics;
    for (const std::string& topic :
         {config.kafka().alerts_topic(), config.kafka().changelog_topic(),
          config.kafka().dead_letter_topic()}) {
      if (!topic.empty()) topics.push_back(topic);
    }
    runtime::PipelineProbe* probe = service->probe_.get();
    auto watch = runtime::TransactionWatch::Start(config.kafka(), std::move(topics),
                                                  [probe](const std::string& topic, int blocked) {
                                                    probe->OutputPartitionsBlocked(topic, blocked);
                                                  });
    if (!watch.ok()) return watch.status();
    service->watch_ = std::move(*watch);
  }
  service->options_.pipeline.stats = &service->stats_;
  auto pipeline = runtime::Pipeline::Create(config, *service->handler_, *service->probe_,
                                            service->options_.pipeline);
  if (!pipeline.ok()) return pipeline.status();
  service->pipeline_ = std::move(*pipeline);
  return service;
}

absl::Status Service::Rejoin(const std::atomic<bool>& stop) {
  rejoining_ = true;
  stats_.joined = false;
  pipeline_.reset();  // closes the clients and drops the tasks as lost
  absl::Status last;
  for (int attempt = 1; attempt <= 10 && !stop.load(); ++attempt) {
    auto pipeline = runtime::Pipeline::Create(config_, *handler_, *probe_, options_.pipeline);
    if (pipeline.ok()) {
      pipeline_ = std::move(*pipeline);
      rejoining_ = false;
      return absl::OkStatus();
    }
    last = pipeline.status();
    runtime::LogWarning(absl::StrCat("rejoin (attempt ", attempt, "): ", last.message()));
    std::this_thread::sleep_for(std::chrono::seconds(std::min(attempt, 5)));
  }
  return last.ok() ? absl::CancelledError("stopped while rejoining") : last;
}

absl::Status Service::StartHttp() {
  http::ServerOptions options;
  options.bind_address = config_.http().bind_address();
  options.port = static_cast<int>(config_.http().port());
  if (const std::string& file = config_.http().auth_token_file(); !file.empty()) {
    std::ifstream in(file, std::ios::binary);
    std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (!in.good() && !in.eof()) {
      return absl::InvalidArgumentError(
          absl::StrCat("http.auth_token_file ", file, ": cannot read"));
    }
    if (token.size() < 16) {
      return absl::InvalidArgumentError(absl::StrCat("http.auth_token_file ", file,
                                                     ": the token must be at least 16 characters"));
    }
    options.auth_token = token;
  }
  options.threads = 16;  // each open alert stream holds one
  server_ = std::make_unique<http::Server>(options);
  api::ApiOptions api_options;
  api_options.service_level_target = config_.http().service_level_target();
  api_options.wallboard_html = std::string(embedded::wallboard_html());
  api_options.auth = !options.auth_token.empty();
  const std::string& instance_id = config_.kafka().group_instance_id();
  api::RegisterApi(*server_, StoresOf(*handler_), queues_, feed_,
                   api::Instance{config_.kafka().group_id(),
                                 instance_id.empty() ? config_.kafka().client_id() : instance_id},
                   api_options);
  server_->Handle("/metrics", [this](const http::Request&) {
    http::Response r = http::Response::Text(MetricsText());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });
  server_->Handle("/healthz", [](const http::Request&) { return http::Response::Text("ok\n"); });
  server_->Handle("/readyz", [this](const http::Request&) {
    const absl::Status ready = Readiness();
    if (ready.ok()) return http::Response::Text("ready\n");
    return http::Response::Text(absl::StrCat("not ready: ", ready.message(), "\n"), 503);
  });
  if (absl::Status s = server_->Start(); !s.ok()) {
    return absl::UnavailableError(absl::StrCat("http: ", s.message()));
  }
  runtime::LogInfo(
      absl::StrCat("serving the wallboard, /api, /metrics, /healthz and /readyz on http://",
                   config_.http().bind_address(), ":", server_->port(), "/"));
  return absl::OkStatus();
}

int Service::http_port() const { return server_ ? server_->port() : 0; }

absl::Status Service::Readiness() const {
  if (rejoining_.load()) return absl::UnavailableError("rejoining the group after an error");
  if (!stats_.joined.load()) return absl::UnavailableError("not yet in the consumer group");
  if (const int n = stats_.restoring.load(); n > 0) {
    return absl::UnavailableError(
        absl::StrCat(n, " partition(s) restoring or waiting for their committed offset"));
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  if (const int64_t age = now_ms - stats_.last_loop_steady_ms.load(); age > 15'000) {
    return absl::UnavailableError(
        absl::StrCat("the pipeline loop has not turned for ", age, " ms"));
  }
  return absl::OkStatus();
}

Service::~Service() {
  server_.reset();    // handlers read the pipeline's figures
  pipeline_.reset();  // its commit callback feeds the Alertmanager sink
  alertmanager_.reset();
}

absl::Status Service::Run(const std::atomic<bool>& stop) {
  const auto started = std::chrono::steady_clock::now();
  std::atomic<bool> done{false};
  std::thread status;
  if (options_.status_line) {
    status = std::thread([&] {
      int64_t last = 0;
      while (!done.load()) {
        for (int i = 0; i < 10 && !done.load(); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (done.load()) break;
        const ServiceReport r = Report();
        std::printf(
            "status: events=%lld (+%lld/s) dead_letters=%lld alerts=%lld cases_opened=%lld "
            "batches=%lld\n",
            static_cast<long long>(r.events), static_cast<long long>(r.events - last),
            static_cast<long long>(r.dead_letters), static_cast<long long>(r.alerts),
            static_cast<long long>(r.cases_opened), static_cast<long long>(r.batches));
        std::fflush(stdout);
        last = r.events;
      }
    });
  }
  absl::Status result;
  std::optional<std::chrono::steady_clock::time_point> last_rejoin;
  for (;;) {
    result = pipeline_->Run(stop);
    if (result.ok() || stop.load() || !options_.rejoin_on_fatal ||
        !runtime::IsFatalKafkaError(result)) {
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (last_rejoin && now - *last_rejoin < std::chrono::seconds(options_.rejoin_window_s)) {
      runtime::LogError(absl::StrCat("fatal again within ", options_.rejoin_window_s,
                                     " s of rejoining; is another instance running with the "
                                     "same identity? giving up"));
      break;
    }
    runtime::LogWarning(
        absl::StrCat("dropping all tasks and rejoining the group after: ", result.message()));
    last_rejoin = now;
    ++rejoins_;
    if (absl::Status s = Rejoin(stop); !s.ok()) {
      result = s;
      break;
    }
  }
  done = true;
  if (status.joinable()) status.join();
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

ServiceReport Service::Report() const {
  const runtime::PipelineStats& s = stats_;
  ServiceReport report;
  report.records = s.records.load();
  report.events = s.events.load();
  report.dead_letters = s.dead_letters.load();
  report.alerts = s.alerts.load();
  report.batches = s.batches.load();
  report.aborts = s.aborts.load();
  report.rejoins = rejoins_.load();
  report.cases_opened = CasesOpened(*handler_);
  report.seconds = seconds_;
  return report;
}

std::string Service::MetricsText() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (prometheus::MetricFamily& family : process_.Collect()) families.push_back(std::move(family));
  return runtime::SerializeText(families);
}

}  // namespace ccstream::cli
