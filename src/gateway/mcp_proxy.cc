#include "warden/gateway/mcp_proxy.h"

#include <algorithm>

#include "warden/core/json.h"
#include "warden/core/text.h"
#include "warden/core/random.h"

namespace warden::gateway {

namespace json = boost::json;

namespace {

constexpr size_t kMaxSessions = 10000;
constexpr std::chrono::seconds kPendingRecheck(1);

bool ContainsNoCase(std::string_view s, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (StartsWithNoCase(s.substr(i), needle)) return true;
  }
  return false;
}

bool IsJsonType(std::string_view content_type) {
  return StartsWithNoCase(content_type, "application/json");
}

McpResponse JsonBody(unsigned status, const json::value& body) {
  McpResponse r;
  r.status = status;
  r.body = ToJson(body);
  return r;
}

McpResponse Failure(unsigned status, int code, std::string_view message,
                    std::optional<json::value> data = std::nullopt) {
  return JsonBody(status, ErrorResponse(nullptr, code, message, std::move(data)));
}

// Methods that are protocol traffic and pass through unchanged (tools/list
// is filtered on the way back). Data-bearing methods that policies do not
// govern yet (resources/read, prompts/get, completion/complete) are not
// served: they would be a way around tool authorization.
bool IsPassThroughMethod(std::string_view method) {
  return method == "initialize" || method == "ping" || method == "tools/list" ||
         method == "resources/list" || method == "resources/templates/list" ||
         method == "prompts/list" || method == "logging/setLevel";
}

bool IsUngovernedDataMethod(std::string_view method) {
  return method == "resources/read" || method == "resources/subscribe" ||
         method == "resources/unsubscribe" || method == "prompts/get" ||
         method == "completion/complete";
}

}  // namespace

Operation ToolCallOperation(const Upstream& upstream, const ToolCall& call,
                            bool audit_arguments) {
  std::string tool = upstream.name + "/" + call.name;
  std::string args_sha256 = CanonicalSha256(call.arguments);
  Operation op;
  op.scope_action = tool;
  op.action = "call";
  op.specific_action = "call:" + tool;
  op.resource_type = "Tool";
  op.resource_id = tool;
  op.resource_attrs = json::object{{"server", upstream.name}, {"name", call.name}};
  op.context = json::object{{"server", upstream.name}, {"tool", call.name},
                            {"arguments", call.arguments}};
  op.approval_subject = json::object{{"tool", tool}, {"arguments", call.arguments},
                                     {"target", upstream.url}};
  op.approval_summary = json::object{{"server", upstream.name}, {"tool", tool},
                                     {"args_sha256", args_sha256}};
  op.audit_details = json::object{{"server", upstream.name}, {"tool", tool},
                                  {"args_sha256", args_sha256}};
  if (audit_arguments) op.audit_details["arguments"] = call.arguments;
  op.audit_kind = "gateway.call";
  op.audit_subject = "tool:" + tool;
  return op;
}

// One POST being handled: what the answer is built from.
struct McpProxy::Context {
  GrantedCaller caller;
  const Target* target = nullptr;
  std::string session_id;        // Warden's, "" when none
  std::string upstream_session;  // the upstream's, "" when none
  std::string protocol_version;
  bool batch = false;
  bool accepts_sse = true;
  bool any_sse = false;
  bool notification_failed = false;
  unsigned http_status = 200;
  std::vector<SseEvent> events;         // upstream notifications and requests
  std::vector<json::object> responses;  // in request order
  std::optional<std::string> new_session;
  std::shared_ptr<PendingCall> pending;
};

class PendingCall {
 public:
  McpProxy::Context context;
  JsonRpcMessage message;
  Operation op;
  Verdict verdict;
  uint64_t seen = 0;
  std::chrono::steady_clock::time_point checked;
};

