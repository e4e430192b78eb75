// Fuzzes the gateway's reading of agent and upstream messages: a JSON-RPC
// payload (single or batch), tools/call params, and a text/event-stream
// body. Nothing may crash; every entry is either a message or an error;
// formatted events must parse back to the same data.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "warden/gateway/jsonrpc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  warden::gateway::PayloadLimits limits;
  limits.max_bytes = 1 << 16;
  auto payload = warden::gateway::ParsePayload(text, limits);
  if (payload.ok()) {
    if (payload->entries.empty()) std::abort();
    for (const auto& e : payload->entries) {
      if (!e.message && e.error_code != warden::gateway::kInvalidRequest) std::abort();
      if (e.message && e.message->kind == warden::gateway::MessageKind::kRequest &&
          e.message->method == "tools/call") {
        (void)warden::gateway::ParseToolCall(e.message->params);
      }
    }
  }
  auto events = warden::gateway::ParseSse(text, 1000);
  if (events.ok()) {
    auto again = warden::gateway::ParseSse(warden::gateway::FormatSse(*events), 1000);
    if (!again.ok() || again->size() != events->size()) std::abort();
    for (size_t i = 0; i < events->size(); ++i) {
      // Data keeps its lines (CR and CRLF become LF); never anything else.
      std::string expected;
      std::string_view d = (*events)[i].data;
      for (size_t k = 0; k < d.size(); ++k) {
        if (d[k] == '\r') {
          expected += '\n';
          if (k + 1 < d.size() && d[k + 1] == '\n') ++k;
        } else {
          expected += d[k];
        }
      }
      if ((*again)[i].data != expected) std::abort();
    }
  }
  return 0;
}
