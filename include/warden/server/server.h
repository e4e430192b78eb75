// The Warden HTTP server: initialises the data directory, opens the store,
// serves the JSON API on a small thread pool and shuts down gracefully.
// `warden serve` is RunServe; tests embed a Server directly (port 0).
// Server methods are thread-safe; Shutdown is idempotent.
#pragma once

#include <memory>
#include <string>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/server/options.h"

namespace warden::server {

class Server {
 public:
  // Validates `options`, initialises or checks DATA, opens the store, binds the
  // listener and starts serving. `clock` must outlive the Server.
  // Errors: InvalidArgument (options), FailedPrecondition (unsafe permissions,
  // non-loopback address without TLS), Unavailable (bind, store).
  static Result<std::unique_ptr<Server>> Start(const ServeOptions& options,
                                               const Clock& clock = SystemClock::Instance());
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound address, "127.0.0.1:43512" or "[::1]:43512".
  std::string ListenAddress() const;
  // "http://ADDR" or "https://ADDR".
  std::string BaseUrl() const;

  // Stops accepting, lets in-flight requests finish (at most
  // options.shutdown_timeout), then closes connections and the store.
  void Shutdown();

  // What SIGHUP runs: re-reads the signing keys from the store (a rotation by
  // another replica; deletes private files of keys past their publication
  // window) and reloads DATA/policies as `warden policy reload` does.
  // An invalid set is refused with its errors and the running set stays.
  Status ReloadPolicies();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `warden serve`: starts a Server, prints "warden: listening on URL" to stdout,
// blocks until SIGINT or SIGTERM, shuts down and returns the process exit code
// (0 after a clean shutdown, 1 when startup fails; the error is printed to stderr).
int RunServe(const ServeOptions& options);

}  // namespace warden::server