Result<std::unique_ptr<McpProxy>> McpProxy::Create(const GatewayConfig& config,
                                                   Enforcer& enforcer, const Clock& clock) {
  std::map<std::string, Target, std::less<>> targets;
  for (const auto& up : config.mcp_servers) {
    WARDEN_ASSIGN_OR_RETURN(
        UpstreamClient client,
        MakeUpstreamClient(up, config.max_message_bytes, "gateway.mcp_servers." + up.name));
    targets.emplace(up.name, Target{&up, std::move(client)});
  }
  return std::unique_ptr<McpProxy>(new McpProxy(config, enforcer, clock, std::move(targets)));
}

size_t McpProxy::SessionCount() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

Result<McpProxy::UpstreamReply> McpProxy::Exchange(const Target& target, std::string_view method,
                                                   const std::string& body,
                                                   const std::string& upstream_session,
                                                   const std::string& protocol_version) {
  net::HttpRequest req;
  req.method = std::string(method);
  req.target = target.client.url.path;
  req.body = body;
  // Warden's own credentials only: nothing of the agent's request headers
  // (its grant token, its proof) is ever copied upstream.
  req.headers = target.upstream->headers;
  req.headers.emplace_back("Accept", "application/json, text/event-stream");
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  if (!upstream_session.empty()) req.headers.emplace_back("Mcp-Session-Id", upstream_session);
  if (!protocol_version.empty()) req.headers.emplace_back("MCP-Protocol-Version", protocol_version);
  auto started = std::chrono::steady_clock::now();
  auto sent = target.client.pool->Send(req, target.upstream->timeout);
  UpstreamReply reply;
  reply.latency = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (!sent.ok()) return sent.status();
  reply.http_status = sent->status;
  reply.body_bytes = sent->body.size();
  reply.session_id = sent->Header("Mcp-Session-Id");
  if (sent->status < 200 || sent->status > 299 || sent->status == 202 || sent->body.empty()) {
    return reply;
  }
  JsonParseOptions options;
  options.max_bytes = config_.max_message_bytes;
  auto add = [&](const json::value& v) -> Status {
    auto m = ParseMessage(v);
    if (!m.ok()) return DataLoss("upstream sent an invalid JSON-RPC message: " + m.status().message());
    reply.messages.push_back(std::move(*m));
    return OkStatus();
  };
  auto add_document = [&](std::string_view text) -> Status {
    auto doc = ParseJson(text, options);
    if (!doc.ok()) return DataLoss("upstream sent malformed JSON: " + doc.status().message());
    if (doc->is_array()) {
      for (const auto& v : doc->as_array()) WARDEN_RETURN_IF_ERROR(add(v));
      return OkStatus();
    }
    return add(*doc);
  };
  if (IsJsonType(sent->content_type)) {
    WARDEN_RETURN_IF_ERROR(add_document(sent->body));
  } else if (StartsWithNoCase(sent->content_type, "text/event-stream")) {
    reply.sse = true;
    auto events = ParseSse(sent->body);
    if (!events.ok()) return DataLoss("upstream sent a malformed event stream: " + events.status().message());
    for (auto& e : *events) {
      if (!e.event.empty() && e.event != "message") continue;
      if (e.data.empty()) continue;
      WARDEN_RETURN_IF_ERROR(add_document(e.data));
    }
  } else {
    return DataLoss("upstream answered with Content-Type \"" + sent->content_type.substr(0, 100) +
                    "\", not JSON or an event stream");
  }
  return reply;
}

