// Router: maps (method, path pattern) to a handler. Patterns are literal
// segments, "{param}" segments ("/v1/agents/{name}/suspend") and, last only,
// one "{name...}" tail matching the rest of the path ("/proxy/{service}/{path...}").
// Dispatch answers 404 (JSON) for an unknown path, 405 with Allow for a known
// path and another method, and 400 for a tail holding "." or ".." or an empty
// segment before its end. Routes are added before serving starts; Dispatch is
// then safe from many threads (the table is read-only).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "warden/core/status.h"

namespace warden::server {

// The kernel's record of the process at the other end of a Unix-socket
// connection (SO_PEERCRED), read once when the connection was accepted.
// Plain transport data; attestation decides what it proves.
struct UnixPeer {
  int64_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  // CLOCK_BOOTTIME at accept in clock ticks (sysconf(_SC_CLK_TCK)), the unit of
  // the starttime field of /proc/<pid>/stat: a process whose starttime is
  // later than this cannot be the peer (its pid was reused).
  uint64_t accepted_at_ticks = 0;
};

// One parsed HTTP request, transport-independent.
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target
  std::string path;    // target without the query string
  std::map<std::string, std::string, std::less<>> query;   // percent-decoded
  // From "{name}" segments, and the tail of "{name...}": its decoded segments
  // joined by '/', no leading '/' ("v1/invoices/42"; "v1/" for a trailing
  // slash; "" for the path ending right after the preceding '/').
  std::map<std::string, std::string, std::less<>> params;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;         // peer IP, e.g. "127.0.0.1"; "unix" over a Unix socket
  std::optional<UnixPeer> unix_peer;  // set only for requests over a Unix socket
  std::string route;                  // matched pattern, or "unmatched"; set by Dispatch
  // Why the query string could not be parsed into `query` (bad escapes,
  // repeated keys), or OK. Routes that read `query` refuse the request
  // through OnlyQueryParams; routes that relay the raw query (the proxy)
  // are free to.
  Status query_status;

  // First header value with that (case-insensitive) name, or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct Response;

// A response that is not ready yet (long-poll). The transport calls `poll`
// periodically on an I/O thread; `final` is true at the deadline or when the
// server shuts down, and then `poll` must return a response.
struct Deferred {
  std::chrono::steady_clock::time_point deadline;
  std::function<std::optional<Response>(bool final)> poll;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::shared_ptr<Deferred> deferred;                        // set for long-polls
  bool close = false;  // close the connection after this response

  // `value` serialised, with Content-Type application/json.
  static Response Json(unsigned status, const boost::json::value& value);
  static Response Text(unsigned status, std::string content_type, std::string body);
  // The JSON error body for `status` with its HTTP status (see errors.h).
  static Response Error(const Status& status);
  // Same body with an explicit HTTP status (413, 415, 405, ...).
  static Response Error(const Status& status, unsigned http_status);
};

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  // Registers a route. InvalidArgument for a malformed pattern; AlreadyExists
  // when the same method and pattern are registered twice.
  Status Add(std::string_view method, std::string_view pattern, Handler handler);

  // Finds the route, fills request.params and request.route, and runs its
  // handler. Unknown path: 404; known path with another method: 405 + Allow.
  Response Dispatch(Request& request) const;

  // The pattern matching `path` (for metrics labels), or "unmatched".
  std::string RouteFor(std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // "{x}" marks a parameter, "{x...}" the tail
    Handler handler;
    bool tail = false;  // the last segment is "{x...}"
  };
  static std::optional<std::map<std::string, std::string, std::less<>>> Match(
      const Route& route, const std::vector<std::string>& path_segments);
  std::vector<Route> routes_;
};

// The value of header `name` (case-insensitive) in `headers`, nullopt when
// absent; InvalidArgument (field `name`) when it appears more than once: two
// values would let two components read two different things.
Result<std::optional<std::string_view>> SingleHeader(
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name);

// Splits "/a/b" into {"a","b"} and percent-decodes each segment.
// InvalidArgument for a path not starting with '/', bad escapes or "%2F"/NUL.
Result<std::vector<std::string>> SplitPath(std::string_view path);

// The rule a "{name...}" tail obeys, for paths parsed elsewhere (a check
// request's original URI): from segments[from] on, no "." or ".." segment
// and no empty segment except the last (a trailing slash). InvalidArgument
// with field "path".
Status CheckPathSegments(const std::vector<std::string>& segments, size_t from);

// Percent-decodes a query component ('+' is a space). InvalidArgument on bad escapes.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// Parses "a=1&b=x" into a map. InvalidArgument on bad escapes or repeated keys.
Result<std::map<std::string, std::string, std::less<>>> ParseQuery(std::string_view query);

}  // namespace warden::server
