#include "processor/api/api.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "case.pb.h"
#include "nlohmann/json.hpp"

namespace ccstream::api {
namespace {

using nlohmann::json;

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 500;

int64_t WallNowMs() { return absl::ToUnixMillis(absl::Now()); }

std::string ChannelName(v1::Channel channel) {
  return channel == v1::CHANNEL_UNSPECIFIED ? "" : v1::Channel_Name(channel);
}

json ReasonsJson(const google::protobuf::RepeatedPtrField<v1::AlertReason>& reasons) {
  json out = json::array();
  for (const v1::AlertReason& r : reasons) {
    out.push_back(
        {{"cue", r.cue()}, {"value", r.value()}, {"weight", r.weight()}, {"detail", r.detail()}});
  }
  return out;
}

// Fraction of the wall time from the milestone's start to its deadline that has elapsed at
// `now_ms` (at the pause or the completion when paused or completed).
double Fraction(const v1::MilestoneState& m, int64_t now_ms) {
  const int64_t span = m.deadline_ms() - m.started_ms();
  if (span <= 0) return 1.0;
  int64_t at = now_ms;
  if (m.completed()) {
    at = m.completed_ms();
  } else if (m.paused()) {
    at = m.paused_since_ms();
  }
  return std::max<double>(0.0, static_cast<double>(at - m.started_ms()) / span);
}

json MilestoneJson(const v1::MilestoneState& m, int64_t now_ms) {
  return {{"name", m.name()},
          {"started_ms", m.started_ms()},
          {"deadline_ms", m.deadline_ms()},
          {"target_ms", m.target_ms()},
          {"fraction", Fraction(m, now_ms)},
          {"paused", m.paused()},
          {"breached", m.breached()},
          {"met", m.met()},
          {"completed", m.completed()}};
}

bool Breached(const v1::ComplaintCase& c) {
  for (const v1::MilestoneState& m : c.milestones()) {
    if (m.breached() && !m.completed()) return true;
  }
  return false;
}

json CaseJson(const v1::ComplaintCase& c, int64_t now_ms, bool with_audit) {
  json milestones = json::array();
  const v1::MilestoneState* next = nullptr;
  for (const v1::MilestoneState& m : c.milestones()) {
    milestones.push_back(MilestoneJson(m, now_ms));
    if (!m.completed() && (next == nullptr || m.deadline_ms() < next->deadline_ms())) next = &m;
  }
  json out = {{"case_id", c.case_id()},
              {"state", v1::CaseState_Name(c.state())},
              {"severity", v1::Severity_Name(c.severity())},
              {"category", c.category()},
              {"queue", c.queue()},
              {"channel", ChannelName(c.channel())},
              {"opened_ms", c.opened_ms()},
              {"updated_ms", c.updated_ms()},
              {"repeat_count", c.repeat_count()},
              {"awaiting_customer", c.awaiting_customer()},
              {"breached", Breached(c)},
              {"next_milestone", next == nullptr ? json(nullptr) : MilestoneJson(*next, now_ms)},
              {"milestones", milestones}};
  if (with_audit) {
    json audit = json::array();
    for (const v1::AuditEntry& a : c.audit()) {
      audit.push_back({{"time_ms", a.time_ms()},
                       {"what", a.what()},
                       {"actor", a.actor()},
                       {"detail", a.detail()},
                       {"event_id", a.event_id()}});
    }
    out["audit"] = audit;
  }
  return out;
}

const char* ContactStateName(const v1::ContactState& c) {
  if (c.on_hold()) return "ON_HOLD";
  return c.answered() ? "ANSWERED" : "QUEUED";
}

json ContactJson(const v1::ContactState& c) {
  return {{"contact_id", c.contact_id()},        {"queue", c.queue()},
          {"channel", ChannelName(c.channel())}, {"state", ContactStateName(c)},
          {"first_seen_ms", c.first_seen_ms()},  {"queued_ms", c.queued_ms()},
          {"answered_ms", c.answered_ms()},      {"escalation_score", c.escalation_score()},
          {"escalated", c.escalated()},          {"escalation_level", c.escalation_level()},
          {"cues", ReasonsJson(c.cues())},       {"case_id", c.case_id()}};
}

json InstanceJson(const Instance& instance, const StoreSource::Stores& stores) {
  json partitions = json::array();
  for (const auto& [partition, store] : stores) partitions.push_back(partition);
  return {{"group_id", instance.group_id}, {"member", instance.member}, {"partitions", partitions}};
}

// Visits every value of `family` in every store; stops at the first error.
template <typename Message>
absl::Status ForEach(const StoreSource::Stores& stores, state::Family family,
                     const std::function<void(const Message&)>& visit) {
  Message message;
  for (const auto& [partition, store] : stores) {
    absl::Status status = store->Scan(family, "", [&](std::string_view, std::string_view value) {
      if (message.ParseFromArray(value.data(), static_cast<int>(value.size()))) visit(message);
      return true;
    });
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

http::Response Internal(const absl::Status& status) {
  return http::Response::JsonError(500, std::string(status.message()));
}

// Sort order of the case list: newest first, then by id.
struct CaseKey {
  int64_t opened_ms;
  std::string case_id;
  bool operator<(const CaseKey& o) const {
    if (opened_ms != o.opened_ms) return opened_ms > o.opened_ms;
    return case_id < o.case_id;
  }
};

http::Response ListCases(const http::Request& request, const StoreSource& source,
                         const Instance& instance) {
  std::optional<v1::CaseState> state;
  if (auto p = request.Param("state"); p && !p->empty()) {
    v1::CaseState parsed;
    if (!v1::CaseState_Parse(*p, &parsed) || parsed == v1::CASE_STATE_UNSPECIFIED) {
      return http::Response::JsonError(400, absl::StrCat("state: unknown case state \"", *p, "\""));
    }
    state = parsed;
  }
  std::optional<v1::Severity> severity;
  if (auto p = request.Param("severity"); p && !p->empty()) {
    v1::Severity parsed;
    if (!v1::Severity_Parse(*p, &parsed) || parsed == v1::SEVERITY_UNSPECIFIED) {
      return http::Response::JsonError(400, absl::StrCat("severity: unknown severity \"", *p,
                                                         "\" (LOW, MEDIUM, HIGH, CRITICAL)"));
    }
    severity = parsed;
  }
  std::optional<bool> breached;
  if (auto p = request.Param("breached"); p && !p->empty()) {
    if (*p != "true" && *p != "false") {
      return http::Response::JsonError(400, "breached: must be true or false");
    }
    breached = *p == "true";
  }
  int limit = kDefaultLimit;
  if (auto p = request.Param("limit"); p && !p->empty()) {
    if (!absl::SimpleAtoi(*p, &limit) || limit < 1 || limit > kMaxLimit) {
      return http::Response::JsonError(
          400, absl::StrCat("limit: must be a whole number from 1 to ", kMaxLimit));
    }
  }
  std::optional<CaseKey> after;
  if (auto p = request.Param("cursor"); p && !p->empty()) {
    const size_t colon = p->find(':');
    int64_t opened = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(p->substr(0, colon), &opened)) {
      return http::Response::JsonError(400, "cursor: not a cursor returned by this API");
    }
    after = CaseKey{opened, p->substr(colon + 1)};
  }
  const std::string queue = request.Param("queue").value_or("");
  const std::string category = request.Param("category").value_or("");

  const StoreSource::Stores stores = source.ActiveStores();
  const int64_t now = WallNowMs();
  std::map<CaseKey, json> page;  // the first `limit` + 1 matches in list order
  absl::Status status =
      ForEach<v1::ComplaintCase>(stores, state::Family::kCases, [&](const v1::ComplaintCase& c) {
        if (state && c.state() != *state) return;
        if (severity && c.severity() != *severity) return;
        if (!queue.empty() && c.queue() != queue) return;
        if (!category.empty() && c.category() != category) return;
        if (breached && Breached(c) != *breached) return;
        CaseKey key{c.opened_ms(), c.case_id()};
        if (after && !(*after < key)) return;
        if (static_cast<int>(page.size()) > limit && !(key < std::prev(page.end())->first)) return;
        page.emplace(std::move(key), CaseJson(c, now, false));
        if (static_cast<int>(page.size()) > limit + 1) page.erase(std::prev(page.end()));
      });
  if (!status.ok()) return Internal(status);
  json cases = json::array();
  json next = nullptr;
  int n = 0;
  for (auto& [key, value] : page) {
    if (n++ == limit) break;
    cases.push_back(std::move(value));
    if (n == limit && static_cast<int>(page.size()) > limit) {
      next = absl::StrCat(key.opened_ms, ":", key.case_id);
    }
  }
  json out = {
      {"instance", InstanceJson(instance, stores)}, {"cases", cases}, {"next_cursor", next}};
  return http::Response::Json(out.dump());
}

http::Response GetCase(const http::Request& request, const StoreSource& source,
                       const Instance& instance) {
  const std::string id = request.path.substr(std::string("/api/cases/").size());
  if (id.empty() || id.find('/') != std::string::npos) {
    return http::Response::JsonError(400, "a case id is required: /api/cases/{case_id}");
  }
  const StoreSource::Stores stores = source.ActiveStores();
  for (const auto& [partition, store] : stores) {
    auto value = store->Get(state::Family::kCases, id);
    if (!value.ok()) return Internal(value.status());
    if (!value->has_value()) continue;
    v1::ComplaintCase c;
    if (!c.ParseFromString(**value)) {
      return http::Response::JsonError(500, absl::StrCat("case ", id, " is not readable"));
    }
    json out = {{"instance", InstanceJson(instance, stores)},
                {"case", CaseJson(c, WallNowMs(), true)}};
    return http::Response::Json(out.dump());
  }
  return http::Response::JsonError(
      404, absl::StrCat("no case ", id, " in the partitions this instance owns"));
}

http::Response LiveContacts(const StoreSource& source, const Instance& instance) {
  const StoreSource::Stores stores = source.ActiveStores();
  std::vector<v1::ContactState> live;
  absl::Status status =
      ForEach<v1::ContactState>(stores, state::Family::kContacts, [&](const v1::ContactState& c) {
        if (!c.ended()) live.push_back(c);
      });
  if (!status.ok()) return Internal(status);
  std::sort(live.begin(), live.end(), [](const v1::ContactState& a, const v1::ContactState& b) {
    if (a.escalation_score() != b.escalation_score()) {
      return a.escalation_score() > b.escalation_score();
    }
    return a.first_seen_ms() < b.first_seen_ms();
  });
  json contacts = json::array();
  for (size_t i = 0; i < live.size() && i < kMaxLimit; ++i)
    contacts.push_back(ContactJson(live[i]));
  json out = {{"instance", InstanceJson(instance, stores)}, {"contacts", contacts}};
  return http::Response::Json(out.dump());
}

json Ratio(double numerator, double denominator) {
  return denominator > 0 ? json(numerator / denominator) : json(nullptr);
}

http::Response Queues(const StoreSource& source, const QueueWindows& windows,
                      const Instance& instance, double target) {
  const StoreSource::Stores stores = source.ActiveStores();
  struct Live {
    int64_t waiting = 0;
    std::map<std::string, int64_t> open_cases;
  };
  std::map<std::string, Live> live;
  absl::Status status =
      ForEach<v1::ContactState>(stores, state::Family::kContacts, [&](const v1::ContactState& c) {
        if (!c.ended() && !c.answered() && c.queued_ms() > 0) ++live[c.queue()].waiting;
      });
  if (status.ok()) {
    status =
        ForEach<v1::ComplaintCase>(stores, state::Family::kCases, [&](const v1::ComplaintCase& c) {
          if (c.state() == v1::CLOSED) return;
          ++live[c.queue()].open_cases[v1::Severity_Name(c.severity())];
        });
  }
  if (!status.ok()) return Internal(status);
  const auto last15 = windows.Window(15);
  const auto last60 = windows.Window(60);
  std::set<std::string> names;
  for (const auto& [q, f] : last60) names.insert(q);
  for (const auto& [q, l] : live) names.insert(q);
  json queues = json::array();
  for (const std::string& name : names) {
    const QueueWindows::Figures f15 =
        last15.contains(name) ? last15.at(name) : QueueWindows::Figures{};
    const QueueWindows::Figures f60 =
        last60.contains(name) ? last60.at(name) : QueueWindows::Figures{};
    const Live l = live.contains(name) ? live.at(name) : Live{};
    json open = {{"LOW", 0}, {"MEDIUM", 0}, {"HIGH", 0}, {"CRITICAL", 0}};
    for (const auto& [severity, count] : l.open_cases) open[severity] = count;
    queues.push_back({{"queue", name},
                      {"target", target},
                      {"service_level_15m", Ratio(f15.within, f15.answered)},
                      {"service_level_60m", Ratio(f60.within, f60.answered)},
                      {"asa_15m_s", Ratio(f15.wait_s, f15.answered)},
                      {"abandonment_15m", Ratio(f15.abandoned, f15.offered)},
                      {"offered_15m", f15.offered},
                      {"answered_15m", f15.answered},
                      {"abandoned_15m", f15.abandoned},
                      {"waiting", l.waiting},
                      {"open_cases", open}});
  }
  json out = {{"instance", InstanceJson(instance, stores)}, {"queues", queues}};
  return http::Response::Json(out.dump());
}

void AlertStream(const http::Request& request, http::StreamWriter& writer,
                 const std::atomic<bool>& stopping, AlertFeed& feed, int keep_alive_s) {
  int64_t after = feed.last();
  std::string resume = request.Header("last-event-id");
  if (resume.empty()) resume = request.Param("last_event_id").value_or("");
  if (int64_t id = 0; !resume.empty() && absl::SimpleAtoi(resume, &id) && id >= 0) after = id;
  if (!writer.Write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    "Cache-Control: no-store\r\nConnection: keep-alive\r\n"
                    "X-Accel-Buffering: no\r\n\r\nretry: 2000\n\n")) {
    return;
  }
  while (!stopping.load()) {
    const auto alerts = feed.Next(after, 100, keep_alive_s * 1000, stopping);
    std::string chunk;
    for (const auto& [id, alert] : alerts) {
      absl::StrAppend(&chunk, "id: ", id, "\nevent: alert\ndata: ", alert, "\n\n");
      after = id;
    }
    if (alerts.empty()) chunk = ": keep-alive\n\n";
    if (!writer.Write(chunk)) return;
  }
}

}  // namespace

std::string AlertJson(const v1::Alert& a) {
  json out = {{"alert_id", a.alert_id()},
              {"kind", v1::AlertKind_Name(a.kind())},
              {"severity", v1::Severity_Name(a.severity())},
              {"case_id", a.case_id()},
              {"contact_id", a.contact_id()},
              {"queue", a.queue()},
              {"category", a.category()},
              {"milestone", a.milestone()},
              {"deadline_ms", a.deadline_ms()},
              {"fraction", a.fraction()},
              {"score", a.score()},
              {"escalation_level", a.escalation_level()},
              {"rung", a.rung()},
              {"event_time_ms", a.event_time_ms()},
              {"reasons", ReasonsJson(a.reasons())}};
  return out.dump();
}

QueueWindows::QueueWindows(Clock clock)
    : clock_(clock ? std::move(clock) : Clock([] { return WallNowMs(); })) {}

void QueueWindows::Record(const domain::Outcome& o) {
  using K = domain::OutcomeKind;
  if (o.kind != K::kContactOffered && o.kind != K::kContactAnswered &&
      o.kind != K::kAnsweredWithinThreshold && o.kind != K::kContactAbandoned) {
    return;
  }
  const int64_t minute = clock_() / 60'000;
  std::lock_guard<std::mutex> lock(mu_);
  if (queues_.size() >= 1024 && !queues_.contains(o.queue)) return;  // bounded
  Bucket& bucket = queues_[o.queue][static_cast<size_t>(minute % 60)];
  if (bucket.minute != minute) bucket = Bucket{minute, {}};
  switch (o.kind) {
    case K::kContactOffered:
      ++bucket.figures.offered;
      break;
    case K::kContactAnswered:
      ++bucket.figures.answered;
      bucket.figures.wait_s += o.value;
      break;
    case K::kAnsweredWithinThreshold:
      ++bucket.figures.within;
      break;
    default:
      ++bucket.figures.abandoned;
      break;
  }
}

std::map<std::string, QueueWindows::Figures> QueueWindows::Window(int minutes) const {
  minutes = std::clamp(minutes, 1, 60);
  const int64_t now = clock_() / 60'000;
  std::map<std::string, Figures> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [queue, buckets] : queues_) {
    Figures total;
    bool any = false;
    for (const Bucket& b : buckets) {
      if (b.minute < 0 || b.minute > now || b.minute <= now - minutes) continue;
      total.offered += b.figures.offered;
      total.answered += b.figures.answered;
      total.within += b.figures.within;
      total.abandoned += b.figures.abandoned;
      total.wait_s += b.figures.wait_s;
      any = true;
    }
    if (any) out[queue] = total;
  }
  return out;
}

