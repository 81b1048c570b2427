#include "processor/notify/alertmanager.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "processor/http/server.h"
#include "processor/runtime/log.h"

namespace ccstream::notify {
namespace {

constexpr size_t kMaxPerPost = 64;
constexpr int kFirstBackoffMs = 250;

bool Delivered(v1::AlertKind kind) {
  return kind == v1::SLA_BREACH || kind == v1::LIVE_SLA_BREACH || kind == v1::ESCALATION ||
         kind == v1::SLA_ESCALATION;
}

// The case for case alerts, the contact for live-contact alerts.
std::string SubjectOf(const v1::Alert& alert) {
  const bool live = alert.kind() == v1::ESCALATION || alert.kind() == v1::LIVE_SLA_BREACH;
  if (live && !alert.contact_id().empty()) return alert.contact_id();
  return alert.case_id().empty() ? alert.contact_id() : alert.case_id();
}

std::string Rfc3339(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string AlertmanagerSink::ToJson(const v1::Alert& alert, int64_t ends_ms) {
  nlohmann::json labels;
  const bool breach = alert.kind() == v1::SLA_BREACH || alert.kind() == v1::LIVE_SLA_BREACH;
  labels["alertname"] = breach ? "CcstreamSlaBreach" : "CcstreamEscalation";
  labels["kind"] = v1::AlertKind_Name(alert.kind());
  if (alert.severity() != v1::SEVERITY_UNSPECIFIED) {
    labels["severity"] = Lower(v1::Severity_Name(alert.severity()));
  }
  labels["queue"] = alert.queue().empty() ? "none" : alert.queue();
  if (!alert.milestone().empty()) labels["milestone"] = alert.milestone();
  const bool live = alert.kind() == v1::ESCALATION || alert.kind() == v1::LIVE_SLA_BREACH;
  if (!live && !alert.case_id().empty()) {
    labels["case_id"] = alert.case_id();
  } else if (!alert.contact_id().empty()) {
    labels["contact_id"] = alert.contact_id();
  }
  std::vector<std::string> reasons;
  for (const v1::AlertReason& r : alert.reasons()) {
    reasons.push_back(r.detail().empty()
                          ? absl::StrCat(r.cue(), "=", r.value())
                          : absl::StrCat(r.cue(), "=", r.value(), " (", r.detail(), ")"));
  }
  nlohmann::json annotations;
  std::string summary;
  switch (alert.kind()) {
    case v1::SLA_BREACH:
      summary =
          absl::StrCat("case ", alert.case_id(), " breached its ", alert.milestone(), " deadline");
      break;
    case v1::LIVE_SLA_BREACH:
      summary = absl::StrCat("contact ", alert.contact_id(), " passed its ", alert.milestone(),
                             " limit in queue ", alert.queue());
      break;
    case v1::SLA_ESCALATION:
      summary = absl::StrCat("case ", alert.case_id(), " escalated to ", alert.rung(),
                             " after the ", alert.milestone(), " breach");
      annotations["rung"] = alert.rung();
      break;
    default:
      summary = absl::StrCat("contact ", alert.contact_id(), " is escalating (score ",
                             alert.score(), ")");
      break;
  }
  annotations["summary"] = summary;
  annotations["reason"] = reasons.empty() ? summary : absl::StrJoin(reasons, "; ");
  if (!alert.case_id().empty()) annotations["case"] = alert.case_id();
  nlohmann::json out;
  out["labels"] = labels;
  out["annotations"] = annotations;
  const int64_t starts = std::min(alert.event_time_ms(), ends_ms);
  out["startsAt"] = Rfc3339(starts);
  out["endsAt"] = Rfc3339(ends_ms);
  return out.dump();
}

AlertmanagerSink::AlertmanagerSink(const v1::AlertmanagerConfig& config,
                                   prometheus::Registry& registry, Clock clock)
    : config_(config),
      clock_(clock ? std::move(clock) : Clock([] { return absl::ToUnixMillis(absl::Now()); })) {
  auto& posts = prometheus::BuildCounter()
                    .Name("ccstream_alertmanager_posts_total")
                    .Help(
                        "Alerts posted to Alertmanager, by result (ok, error = a failed "
                        "attempt that is retried, dropped = given up because the queue was "
                        "full).")
                    .Register(registry);
  ok_ = &posts.Add({{"result", "ok"}});
  failed_ = &posts.Add({{"result", "error"}});
  dropped_ = &posts.Add({{"result", "dropped"}});
  worker_ = std::thread([this] { Run(); });
}

AlertmanagerSink::~AlertmanagerSink() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

int64_t AlertmanagerSink::Now() const { return clock_(); }

void AlertmanagerSink::Enqueue(std::string json) {
  queue_.push_back(std::move(json));
  DropOldest();
}

void AlertmanagerSink::DropOldest() {
  while (queue_.size() > config_.max_queue()) {
    queue_.pop_front();
    dropped_->Increment();
  }
}

void AlertmanagerSink::Forget(const std::string& alert_id) {
  const auto it = active_.find(alert_id);
  if (it == active_.end()) return;
  order_.erase(it->second.order);
  auto subject = by_subject_.find(it->second.subject);
  if (subject != by_subject_.end()) {
    std::erase(subject->second, alert_id);
    if (subject->second.empty()) by_subject_.erase(subject);
  }
  active_.erase(it);
}

void AlertmanagerSink::Committed(const std::vector<v1::Alert>& alerts,
                                 const std::vector<MovedOn>& moved_on) {
  bool queued = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = Now();
    const int64_t ends = now + 4 * int64_t{config_.resend_interval_s()} * 1000;
    for (const v1::Alert& alert : alerts) {
      if (!Delivered(alert.kind())) continue;
      Enqueue(ToJson(alert, ends));
      queued = true;
      if (active_.contains(alert.alert_id())) continue;
      const std::string subject = SubjectOf(alert);
      order_.push_back(alert.alert_id());
      active_[alert.alert_id()] = Active{alert, subject, std::prev(order_.end())};
      by_subject_[subject].push_back(alert.alert_id());
      while (active_.size() > config_.max_active()) Forget(order_.front());
    }
    for (const MovedOn& m : moved_on) {
      const auto it = by_subject_.find(m.subject);
      if (it == by_subject_.end()) continue;
      const std::vector<std::string> ids = it->second;
      for (const std::string& id : ids) {
        const Active& a = active_.at(id);
        if (a.alert.event_time_ms() > m.at_ms) continue;  // raised after the move
        Enqueue(ToJson(a.alert, std::max(now, a.alert.event_time_ms())));
        queued = true;
        Forget(id);
      }
    }
  }
  if (queued) wake_.notify_all();
}

bool AlertmanagerSink::WaitIdle(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [this] { return queue_.empty() && !in_flight_; });
}

size_t AlertmanagerSink::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_.size();
}

