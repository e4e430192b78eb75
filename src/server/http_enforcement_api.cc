#include "server/internal/http_enforcement_api.h"

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "server/internal/caller_auth.h"
#include "server/internal/log.h"
#include "warden/core/json.h"
#include "warden/core/text.h"
#include "warden/crypto/hash.h"
#include "warden/gateway/config.h"
#include "warden/gateway/enforcer.h"
#include "warden/server/errors.h"

namespace warden::server::internal {
namespace {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::array<std::string_view, 7> kMethods = {"GET",   "HEAD",   "POST",   "PUT",
                                                      "PATCH", "DELETE", "OPTIONS"};
// Largest upstream answer the proxy relays (it is held in memory whole).
constexpr size_t kMaxProxiedResponseBytes = size_t{32} << 20;
constexpr size_t kMaxTargetBytes = 8192;
constexpr size_t kMaxHostBytes = 255;

// Hop-by-hop headers (RFC 9110 section 7.6.1) describe one connection and are
// never relayed, in either direction.
bool IsHopByHop(std::string_view lower_name) {
  for (std::string_view h :
       {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade"}) {
    if (lower_name == h) return true;
  }
  return false;
}

// Header names listed in a Connection header (also hop-by-hop), lower-cased.
std::vector<std::string> ConnectionListed(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<std::string> out;
  for (const auto& [name, value] : headers) {
    if (AsciiLower(name) != "connection") continue;
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      std::string_view token = std::string_view(value).substr(
          start, comma == std::string::npos ? std::string::npos : comma - start);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
        token.remove_prefix(1);
      }
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.remove_suffix(1);
      if (!token.empty()) out.push_back(AsciiLower(token));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

bool Listed(const std::vector<std::string>& names, std::string_view name) {
  for (const auto& n : names) {
    if (n == name) return true;
  }
  return false;
}

// The agent's request headers that may reach the upstream. Credentials meant
// for Warden (Authorization, DPoP, Cookie) never do; nor does anything the
// agent could use to pose as Warden or as another hop (X-Warden-*,
// X-Forwarded-*, Forwarded), nor Host (the upstream's own authority is sent).
bool ForwardableRequestHeader(std::string_view lower_name,
                              const std::vector<std::string>& connection_listed) {
  if (IsHopByHop(lower_name) || Listed(connection_listed, lower_name)) return false;
  for (std::string_view h :
       {"authorization", "dpop", "cookie", "host", "content-length", "expect", "forwarded"}) {
    if (lower_name == h) return false;
  }
  return !lower_name.starts_with("x-warden-") && !lower_name.starts_with("x-forwarded-");
}

std::string Sha256Of(std::string_view s) { return crypto::Sha256Hex(s); }

json::array Strings(const std::vector<std::string>& v) {
  json::array out;
  for (const auto& s : v) out.emplace_back(s);
  return out;
}

Status ValidateHost(std::string_view host, std::string_view field) {
  if (host.empty() || host.size() > kMaxHostBytes) {
    return InvalidArgument("must be 1 to 255 characters", std::string(field));
  }
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
    if (!ok) {
      return InvalidArgument("must be a host name or IP literal with an optional port",
                             std::string(field));
    }
  }
  return OkStatus();
}

Status ValidateScheme(std::string_view scheme, std::string_view field) {
  if (scheme != "http" && scheme != "https") {
    return InvalidArgument("must be \"http\" or \"https\"", std::string(field));
  }
  return OkStatus();
}

// The raw path after the first `segments` segments of `path` ("/" at least).
// The router has matched a tail there, so the separators exist.
std::string RawSuffix(std::string_view path, size_t segments) {
  size_t pos = 0;
  for (size_t i = 0; i < segments; ++i) {
    pos = path.find('/', pos + 1);
    if (pos == std::string_view::npos) return "/";
  }
  return std::string(path.substr(pos));
}

std::string QueryOf(const Request& req) {
  size_t q = req.target.find('?');
  return q == std::string::npos ? std::string() : req.target.substr(q + 1);
}

// What is judged: one request to one service.
struct HttpCall {
  std::string service;
  std::string method;
  OriginalTarget target;
  std::string proof_uri;  // scheme://host + the path the client addressed
  std::string via;        // "proxy", "check.envoy", "check.nginx" or "check.json"
  std::optional<std::string> approval_id;
};

// The call a route with a "{path...}" tail names: this request's method, the
// tail after the route's first `segments` segments, and its raw query.
HttpCall RoutedCall(const Request& req, std::string service, size_t segments,
                    std::string via) {
  HttpCall call;
  call.service = std::move(service);
  call.method = req.method;
  call.target.raw_path = RawSuffix(req.path, segments);
  call.target.path = "/" + req.params.at("path");
  call.target.query = QueryOf(req);
  call.via = std::move(via);
  return call;
}

gateway::Operation MakeOperation(const HttpCall& call) {
  gateway::Operation op;
  std::string resource = call.service + call.target.path;
  op.scope_action = call.service + ":" + call.method;
  op.scope_resource = call.target.path;
  op.action = "http:" + call.method;
  op.specific_action = op.action;  // so the schema's action group (Action::"http") applies
  op.resource_type = "Route";
  op.resource_id = resource;
  op.resource_attrs =
      json::object{{"service", call.service}, {"path", call.target.path}, {"method", call.method}};
  op.context = json::object{{"service", call.service},
                            {"method", call.method},
                            {"path", call.target.path},
                            {"query", call.target.query}};
  // The approval is for this exact request: a retry with another query or
  // method is another request and needs its own.
  op.approval_subject = json::object{{"http", json::object{{"service", call.service},
                                                           {"method", call.method},
                                                           {"path", call.target.path},
                                                           {"query", call.target.query}}}};
  // Query strings may carry secrets: the approver and the log see a digest.
  json::object shown{{"service", call.service},
                     {"method", call.method},
                     {"path", call.target.path},
                     {"route", "Route::\"" + resource + "\""}};
  if (!call.target.query.empty()) shown["query_sha256"] = Sha256Of(call.target.query);
  op.approval_summary = shown;
  op.audit_details = shown;
  op.audit_details["via"] = call.via;
  op.audit_kind = "gateway.http";
  op.audit_subject = "route:" + resource;
  return op;
}

// 403 for deny and needs_approval: the error body plus the decision's facts.
Response Refusal(const gateway::Verdict& v) {
  std::string message = v.kind == gateway::VerdictKind::kNeedsApproval
                            ? "needs approval " + v.approval_id.value_or("") +
                                  ": retry the identical request once a human has approved it"
                            : v.reason;
  json::object body = ErrorBody(PermissionDenied(message));
  for (auto& [k, val] : v.ToErrorData()) body[k] = val;
  Response r = Response::Json(403, body);
  if (v.approval_id) r.headers.emplace_back("X-Warden-Approval", *v.approval_id);
  return r;
}

class HttpEnforcement {
 public:
  explicit HttpEnforcement(ApiContext& ctx)
      : ctx_(ctx),
        enforcer_(ctx.policies, ctx.grants, ctx.approvals, ctx.registry, ctx.store, ctx.clock,
                  gateway::EnforcerOptions{ctx.options.approval_ttl}) {}

  // One pool of kept-alive connections per configured HTTP service.
  // InvalidArgument naming the service when its URL or CA file is unusable.
  Status Init() {
    for (const auto& up : ctx_.options.gateway.http_services) {
      WARDEN_ASSIGN_OR_RETURN(gateway::UpstreamClient client,
                              gateway::MakeUpstreamClient(up, kMaxProxiedResponseBytes,
                                                          "gateway.http_services." + up.name));
      clients_.emplace(up.name, std::move(client));
    }
    return OkStatus();
  }

  // Any method on /proxy/{service}/{path...}.
  Response Proxy(Request& req) {
    const std::string& service = req.params.at("service");
    if (Status st = ValidateServiceName(service, "service"); !st.ok()) {
      return ErrorResponse(ctx_, st);
    }
    GrantCaller caller;
    if (auto refused = AuthenticateGrant(ctx_, req, &caller)) return *refused;
    const gateway::Upstream* upstream = gateway::FindHttpService(ctx_.options.gateway, service);
    gateway::GrantedCaller granted{caller.claims, caller.agent};
    if (upstream == nullptr) {
      (void)enforcer_.AuditRefusal(granted, "gateway.http.refused", "service:" + service,
                                   json::object{{"reason", "no such HTTP service"},
                                                {"service", service},
                                                {"method", req.method},
                                                {"via", "proxy"}});
      return ErrorResponse(ctx_, Status(StatusCode::kNotFound,
                                        "no HTTP service named \"" + service + "\"", "service"));
    }
    HttpCall call = RoutedCall(req, service, 2, "proxy");
    auto approval = SingleHeader(req.headers, "X-Warden-Approval");
    if (!approval.ok()) return ErrorResponse(ctx_, approval.status());
    if (*approval) call.approval_id = std::string(**approval);

    auto verdict = enforcer_.Authorize(granted, MakeOperation(call), call.approval_id);
    if (!verdict.ok()) return ErrorResponse(ctx_, Undecided(verdict.status()));
    if (verdict->kind != gateway::VerdictKind::kAllow) return Refusal(*verdict);

    gateway::ForwardOutcome outcome;
    Response answer = Forward(req, *upstream, call, caller, &outcome);
    if (Status st = enforcer_.Complete(*verdict, outcome); !st.ok()) {
      // The upstream has acted already: its answer goes back (a retry would
      // repeat the action), and the failure to record it is loud.
      ctx_.metrics.StoreError();
      LogJson(spdlog::level::err, "cannot record an allowed HTTP request",
              {{"grant", verdict->grant_id}, {"service", service}, {"error", st.ToString()}});
    }
    return answer;
  }

  // Envoy ext_authz http_service with path_prefix "/v1/check/<service>":
  // the original method, Host and path (+query) arrive as this request's own.
  Response CheckEnvoy(Request& req) {
    HttpCall call = RoutedCall(req, req.params.at("service"), 3, "check.envoy");
    auto host = SingleHeader(req.headers, "Host");
    if (!host.ok()) return ErrorResponse(ctx_, host.status());
    if (!*host) return ErrorResponse(ctx_, InvalidArgument("is required", "Host"));
    return Check(req, std::move(call), **host);
  }

  // nginx auth_request: GET /v1/check with X-Original-Method and
  // X-Original-URI; the service in X-Warden-Service or as the first segment
  // of an X-Original-URI under /proxy/<service>/.
  Response CheckNginx(Request& req) {
    auto method = SingleHeader(req.headers, "X-Original-Method");
    if (!method.ok()) return ErrorResponse(ctx_, method.status());
    if (!*method) return ErrorResponse(ctx_, InvalidArgument("is required", "X-Original-Method"));
    auto uri = SingleHeader(req.headers, "X-Original-URI");
    if (!uri.ok()) return ErrorResponse(ctx_, uri.status());
    if (!*uri) return ErrorResponse(ctx_, InvalidArgument("is required", "X-Original-URI"));
    auto service = SingleHeader(req.headers, "X-Warden-Service");
    if (!service.ok()) return ErrorResponse(ctx_, service.status());
    auto host = SingleHeader(req.headers, "Host");
    if (!host.ok()) return ErrorResponse(ctx_, host.status());
    if (!*host) return ErrorResponse(ctx_, InvalidArgument("is required", "Host"));

    auto target = ParseOriginalTarget(**uri, "X-Original-URI");
    if (!target.ok()) return ErrorResponse(ctx_, target.status());
    HttpCall call;
    call.method = std::string(**method);
    call.via = "check.nginx";
    call.target = *target;
    std::string addressed = target->raw_path;
    if (*service) {
      call.service = std::string(**service);
    } else {
      // "/proxy/<service>/<rest>": Warden's own proxy layout behind nginx.
      constexpr std::string_view kPrefix = "/proxy/";
      if (!target->raw_path.starts_with(kPrefix)) {
        return ErrorResponse(ctx_, InvalidArgument("is required unless X-Original-URI starts with "
                                                   "/proxy/<service>/",
                                                   "X-Warden-Service"));
      }
      size_t slash = target->raw_path.find('/', kPrefix.size());
      size_t dslash = target->path.find('/', kPrefix.size());
      if (slash == std::string::npos || dslash == std::string::npos) {
        return ErrorResponse(ctx_, InvalidArgument("must be /proxy/<service>/<path> when "
                                                   "X-Warden-Service is absent",
                                                   "X-Original-URI"));
      }
      call.service = target->path.substr(kPrefix.size(), dslash - kPrefix.size());
      call.target.raw_path = target->raw_path.substr(slash);
      call.target.path = target->path.substr(dslash);
    }
    return Check(req, std::move(call), **host, addressed);
  }

  // POST /v1/check with an Envoy CheckRequest in proto3 JSON. The agent's
  // credentials are those of the original request, in
  // attributes.request.http.headers, not this request's own headers.
  Response CheckJson(Request& req) {
    if (auto bad = RequireJsonContentType(req)) return *bad;
    auto body = ParseBody(ctx_, req);
    if (!body.ok()) return ErrorResponse(ctx_, body.status());
    // Lenient on members Warden does not read (a CheckRequest carries many),
    // strict on the types of those it does.
    auto root = StrictObject::From(*body);
    if (!root.ok()) return ErrorResponse(ctx_, InvalidArgument("must be a JSON object", "body"));
    const json::value* attributes = root->Optional("attributes");
    if (attributes == nullptr)
      return ErrorResponse(ctx_, InvalidArgument("is required", "attributes"));
    auto attrs = StrictObject::From(*attributes, "attributes");
    if (!attrs.ok()) return ErrorResponse(ctx_, attrs.status());
    const json::value* request = attrs->Optional("request");
    if (request == nullptr) {
      return ErrorResponse(ctx_, InvalidArgument("is required", "attributes.request"));
    }
    auto reqobj = StrictObject::From(*request, "attributes.request");
    if (!reqobj.ok()) return ErrorResponse(ctx_, reqobj.status());
    const json::value* http = reqobj->Optional("http");
    if (http == nullptr) {
      return ErrorResponse(ctx_, InvalidArgument("is required", "attributes.request.http"));
    }
    auto h = StrictObject::From(*http, "attributes.request.http");
    if (!h.ok()) return ErrorResponse(ctx_, h.status());
    auto method = h->RequiredString("method");
    if (!method.ok()) return ErrorResponse(ctx_, method.status());
    auto path = h->RequiredString("path");
    if (!path.ok()) return ErrorResponse(ctx_, path.status());
    auto host = h->OptionalString("host");
    if (!host.ok()) return ErrorResponse(ctx_, host.status());
    auto scheme = h->OptionalString("scheme");
    if (!scheme.ok()) return ErrorResponse(ctx_, scheme.status());

    // The original request's headers: names lower-cased (HTTP/2 style, as
    // Envoy sends them); a name given twice in different case is ambiguous.
    Request original;
    original.method = *method;
    // Where the check came from, for the audit of a refused credential.
    original.remote_address = req.remote_address;
    original.route = req.route;
    original.path = req.path;
    if (const json::value* headers = h->Optional("headers")) {
      if (!headers->is_object()) {
        return ErrorResponse(ctx_, InvalidArgument("must be an object of strings",
                                                   "attributes.request.http.headers"));
      }
      for (const auto& member : headers->as_object()) {
        std::string field = "attributes.request.http.headers." + std::string(member.key());
        if (!member.value().is_string()) {
          return ErrorResponse(ctx_, InvalidArgument("must be a string", field));
        }
        std::string name = AsciiLower(member.key());
        for (const auto& [k, v] : original.headers) {
          if (k == name) return ErrorResponse(ctx_, InvalidArgument("is given twice", field));
        }
        original.headers.emplace_back(std::move(name), std::string(member.value().as_string()));
      }
    }
    std::string host_value;
    std::string host_field = "attributes.request.http.host";
    if (*host && !(*host)->empty()) {
      host_value = **host;
    } else if (auto authority = original.Header(":authority")) {
      host_value = std::string(*authority);
      host_field = "attributes.request.http.headers.:authority";
    } else if (auto hh = original.Header("host")) {
      host_value = std::string(*hh);
      host_field = "attributes.request.http.headers.host";
    } else {
      return ErrorResponse(ctx_, InvalidArgument("is required", "attributes.request.http.host"));
    }
    if (Status st = ValidateHost(host_value, host_field); !st.ok()) return ErrorResponse(ctx_, st);

    std::string service;
    std::string service_field = "attributes.context_extensions.service";
    if (const json::value* ext = attrs->Optional("context_extensions")) {
      auto e = StrictObject::From(*ext, "attributes.context_extensions");
      if (!e.ok()) return ErrorResponse(ctx_, e.status());
      auto s = e->OptionalString("service");
      if (!s.ok()) return ErrorResponse(ctx_, s.status());
      if (*s) service = **s;
    }
    auto header_service = SingleHeader(req.headers, "X-Warden-Service");
    if (!header_service.ok()) return ErrorResponse(ctx_, header_service.status());
    if (*header_service) {
      if (!service.empty() && service != **header_service) {
        return ErrorResponse(ctx_, InvalidArgument("names another service than "
                                                   "attributes.context_extensions.service",
                                                   "X-Warden-Service"));
      }
      service = std::string(**header_service);
      service_field = "X-Warden-Service";
    }
    if (service.empty()) {
      return ErrorResponse(ctx_, InvalidArgument("is required (or header X-Warden-Service)",
                                                 "attributes.context_extensions.service"));
    }
    if (Status st = ValidateServiceName(service, service_field); !st.ok()) {
      return ErrorResponse(ctx_, st);
    }
    auto target = ParseOriginalTarget(*path, "attributes.request.http.path");
    if (!target.ok()) return ErrorResponse(ctx_, target.status());

    HttpCall call;
    call.service = service;
    call.method = *method;
    call.target = *target;
    call.via = "check.json";
    std::string sch = scheme->value_or("");
    if (sch.empty()) {
      auto proto = original.Header("x-forwarded-proto");
      sch = proto ? std::string(*proto) : "http";
    }
    return Decide(original, std::move(call), host_value, sch, target->raw_path,
                  "attributes.request.http.method");
  }

 private:
  // The check forms whose credentials and X-Forwarded-Proto are this
  // request's own headers.
  Response Check(const Request& req, HttpCall call, std::string_view host,
                 std::optional<std::string> addressed_path = std::nullopt) {
    if (Status st = ValidateHost(host, "Host"); !st.ok()) return ErrorResponse(ctx_, st);
    auto proto = SingleHeader(req.headers, "X-Forwarded-Proto");
    if (!proto.ok()) return ErrorResponse(ctx_, proto.status());
    std::string scheme = *proto ? std::string(**proto) : "http";
    std::string addressed = addressed_path ? *addressed_path : call.target.raw_path;
    std::string method_field = call.via == "check.nginx" ? "X-Original-Method" : "method";
    return Decide(req, std::move(call), std::string(host), scheme, addressed, method_field);
  }

  // Authenticates the agent for the original request and decides it.
  Response Decide(const Request& credentials, HttpCall call, const std::string& host,
                  const std::string& scheme, const std::string& addressed_path,
                  const std::string& method_field) {
    if (!IsEnforcedMethod(call.method)) {
      return Response::Error(
          InvalidArgument("method \"" + call.method +
                              "\" is not enforced (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)",
                          method_field),
          kHttpMethodNotAllowed);
    }
    if (Status st = ValidateServiceName(call.service, "service"); !st.ok()) {
      return ErrorResponse(ctx_, st);
    }
    std::string scheme_field =
        call.via == "check.json" ? "attributes.request.http.scheme" : "X-Forwarded-Proto";
    if (Status st = ValidateScheme(scheme, scheme_field); !st.ok()) return ErrorResponse(ctx_, st);
    auto approval = SingleHeader(credentials.headers, "X-Warden-Approval");
    if (!approval.ok()) return ErrorResponse(ctx_, approval.status());
    if (*approval) call.approval_id = std::string(**approval);

    // The proof the agent made is for the request it sent: its method and
    // URI (query dropped, RFC 9449 section 4.3), not this check request.
    call.proof_uri = scheme + "://" + host + addressed_path;
    GrantCaller caller;
    if (auto refused = AuthenticateGrant(ctx_, credentials, &caller,
                                         ProofTarget{call.method, call.proof_uri})) {
      return *refused;
    }
    gateway::GrantedCaller granted{caller.claims, caller.agent};
    auto verdict = enforcer_.Authorize(granted, MakeOperation(call), call.approval_id);
    if (!verdict.ok()) return ErrorResponse(ctx_, Undecided(verdict.status()));
    if (verdict->kind != gateway::VerdictKind::kAllow) return Refusal(*verdict);

    gateway::ForwardOutcome outcome;
    outcome.ok = true;
    outcome.extra = json::object{{"forwarded", false}, {"via", call.via}};
    // An allow that cannot be recorded is not given: the caller forwards on 200.
    if (Status st = enforcer_.Complete(*verdict, outcome); !st.ok()) {
      return ErrorResponse(ctx_, Unavailable("cannot record the decision: " + st.message()));
    }
    json::object body{{"decision", "allow"},
                      {"agent", caller.agent},
                      {"grant", verdict->grant_id},
                      {"policies", Strings(verdict->policies)},
                      {"policy_set_hash", verdict->policy_set_hash}};
    if (verdict->approval_id) body["approval_id"] = *verdict->approval_id;
    Response r = Response::Json(200, body);
    r.headers.emplace_back("X-Warden-Decision", "allow");
    r.headers.emplace_back("X-Warden-Agent", caller.agent);
    r.headers.emplace_back("X-Warden-Grant", verdict->grant_id);
    if (verdict->approval_id) r.headers.emplace_back("X-Warden-Approval", *verdict->approval_id);
    return r;
  }

  // A decision that could not be made is never an allow: 503 for the store
  // or engine being unavailable, the status itself otherwise.
  static Status Undecided(const Status& st) {
    if (st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kUnavailable) {
      return st;
    }
    return Unavailable("cannot decide the request: " + st.message());
  }

  // Sends the allowed request to the service and relays its answer; fills
  // `outcome` for the audit event.
  Response Forward(const Request& req, const gateway::Upstream& upstream, const HttpCall& call,
                   const GrantCaller& caller, gateway::ForwardOutcome* outcome) {
    auto fail = [&](const Status& why, unsigned http_status) {
      outcome->ok = false;
      outcome->error = why.message();
      outcome->extra = json::object{{"via", "proxy"}, {"http_status", http_status}};
      return Response::Error(why, http_status);
    };
    auto client = clients_.find(call.service);
    if (client == clients_.end()) {
      return fail(Unavailable("HTTP service \"" + call.service + "\" is not configured"), 502);
    }
    const gateway::UpstreamUrl* url = &client->second.url;

    net::HttpRequest out;
    // net::HttpClient reads a body after every response, which a response to
    // HEAD never has: HEAD is sent as GET (RFC 9110 9.3.2: the same answer
    // with content) and the content dropped here.
    bool head = call.method == "HEAD";
    out.method = head ? "GET" : call.method;
    out.target = UpstreamTarget(url->path, call.target.raw_path, call.target.query);
    if (!head) out.body = req.body;
    std::vector<std::string> connection_listed = ConnectionListed(req.headers);
    for (const auto& [name, value] : req.headers) {
      if (ForwardableRequestHeader(name, connection_listed)) out.headers.emplace_back(name, value);
    }
    if (req.remote_address != "unix" && !req.remote_address.empty()) {
      out.headers.emplace_back("X-Forwarded-For", req.remote_address);
    }
    out.headers.emplace_back("X-Forwarded-Proto", ctx_.options.tls_cert.empty() ? "http" : "https");
    if (auto host = req.Header("host")) out.headers.emplace_back("X-Forwarded-Host", *host);
    out.headers.emplace_back("X-Warden-Agent", caller.agent);
    out.headers.emplace_back("X-Warden-Grant", caller.claims.grant_id);
    // Warden's own credentials for the service come last, so they win.
    for (const auto& h : upstream.headers) out.headers.push_back(h);

    auto started = SteadyClock::now();
    auto answer = client->second.pool->Send(out, upstream.timeout);
    outcome->upstream_latency =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
    if (!answer.ok()) {
      const Status& st = answer.status();
      std::string what = "HTTP service \"" + call.service + "\" ";
      if (st.code() == StatusCode::kDeadlineExceeded) {
        return fail(DeadlineExceeded(what + "did not answer in time"), 504);
      }
      if (st.code() == StatusCode::kInvalidArgument) {
        return fail(InvalidArgument("cannot forward the request: " + st.message()), 400);
      }
      return fail(Unavailable(what + "is unavailable: " + st.message()), 502);
    }
    if (answer->status < 200 || answer->status > 599) {
      return fail(Unavailable("HTTP service \"" + call.service + "\" answered status " +
                              std::to_string(answer->status)),
                  502);
    }
    outcome->ok = true;
    outcome->result_sha256 = Sha256Of(answer->body);
    outcome->result_bytes = static_cast<int64_t>(answer->body.size());
    outcome->extra = json::object{{"via", "proxy"}, {"http_status", answer->status}};

    Response r;
    r.status = static_cast<unsigned>(answer->status);
    r.content_type =
        answer->content_type.empty() ? "application/octet-stream" : answer->content_type;
    if (!head) r.body = std::move(answer->body);
    std::vector<std::string> upstream_listed = ConnectionListed(answer->headers);
    for (auto& [name, value] : answer->headers) {
      std::string lower = AsciiLower(name);
      if (IsHopByHop(lower) || Listed(upstream_listed, lower) || lower == "content-length" ||
          lower == "content-type" || lower == "server") {
        continue;
      }
      r.headers.emplace_back(std::move(name), std::move(value));
    }
    return r;
  }

  // The service's base path (its URL's path, which may carry a query) joined
  // with the request's raw path and query.
  static std::string UpstreamTarget(const std::string& base, const std::string& raw_path,
                                    const std::string& query) {
    size_t q = base.find('?');
    std::string base_path = base.substr(0, q);
    std::string base_query = q == std::string::npos ? std::string() : base.substr(q + 1);
    while (!base_path.empty() && base_path.back() == '/') base_path.pop_back();
    std::string target = base_path + raw_path;
    std::string all_query = base_query;
    if (!query.empty()) all_query += (all_query.empty() ? "" : "&") + query;
    if (!all_query.empty()) target += "?" + all_query;
    return target;
  }

  ApiContext& ctx_;
  gateway::Enforcer enforcer_;
  std::map<std::string, gateway::UpstreamClient, std::less<>> clients_;  // by service name
};

}  // namespace

bool IsEnforcedMethod(std::string_view method) {
  for (std::string_view m : kMethods) {
    if (m == method) return true;
  }
  return false;
}

Status ValidateServiceName(std::string_view name, std::string_view field) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  };
  bool ok = !name.empty() && name.size() <= 63 && ok_char(name.front()) && name.front() != '-' &&
            name.front() != '_';
  for (char c : name) ok = ok && ok_char(c);
  if (!ok) {
    return InvalidArgument(
        "must be a service name: 1 to 63 of a-z, 0-9, '-' and '_', starting "
        "with a letter or digit",
        std::string(field));
  }
  return OkStatus();
}