AlertFeed::AlertFeed(size_t capacity) : capacity_(std::max<size_t>(1, capacity)) {}

void AlertFeed::Publish(std::vector<v1::Alert> alerts) {
  if (alerts.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Only the last `capacity_` alerts can stay: the others are numbered, not kept.
    const size_t keep = std::min(alerts.size(), capacity_);
    last_ += static_cast<int64_t>(alerts.size() - keep);
    for (size_t i = alerts.size() - keep; i < alerts.size(); ++i) {
      alerts_.push_back({++last_, std::move(alerts[i]), std::string()});
      if (alerts_.size() > capacity_) alerts_.pop_front();
    }
  }
  published_.notify_all();
}

std::vector<std::pair<int64_t, std::string>> AlertFeed::Next(int64_t after, size_t max,
                                                             int timeout_ms,
                                                             const std::atomic<bool>& stopping) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // Wake up now and then to notice `stopping`.
  while (last_ <= after && !stopping.load() && std::chrono::steady_clock::now() < deadline) {
    published_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() +
                                                       std::chrono::milliseconds(250)));
  }
  std::vector<std::pair<int64_t, std::string>> out;
  for (Held& held : alerts_) {
    if (held.number <= after) continue;
    if (held.json.empty()) held.json = AlertJson(held.alert);
    out.emplace_back(held.number, held.json);
    if (out.size() >= max) break;
  }
  return out;
}

