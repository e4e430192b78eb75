// Workload identity routes. On the Unix socket (the Workload API): GET and
// POST /v1/svid (attest the connecting process, issue a JWT-SVID), GET
// /.well-known/jwks.json, GET /healthz. On the HTTP listener: GET
// /.well-known/jwks.json (public), POST /v1/attest/challenge and
// /v1/attest/join (a join token authenticates), and the admin routes GET
// /v1/keys, POST /v1/keys/rotate, POST and GET /v1/agents/{name}/join-tokens.
// Every issuance and refusal is audited. Thread-safe.
#pragma once

#include <memory>

#include "server/internal/api.h"
#include "server/internal/event_budget.h"
#include "warden/identity/attestation.h"

namespace warden::server::internal {

class WorkloadApi {
 public:
  // Borrows `ctx`, which must outlive this object and every registered route.
  explicit WorkloadApi(ApiContext& ctx);

  Status RegisterHttpRoutes(Router& router);
  Status RegisterSocketRoutes(Router& router);

  class Handlers;

 private:
  ApiContext& ctx_;
  std::shared_ptr<Handlers> handlers_;
};

}  // namespace warden::server::internal
