// ApiClient: the Warden HTTP API as the `warden` command sees it: JSON in,
// JSON out, and the server's {"error":{...}} bodies turned back into Status
// values (code, message and field preserved). Private to the cli module.
// Thread-safety: one ApiClient per thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "warden/net/http_client.h"
#include "warden/core/json.h"
#include "warden/core/status.h"

namespace warden::cli {

// The HTTP client lives in the net module; the CLI names it unqualified.
using net::HttpClient;
using net::HttpClientOptions;
using net::HttpRequest;
using net::HttpResponse;
using net::ParseServerUrl;
using net::ServerUrl;


inline constexpr std::chrono::milliseconds kDefaultTimeout{30'000};

class ApiClient {
 public:
  // `token` is the admin bearer token (may be empty); it is sent only in the
  // Authorization header and never appears in errors.
  ApiClient(std::unique_ptr<HttpClient> http, std::string token)
      : http_(std::move(http)), token_(std::move(token)) {}

  // Sends `method target` with `body` (serialized, unless null) and returns
  // the parsed JSON of a 2xx response (null for an empty body). A non-2xx
  // answer becomes the Status the server described; transport failures are
  // the HttpClient's errors.
  Result<json::value> Call(std::string_view method, std::string target,
                           const json::value* body = nullptr,
                           std::chrono::milliseconds timeout = kDefaultTimeout);
  // Call with extra request headers (credentials other than the admin token).
  Result<json::value> CallWithHeaders(std::string_view method, std::string target,
                                      const json::value* body,
                                      std::vector<std::pair<std::string, std::string>> headers,
                                      std::chrono::milliseconds timeout = kDefaultTimeout);

  bool interrupted() const { return http_->interrupted(); }
  const ServerUrl& url() const { return http_->url(); }

 private:
  std::unique_ptr<HttpClient> http_;
  std::string token_;
};

// The Status for a non-2xx response: the server's error JSON when present,
// else one derived from the HTTP status code.
Status StatusFromErrorResponse(int http_status, std::string_view body);

// The StatusCode named `name` ("invalid_argument"); kUnknown maps to kInternal.
StatusCode StatusCodeFromName(std::string_view name);

// Percent-encodes everything but RFC 3986 unreserved characters, for one
// path segment or query value.
std::string UrlEscape(std::string_view text);

}  // namespace warden::cli
