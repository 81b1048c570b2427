#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

struct mg_context;
struct mg_connection;

namespace ccstream::http {

// One HTTP request as a handler sees it.
struct Request {
  std::string method;  // "GET", "POST" …
  std::string path;    // URL-decoded path without the query, e.g. "/api/cases/abc"
  std::map<std::string, std::string> query;    // decoded query parameters (last one wins)
  std::map<std::string, std::string> headers;  // header names lower-cased
  std::string body;                            // POST routes only (at most 4 MiB)
  // The query parameter `name`, or nullopt.
  std::optional<std::string> Param(const std::string& name) const;
  // The header `name` (lower-case), or "".
  std::string Header(const std::string& name) const;
};

// A whole response, written with Content-Length.
struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // A JSON error body {"error": {"status": N, "message": "..."}} with that status.
  static Response JsonError(int status, std::string_view message);
  // A plain-text body with status 200 (or `status`).
  static Response Text(std::string body, int status = 200);
  // A JSON body with status 200 (or `status`).
  static Response Json(std::string body, int status = 200);
};

// Writes a streamed response (server-sent events): chunks go out as they are written.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Writes bytes to the client; false once the client has gone away.
  virtual bool Write(std::string_view bytes) = 0;
};

using Handler = std::function<Response(const Request&)>;
// Runs for the life of the stream: writes the status line and headers through `writer` itself,
// returns when the client goes away or the server stops (`stopping` becomes true).
using StreamHandler =
    std::function<void(const Request&, StreamWriter& writer, const std::atomic<bool>& stopping)>;

struct ServerOptions {
  std::string bind_address = "127.0.0.1";  // IPv4 address to listen on
  int port = 9464;                         // 0 = any free port (see Server::port)
  int threads = 8;                         // worker threads (each open stream holds one)
  // Bearer token required by routes registered with `auth = true`; empty = no authentication.
  std::string auth_token;
};

// A small HTTP/1.1 server (civetweb underneath) for /metrics, the health probes, the JSON API
// and the wallboard. Routes are registered before Start; a path matches an exact route first,
// then the longest prefix route (registered with a trailing '/'). Handlers run on the server's
// worker threads, never on the pipeline's: they must only read thread-safe state.
class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stops the server and waits for its handlers to return
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // GET (and HEAD) route. `auth`: requires the bearer token when one is configured.
  void Handle(const std::string& path, Handler handler, bool auth = false);
  void HandleStream(const std::string& path, StreamHandler handler, bool auth = false);
  // POST route (the request body is read into Request::body).
  void HandlePost(const std::string& path, Handler handler, bool auth = false);

  // Binds and starts serving; an error naming the address when it cannot.
  absl::Status Start();
  // The port actually bound (after Start), useful with port 0.
  int port() const { return port_; }
  // Requests served since start (all routes, all statuses).
  int64_t requests() const { return requests_.load(); }

 private:
  struct Route {
    Handler handler;
    StreamHandler stream;
    bool auth = false;
    bool post = false;
  };
  // Exact route, or prefix route when `path` ends in '/'.
  void AddRoute(const std::string& path, Route route);
  static int Dispatch(mg_connection* conn, void* self);
  int Serve(mg_connection* conn);
  const Route* Find(const std::string& path) const;
  bool Authorized(const Request& request) const;

  const ServerOptions options_;
  std::map<std::string, Route> exact_;
  std::map<std::string, Route> prefix_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> requests_{0};
};

// Writes `response` on `conn` (status line, headers, body). Exposed for tests of raw output.
void WriteResponse(mg_connection* conn, const Response& response, bool head_only);

// A minimal HTTP/1.1 client for tests and the Alertmanager sink: one request per connection.
struct ClientResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
};
// `url`: "http://host:port/path?query". Headers as "Name: value" lines. Times out after
// `timeout_ms` (connect and response).
absl::StatusOr<ClientResponse> Fetch(const std::string& method, const std::string& url,
                                     const std::string& body = "",
                                     const std::vector<std::string>& headers = {},
                                     int timeout_ms = 5000);

}  // namespace ccstream::http
