// Admin API authentication: "Authorization: Bearer <admin token>". The store
// holds only the token's SHA-256; the presented token is hashed and the
// digests compared in constant time. Failures answer 401 and, rate-limited per
// source address, append an "admin.auth_failed" audit event (never the token).
// Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "server/internal/event_budget.h"
#include "server/internal/metrics.h"
#include "warden/core/clock.h"
#include "warden/server/router.h"
#include "warden/store/store.h"

namespace warden::server::internal {

class AdminAuth {
 public:
  // `token_sha256_hex`: the stored digest. Borrows store, clock and metrics.
  AdminAuth(store::Store& store, const Clock& clock, Metrics& metrics,
            std::string_view token_sha256_hex, int audit_events_per_minute);

  // nullopt when `request` carries the admin token; otherwise the 401 to send.
  std::optional<Response> Check(const Request& request);

  // Wraps `handler` so it runs only for authenticated requests.
  Handler Require(Handler handler);

 private:
  void RecordFailure(const std::string& remote, std::string_view reason);

  store::Store& store_;
  const Clock& clock_;
  Metrics& metrics_;
  std::string digest_;  // 32 raw bytes; empty when the stored digest was unusable
  EventBudget budget_;
};

}  // namespace warden::server::internal
