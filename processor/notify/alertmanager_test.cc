#include "processor/notify/alertmanager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "nlohmann/json.hpp"
#include "processor/http/server.h"
#include "prometheus/registry.h"

namespace ccstream::notify {
namespace {

using nlohmann::json;

// A stand-in for Alertmanager's POST /api/v2/alerts that records what it receives.
class FakeAlertmanager {
 public:
  explicit FakeAlertmanager(int port = 0) {
    http::ServerOptions options;
    options.port = port;
    server_ = std::make_unique<http::Server>(options);
    server_->HandlePost("/api/v2/alerts", [this](const http::Request& r) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        gate_.wait(lock, [this] { return open_; });
        for (const json& a : json::parse(r.body)) received_.push_back(a);
      }
      changed_.notify_all();
      return http::Response::Json("{}");
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  int port() const { return server_->port(); }
  // Waits until at least `n` alerts were received; returns them.
  std::vector<json> Await(size_t n, int timeout_ms = 10'000) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return received_.size() >= n; });
    return received_;
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    gate_.notify_all();
  }

 private:
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::condition_variable changed_, gate_;
  bool open_ = true;
  std::vector<json> received_;
};

v1::AlertmanagerConfig Config(const std::string& url) {
  v1::AlertmanagerConfig config;
  config.set_url(url);
  config.set_timeout_ms(2000);
  config.set_resend_interval_s(60);
  config.set_max_backoff_ms(500);
  return config;
}

v1::Alert Breach(const std::string& id, const std::string& case_id, int64_t at_ms) {
  v1::Alert alert;
  alert.set_alert_id(id);
  alert.set_kind(v1::SLA_BREACH);
  alert.set_severity(v1::HIGH);
  alert.set_case_id(case_id);
  alert.set_contact_id("contact-9");
  alert.set_customer_key("hmac-key");
  alert.set_queue("billing");
  alert.set_milestone("acknowledge");
  alert.set_event_time_ms(at_ms);
  v1::AlertReason* reason = alert.add_reasons();
  reason->set_cue("sla_breach");
  reason->set_value(1);
  return alert;
}

int64_t EndsMs(const json& alert) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, alert["endsAt"].get<std::string>(), &t, &error))
      << error;
  return absl::ToUnixMillis(t);
}

double CounterValue(prometheus::Registry& registry, const std::string& result) {
  for (const auto& family : registry.Collect()) {
    if (family.name != "ccstream_alertmanager_posts_total") continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "result" && label.value == result) return metric.counter.value;
      }
    }
  }
  return -1;
}

constexpr int64_t kNow = 1'800'000'000'000;

TEST(AlertmanagerSinkTest, PostsBreachWithLabelsAndAnnotationsAndSkipsOtherKinds) {
  FakeAlertmanager am;
  prometheus::Registry registry;
  AlertmanagerSink sink(Config(am.url()), registry, [] { return kNow; });
  v1::Alert opened = Breach("a0", "case-1", kNow - 5000);
  opened.set_kind(v1::CASE_OPENED);
  sink.Committed({opened, Breach("a1", "case-1", kNow - 1000)}, {});
  const std::vector<json> got = am.Await(1);
  ASSERT_TRUE(sink.WaitIdle(5000));
  ASSERT_EQ(am.Await(1).size(), 1u);
  const json& a = got[0];
  EXPECT_EQ(a["labels"]["alertname"], "CcstreamSlaBreach");
  EXPECT_EQ(a["labels"]["kind"], "SLA_BREACH");
  EXPECT_EQ(a["labels"]["severity"], "high");
  EXPECT_EQ(a["labels"]["queue"], "billing");
  EXPECT_EQ(a["labels"]["milestone"], "acknowledge");
  EXPECT_EQ(a["labels"]["case_id"], "case-1");
  EXPECT_FALSE(a["labels"].contains("customer_key"));
  EXPECT_EQ(a["annotations"]["case"], "case-1");
  EXPECT_NE(a["annotations"]["reason"].get<std::string>().find("sla_breach"), std::string::npos);
  EXPECT_EQ(EndsMs(a), kNow + 4 * 60'000);  // firing: ends 4 resend intervals from now
  EXPECT_EQ(sink.active(), 1u);
  EXPECT_EQ(CounterValue(registry, "ok"), 1);
}

TEST(AlertmanagerSinkTest, ResolvesWhenTheCaseMovesOnButNotForEarlierMoves) {
  FakeAlertmanager am;
  prometheus::Registry registry;
  AlertmanagerSink sink(Config(am.url()), registry, [] { return kNow; });
  sink.Committed({Breach("a1", "case-1", kNow - 1000)}, {});
  // A move of another case, and a move of this case before the breach, resolve nothing.
  sink.Committed({}, {{"case-2", kNow}, {"case-1", kNow - 2000}});
  ASSERT_TRUE(sink.WaitIdle(5000));
  EXPECT_EQ(am.Await(1).size(), 1u);
  EXPECT_EQ(sink.active(), 1u);
  sink.Committed({}, {{"case-1", kNow - 500}});
  const std::vector<json> got = am.Await(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1]["labels"], got[0]["labels"]);  // the same alert in Alertmanager's eyes
  EXPECT_EQ(EndsMs(got[1]), kNow);                // resolved now
  EXPECT_EQ(sink.active(), 0u);
}

