#include "processor/http/server.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "civetweb.h"
#include "nlohmann/json.hpp"

namespace ccstream::http {
namespace {

constexpr int64_t kMaxBody = 4 << 20;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string UrlDecode(std::string_view in) {
  std::string out(in.size() + 1, '\0');
  const int n = mg_url_decode(in.data(), static_cast<int>(in.size()), out.data(),
                              static_cast<int>(out.size()), /*is_form_url_encoded=*/1);
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::map<std::string, std::string> ParseQuery(const char* query) {
  std::map<std::string, std::string> out;
  if (query == nullptr) return out;
  std::string_view rest(query);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      out[UrlDecode(pair)] = "";
    } else {
      out[UrlDecode(pair.substr(0, eq))] = UrlDecode(pair.substr(eq + 1));
    }
  }
  return out;
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

class ConnectionWriter : public StreamWriter {
 public:
  explicit ConnectionWriter(mg_connection* conn) : conn_(conn) {}
  bool Write(std::string_view bytes) override {
    if (bytes.empty()) return true;
    return mg_write(conn_, bytes.data(), bytes.size()) > 0;
  }

 private:
  mg_connection* conn_;
};

void InitLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

}  // namespace

std::optional<std::string> Request::Param(const std::string& name) const {
  const auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::string Request::Header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Response Response::JsonError(int status, std::string_view message) {
  nlohmann::json body = {{"error", {{"status", status}, {"message", std::string(message)}}}};
  return Json(body.dump(), status);
}

Response Response::Text(std::string body, int status) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::Json(std::string body, int status) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

void WriteResponse(mg_connection* conn, const Response& response, bool head_only) {
  std::string head =
      absl::StrCat("HTTP/1.1 ", response.status, " ", Reason(response.status),
                   "\r\nContent-Type: ", response.content_type,
                   "\r\nContent-Length: ", response.body.size(), "\r\nCache-Control: no-store\r\n");
  for (const auto& [name, value] : response.headers)
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  head += "\r\n";
  mg_write(conn, head.data(), head.size());
  if (!head_only && !response.body.empty()) {
    mg_write(conn, response.body.data(), response.body.size());
  }
}

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Server::~Server() {
  stopping_ = true;
  if (ctx_ != nullptr) mg_stop(ctx_);
}

void Server::AddRoute(const std::string& path, Route route) {
  const bool prefix = path.size() > 1 && path.back() == '/';
  (prefix ? prefix_ : exact_)[path] = std::move(route);
}

void Server::Handle(const std::string& path, Handler handler, bool auth) {
  AddRoute(path, Route{std::move(handler), nullptr, auth});
}

void Server::HandlePost(const std::string& path, Handler handler, bool auth) {
  AddRoute(path, Route{std::move(handler), nullptr, auth, /*post=*/true});
}

void Server::HandleStream(const std::string& path, StreamHandler handler, bool auth) {
  AddRoute(path, Route{nullptr, std::move(handler), auth});
}

absl::Status Server::Start() {
  InitLibrary();
  const std::string ports = absl::StrCat(options_.bind_address, ":", options_.port);
  const std::string threads = std::to_string(std::max(2, options_.threads));
  const char* mg_options[] = {
      "listening_ports", ports.c_str(),       "num_threads", threads.c_str(), "request_timeout_ms",
      "30000",           "enable_keep_alive", "yes",         nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };  // quiet
  ctx_ = mg_start(&callbacks, this, mg_options);
  if (ctx_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", ports, " (address in use or not available?)"));
  }
  mg_set_request_handler(ctx_, "/", &Server::Dispatch, this);
  mg_server_port bound[4];
  const int n = mg_get_server_ports(ctx_, 4, bound);
  port_ = n > 0 ? bound[0].port : options_.port;
  return absl::OkStatus();
}

int Server::Dispatch(mg_connection* conn, void* self) {
  return static_cast<Server*>(self)->Serve(conn);
}

const Server::Route* Server::Find(const std::string& path) const {
  if (const auto it = exact_.find(path); it != exact_.end()) return &it->second;
  const Route* best = nullptr;
  size_t best_length = 0;
  for (const auto& [prefix, route] : prefix_) {
    if (path.size() >= prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
        prefix.size() > best_length) {
      best = &route;
      best_length = prefix.size();
    }
  }
  return best;
}

bool Server::Authorized(const Request& request) const {
  if (options_.auth_token.empty()) return true;
  std::string presented;
  const std::string header = request.Header("authorization");
  if (header.size() > 7 && Lower(header.substr(0, 7)) == "bearer ") {
    presented = header.substr(7);
  } else if (auto param = request.Param("access_token")) {
    presented = *param;  // for EventSource and page loads, which cannot set headers
  }
  return presented.size() == options_.auth_token.size() &&
         CRYPTO_memcmp(presented.data(), options_.auth_token.data(), presented.size()) == 0;
}

int Server::Serve(mg_connection* conn) {
  ++requests_;
  const mg_request_info* info = mg_get_request_info(conn);
  Request request;
  request.method = info->request_method != nullptr ? info->request_method : "";
  request.path = info->local_uri != nullptr ? info->local_uri : "/";
  request.query = ParseQuery(info->query_string);
  for (int i = 0; i < info->num_headers; ++i) {
    request.headers[Lower(info->http_headers[i].name)] = info->http_headers[i].value;
  }
  const bool head = request.method == "HEAD";
  const Route* route = Find(request.path);
  Response response;
  if (route == nullptr) {
    response = Response::JsonError(404, absl::StrCat("no such path: ", request.path));
  } else if (route->post ? request.method != "POST" : (request.method != "GET" && !head)) {
    response = Response::JsonError(405, absl::StrCat(request.method, " is not allowed here"));
    response.headers.emplace_back("Allow", route->post ? "POST" : "GET, HEAD");
  } else if (route->post && info->content_length > kMaxBody) {
    response = Response::JsonError(413, "request body too large");
  } else if (route->auth && !Authorized(request)) {
    response = Response::JsonError(401, "a valid bearer token is required");
    response.headers.emplace_back("WWW-Authenticate", "Bearer");
  } else if (route->stream) {
    ConnectionWriter writer(conn);
    route->stream(request, writer, stopping_);
    return 200;
  } else {
    if (route->post && info->content_length > 0) {
      request.body.resize(static_cast<size_t>(info->content_length));
      size_t got = 0;
      while (got < request.body.size()) {
        const int n = mg_read(conn, request.body.data() + got, request.body.size() - got);
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      request.body.resize(got);
    }
    try {
      response = route->handler(request);
    } catch (const std::exception& e) {
      response = Response::JsonError(500, e.what());
    }
  }
  WriteResponse(conn, response, head);
  return response.status;
}

absl::StatusOr<ClientResponse> Fetch(const std::string& method, const std::string& url,
                                     const std::string& body,
                                     const std::vector<std::string>& headers, int timeout_ms) {
  InitLibrary();
  constexpr std::string_view kScheme = "http://";
  if (url.compare(0, kScheme.size(), kScheme) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(url, ": only http:// URLs are supported"));
  }
  const std::string rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = authority.rfind(':');
  const std::string host = authority.substr(0, colon);
  int port = 80;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(authority.substr(colon + 1));
    } catch (const std::exception&) {
      return absl::InvalidArgumentError(absl::StrCat(url, ": bad port"));
    }
  }
  char error[256] = {0};
  mg_connection* conn = mg_connect_client(host.c_str(), port, 0, error, sizeof(error));
  if (conn == nullptr) {
    return absl::UnavailableError(absl::StrCat("connect to ", authority, ": ", error));
  }
  std::string head = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: ", authority,
                                  "\r\nConnection: close\r\nContent-Length: ", body.size(), "\r\n");
  for (const std::string& h : headers) absl::StrAppend(&head, h, "\r\n");
  head += "\r\n";
  head += body;
  if (mg_write(conn, head.data(), head.size()) <= 0) {
    mg_close_connection(conn);
    return absl::UnavailableError(absl::StrCat("write to ", authority, " failed"));
  }
  if (mg_get_response(conn, error, sizeof(error), timeout_ms) < 0) {
    mg_close_connection(conn);
    return absl::UnavailableError(absl::StrCat(method, " ", url, ": ", error));
  }
  ClientResponse out;
  const mg_response_info* info = mg_get_response_info(conn);
  out.status = info->status_code;
  for (int i = 0; i < info->num_headers; ++i) {
    out.headers[Lower(info->http_headers[i].name)] = info->http_headers[i].value;
  }
  char buffer[8192];
  for (;;) {
    const int n = mg_read(conn, buffer, sizeof(buffer));
    if (n <= 0) break;
    out.body.append(buffer, static_cast<size_t>(n));
  }
  mg_close_connection(conn);
  return out;
}

}  // namespace ccstream::http