json::object McpProxy::ForwardRequest(Context& c, const JsonRpcMessage& m,
                                      const std::optional<Verdict>& allowed) {
  const Upstream& up = *c.target->upstream;
  auto report = [&](const ForwardOutcome& outcome) {
    // The call was allowed and forwarded: its audit event records what came
    // back. A failed audit write is not a reason to hide the answer.
    if (allowed) (void)enforcer_.Complete(*allowed, outcome);
  };
  auto failed = [&](std::string why, std::chrono::milliseconds latency) {
    ForwardOutcome outcome;
    outcome.ok = false;
    outcome.error = why;
    outcome.upstream_latency = latency;
    report(outcome);
    return ErrorResponse(m.id, kUpstreamFailed, "upstream MCP server " + up.name + " failed",
                         json::object{{"server", up.name}, {"reason", why}});
  };
  auto reply = Exchange(*c.target, "POST", ToJson(m.raw), c.upstream_session, c.protocol_version);
  if (!reply.ok()) return failed(reply.status().message(), std::chrono::milliseconds(0));
  if (reply->http_status == 404 && !c.upstream_session.empty()) {
    // The upstream ended its session: so does Warden's, and the client is
    // told to initialize again (404, as the transport specifies).
    {
      std::lock_guard lock(mu_);
      sessions_.erase(c.session_id);
    }
    c.http_status = 404;
    ForwardOutcome outcome;
    outcome.error = "upstream session ended";
    outcome.upstream_latency = reply->latency;
    report(outcome);
    return ErrorResponse(m.id, kSessionRefused, "session ended; initialize a new one");
  }
  if (reply->http_status < 200 || reply->http_status > 299 || reply->http_status == 202) {
    return failed("upstream answered HTTP " + std::to_string(reply->http_status), reply->latency);
  }
  if (reply->sse) c.any_sse = true;
  std::optional<json::object> response;
  for (auto& msg : reply->messages) {
    if (msg.kind == MessageKind::kResponse) {
      if (!response && msg.id == m.id) response = std::move(msg.raw);
      continue;  // a response to something else is not the client's
    }
    c.events.push_back(SseEvent{"", "", ToJson(msg.raw)});
  }
  if (!response) return failed("upstream gave no response to this request", reply->latency);
  if (m.method == "initialize" && reply->session_id && c.session_id.empty()) {
    // Warden hands out its own session id: the upstream's never reaches the
    // agent, and a session is usable only by the grant that opened it.
    Session s;
    s.upstream_id = *reply->session_id;
    s.server = up.name;
    s.agent = c.caller.agent;
    s.grant_id = c.caller.claims.grant_id;
    s.expires_at = c.caller.claims.expires_at;
    s.protocol_version = c.protocol_version;
    if (const auto* result = response->if_contains("result"); result && result->is_object()) {
      if (const auto* v = result->as_object().if_contains("protocolVersion"); v && v->is_string()) {
        s.protocol_version = std::string(v->as_string());
      }
    }
    std::string id = RandomId("mcs");
    TimePoint now = clock_.Now();
    std::lock_guard lock(mu_);
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires_at <= now; });
    if (sessions_.size() >= kMaxSessions) {
      auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
        return a.second.expires_at < b.second.expires_at;
      });
      sessions_.erase(oldest);
    }
    sessions_.emplace(id, std::move(s));
    c.new_session = id;
  }
  if (m.method == "tools/list") FilterToolList(c, *response);
  if (allowed) {
    ForwardOutcome outcome;
    outcome.ok = true;
    const json::value* result = response->if_contains("result");
    const json::value* error = response->if_contains("error");
    json::value digested = result ? *result : (error ? *error : json::value());
    outcome.result_sha256 = CanonicalSha256(digested);
    outcome.result_bytes = static_cast<int64_t>(ToJson(digested).size());
    outcome.upstream_latency = reply->latency;
    if (error && error->is_object()) {
      if (const auto* code = error->as_object().if_contains("code")) {
        outcome.extra["upstream_error_code"] = *code;
      }
    } else if (result && result->is_object()) {
      if (const auto* is_error = result->as_object().if_contains("isError");
          is_error && is_error->is_bool()) {
        outcome.extra["tool_error"] = is_error->as_bool();
      }
    }
    report(outcome);
  }
  return std::move(*response);
}

