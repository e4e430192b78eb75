// Approval routes for humans and admins: approvers (POST/GET /v1/approvers,
// admin), the approval queue (GET /v1/approvals, GET /v1/approvals/{id}) and
// decisions (POST /v1/approvals/{id}/approve|deny, authenticated by an
// approver token). Thread-safe.
#pragma once

#include "server/internal/api.h"

namespace warden::server::internal {

Status RegisterApprovalRoutes(Router& router, ApiContext& ctx);

}  // namespace warden::server::internal
