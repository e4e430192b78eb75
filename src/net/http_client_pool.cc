#include "warden/net/http_client_pool.h"

#include <utility>

namespace warden::net {

Result<std::unique_ptr<HttpClientPool>> HttpClientPool::Create(std::string_view server_url,
                                                               HttpClientOptions options,
                                                               size_t max_idle_clients) {
  options.keep_alive = true;
  // A first client proves the URL and the TLS settings usable now, and is
  // the pool's first idle client.
  WARDEN_ASSIGN_OR_RETURN(auto first, HttpClient::Create(server_url, options));
  std::unique_ptr<HttpClientPool> pool(
      new HttpClientPool(std::string(server_url), std::move(options), max_idle_clients));
  pool->idle_.push_back(std::move(first));
  return pool;
}

Result<HttpResponse> HttpClientPool::Send(const HttpRequest& request,
                                          std::chrono::milliseconds timeout) {
  std::unique_ptr<HttpClient> client;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!client) {
    WARDEN_ASSIGN_OR_RETURN(client, HttpClient::Create(server_url_, options_));
  }
  auto answer = client->Send(request, timeout);
  if (answer.ok()) {
    std::lock_guard lock(mu_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(client));
  }
  return answer;
}

}  // namespace warden::net
