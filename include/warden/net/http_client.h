// HttpClient: Warden's blocking HTTP/1.1 and HTTPS client, used by the
// `warden` command to talk to `warden serve` (over TCP or its Unix domain
// socket) and by the gateway to reach upstream services. One connection per
// request, or one kept open between requests (keep_alive), a deadline on
// every request (name resolution included),
// certificate and host name verification for https.
// Thread-safety: one HttpClient per thread; calls must not overlap.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "warden/core/status.h"

namespace warden::net {

// A server base address: "http://host:port", "https://host:port" or
// "unix:/path/to/socket".
struct ServerUrl {
  bool tls = false;
  std::string host;       // without brackets for IPv6 literals; empty for unix:
  std::string port;       // decimal; empty for unix:
  std::string unix_path;  // absolute socket path for unix:, else empty
  // The canonical form, e.g. "http://127.0.0.1:8181", "https://[::1]:8443"
  // or "unix:/var/lib/warden/public/workload.sock".
  std::string ToString() const;
};

// Parses a base URL. Accepts an optional trailing "/"; rejects user info,
// paths, queries, fragments and schemes other than http and https.
// A bare "host:port" (as written to serve.addr) is read as http.
// "unix:/abs/path.sock" (also "unix:///abs/path.sock") names a Unix domain
// socket; "unix:relative.sock" is resolved against the current directory.
// Errors: InvalidArgument naming what is wrong.
Result<ServerUrl> ParseServerUrl(std::string_view text);

struct HttpClientOptions {
  // PEM file with the CA certificates trusted for https; empty means the
  // system's default trust store.
  std::string cacert_file;
  // Largest response body accepted.
  size_t max_response_bytes = size_t{64} << 20;
  // When set, SIGINT and SIGTERM end the request in progress (or the next
  // one) with Aborted("interrupted") and interrupted() turns true.
  bool stop_on_interrupt = false;
  // Keep the connection open between requests (HTTP/1.1 persistent
  // connections) when the server agrees. A kept connection is used again
  // only if it has been idle for less than max_idle (below common server
  // idle timeouts) and the server has not closed it meanwhile. When a kept
  // connection fails before any byte of an answer, an idempotent request
  // (GET, HEAD, OPTIONS, PUT, DELETE) is sent once more on a new connection;
  // any other request fails with Unavailable (never sent twice).
  bool keep_alive = false;
  std::chrono::milliseconds max_idle{2000};
};

struct HttpRequest {
  std::string method;  // "GET", "POST", "PATCH", ...
  std::string target;  // origin-form path and query: "/v1/agents?status=active"
  std::string body;    // sent with Content-Type application/json when non-empty
  std::string bearer_token;  // Authorization header when non-empty; never logged
  // Further headers (e.g. "Authorization: DPoP ..." and "DPoP"); values are
  // credentials and never logged. Set after the defaults, so they win (a
  // "Content-Type" or "Accept" here replaces the JSON default). A name that
  // is not an RFC 9110 token, or a value with CR, LF or NUL, makes Send fail
  // with InvalidArgument (no header injection).
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  // Every response header in order received (names as sent by the server);
  // compare names case-insensitively, or use Header().
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header named `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

class HttpClient {
 public:
  // Errors: InvalidArgument for a bad URL or an unreadable --cacert file.
  static Result<std::unique_ptr<HttpClient>> Create(std::string_view server_url,
                                                    const HttpClientOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads the whole response within `timeout`.
  // Any HTTP status is a successful call. Errors: Unavailable (cannot
  // resolve, connect, TLS handshake failure, connection dropped, no socket
  // at a unix: path), PermissionDenied (unix: socket not accessible),
  // DeadlineExceeded, ResourceExhausted (response too large),
  // Aborted("interrupted") after a signal when stop_on_interrupt is set.
  Result<HttpResponse> Send(const HttpRequest& request, std::chrono::milliseconds timeout);

  const ServerUrl& url() const { return url_; }
  struct Connection;  // an open connection (defined in the implementation)
  bool interrupted() const { return interrupted_; }

 private:
  HttpClient(ServerUrl url, HttpClientOptions options);
  Status Init();

  ServerUrl url_;
  HttpClientOptions options_;
  boost::asio::io_context io_;
  std::optional<boost::asio::ssl::context> ssl_;
  std::optional<boost::asio::signal_set> signals_;
  bool interrupted_ = false;
  std::unique_ptr<Connection> conn_;  // kept between requests with keep_alive
};

}  // namespace warden::net