void McpProxy::FilterToolList(Context& c, json::object& response) {
  json::value* result = response.if_contains("result");
  if (result == nullptr) return;  // an error response passes as it is
  json::value* tools = result->is_object() ? result->as_object().if_contains("tools") : nullptr;
  if (tools == nullptr || !tools->is_array()) {
    response = ErrorResponse(response["id"], kUpstreamFailed,
                             "upstream sent a malformed tools/list result");
    return;
  }
  std::vector<Operation> ops;
  std::vector<size_t> index;
  json::array& list = tools->as_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const json::value& t = list[i];
    if (!t.is_object()) continue;
    const json::value* name = t.as_object().if_contains("name");
    if (name == nullptr || !name->is_string()) continue;
    ToolCall call;
    call.name = std::string(name->as_string());
    if (call.name.empty() || call.name.find('/') != std::string::npos) continue;
    ops.push_back(ToolCallOperation(*c.target->upstream, call, false));
    index.push_back(i);
  }
  auto verdicts = enforcer_.Preview(c.caller, ops);
  if (!verdicts.ok()) {
    // Never an unfiltered list.
    response = ErrorResponse(response["id"], kInternalError,
                             "cannot decide which tools the grant may use: " +
                                 verdicts.status().message());
    return;
  }
  json::array kept;
  for (size_t k = 0; k < index.size(); ++k) {
    if ((*verdicts)[k] != VerdictKind::kDeny) kept.push_back(std::move(list[index[k]]));
  }
  *tools = std::move(kept);
}

std::optional<json::object> McpProxy::HandleMessage(Context& c, const JsonRpcMessage& m,
                                                    bool may_wait) {
  if (m.kind != MessageKind::kRequest) {
    // Notifications and the client's answers to upstream requests: passed
    // on; JSON-RPC gives them no response.
    if (m.kind == MessageKind::kNotification && !m.method.starts_with("notifications/")) {
      return std::nullopt;
    }
    auto reply =
        Exchange(*c.target, "POST", ToJson(m.raw), c.upstream_session, c.protocol_version);
    if (!reply.ok() || reply->http_status < 200 || reply->http_status > 299) {
      c.notification_failed = true;
    }
    return std::nullopt;
  }
  if (IsPassThroughMethod(m.method)) return ForwardRequest(c, m, std::nullopt);
  if (IsUngovernedDataMethod(m.method)) {
    return ErrorResponse(m.id, kMethodNotFound,
                         m.method + " is not served through the Warden gateway: only tools are "
                                    "governed by policy");
  }
  if (m.method != "tools/call") {
    return ErrorResponse(m.id, kMethodNotFound, "method not found: " + m.method.substr(0, 100));
  }
  auto call = ParseToolCall(m.params);
  if (!call.ok()) {
    return ErrorResponse(m.id, kInvalidParams, call.status().message(),
                         json::object{{"field", call.status().field()}});
  }
  const Upstream& up = *c.target->upstream;
  Operation op = ToolCallOperation(up, *call, config_.audit_arguments || up.audit_arguments);
  auto verdict = enforcer_.Authorize(c.caller, op);
  if (!verdict.ok()) {
    // The decision could not be made: an error, never a forward.
    return ErrorResponse(m.id, kInternalError,
                         "authorization failed: " + verdict.status().message());
  }
  switch (verdict->kind) {
    case VerdictKind::kAllow:
      return ForwardRequest(c, m, *verdict);
    case VerdictKind::kDeny:
      return ErrorResponse(m.id, kPolicyDenied, "denied: " + verdict->reason,
                           verdict->ToErrorData());
    case VerdictKind::kNeedsApproval:
      break;
  }
  if (may_wait) {
    auto pending = std::make_shared<PendingCall>();
    pending->message = m;
    pending->op = std::move(op);
    pending->verdict = std::move(*verdict);
    pending->seen = enforcer_.ApprovalChangeCounter();
    pending->checked = std::chrono::steady_clock::now();
    c.pending = pending;
    return std::nullopt;
  }
  json::object data = verdict->ToErrorData();
  data["retry"] = "send the identical call again once the approval is granted";
  return ErrorResponse(m.id, kApprovalPending,
                       "waiting for a human approval: " + verdict->approval_id.value_or(""),
                       std::move(data));
}

