#include "warden/gateway/jsonrpc.h"

#include "warden/core/json.h"

namespace warden::gateway {
namespace {

namespace json = boost::json;

constexpr size_t kMaxToolNameBytes = 256;

bool UsableId(const json::value& id) { return id.is_string() || id.is_int64() || id.is_uint64(); }

}  // namespace

Result<JsonRpcMessage> ParseMessage(const json::value& value) {
  if (!value.is_object()) {
    return InvalidArgument("a JSON-RPC message must be an object, not " +
                           std::string(JsonKindName(value)));
  }
  const json::object& obj = value.as_object();
  JsonRpcMessage m;
  m.raw = obj;
  const json::value* version = obj.if_contains("jsonrpc");
  if (version == nullptr || !version->is_string() || version->as_string() != "2.0") {
    return InvalidArgument("member \"jsonrpc\" must be exactly \"2.0\"");
  }
  const json::value* id = obj.if_contains("id");
  const json::value* method = obj.if_contains("method");
  const json::value* result = obj.if_contains("result");
  const json::value* error = obj.if_contains("error");
  if (method != nullptr) {
    if (!method->is_string()) return InvalidArgument("member \"method\" must be a string");
    if (method->as_string().empty()) return InvalidArgument("member \"method\" is empty");
    if (result != nullptr || error != nullptr) {
      return InvalidArgument("a request must not carry \"result\" or \"error\"");
    }
    m.method = std::string(method->as_string());
    if (const json::value* params = obj.if_contains("params")) {
      if (!params->is_object() && !params->is_array()) {
        return InvalidArgument("member \"params\" must be an object or an array");
      }
      m.params = *params;
    }
    if (id == nullptr) {
      m.kind = MessageKind::kNotification;
      return m;
    }
    // JSON-RPC discourages null ids and MCP forbids them; fractional ids
    // cannot be matched reliably.
    if (!UsableId(*id)) return InvalidArgument("member \"id\" must be a string or an integer");
    m.kind = MessageKind::kRequest;
    m.id = *id;
    return m;
  }
  if ((result == nullptr) == (error == nullptr)) {
    return InvalidArgument("a message needs \"method\", or exactly one of \"result\" and \"error\"");
  }
  if (obj.contains("params")) return InvalidArgument("a response must not carry \"params\"");
  if (id == nullptr) return InvalidArgument("a response needs an \"id\"");
  if (error != nullptr) {
    if (!error->is_object()) return InvalidArgument("member \"error\" must be an object");
    const json::value* code = error->as_object().if_contains("code");
    const json::value* message = error->as_object().if_contains("message");
    if (code == nullptr || !code->is_int64()) {
      return InvalidArgument("member \"error.code\" must be an integer");
    }
    if (message == nullptr || !message->is_string()) {
      return InvalidArgument("member \"error.message\" must be a string");
    }
    if (!UsableId(*id) && !id->is_null()) {
      return InvalidArgument("member \"id\" must be a string, an integer or null");
    }
  } else if (!UsableId(*id)) {
    return InvalidArgument("member \"id\" must be a string or an integer");
  }
  m.kind = MessageKind::kResponse;
  m.id = *id;
  return m;
}

Result<Payload> ParsePayload(std::string_view body, const PayloadLimits& limits) {
  if (body.size() > limits.max_bytes) {
    return ResourceExhausted("message of " + std::to_string(body.size()) +
                             " bytes is larger than the limit of " +
                             std::to_string(limits.max_bytes));
  }
  JsonParseOptions options;
  options.max_bytes = limits.max_bytes;
  options.max_depth = limits.max_depth;
  auto doc = ParseJson(body, options);
  if (!doc.ok()) return Status(StatusCode::kInvalidArgument, doc.status().message(), "json");
  Payload out;
  auto entry = [](const json::value& v) {
    PayloadEntry e;
    auto m = ParseMessage(v);
    if (m.ok()) {
      e.message = std::move(*m);
      return e;
    }
    e.error_code = kInvalidRequest;
    e.error = m.status().message();
    if (v.is_object()) {
      if (const json::value* id = v.as_object().if_contains("id"); id && UsableId(*id)) {
        e.error_id = *id;
      }
    }
    return e;
  };
  if (doc->is_array()) {
    const json::array& arr = doc->as_array();
    if (arr.empty()) return InvalidArgument("an empty batch is not a request", "message");
    if (arr.size() > limits.max_batch) {
      return InvalidArgument("a batch may hold at most " + std::to_string(limits.max_batch) +
                                 " messages",
                             "message");
    }
    out.batch = true;
    for (const auto& v : arr) out.entries.push_back(entry(v));
    return out;
  }
  if (!doc->is_object()) {
    return InvalidArgument("a JSON-RPC message must be an object or an array, not " +
                               std::string(JsonKindName(*doc)),
                           "message");
  }
  out.entries.push_back(entry(*doc));
  return out;
}

json::object ErrorResponse(const json::value& id, int code, std::string_view message,
                           std::optional<json::value> data) {
  json::object error{{"code", code}, {"message", message}};
  if (data) error["data"] = std::move(*data);
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

Result<ToolCall> ParseToolCall(const json::value& params) {
  if (!params.is_object()) return InvalidArgument("tools/call needs params as an object", "params");
  ToolCall call;
  for (const auto& member : params.as_object()) {
    std::string_view key = member.key();
    if (key == "name") {
      if (!member.value().is_string()) {
        return InvalidArgument("must be a string", "params.name");
      }
      call.name = std::string(member.value().as_string());
    } else if (key == "arguments") {
      if (!member.value().is_object()) {
        return InvalidArgument("must be an object", "params.arguments");
      }
      call.arguments = member.value().as_object();
    } else if (key == "_meta") {
      if (!member.value().is_object()) return InvalidArgument("must be an object", "params._meta");
    } else {
      return InvalidArgument("unknown member", "params." + std::string(key));
    }
  }
  if (call.name.empty()) return InvalidArgument("tools/call needs a tool name", "params.name");
  if (call.name.size() > kMaxToolNameBytes) {
    return InvalidArgument("tool name longer than 256 bytes", "params.name");
  }
  for (char c : call.name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '/') {
      return InvalidArgument("tool name contains a control character or '/'", "params.name");
    }
  }
  return call;
}

Result<std::vector<SseEvent>> ParseSse(std::string_view body, size_t max_events) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool has_data = false;
  bool any_field = false;
  size_t pos = 0;
  auto dispatch = [&]() -> Status {
    if (has_data) {
      if (events.size() >= max_events) {
        return InvalidArgument("more than " + std::to_string(max_events) + " events");
      }
      events.push_back(std::move(current));
    }
    current = SseEvent{};
    has_data = false;
    any_field = false;
    return OkStatus();
  };
  while (pos < body.size()) {
    size_t end = body.find_first_of("\r\n", pos);
    bool last = end == std::string_view::npos;
    std::string_view line = body.substr(pos, last ? std::string_view::npos : end - pos);
    if (last) {
      pos = body.size();
    } else {
      pos = end + 1;
      if (body[end] == '\r' && pos < body.size() && body[pos] == '\n') ++pos;
    }
    if (line.empty()) {
      WARDEN_RETURN_IF_ERROR(dispatch());
      continue;
    }
    if (line[0] == ':') continue;  // comment (keep-alive)
    size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
      value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    }
    any_field = true;
    if (field == "data") {
      if (has_data) current.data += '\n';
      current.data.append(value);
      has_data = true;
    } else if (field == "event") {
      current.event = std::string(value);
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) current.id = std::string(value);
    }
    // "retry" and unknown fields are ignored, as the SSE format requires.
  }
  // A stream that ends without a blank line: the event is complete anyway,
  // since the body is whole.
  if (any_field) WARDEN_RETURN_IF_ERROR(dispatch());
  return events;
}

std::string FormatSse(const std::vector<SseEvent>& events) {
  std::string out;
  for (const auto& e : events) {
    // Field values never contain line breaks: an event or id with one is
    // cut there, so re-emitted events cannot forge fields of their own.
    auto one_line = [](std::string_view v) { return v.substr(0, v.find_first_of("\r\n")); };
    if (!e.event.empty()) out.append("event: ").append(one_line(e.event)).append("\n");
    if (!e.id.empty()) out.append("id: ").append(one_line(e.id)).append("\n");
    size_t pos = 0;
    std::string_view data = e.data;
    while (true) {
      size_t nl = data.find_first_of("\r\n", pos);
      out.append("data: ").append(data.substr(pos, nl == std::string_view::npos ? nl : nl - pos));
      out.append("\n");
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
      if (data[nl] == '\r' && pos < data.size() && data[pos] == '\n') ++pos;
    }
    out.append("\n");
  }
  return out;
}

bool IsKnownProtocolVersion(std::string_view version) {
  return version == "2025-11-25" || version == "2025-06-18" || version == "2025-03-26" ||
         version == "2024-11-05";
}

bool ProtocolAllowsBatches(std::string_view version) { return version == "2025-03-26"; }

}  // namespace warden::gateway
