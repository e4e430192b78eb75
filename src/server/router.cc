#include "warden/server/router.h"

#include <algorithm>

#include "warden/core/json.h"
#include "warden/core/text.h"
#include "warden/server/errors.h"

namespace warden::server {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsParam(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

// "{name...}": the rest of the path.
bool IsTail(std::string_view seg) { return IsParam(seg) && seg.ends_with("...}"); }

std::string ParamName(std::string_view seg) {
  seg = seg.substr(1, seg.size() - 2);
  if (seg.ends_with("...")) seg.remove_suffix(3);
  return std::string(seg);
}

}  // namespace

// A tail is handed to handlers that rebuild a path from it (and forward it
// upstream), so it must not climb out of its prefix ("..", including the
// escaped "%2E%2E", which arrives decoded here), hide a segment (".") or
// carry an empty segment that upstreams normalise differently ("a//b").
// Only the last segment may be empty: a trailing slash.
Status CheckPathSegments(const std::vector<std::string>& segs, size_t from) {
  for (size_t i = from; i < segs.size(); ++i) {
    if (segs[i] == "." || segs[i] == "..") {
      return InvalidArgument("dot segment \"" + segs[i] + "\" in path", "path");
    }
    if (segs[i].empty() && i + 1 != segs.size()) {
      return InvalidArgument("empty segment in path", "path");
    }
  }
  return OkStatus();
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsNoCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

Result<std::optional<std::string_view>> SingleHeader(
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  std::optional<std::string_view> found;
  for (const auto& [k, v] : headers) {
    if (!EqualsNoCase(k, name)) continue;
    if (found) return InvalidArgument("must appear at most once", std::string(name));
    found = std::string_view(v);
  }
  return found;
}

Response Response::Json(unsigned status, const boost::json::value& value) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(value);
  r.body += '\n';
  return r;
}

Response Response::Text(unsigned status, std::string content_type, std::string body) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::Error(const Status& status) {
  return Error(status, HttpStatusFor(status.code()));
}

Response Response::Error(const Status& status, unsigned http_status) {
  return Json(http_status, ErrorBody(status));
}

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return InvalidArgument("truncated percent escape");
      }
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgument("invalid percent escape");
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return InvalidArgument("NUL byte in escape");
      out += decoded;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::vector<std::string>> SplitPath(std::string_view path) {
  if (path.empty() || path.front() != '/') return InvalidArgument("path must start with '/'");
  std::vector<std::string> out;
  size_t start = 1;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    auto decoded = PercentDecode(seg, false);
    if (!decoded.ok()) return decoded.status();
    // An escaped slash would let one segment pose as two (or a parameter hold a path).
    if (decoded->find('/') != std::string::npos) return InvalidArgument("escaped '/' in path");
    out.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (out.size() == 1 && out[0].empty()) out.clear();  // "/"
  return out;
}

Result<std::map<std::string, std::string, std::less<>>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string, std::less<>> out;
  size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    size_t amp = query.find('&', start);
    std::string_view pair =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      auto key = PercentDecode(pair.substr(0, eq), true);
      if (!key.ok()) return InvalidArgument(key.status().message(), "query");
      std::string_view raw_value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
      auto value = PercentDecode(raw_value, true);
      if (!value.ok()) return InvalidArgument(value.status().message(), *key);
      if (out.contains(*key)) return InvalidArgument("repeated query parameter", *key);
      out.emplace(std::move(*key), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

Status Router::Add(std::string_view method, std::string_view pattern, Handler handler) {
  auto segs = SplitPath(pattern);
  if (!segs.ok()) return InvalidArgument("route pattern " + std::string(pattern) + ": " +
                                         segs.status().message());
  for (size_t i = 0; i < segs->size(); ++i) {
    const std::string& s = (*segs)[i];
    if (s.empty()) return InvalidArgument("route pattern " + std::string(pattern) + ": empty segment");
    if ((s.front() == '{') != (s.back() == '}') || (s.front() == '{' && !IsParam(s))) {
      return InvalidArgument("route pattern " + std::string(pattern) + ": bad parameter " + s);
    }
    if (IsParam(s)) {
      std::string name = ParamName(s);
      if (name.empty() || name.find_first_of("{}.") != std::string::npos) {
        return InvalidArgument("route pattern " + std::string(pattern) + ": bad parameter " + s);
      }
      if (IsTail(s) && i + 1 != segs->size()) {
        return InvalidArgument("route pattern " + std::string(pattern) + ": " + s +
                               " must be the last segment");
      }
    }
  }
  for (const auto& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      return AlreadyExists("route " + std::string(method) + " " + std::string(pattern));
    }
  }
  bool tail = !segs->empty() && IsTail(segs->back());
  routes_.push_back(Route{std::string(method), std::string(pattern), std::move(*segs),
                          std::move(handler), tail});
  return OkStatus();
}