bool AlertmanagerSink::Post(const std::vector<std::string>& batch, std::string* error) {
  const std::string body = absl::StrCat("[", absl::StrJoin(batch, ","), "]");
  auto response =
      http::Fetch("POST", absl::StrCat(config_.url(), "/api/v2/alerts"), body,
                  {"Content-Type: application/json"}, static_cast<int>(config_.timeout_ms()));
  if (!response.ok()) {
    *error = std::string(response.status().message());
    return false;
  }
  if (response->status != 200) {
    *error = absl::StrCat("HTTP ", response->status, ": ", response->body.substr(0, 200));
    return false;
  }
  return true;
}

void AlertmanagerSink::Run() {
  const int64_t interval_ms = int64_t{config_.resend_interval_s()} * 1000;
  std::unique_lock<std::mutex> lock(mu_);
  int64_t next_resend = Now() + interval_ms;
  int backoff_ms = 0;
  bool warned = false;
  while (!stop_) {
    if (queue_.empty()) {
      idle_.notify_all();
      wake_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, next_resend - Now())),
                     [this] { return stop_ || !queue_.empty(); });
      if (stop_) break;
    }
    if (const int64_t now = Now(); now >= next_resend) {
      const int64_t ends = now + 4 * interval_ms;
      for (const std::string& id : order_) Enqueue(ToJson(active_.at(id).alert, ends));
      next_resend = now + interval_ms;
    }
    if (queue_.empty()) continue;
    std::vector<std::string> batch;
    while (!queue_.empty() && batch.size() < kMaxPerPost) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    in_flight_ = true;
    lock.unlock();
    std::string error;
    const bool ok = Post(batch, &error);
    lock.lock();
    in_flight_ = false;
    if (ok) {
      ok_->Increment(static_cast<double>(batch.size()));
      if (warned) runtime::LogInfo("alertmanager: delivering again");
      backoff_ms = 0;
      warned = false;
      continue;
    }
    failed_->Increment(static_cast<double>(batch.size()));
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
    DropOldest();
    backoff_ms =
        backoff_ms == 0 ? kFirstBackoffMs : std::min<int>(backoff_ms * 2, config_.max_backoff_ms());
    if (!warned) {
      runtime::LogWarning(absl::StrCat("alertmanager: post failed (", error,
                                       "); retrying with "
                                       "backoff, ",
                                       queue_.size(), " queued"));
      warned = true;
    }
    idle_.notify_all();  // WaitIdle callers see the failure as "not idle" and keep waiting
    wake_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [this] { return stop_; });
  }
  idle_.notify_all();
}

}  // namespace ccstream::notify