int64_t AlertFeed::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

void RegisterApi(http::Server& server, const StoreSource& stores, const QueueWindows& queues,
                 AlertFeed& feed, const Instance& instance, const ApiOptions& options) {
  const bool auth = options.auth;
  server.Handle(
      "/api/cases",
      [&stores, instance](const http::Request& r) { return ListCases(r, stores, instance); }, auth);
  server.Handle(
      "/api/cases/",
      [&stores, instance](const http::Request& r) { return GetCase(r, stores, instance); }, auth);
  server.Handle(
      "/api/contacts/live",
      [&stores, instance](const http::Request&) { return LiveContacts(stores, instance); }, auth);
  server.Handle(
      "/api/queues",
      [&stores, &queues, instance, target = options.service_level_target](const http::Request&) {
        return Queues(stores, queues, instance, target);
      },
      auth);
  server.HandleStream(
      "/api/alerts/stream",
      [&feed, keep_alive = options.keep_alive_s](const http::Request& r, http::StreamWriter& w,
                                                 const std::atomic<bool>& stopping) {
        AlertStream(r, w, stopping, feed, keep_alive);
      },
      auth);
  server.Handle(
      "/api/",
      [](const http::Request& r) {
        return http::Response::JsonError(404, absl::StrCat("no such API path: ", r.path));
      },
      auth);
  server.Handle(
      "/",
      [html = options.wallboard_html](const http::Request&) {
        http::Response r = http::Response::Text(html);
        r.content_type = "text/html; charset=utf-8";
        return r;
      },
      auth);
}

}  // namespace ccstream::api