std::optional<std::map<std::string, std::string, std::less<>>> Router::Match(
    const Route& route, const std::vector<std::string>& path_segments) {
  size_t fixed = route.tail ? route.segments.size() - 1 : route.segments.size();
  if (route.tail ? path_segments.size() <= fixed : path_segments.size() != fixed) {
    return std::nullopt;
  }
  std::map<std::string, std::string, std::less<>> params;
  for (size_t i = 0; i < fixed; ++i) {
    const auto& want = route.segments[i];
    if (IsParam(want)) {
      if (path_segments[i].empty()) return std::nullopt;
      params.emplace(ParamName(want), path_segments[i]);
    } else if (want != path_segments[i]) {
      return std::nullopt;
    }
  }
  if (route.tail) {
    std::string rest;
    for (size_t i = fixed; i < path_segments.size(); ++i) {
      if (i > fixed) rest += '/';
      rest += path_segments[i];
    }
    params.emplace(ParamName(route.segments.back()), std::move(rest));
  }
  return params;
}

std::string Router::RouteFor(std::string_view path) const {
  auto segs = SplitPath(path);
  if (!segs.ok()) return "unmatched";
  // Literal routes win over parameter routes ("/v1/audit/verify" vs "/v1/audit/{x}"),
  // and with as many literals a route of fixed length wins over a tail route.
  const Route* best = nullptr;
  size_t best_rank = 0;
  for (const auto& r : routes_) {
    if (!Match(r, *segs)) continue;
    size_t literals = std::count_if(r.segments.begin(), r.segments.end(),
                                    [](const std::string& s) { return !IsParam(s); });
    size_t rank = literals * 2 + (r.tail ? 0 : 1);
    if (best == nullptr || rank > best_rank) {
      best = &r;
      best_rank = rank;
    }
  }
  return best == nullptr ? "unmatched" : best->pattern;
}

Response Router::Dispatch(Request& request) const {
  auto segs = SplitPath(request.path);
  request.route = "unmatched";
  if (!segs.ok()) return Response::Error(InvalidArgument(segs.status().message(), "path"));
  std::string pattern = RouteFor(request.path);
  if (pattern == "unmatched") {
    return Response::Error(NotFound("no route for " + request.path));
  }
  request.route = pattern;
  // HEAD is answered by the GET route when there is no HEAD route of its own
  // (RFC 9110 9.3.2: the same answer without content; the connection layer
  // drops the body).
  const Route* get = nullptr;
  bool has_head = false;
  std::string allow;
  for (const auto& r : routes_) {
    if (r.pattern != pattern) continue;
    if (r.tail) {
      Status tail_ok = CheckPathSegments(*segs, r.segments.size() - 1);
      if (!tail_ok.ok()) return Response::Error(tail_ok);
    }
    if (r.method == request.method) {
      request.params = *Match(r, *segs);
      return r.handler(request);
    }
    if (r.method == "GET") get = &r;
    has_head = has_head || r.method == "HEAD";
    if (!allow.empty()) allow += ", ";
    allow += r.method;
  }
  if (get != nullptr && !has_head) {
    if (request.method == "HEAD") {
      request.params = *Match(*get, *segs);
      return get->handler(request);
    }
    allow += ", HEAD";
  }
  Response resp = Response::Error(
      InvalidArgument("method " + request.method + " not allowed on " + pattern + "; allowed: " +
                      allow),
      kHttpMethodNotAllowed);
  resp.headers.emplace_back("Allow", allow);
  return resp;
}

}  // namespace warden::server
