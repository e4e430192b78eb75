// The MCP enforcement gateway's HTTP routes: POST and DELETE /mcp/{server}
// (GET answers 405: Warden opens no server-initiated stream). Agents
// authenticate with their grant token and a DPoP proof; everything after
// that is gateway::McpProxy. A tools/call that needs a human waits as a
// long-poll (Response.deferred), never holding a server thread.
// Thread-safe.
#pragma once

#include "server/internal/api.h"

namespace warden::server::internal {

Status RegisterGatewayRoutes(Router& router, ApiContext& ctx);

}  // namespace warden::server::internal