Result<OriginalTarget> ParseOriginalTarget(std::string_view target, std::string_view field) {
  std::string f(field);
  if (target.empty() || target.front() != '/') {
    return InvalidArgument("must be an origin-form target starting with '/'", f);
  }
  if (target.size() > kMaxTargetBytes) return InvalidArgument("is longer than 8192 bytes", f);
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) {
      return InvalidArgument("may contain only printable ASCII without spaces", f);
    }
    if (c == '#') return InvalidArgument("must not carry a fragment", f);
  }
  OriginalTarget out;
  size_t q = target.find('?');
  out.raw_path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
  auto segs = SplitPath(out.raw_path);
  if (!segs.ok()) return InvalidArgument(segs.status().message(), f);
  if (Status st = CheckPathSegments(*segs, 0); !st.ok()) return InvalidArgument(st.message(), f);
  out.path = "/";
  for (size_t i = 0; i < segs->size(); ++i) {
    if (i > 0) out.path += '/';
    out.path += (*segs)[i];
  }
  return out;
}

Status RegisterHttpEnforcementRoutes(Router& router, ApiContext& ctx) {
  auto h = std::make_shared<HttpEnforcement>(ctx);
  WARDEN_RETURN_IF_ERROR(h->Init());
  // Responses to HEAD lose their content in the connection layer.
  for (std::string_view method : kMethods) {
    WARDEN_RETURN_IF_ERROR(router.Add(method, "/proxy/{service}/{path...}",
                                      [h](Request& r) { return h->Proxy(r); }));
    WARDEN_RETURN_IF_ERROR(router.Add(method, "/v1/check/{service}/{path...}",
                                      [h](Request& r) { return h->CheckEnvoy(r); }));
  }
  // nginx sends the subrequest of a HEAD request as HEAD.
  for (std::string_view method : {"GET", "HEAD"}) {
    WARDEN_RETURN_IF_ERROR(
        router.Add(method, "/v1/check", [h](Request& r) { return h->CheckNginx(r); }));
  }
  WARDEN_RETURN_IF_ERROR(
      router.Add("POST", "/v1/check", [h](Request& r) { return h->CheckJson(r); }));
  return OkStatus();
}

}  // namespace warden::server::internal
