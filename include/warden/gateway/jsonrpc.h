// JSON-RPC 2.0 and MCP message handling for the gateway: strict parsing of
// what an agent or an upstream sends (single messages and batches), error
// objects with the codes the gateway answers with (docs/gateway.md), and the
// text/event-stream (SSE) framing of the Streamable HTTP transport.
// Pure functions on values; thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/status.h"

namespace warden::gateway {

// JSON-RPC 2.0 error codes (section 5.1) and the gateway's own, chosen in
// the implementation-defined server error range -32000..-32099 away from
// the codes MCP SDKs use themselves (-32000 connection closed, -32001
// request timeout, -32002 resource not found).
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kPolicyDenied = -32010;      // grant scope or policy said no
inline constexpr int kApprovalPending = -32011;   // a human has not decided (yet)
inline constexpr int kUpstreamFailed = -32012;    // upstream down, timed out, non-2xx, malformed
inline constexpr int kMessageTooLarge = -32013;   // over max_message_bytes
inline constexpr int kSessionRefused = -32014;    // unknown session or another grant's

enum class MessageKind { kRequest, kNotification, kResponse };

// One well-formed JSON-RPC 2.0 message.
struct JsonRpcMessage {
  MessageKind kind = MessageKind::kRequest;
  boost::json::value id;      // string or integer for requests/responses; null otherwise
  std::string method;         // requests and notifications
  boost::json::value params;  // object or array; null when absent
  boost::json::object raw;    // the message as received
};

// One element of a POST body: a message, or why it is not one (and the id
// to answer with: the element's id when it had a usable one, else null).
struct PayloadEntry {
  std::optional<JsonRpcMessage> message;
  int error_code = 0;  // kInvalidRequest when !message
  std::string error;
  boost::json::value error_id;
};

struct Payload {
  bool batch = false;
  std::vector<PayloadEntry> entries;
};

struct PayloadLimits {
  size_t max_bytes = size_t{4} << 20;
  size_t max_depth = 64;
  size_t max_batch = 100;
};

// Parses a POST body. Errors: ResourceExhausted (too large: answer 413 +
// kMessageTooLarge), InvalidArgument with field "json" for text that is not
// JSON (kParseError), InvalidArgument with field "message" for a document
// that is neither an object nor a non-empty array of at most max_batch
// elements (kInvalidRequest). Malformed elements of
// a batch are entries with an error, as JSON-RPC 2.0 section 6 requires.
Result<Payload> ParsePayload(std::string_view body, const PayloadLimits& limits);

// Checks one JSON value as a JSON-RPC 2.0 message: jsonrpc exactly "2.0";
// id a string, an integer or absent (null only in error responses);
// method a string; params an object or array when present; a response has
// exactly one of result and error (error an object with integer code and
// string message). Unknown members are kept (MCP adds none at top level,
// but extensions may). InvalidArgument naming what is wrong.
Result<JsonRpcMessage> ParseMessage(const boost::json::value& value);

// {"jsonrpc":"2.0","id":id,"error":{"code","message","data"?}}.
boost::json::object ErrorResponse(const boost::json::value& id, int code, std::string_view message,
                                  std::optional<boost::json::value> data = std::nullopt);

// The arguments of an MCP tools/call: params {"name": string (1..256 bytes),
// "arguments"?: object, "_meta"?: object}. InvalidArgument naming the member.
struct ToolCall {
  std::string name;
  boost::json::object arguments;
};
Result<ToolCall> ParseToolCall(const boost::json::value& params);

// One server-sent event.
struct SseEvent {
  std::string event;  // "" means the default ("message")
  std::string id;
  std::string data;   // data lines joined with "\n"
};

// Parses a complete text/event-stream body (CRLF, LF or CR line ends;
// comments and retry ignored). InvalidArgument for a field line that cannot
// be read, or more than max_events events.
Result<std::vector<SseEvent>> ParseSse(std::string_view body, size_t max_events = 10000);

// Formats events as text/event-stream ("event:", "id:", one "data:" line per
// line of data, blank line after each).
std::string FormatSse(const std::vector<SseEvent>& events);

// Protocol revisions the gateway passes on (2025-11-25, 2025-06-18,
// 2025-03-26, 2024-11-05); JSON-RPC batches only in 2025-03-26 (2025-06-18
// removed them).
bool IsKnownProtocolVersion(std::string_view version);
bool ProtocolAllowsBatches(std::string_view version);

}  // namespace warden::gateway
