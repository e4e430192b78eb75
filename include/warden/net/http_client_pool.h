// HttpClientPool: HttpClients to one server shared by many threads, each
// keeping its connection open between requests, so that a gateway in front
// of an upstream does not pay a TCP (and TLS) handshake per call.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/status.h"
#include "warden/net/http_client.h"

namespace warden::net {

class HttpClientPool {
 public:
  // Checks `server_url` and `options` as HttpClient::Create does
  // (InvalidArgument). options.keep_alive is forced on. At most
  // `max_idle_clients` idle connections are kept.
  static Result<std::unique_ptr<HttpClientPool>> Create(std::string_view server_url,
                                                        HttpClientOptions options,
                                                        size_t max_idle_clients = 16);

  // Sends on an idle client (or a new one) and returns it to the pool when
  // the exchange succeeded; a failed client is dropped (its connection's
  // state is unknown). Errors as HttpClient::Send.
  Result<HttpResponse> Send(const HttpRequest& request, std::chrono::milliseconds timeout);

 private:
  HttpClientPool(std::string server_url, HttpClientOptions options, size_t max_idle)
      : server_url_(std::move(server_url)), options_(std::move(options)), max_idle_(max_idle) {}

  const std::string server_url_;
  const HttpClientOptions options_;
  const size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpClient>> idle_;
};

}  // namespace warden::net
