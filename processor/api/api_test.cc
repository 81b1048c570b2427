#include "processor/api/api.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "state/task_state.h"

namespace ccstream::api {
namespace {

using nlohmann::json;

class FixedStores : public StoreSource {
 public:
  Stores ActiveStores() const override { return stores; }
  Stores stores;
};

int64_t Now() { return absl::ToUnixMillis(absl::Now()); }

v1::ComplaintCase Case(const std::string& id, int64_t opened_ms, v1::CaseState state,
                       v1::Severity severity, const std::string& queue, const std::string& category,
                       bool breached) {
  v1::ComplaintCase c;
  c.set_case_id(id);
  c.set_customer_key("hmac-of-the-customer");
  c.set_opened_ms(opened_ms);
  c.set_updated_ms(opened_ms);
  c.set_state(state);
  c.set_severity(severity);
  c.set_queue(queue);
  c.set_category(category);
  c.set_channel(v1::VOICE);
  v1::MilestoneState* m = c.add_milestones();
  m->set_name("acknowledge");
  m->set_started_ms(opened_ms);
  m->set_deadline_ms(opened_ms + 60'000);
  m->set_target_ms(60'000);
  m->set_breached(breached);
  v1::AuditEntry* a = c.add_audit();
  a->set_time_ms(opened_ms);
  a->set_what("opened");
  a->set_actor("ccstream");
  return c;
}

v1::ContactState Contact(const std::string& id, const std::string& queue, bool answered, bool ended,
                         double score) {
  v1::ContactState c;
  c.set_contact_id(id);
  c.set_customer_key("hmac-of-the-customer");
  c.set_queue(queue);
  c.set_channel(v1::CHAT);
  c.set_queued_ms(Now() - 30'000);
  c.set_first_seen_ms(Now() - 30'000);
  c.set_answered(answered);
  c.set_ended(ended);
  c.set_escalation_score(score);
  c.set_escalated(score >= 1);
  v1::AlertReason* cue = c.add_cues();
  cue->set_cue("escalation_phrase");
  cue->set_value(1);
  cue->set_detail("manager");
  return c;
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("api-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    const int64_t t = Now() - 3'600'000;
    // Partition 0 and 2, as if this instance owned them.
    Fill(0,
         {Case("c1", t + 1, v1::OPEN, v1::HIGH, "billing", "fees", true),
          Case("c2", t + 2, v1::ACKNOWLEDGED, v1::LOW, "billing", "fees", false),
          Case("c3", t + 3, v1::CLOSED, v1::MEDIUM, "sales", "mis-selling", false)},
         {Contact("k1", "billing", false, false, 0.2), Contact("k2", "billing", true, false, 2.5),
          Contact("k3", "billing", true, true, 3.0)});
    Fill(2,
         {Case("c4", t + 4, v1::OPEN, v1::CRITICAL, "sales", "fees", true),
          Case("c5", t + 5, v1::INVESTIGATING, v1::HIGH, "billing", "service", false)},
         {Contact("k4", "sales", false, false, 1.2)});
    http::ServerOptions options;
    options.port = 0;
    options.auth_token = token_;
    server_ = std::make_unique<http::Server>(options);
    ApiOptions api;
    api.wallboard_html = "<html>wallboard</html>";
    api.auth = true;
    api.keep_alive_s = 1;
    RegisterApi(*server_, stores_, windows_, feed_, Instance{"group-1", "member-a"}, api);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_.reset();
    stores_.stores.clear();
    std::filesystem::remove_all(dir_);
  }
  void Fill(int32_t partition, const std::vector<v1::ComplaintCase>& cases,
            const std::vector<v1::ContactState>& contacts) {
    auto store = state::TaskStore::Open((dir_ / std::to_string(partition)).string());
    ASSERT_TRUE(store.ok()) << store.status();
    state::TaskState task(std::move(*store));
    for (const auto& c : cases) ASSERT_TRUE(task.PutCase(c).ok());
    for (const auto& c : contacts) ASSERT_TRUE(task.PutContact(c).ok());
    ASSERT_TRUE(task.Commit({1, 1}).ok());
    stores_.stores.emplace_back(partition, task.shared_store());
  }
  // GET with the token; the status and the parsed body.
  std::pair<int, json> Get(const std::string& target, bool with_token = true) {
    auto r = http::Fetch("GET", "http://127.0.0.1:" + std::to_string(server_->port()) + target, "",
                         with_token ? std::vector<std::string>{"Authorization: Bearer " + token_}
                                    : std::vector<std::string>{});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {0, json()};
    json body =
        r->headers["content-type"] == "application/json" ? json::parse(r->body) : json(r->body);
    return {r->status, body};
  }
  std::vector<std::string> CaseIds(const json& body) {
    std::vector<std::string> ids;
    for (const json& c : body["cases"]) ids.push_back(c["case_id"]);
    return ids;
  }

  const std::string token_ = "api-test-token-0123456789";
  std::filesystem::path dir_;
  FixedStores stores_;
  QueueWindows windows_;
  AlertFeed feed_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(ApiTest, ListsCasesNewestFirstWithMilestonesAndInstance) {
  auto [status, body] = Get("/api/cases");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(CaseIds(body), (std::vector<std::string>{"c5", "c4", "c3", "c2", "c1"}));
  EXPECT_EQ(body["instance"]["group_id"], "group-1");
  EXPECT_EQ(body["instance"]["member"], "member-a");
  EXPECT_EQ(body["instance"]["partitions"], json({0, 2}));
  EXPECT_TRUE(body["next_cursor"].is_null());
  const json& c4 = body["cases"][1];
  EXPECT_EQ(c4["state"], "OPEN");
  EXPECT_EQ(c4["severity"], "CRITICAL");
  EXPECT_EQ(c4["breached"], true);
  EXPECT_EQ(c4["next_milestone"]["name"], "acknowledge");
  EXPECT_GT(c4["milestones"][0]["fraction"].get<double>(), 1.0);  // an hour into a minute
  EXPECT_FALSE(c4.contains("audit"));
  EXPECT_EQ(body.dump().find("hmac-of-the-customer"), std::string::npos);  // no customer keys
}

TEST_F(ApiTest, FiltersCases) {
  EXPECT_EQ(CaseIds(Get("/api/cases?state=OPEN").second), (std::vector<std::string>{"c4", "c1"}));
  EXPECT_EQ(CaseIds(Get("/api/cases?severity=HIGH").second),
            (std::vector<std::string>{"c5", "c1"}));
  EXPECT_EQ(CaseIds(Get("/api/cases?queue=sales").second), (std::vector<std::string>{"c4", "c3"}));
  EXPECT_EQ(CaseIds(Get("/api/cases?category=fees").second),
            (std::vector<std::string>{"c4", "c2", "c1"}));
  EXPECT_EQ(CaseIds(Get("/api/cases?breached=true").second),
            (std::vector<std::string>{"c4", "c1"}));
  EXPECT_EQ(CaseIds(Get("/api/cases?breached=false&queue=billing").second),
            (std::vector<std::string>{"c5", "c2"}));
  EXPECT_EQ(CaseIds(Get("/api/cases?state=REFERRED").second), std::vector<std::string>{});
}

TEST_F(ApiTest, PaginatesWithACursor) {
  auto [s1, page1] = Get("/api/cases?limit=2");
  ASSERT_EQ(s1, 200);
  EXPECT_EQ(CaseIds(page1), (std::vector<std::string>{"c5", "c4"}));
  ASSERT_TRUE(page1["next_cursor"].is_string());
  auto [s2, page2] = Get("/api/cases?limit=2&cursor=" + page1["next_cursor"].get<std::string>());
  EXPECT_EQ(CaseIds(page2), (std::vector<std::string>{"c3", "c2"}));
  auto [s3, page3] = Get("/api/cases?limit=2&cursor=" + page2["next_cursor"].get<std::string>());
  EXPECT_EQ(CaseIds(page3), (std::vector<std::string>{"c1"}));
  EXPECT_TRUE(page3["next_cursor"].is_null());
}

TEST_F(ApiTest, BadParametersAre400WithTheReason) {
  for (const char* target :
       {"/api/cases?state=SHOUTING", "/api/cases?severity=extreme", "/api/cases?breached=maybe",
        "/api/cases?limit=0", "/api/cases?limit=501", "/api/cases?limit=ten",
        "/api/cases?cursor=nonsense"}) {
    auto [status, body] = Get(target);
    EXPECT_EQ(status, 400) << target;
    EXPECT_EQ(body["error"]["status"], 400) << target;
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty()) << target;
  }
  EXPECT_NE(
      Get("/api/cases?state=SHOUTING").second["error"]["message"].get<std::string>().find("state"),
      std::string::npos);
}

TEST_F(ApiTest, OneCaseWithItsAuditTrailOr404) {
  auto [status, body] = Get("/api/cases/c4");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["case"]["case_id"], "c4");
  ASSERT_EQ(body["case"]["audit"].size(), 1u);
  EXPECT_EQ(body["case"]["audit"][0]["what"], "opened");
  EXPECT_EQ(body["instance"]["partitions"], json({0, 2}));
  auto [missing, error] = Get("/api/cases/no-such-case");
  EXPECT_EQ(missing, 404);
  EXPECT_NE(error["error"]["message"].get<std::string>().find("no-such-case"), std::string::npos);
  EXPECT_EQ(Get("/api/nothing-here").first, 404);
}

TEST_F(ApiTest, LiveContactsExcludeEndedOnesHighestScoreFirst) {
  auto [status, body] = Get("/api/contacts/live");
  ASSERT_EQ(status, 200);
  std::vector<std::string> ids;
  for (const json& c : body["contacts"]) ids.push_back(c["contact_id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"k2", "k4", "k1"}));
  EXPECT_EQ(body["contacts"][0]["state"], "ANSWERED");
  EXPECT_EQ(body["contacts"][0]["escalated"], true);
  EXPECT_EQ(body["contacts"][0]["cues"][0]["detail"], "manager");
  EXPECT_EQ(body["contacts"][2]["state"], "QUEUED");
}

TEST_F(ApiTest, QueuesHaveServiceLevelWaitingAndOpenCases) {
  auto record = [&](domain::OutcomeKind kind, const std::string& queue, double value) {
    domain::Outcome o;
    o.kind = kind;
    o.queue = queue;
    o.value = value;
    windows_.Record(o);
  };
  for (int i = 0; i < 4; ++i) record(domain::OutcomeKind::kContactOffered, "billing", 0);
  for (double wait : {10.0, 30.0}) record(domain::OutcomeKind::kContactAnswered, "billing", wait);
  record(domain::OutcomeKind::kAnsweredWithinThreshold, "billing", 0);
  record(domain::OutcomeKind::kContactAbandoned, "billing", 50);
  auto [status, body] = Get("/api/queues");
  ASSERT_EQ(status, 200);
  std::map<std::string, json> by_queue;
  for (const json& q : body["queues"]) by_queue[q["queue"]] = q;
  ASSERT_TRUE(by_queue.contains("billing"));
  ASSERT_TRUE(by_queue.contains("sales"));
  const json& billing = by_queue["billing"];
  EXPECT_DOUBLE_EQ(billing["service_level_15m"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(billing["asa_15m_s"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(billing["abandonment_15m"].get<double>(), 0.25);
  EXPECT_EQ(billing["offered_15m"], 4);
  EXPECT_EQ(billing["waiting"], 1);  // k1 queued; k2 answered; k3 ended
  EXPECT_EQ(billing["open_cases"], json({{"LOW", 1}, {"MEDIUM", 0}, {"HIGH", 2}, {"CRITICAL", 0}}));
  EXPECT_DOUBLE_EQ(billing["target"].get<double>(), 0.8);
  const json& sales = by_queue["sales"];
  EXPECT_TRUE(sales["service_level_15m"].is_null());  // nothing answered: no ratio
  EXPECT_EQ(sales["waiting"], 1);
  EXPECT_EQ(sales["open_cases"]["CRITICAL"], 1);  // c3 is closed, c4 open
  EXPECT_EQ(sales["open_cases"]["MEDIUM"], 0);
}

TEST_F(ApiTest, TokenIsRequiredAndThePageIsServed) {
  EXPECT_EQ(Get("/api/queues", /*with_token=*/false).first, 401);
  EXPECT_EQ(Get("/", /*with_token=*/false).first, 401);
  auto [status, body] = Get("/?access_token=" + token_, /*with_token=*/false);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "<html>wallboard</html>");
}

// Reads the alert stream over a raw socket until `events` alerts arrived (or 5 s passed).
std::string ReadStream(int port, const std::string& headers, int events) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return "";
  const std::string request = "GET /api/alerts/stream HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n";
  (void)!::write(fd, request.data(), request.size());
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string got;
  char buffer[4096];
  auto count = [&] {
    int n = 0;
    for (size_t at = got.find("event: alert"); at != std::string::npos;
         at = got.find("event: alert", at + 1)) {
      ++n;
    }
    return n;
  };
  while (count() < events) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    got.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

v1::Alert Alert(const std::string& id, v1::AlertKind kind) {
  v1::Alert a;
  a.set_alert_id(id);
  a.set_kind(kind);
  a.set_case_id("case-" + id);
  a.set_customer_key("hmac-of-the-customer");
  return a;
}

TEST_F(ApiTest, AlertStreamSendsCommittedAlertsAndResumesAfterLastEventId) {
  const std::string auth = "Authorization: Bearer " + token_ + "\r\n";
  std::thread publisher([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    feed_.Publish({Alert("a1", v1::SLA_BREACH), Alert("a2", v1::ESCALATION)});
  });
  const std::string live = ReadStream(server_->port(), auth, 2);
  publisher.join();
  EXPECT_NE(live.find("Content-Type: text/event-stream"), std::string::npos) << live;
  EXPECT_NE(live.find("id: 1\nevent: alert\ndata: {"), std::string::npos) << live;
  EXPECT_NE(live.find("\"alert_id\":\"a2\""), std::string::npos) << live;
  EXPECT_EQ(live.find("hmac-of-the-customer"), std::string::npos);
  feed_.Publish({Alert("a3", v1::SLA_WARNING)});
  // A client that saw alert 1 gets 2 and 3 on reconnecting.
  const std::string resumed = ReadStream(server_->port(), auth + "Last-Event-ID: 1\r\n", 2);
  EXPECT_EQ(resumed.find("\"alert_id\":\"a1\""), std::string::npos) << resumed;
  EXPECT_NE(resumed.find("id: 2\n"), std::string::npos) << resumed;
  EXPECT_NE(resumed.find("id: 3\n"), std::string::npos) << resumed;
}

TEST(AlertFeedTest, KeepsTheLastAlertsNumberedInOrderAndShowsThemAsJson) {
  AlertFeed feed(/*capacity=*/3);
  std::atomic<bool> stopping{false};
  const std::vector<v1::Alert> batch = {Alert("a1", v1::SLA_BREACH), Alert("a2", v1::ESCALATION),
                                        Alert("a3", v1::SLA_WARNING), Alert("a4", v1::CASE_OPENED),
                                        Alert("a5", v1::LIVE_SLA_WARNING)};
  feed.Publish(batch);
  EXPECT_EQ(feed.last(), 5);
  // Only the last three are held; the first two were numbered and dropped.
  auto held = feed.Next(0, 10, 0, stopping);
  ASSERT_EQ(held.size(), 3u);
  for (size_t i = 0; i < held.size(); ++i) {
    EXPECT_EQ(held[i].first, static_cast<int64_t>(i) + 3);
    EXPECT_EQ(held[i].second, AlertJson(batch[i + 2]));
  }
  // A second reader gets the same text; a later batch pushes the oldest out.
  EXPECT_EQ(feed.Next(3, 1, 0, stopping), (std::vector<std::pair<int64_t, std::string>>{held[1]}));
  feed.Publish({Alert("a6", v1::SLA_BREACH)});
  held = feed.Next(0, 10, 0, stopping);
  ASSERT_EQ(held.size(), 3u);
  EXPECT_EQ(held.front().first, 4);
  EXPECT_EQ(held.back().first, 6);
  EXPECT_NE(held.back().second.find("\"alert_id\":\"a6\""), std::string::npos)
      << held.back().second;
}

TEST(QueueWindowsTest, OldMinutesLeaveTheWindow) {
  int64_t now = 1'800'000'000'000;
  QueueWindows windows([&] { return now; });
  domain::Outcome offered;
  offered.kind = domain::OutcomeKind::kContactOffered;
  offered.queue = "q";
  windows.Record(offered);
  now += 20 * 60'000;
  windows.Record(offered);
  EXPECT_EQ(windows.Window(15).at("q").offered, 1);
  EXPECT_EQ(windows.Window(60).at("q").offered, 2);
  now += 50 * 60'000;
  EXPECT_FALSE(windows.Window(15).contains("q"));
  EXPECT_EQ(windows.Window(60).at("q").offered, 1);
}

}  // namespace
}  // namespace ccstream::api
