#include "processor/http/server.h"

#include <gtest/gtest.h>

#include <thread>

namespace ccstream::http {
namespace {

ServerOptions Options(int port = 0, std::string token = "") {
  ServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = port;
  options.auth_token = std::move(token);
  return options;
}

std::string Url(const Server& server, const std::string& target) {
  return "http://127.0.0.1:" + std::to_string(server.port()) + target;
}

TEST(ServerTest, RoutesExactThenLongestPrefixAndDecodesQuery) {
  Server server(Options());
  server.Handle("/metrics", [](const Request&) { return Response::Text("exact"); });
  server.Handle("/api/", [](const Request&) { return Response::Text("api"); });
  server.Handle("/api/cases/", [](const Request& r) {
    return Response::Text(r.path + "|" + r.Param("state").value_or("-") + "|" +
                          r.Param("q").value_or("-"));
  });
  ASSERT_TRUE(server.Start().ok());
  ASSERT_GT(server.port(), 0);

  auto exact = Fetch("GET", Url(server, "/metrics"));
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_EQ(exact->status, 200);
  EXPECT_EQ(exact->body, "exact");
  auto prefix = Fetch("GET", Url(server, "/api/queues"));
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(prefix->body, "api");
  auto longest = Fetch("GET", Url(server, "/api/cases/c%201?state=OPEN&q=a+b%26c"));
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->body, "/api/cases/c 1|OPEN|a b&c");
  EXPECT_EQ(longest->headers["cache-control"], "no-store");
}

TEST(ServerTest, UnknownPathIs404JsonAndPostIs405) {
  Server server(Options());
  server.Handle("/healthz", [](const Request&) { return Response::Text("ok"); });
  ASSERT_TRUE(server.Start().ok());
  auto missing = Fetch("GET", Url(server, "/nope"));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->headers["content-type"], "application/json");
  EXPECT_NE(missing->body.find("\"status\":404"), std::string::npos) << missing->body;
  auto post = Fetch("POST", Url(server, "/healthz"), "x");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
}

TEST(ServerTest, BearerTokenGuardsOnlyAuthRoutes) {
  Server server(Options(0, "s3cret-token"));
  server.Handle("/healthz", [](const Request&) { return Response::Text("ok"); });
  server.Handle(
      "/api/queues", [](const Request&) { return Response::Json("[]"); }, true);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(Fetch("GET", Url(server, "/healthz"))->status, 200);
  auto none = Fetch("GET", Url(server, "/api/queues"));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->headers["www-authenticate"], "Bearer");
  EXPECT_EQ(
      Fetch("GET", Url(server, "/api/queues"), "", {"Authorization: Bearer wrong-token!"})->status,
      401);
  EXPECT_EQ(
      Fetch("GET", Url(server, "/api/queues"), "", {"Authorization: Bearer s3cret-token"})->status,
      200);
  EXPECT_EQ(Fetch("GET", Url(server, "/api/queues?access_token=s3cret-token"))->status, 200);
}

TEST(ServerTest, HandlerExceptionBecomes500) {
  Server server(Options());
  server.Handle("/boom", [](const Request&) -> Response { throw std::runtime_error("broken"); });
  ASSERT_TRUE(server.Start().ok());
  auto r = Fetch("GET", Url(server, "/boom"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("broken"), std::string::npos);
}

TEST(ServerTest, StreamWritesChunksUntilTheClientReadsThem) {
  Server server(Options());
  server.HandleStream("/stream", [](const Request&, StreamWriter& w, const std::atomic<bool>&) {
    w.Write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
    for (int i = 0; i < 3; ++i) w.Write("data: " + std::to_string(i) + "\n\n");
  });
  ASSERT_TRUE(server.Start().ok());
  auto r = Fetch("GET", Url(server, "/stream"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->headers["content-type"], "text/event-stream");
  EXPECT_EQ(r->body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
}

TEST(ServerTest, PortInUseIsAClearError) {
  Server first(Options());
  ASSERT_TRUE(first.Start().ok());
  Server second(Options(first.port()));
  const absl::Status status = second.Start();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(std::to_string(first.port())), std::string::npos);
}

TEST(FetchTest, RefusedConnectionAndBadUrlAreErrors) {
  EXPECT_FALSE(Fetch("GET", "https://127.0.0.1:1/").ok());
  EXPECT_FALSE(Fetch("GET", "http://127.0.0.1:x/").ok());
  int port = 0;
  {
    Server server(Options());
    ASSERT_TRUE(server.Start().ok());
    port = server.port();
  }  // stopped: nothing listens on the port any more
  auto refused = Fetch("GET", "http://127.0.0.1:" + std::to_string(port) + "/", "", {}, 1000);
  EXPECT_FALSE(refused.ok());
}

}  // namespace
}  // namespace ccstream::http
