// HTTP/1.1 transport on Boost.Beast: a listener (plain TCP, TLS 1.2+ or a Unix
// domain socket whose connections carry the peer's SO_PEERCRED), one
// session per connection with keep-alive, header and body limits, a read
// timeout, Expect: 100-continue, long-poll (Deferred) responses, and a
// graceful shutdown that stops accepting and lets in-flight requests finish.
// Requests are handed to one handler, run on a pool of handler threads so
// the I/O threads never block. Thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "server/internal/listen_address.h"
#include "warden/core/status.h"
#include "warden/server/router.h"

namespace boost::asio::ssl {
class context;
}

namespace warden::server::internal {

struct HttpServerOptions {
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds shutdown_timeout{10};
  int threads = 2;
  // Threads that run handlers (0: on the I/O threads), and how many
  // requests may wait for one before the server answers 503.
  int handler_threads = 0;
  size_t max_queued_requests = 4096;
};

// Longest Unix socket path bind() accepts: sun_path's size minus the terminator.
inline constexpr size_t kMaxUnixSocketPath = 107;

struct UnixListenOptions {
  std::string path;           // where the socket file is created; its directory must exist
  mode_t socket_mode = 0666;  // applied after bind so agents running as other users can connect
};

// Called once per request with the response status and the handling time
// (request complete -> response ready). `request.route` may be empty when the
// transport answered on its own (413, 431, 400).
using RequestObserver = std::function<void(const Request& request, unsigned status,
                                           double seconds)>;

class HttpServer {
 public:
  // Binds `address` (TLS when `tls` is set) and starts `options.threads`
  // threads. Unavailable when the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(const ListenAddress& address,
                                                   std::shared_ptr<boost::asio::ssl::context> tls,
                                                   const HttpServerOptions& options,
                                                   Handler handler, RequestObserver observer);
  // Binds an AF_UNIX stream socket at `unix_options.path` and starts
  // `options.threads` threads. A stale socket file there (a socket nobody
  // accepts on) is replaced; any other file, or a live socket, is
  // FailedPrecondition naming the path, and the file is left alone.
  // InvalidArgument for an empty or too long path or a mode beyond 0777;
  // FailedPrecondition when the directory does not exist; Unavailable when
  // bind/listen fail. Every request carries `unix_peer` and remote_address
  // "unix"; a connection whose SO_PEERCRED cannot be read is closed unserved.
  // Shutdown() removes the socket file (if it is still the one bound here).
  static Result<std::unique_ptr<HttpServer>> StartUnix(const UnixListenOptions& unix_options,
                                                       const HttpServerOptions& options,
                                                       Handler handler, RequestObserver observer);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (useful with port 0; 0 for a Unix socket) and "IP:PORT"
  // or "unix:<path>".
  uint16_t port() const;
  std::string address() const;

  // Stops accepting; idle connections close; requests in progress (including
  // long-polls, which are told to finish now) complete within
  // shutdown_timeout, then everything is closed and the threads joined.
  // Idempotent; must not be called from a handler.
  void Shutdown();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// TLS server context: TLS 1.2 minimum, the given PEM chain and key (which must
// match). InvalidArgument naming the file that cannot be used.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                  const std::string& key_file);

}  // namespace warden::server::internal