McpResponse McpProxy::Finish(Context& c) {
  McpResponse r;
  if (c.new_session) r.headers.emplace_back("Mcp-Session-Id", *c.new_session);
  if (c.responses.empty()) {
    if (c.notification_failed) {
      McpResponse failed = Failure(502, kUpstreamFailed, "upstream did not accept the message");
      failed.headers = std::move(r.headers);
      return failed;
    }
    r.status = 202;
    r.content_type.clear();
    return r;
  }
  r.status = c.http_status;
  if (c.any_sse && c.accepts_sse) {
    std::vector<SseEvent> events = std::move(c.events);
    for (const auto& resp : c.responses) events.push_back(SseEvent{"", "", ToJson(resp)});
    r.content_type = "text/event-stream";
    r.body = FormatSse(events);
    return r;
  }
  if (c.batch) {
    json::array all;
    for (auto& resp : c.responses) all.push_back(std::move(resp));
    r.body = ToJson(all);
  } else {
    r.body = ToJson(c.responses.front());
  }
  return r;
}

PostResult McpProxy::Post(const GrantedCaller& caller, std::string_view server,
                          const McpRequest& request) {
  PostResult out;
  auto target = targets_.find(server);
  if (target == targets_.end()) {
    out.response = Failure(404, kInvalidRequest,
                           "no MCP server named \"" + std::string(server.substr(0, 64)) + "\"");
    return out;
  }
  if (!request.content_type || !IsJsonType(*request.content_type)) {
    out.response = Failure(415, kInvalidRequest, "Content-Type must be application/json");
    return out;
  }
  Context c;
  c.caller = caller;
  c.target = &target->second;
  c.accepts_sse = !request.accept || ContainsNoCase(*request.accept, "text/event-stream") ||
                  ContainsNoCase(*request.accept, "*/*");
  if (request.protocol_version) {
    if (!IsKnownProtocolVersion(*request.protocol_version)) {
      out.response = Failure(400, kInvalidRequest,
                             "unsupported MCP-Protocol-Version \"" +
                                 request.protocol_version->substr(0, 32) + "\"");
      return out;
    }
    c.protocol_version = *request.protocol_version;
  }
  PayloadLimits limits;
  limits.max_bytes = config_.max_message_bytes;
  auto payload = ParsePayload(request.body, limits);
  if (!payload.ok()) {
    const Status& st = payload.status();
    if (st.code() == StatusCode::kResourceExhausted) {
      out.response = Failure(413, kMessageTooLarge, st.message());
    } else if (st.field() == "json") {
      out.response = Failure(400, kParseError, "parse error: " + st.message());
    } else {
      out.response = Failure(400, kInvalidRequest, st.message());
    }
    return out;
  }
  c.batch = payload->batch;
  if (c.batch && !c.protocol_version.empty() && !ProtocolAllowsBatches(c.protocol_version)) {
    out.response = Failure(400, kInvalidRequest,
                           "JSON-RPC batches are not part of MCP " + c.protocol_version);
    return out;
  }
  if (request.session_id) {
    bool foreign = false;
    {
      std::lock_guard lock(mu_);
      auto it = sessions_.find(*request.session_id);
      if (it != sessions_.end() && it->second.expires_at <= clock_.Now()) {
        sessions_.erase(it);
        it = sessions_.end();
      }
      if (it != sessions_.end()) {
        foreign = it->second.grant_id != caller.claims.grant_id ||
                  it->second.agent != caller.agent || it->second.server != server;
        if (!foreign) {
          c.session_id = *request.session_id;
          c.upstream_session = it->second.upstream_id;
          if (c.protocol_version.empty()) c.protocol_version = it->second.protocol_version;
        }
      }
    }
    if (c.session_id.empty()) {
      // An unknown id and another grant's id get the same answer, so ids
      // cannot be probed; presenting another grant's id is recorded.
      if (foreign) {
        (void)enforcer_.AuditRefusal(caller, "gateway.session_refused",
                                     "mcp:" + std::string(server),
                                     json::object{{"server", std::string(server)},
                                                  {"reason", "session of another grant"}});
      }
      out.response =
          Failure(404, kSessionRefused, "unknown or ended session; initialize a new one");
      return out;
    }
  }
  bool single = !c.batch && payload->entries.size() == 1;
  for (auto& entry : payload->entries) {
    if (!entry.message) {
      c.responses.push_back(ErrorResponse(entry.error_id, kInvalidRequest,
                                          "invalid request: " + entry.error));
      continue;
    }
    const JsonRpcMessage& m = *entry.message;
    if (m.method == "initialize" && c.batch) {
      c.responses.push_back(
          ErrorResponse(m.id, kInvalidRequest, "initialize must not be part of a batch"));
      continue;
    }
    auto response = HandleMessage(c, m, single);
    if (response) c.responses.push_back(std::move(*response));
  }
  if (c.pending) {
    std::shared_ptr<PendingCall> pending = std::move(c.pending);
    pending->context = std::move(c);
    out.pending = std::move(pending);
    return out;
  }
  // A single invalid message is a 400, as for an unparsable body.
  if (single && !payload->entries.front().message) c.http_status = 400;
  out.response = Finish(c);
  return out;
}

