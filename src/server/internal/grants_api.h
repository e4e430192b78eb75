// Grant routes: POST /v1/grants (an intent, authenticated by the agent's
// key-bound SVID and a DPoP proof), GET /v1/grants/{id} (long poll while an
// approval is pending), POST /v1/grants/{id}/complete, POST /v1/token (RFC 8693
// delegation), and the admin routes GET /v1/grants, GET /v1/grants/{id},
// POST /v1/grants/{id}/revoke. Thread-safe.
#pragma once

#include "server/internal/api.h"

namespace warden::server::internal {

Status RegisterGrantRoutes(Router& router, ApiContext& ctx);

}  // namespace warden::server::internal