TEST(AlertmanagerSinkTest, LiveEscalationFollowsTheContact) {
  FakeAlertmanager am;
  prometheus::Registry registry;
  AlertmanagerSink sink(Config(am.url()), registry, [] { return kNow; });
  v1::Alert escalation = Breach("e1", "", kNow - 100);
  escalation.set_kind(v1::ESCALATION);
  escalation.clear_milestone();
  sink.Committed({escalation}, {});
  const json first = am.Await(1).at(0);
  EXPECT_EQ(first["labels"]["alertname"], "CcstreamEscalation");
  EXPECT_EQ(first["labels"]["contact_id"], "contact-9");
  EXPECT_FALSE(first["labels"].contains("milestone"));
  sink.Committed({}, {{"contact-9", kNow}});
  EXPECT_EQ(EndsMs(am.Await(2).at(1)), kNow);
}

TEST(AlertmanagerSinkTest, RetriesWithBackoffUntilAlertmanagerComesBack) {
  int port = 0;
  {
    FakeAlertmanager probe;  // find a free port, then let it go
    port = probe.port();
  }
  prometheus::Registry registry;
  AlertmanagerSink sink(Config("http://127.0.0.1:" + std::to_string(port)), registry);
  sink.Committed({Breach("a1", "case-1", kNow)}, {});
  // Nothing listens: the post fails and is retried.
  for (int i = 0; i < 100 && CounterValue(registry, "error") < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(CounterValue(registry, "error"), 2);
  EXPECT_EQ(CounterValue(registry, "ok"), 0);
  FakeAlertmanager am(port);
  ASSERT_EQ(am.Await(1).size(), 1u);
  EXPECT_EQ(am.Await(1)[0]["labels"]["case_id"], "case-1");
  EXPECT_TRUE(sink.WaitIdle(5000));
  EXPECT_EQ(CounterValue(registry, "ok"), 1);
}

TEST(AlertmanagerSinkTest, CommittedNeverWaitsForASlowAlertmanager) {
  FakeAlertmanager am;
  prometheus::Registry registry;
  AlertmanagerSink sink(Config(am.url()), registry, [] { return kNow; });
  am.Hold();  // the next post hangs inside Alertmanager
  sink.Committed({Breach("a1", "case-1", kNow)}, {});
  auto second =
      std::async(std::launch::async, [&] { sink.Committed({Breach("a2", "case-2", kNow)}, {}); });
  EXPECT_EQ(second.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  am.Release();
  EXPECT_EQ(am.Await(2).size(), 2u);
}

TEST(AlertmanagerSinkTest, QueueIsBoundedAndDropsTheOldest) {
  int port = 0;
  {
    FakeAlertmanager probe;
    port = probe.port();
  }
  v1::AlertmanagerConfig config = Config("http://127.0.0.1:" + std::to_string(port));
  config.set_max_queue(3);
  prometheus::Registry registry;
  AlertmanagerSink sink(config, registry, [] { return kNow; });
  std::vector<v1::Alert> alerts;
  for (int i = 0; i < 10; ++i) {
    alerts.push_back(Breach("a" + std::to_string(i), "case-" + std::to_string(i), kNow));
  }
  sink.Committed(alerts, {});
  EXPECT_EQ(CounterValue(registry, "dropped"), 7);
  FakeAlertmanager am(port);
  const std::vector<json> got = am.Await(3);
  ASSERT_EQ(got.size(), 3u);
  std::set<std::string> cases;
  for (const json& a : got) cases.insert(a["labels"]["case_id"].get<std::string>());
  EXPECT_EQ(cases, (std::set<std::string>{"case-7", "case-8", "case-9"}));  // the newest
}

TEST(AlertmanagerSinkTest, FiringAlertsArePostedAgainEveryResendInterval) {
  FakeAlertmanager am;
  v1::AlertmanagerConfig config = Config(am.url());
  config.set_resend_interval_s(1);
  prometheus::Registry registry;
  AlertmanagerSink sink(config, registry);
  sink.Committed({Breach("a1", "case-1", kNow)}, {});
  const std::vector<json> got = am.Await(3, 10'000);
  ASSERT_GE(got.size(), 3u);
  for (const json& a : got) EXPECT_EQ(a["labels"]["case_id"], "case-1");
}

}  // namespace
}  // namespace ccstream::notify