std::optional<McpResponse> McpProxy::Poll(PendingCall& p, bool final) {
  auto now = std::chrono::steady_clock::now();
  uint64_t counter = enforcer_.ApprovalChangeCounter();
  if (!final && counter == p.seen && now - p.checked < kPendingRecheck) return std::nullopt;
  p.seen = counter;
  p.checked = now;
  const std::string approval_id = p.verdict.approval_id.value_or("");
  auto status = enforcer_.ApprovalStatus(approval_id);
  bool still_pending = status.ok() && *status == approvals::ApprovalStatus::kPending;
  Context& c = p.context;
  if (still_pending && !final) return std::nullopt;
  json::object response;
  if (still_pending) {
    json::object data = p.verdict.ToErrorData();
    data["retry"] = "send the identical call again once the approval is granted";
    response = ErrorResponse(p.message.id, kApprovalPending,
                             "no decision on approval " + approval_id + " within " +
                                 std::to_string(config_.approval_wait.count()) + "s",
                             std::move(data));
  } else {
    auto verdict = enforcer_.Authorize(c.caller, p.op, approval_id);
    if (!verdict.ok()) {
      response = ErrorResponse(p.message.id, kInternalError,
                               "authorization failed: " + verdict.status().message());
    } else if (verdict->kind == VerdictKind::kAllow) {
      response = ForwardRequest(c, p.message, *verdict);
    } else if (verdict->kind == VerdictKind::kDeny) {
      response = ErrorResponse(p.message.id, kPolicyDenied, "denied: " + verdict->reason,
                               verdict->ToErrorData());
    } else {
      json::object data = verdict->ToErrorData();
      data["retry"] = "send the identical call again once the approval is granted";
      response = ErrorResponse(p.message.id, kApprovalPending,
                               "waiting for a human approval: " +
                                   verdict->approval_id.value_or(""),
                               std::move(data));
    }
  }
  c.responses.push_back(std::move(response));
  return Finish(c);
}

McpResponse McpProxy::Delete(const GrantedCaller& caller, std::string_view server,
                             const McpRequest& request) {
  auto target = targets_.find(server);
  if (target == targets_.end()) {
    return Failure(404, kInvalidRequest,
                   "no MCP server named \"" + std::string(server.substr(0, 64)) + "\"");
  }
  if (!request.session_id) return Failure(400, kInvalidRequest, "Mcp-Session-Id is required");
  Session session;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(*request.session_id);
    if (it == sessions_.end() || it->second.grant_id != caller.claims.grant_id ||
        it->second.agent != caller.agent || it->second.server != server) {
      return Failure(404, kSessionRefused, "unknown or ended session");
    }
    session = std::move(it->second);
    sessions_.erase(it);
  }
  McpResponse r;
  r.status = 200;
  r.content_type.clear();
  if (session.upstream_id.empty()) return r;
  auto reply =
      Exchange(target->second, "DELETE", "", session.upstream_id, session.protocol_version);
  if (!reply.ok()) {
    return Failure(502, kUpstreamFailed, "upstream MCP server " + std::string(server) + " failed",
                   json::object{{"server", std::string(server)},
                                {"reason", reply.status().message()}});
  }
  // 405: the upstream does not let clients end sessions; Warden's is ended anyway.
  return r;
}

}  // namespace warden::gateway
