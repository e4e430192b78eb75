#include "warden/grants/grant_service.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "warden/approvals/approval_queue.h"
#include "warden/audit/audit_log.h"
#include "warden/core/json.h"
#include "warden/core/random.h"
#include "warden/core/time_format.h"
#include "warden/identity/agent.h"

namespace warden::grants {
namespace {

constexpr std::string_view kColumns =
    "id, agent, task, intent, intent_sha256, scope, status, jkt, parent_id, root_id, depth, "
    "on_behalf_of, approval_id, max_calls, calls, max_spend, spent, policy_hash, created_at, "
    "expires_at, ended_at, end_reason, version";
constexpr size_t kColumnCount = 23;
// Bounds one ExpireDue call so a backlog cannot hold the writer for long.
constexpr int64_t kExpireBatch = 1000;

std::string Subject(std::string_view id) { return "grant:" + std::string(id); }
std::string AgentActor(std::string_view agent) { return "agent:" + std::string(agent); }
std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

store::SqlValue OptText(const std::optional<std::string>& v) {
  return v ? store::SqlValue(*v) : store::SqlValue();
}
store::SqlValue OptInt(const std::optional<int64_t>& v) {
  return v ? store::SqlValue(*v) : store::SqlValue();
}

bool IsLive(GrantStatus s) {
  return s == GrantStatus::kActive || s == GrantStatus::kPendingApproval;
}

// An RFC 7638 SHA-256 thumbprint: 43 base64url characters.
Status ValidateJkt(std::string_view jkt, std::string_view field) {
  bool ok = jkt.size() == 43;
  for (char c : jkt) {
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_');
  }
  if (!ok) {
    return InvalidArgument("must be an RFC 7638 SHA-256 key thumbprint (43 base64url characters)",
                           std::string(field));
  }
  return OkStatus();
}

// ValidateAgentName with the error reported against `field`.
Status ValidateAgentField(std::string_view name, std::string_view field) {
  Status s = identity::ValidateAgentName(name);
  if (s.ok()) return s;
  return Status(s.code(), s.message(), std::string(field));
}

Status ValidateActor(std::string_view actor) {
  if (actor.empty()) return InvalidArgument("is required", "actor");
  return OkStatus();
}

Result<Grant> RowFrom(const std::vector<store::SqlValue>& row) {
  auto corrupt = [](std::string_view what) {
    return DataLoss("grants row is malformed: " + std::string(what));
  };
  if (row.size() != kColumnCount) return corrupt("wrong column count");
  Grant g;
  std::string intent_json, scope_json, status;
  if (!store::ReadText(row[0], &g.id) || !store::ReadText(row[1], &g.agent) ||
      !store::ReadText(row[3], &intent_json) || !store::ReadText(row[4], &g.intent_sha256) ||
      !store::ReadText(row[5], &scope_json) || !store::ReadText(row[6], &status) ||
      !store::ReadText(row[7], &g.jkt) || !store::ReadText(row[9], &g.root_id) ||
      !store::ReadText(row[17], &g.policy_hash) || !store::ReadMicros(row[18], &g.created_at) ||
      !store::ReadMicros(row[19], &g.expires_at)) {
    return corrupt("unexpected column type");
  }
  auto int_at = [&](size_t i, int64_t* out) {
    auto v = store::AsInt(row[i]);
    if (!v.ok()) return false;
    *out = *v;
    return true;
  };
  auto opt_text = [&](size_t i, std::optional<std::string>* out) {
    if (store::IsNull(row[i])) return true;
    std::string s;
    if (!store::ReadText(row[i], &s)) return false;
    *out = std::move(s);
    return true;
  };
  if (!int_at(10, &g.depth) || !int_at(14, &g.calls) || !int_at(22, &g.version) ||
      !opt_text(8, &g.parent_id) || !opt_text(11, &g.on_behalf_of) ||
      !opt_text(12, &g.approval_id) || !opt_text(15, &g.max_spend) ||
      !opt_text(21, &g.end_reason)) {
    return corrupt("unexpected column type");
  }
  if (!store::IsNull(row[13])) {
    int64_t v = 0;
    if (!int_at(13, &v)) return corrupt("max_calls");
    g.max_calls = v;
  }
  if (!store::IsNull(row[20])) {
    TimePoint t;
    if (!store::ReadMicros(row[20], &t)) return corrupt("ended_at");
    g.ended_at = t;
  }
  auto st = ParseGrantStatus(status);
  if (!st.ok()) return corrupt("status");
  g.status = *st;
  auto intent_value = ParseJson(intent_json);
  if (!intent_value.ok()) return corrupt("intent is not JSON");
  auto intent = ParseIntent(*intent_value);
  if (!intent.ok()) return corrupt("intent: " + intent.status().ToString());
  g.intent = std::move(*intent);
  auto scope_value = ParseJson(scope_json);
  if (!scope_value.ok()) return corrupt("scope is not JSON");
  auto scope = ScopeFromJson(*scope_value);
  if (!scope.ok()) return corrupt("scope: " + scope.status().ToString());
  g.scope = std::move(*scope);
  return g;
}

Result<std::optional<Grant>> LoadGrant(store::Transaction& txn, std::string_view id) {
  WARDEN_ASSIGN_OR_RETURN(
      store::Rows rows,
      txn.Query("SELECT " + std::string(kColumns) + " FROM grants WHERE id = $1",
                {std::string(id)}));
  if (rows.empty()) return std::optional<Grant>();
  WARDEN_ASSIGN_OR_RETURN(Grant g, RowFrom(rows.rows[0]));
  return std::optional<Grant>(std::move(g));
}

Result<Grant> MustLoadGrant(store::Transaction& txn, std::string_view id) {
  WARDEN_ASSIGN_OR_RETURN(std::optional<Grant> g, LoadGrant(txn, id));
  if (!g) return NotFound("grant " + Quoted(id) + " not found");
  return std::move(*g);
}

// `intent_json` and `scope_json` are the canonical encodings of g.intent and
// g.scope, passed in so callers can encode them off the writer thread.
Status InsertGrant(store::Transaction& txn, const Grant& g, std::string intent_json,
                   std::string scope_json) {
  auto inserted = txn.Exec(
      "INSERT INTO grants (" + std::string(kColumns) +
          ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
          "$18, $19, $20, $21, $22, $23)",
      {g.id, g.agent, g.intent.task, std::move(intent_json), g.intent_sha256,
       std::move(scope_json), std::string(GrantStatusName(g.status)), g.jkt,
       OptText(g.parent_id), g.root_id, g.depth, OptText(g.on_behalf_of), OptText(g.approval_id),
       OptInt(g.max_calls), g.calls, OptText(g.max_spend), store::SqlValue(), g.policy_hash,
       UnixMicros(g.created_at), UnixMicros(g.expires_at), store::SqlValue(), store::SqlValue(),
       g.version});
  return inserted.status();
}

Status InsertGrant(store::Transaction& txn, const Grant& g) {
  return InsertGrant(txn, g, CanonicalJson(IntentToJson(g.intent)),
                     CanonicalJson(ScopeToJson(g.scope)));
}

struct AgentRow {
  std::string environment;
  std::string status;
  TimePoint expires_at;
};

Result<AgentRow> LoadAgent(store::Transaction& txn, std::string_view name) {
  WARDEN_ASSIGN_OR_RETURN(
      store::Rows rows,
      txn.Query("SELECT environment, status, expires_at FROM agents WHERE name = $1",
                {std::string(name)}));
  if (rows.empty()) return NotFound("agent " + Quoted(name) + " not found");
  AgentRow a;
  if (!store::ReadText(rows.rows[0][0], &a.environment) ||
      !store::ReadText(rows.rows[0][1], &a.status) ||
      !store::ReadMicros(rows.rows[0][2], &a.expires_at)) {
    return DataLoss("agents row is malformed: unexpected column type");
  }
  return a;
}

// Read in the same transaction as the change: an agent suspended a moment
// ago gets nothing, whatever a cache says.
Status RequireActiveAgent(const AgentRow& a, std::string_view name, TimePoint now) {
  if (a.status != "active") {
    return FailedPrecondition("agent " + Quoted(name) + " is " + a.status +
                              "; grants are issued only to active agents");
  }
  if (now >= a.expires_at) {
    return FailedPrecondition("agent " + Quoted(name) + " expired on " +
                              FormatRfc3339Exact(a.expires_at) +
                              "; grants are issued only to active agents");
  }
  return OkStatus();
}

// The refusal for using or ending a grant that is not live.
Status NotLive(const Grant& g, TimePoint now) {
  GrantStatus s = g.EffectiveStatus(now);
  if (s == GrantStatus::kExpired) {
    return FailedPrecondition("grant " + g.id + " expired at " + FormatRfc3339Exact(g.expires_at));
  }
  return FailedPrecondition("grant " + g.id + " is " + std::string(GrantStatusName(s)));
}

json::object LimitsJson(const Grant& g) {
  json::object o;
  if (g.max_calls) o["max_calls"] = *g.max_calls;
  if (g.max_spend) o["max_spend"] = *g.max_spend;
  return o;
}

Status AppendEvent(store::Transaction& txn, std::string_view actor, std::string_view kind,
                   std::string_view grant_id, json::object details, TimePoint now) {
  json::object d{{"grant", grant_id}};
  for (auto& kv : details) d[kv.key()] = std::move(kv.value());
  return audit::Append(txn, {std::string(actor), std::string(kind), Subject(grant_id), std::move(d)},
                       now)
      .status();
}

TimePoint CapExpiry(TimePoint now, std::chrono::seconds ttl, std::chrono::seconds max_ttl,
                    TimePoint agent_expires_at) {
  return std::min(now + std::min(ttl, max_ttl), agent_expires_at);
}

}  // namespace

std::string_view GrantStatusName(GrantStatus status) {
  switch (status) {
    case GrantStatus::kPendingApproval: return "pending_approval";
    case GrantStatus::kActive: return "active";
    case GrantStatus::kCompleted: return "completed";
    case GrantStatus::kRevoked: return "revoked";
    case GrantStatus::kExpired: return "expired";
  }
  return "revoked";
}

Result<GrantStatus> ParseGrantStatus(std::string_view text) {
  for (GrantStatus s : {GrantStatus::kPendingApproval, GrantStatus::kActive,
                        GrantStatus::kCompleted, GrantStatus::kRevoked, GrantStatus::kExpired}) {
    if (text == GrantStatusName(s)) return s;
  }
  return InvalidArgument(
      "must be one of pending_approval, active, completed, revoked, expired", "status");
}

GrantStatus Grant::EffectiveStatus(TimePoint now) const {
  if (status == GrantStatus::kActive && now >= expires_at) return GrantStatus::kExpired;
  return status;
}

Status ValidateGrantServiceOptions(const GrantServiceOptions& o) {
  WARDEN_RETURN_IF_ERROR(identity::ValidateTrustDomain(o.trust_domain));
  if (o.audience.empty()) return InvalidArgument("is required", "audience");
  if (o.max_ttl < std::chrono::seconds(1) || o.max_ttl > std::chrono::hours(24 * 366)) {
    return InvalidArgument("must be between 1s and 366d", "max_ttl");
  }
  if (o.max_depth < 0 || o.max_depth > 16) {
    return InvalidArgument("must be between 0 and 16", "max_depth");
  }
  return OkStatus();
}

Result<std::unique_ptr<GrantService>> GrantService::Open(store::Store& store,
                                                         const identity::KeyRing& keys,
                                                         const Clock& clock,
                                                         GrantServiceOptions options) {
  WARDEN_RETURN_IF_ERROR(ValidateGrantServiceOptions(options));
  std::unique_ptr<GrantService> service(
      new GrantService(store, keys, clock, std::move(options)));
  WARDEN_RETURN_IF_ERROR(service->revocations_.Load(store, clock.Now()));
  return service;
}

std::string GrantService::Issuer() const { return "spiffe://" + options_.trust_domain; }

std::string GrantService::SpiffeId(std::string_view agent) const {
  return identity::SpiffeIdFor(options_.trust_domain, agent);
}

Result<Grant> GrantService::Create(const GrantRequest& request) {
  WARDEN_RETURN_IF_ERROR(ValidateAgentField(request.agent, "agent"));
  WARDEN_RETURN_IF_ERROR(ValidateJkt(request.jkt, "jkt"));
  WARDEN_RETURN_IF_ERROR(ValidateIntent(request.intent));
  if (request.policy_hash.empty()) return InvalidArgument("is required", "policy_hash");
  if (request.needs_approval && (!request.approval_id || request.approval_id->empty())) {
    return InvalidArgument("is required when the decision needs approval", "approval_id");
  }
  const TimePoint now = TruncateToMicros(clock_.Now());
  Grant g;
  g.id = RandomId("grt");
  g.agent = request.agent;
  g.spiffe_id = SpiffeId(request.agent);
  g.intent = request.intent;
  g.scope = request.intent.scope;
  g.intent_sha256 = BindingHash(g.spiffe_id, g.intent, g.scope);
  g.status = request.needs_approval ? GrantStatus::kPendingApproval : GrantStatus::kActive;
  g.jkt = request.jkt;
  g.root_id = g.id;
  g.on_behalf_of = request.intent.on_behalf_of;
  g.approval_id = request.approval_id;
  g.max_calls = request.intent.limits.max_calls;
  g.max_spend = request.intent.limits.max_spend;
  g.policy_hash = request.policy_hash;
  g.created_at = now;

  const std::string actor = AgentActor(g.agent);
  // Everything that does not depend on the agent row is encoded here, on the
  // caller's thread: the writer thread is shared by every request.
  const json::object intent_object = IntentToJson(g.intent);
  std::string intent_json = CanonicalJson(intent_object);
  std::string scope_json = CanonicalJson(ScopeToJson(g.scope));
  json::object requested{{"task", g.intent.task},
                         {"intent", intent_object},
                         {"intent_sha256", g.intent_sha256},
                         {"policy_hash", g.policy_hash},
                         {"decision", request.decision}};
  json::object next;
  if (g.status == GrantStatus::kPendingApproval) {
    next = {{"approval", *g.approval_id}, {"intent_sha256", g.intent_sha256}};
  } else {
    next = {{"scope", ScopeToJson(g.scope)}, {"jkt", g.jkt}, {"limits", LimitsJson(g)}};
    if (g.approval_id) next["approval"] = *g.approval_id;
    if (g.on_behalf_of) next["on_behalf_of"] = *g.on_behalf_of;
  }
  Status written = store_.Write([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(AgentRow agent, LoadAgent(txn, g.agent));
    WARDEN_RETURN_IF_ERROR(RequireActiveAgent(agent, g.agent, now));
    if (agent.environment != g.intent.environment) {
      return InvalidArgument("is " + Quoted(g.intent.environment) + " but agent " +
                                 Quoted(g.agent) + " is registered for " +
                                 Quoted(agent.environment),
                             "environment");
    }
    // A pending grant's expiry is provisional: Activate recomputes it.
    g.expires_at = CapExpiry(now, g.intent.ttl, options_.max_ttl, agent.expires_at);
    // Store::Write runs this function once, so the prepared values can move.
    WARDEN_RETURN_IF_ERROR(InsertGrant(txn, g, std::move(intent_json), std::move(scope_json)));
    WARDEN_RETURN_IF_ERROR(
        AppendEvent(txn, actor, "grant.requested", g.id, std::move(requested), now));
    if (g.status == GrantStatus::kPendingApproval) {
      return AppendEvent(txn, actor, "grant.pending_approval", g.id, std::move(next), now);
    }
    next["expires_at"] = FormatRfc3339Exact(g.expires_at);
    return AppendEvent(txn, actor, "grant.issued", g.id, std::move(next), now);
  });
  WARDEN_RETURN_IF_ERROR(written);
  return g;
}

Result<Grant> GrantService::Get(std::string_view grant_id) {
  std::optional<Grant> out;
  Status written = store_.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Grant g, MustLoadGrant(txn, grant_id));
    out = std::move(g);
    return OkStatus();
  });
  WARDEN_RETURN_IF_ERROR(written);
  out->spiffe_id = SpiffeId(out->agent);
  return std::move(*out);
}

Result<std::vector<Grant>> GrantService::List(const GrantFilter& filter) {
  if (filter.agent) WARDEN_RETURN_IF_ERROR(ValidateAgentField(*filter.agent, "agent"));
  if (filter.limit < 1 || filter.limit > 1000) {
    return InvalidArgument("must be between 1 and 1000", "limit");
  }
  const TimePoint now = clock_.Now();
  // One constant statement per filter shape (statements are cached by text).
  std::string sql = "SELECT " + std::string(kColumns) + " FROM grants";
  std::vector<store::SqlValue> params;
  std::string sep = " WHERE ";
  if (filter.agent) {
    params.emplace_back(*filter.agent);
    sql += sep + "agent = $" + std::to_string(params.size());
    sep = " AND ";
  }
  if (filter.active_only) {
    params.emplace_back(UnixMicros(now));
    sql += sep + "status = 'active' AND expires_at > $" + std::to_string(params.size());
  }
  params.emplace_back(filter.limit);
  sql += " ORDER BY created_at DESC, id LIMIT $" + std::to_string(params.size());
  std::vector<Grant> out;
  Status read = store_.Read([&](store::Transaction& txn) -> Status {
    out.clear();
    WARDEN_ASSIGN_OR_RETURN(store::Rows rows, txn.Query(sql, params));
    for (const auto& row : rows.rows) {
      WARDEN_ASSIGN_OR_RETURN(Grant g, RowFrom(row));
      g.spiffe_id = SpiffeId(g.agent);
      out.push_back(std::move(g));
    }
    return OkStatus();
  });
  WARDEN_RETURN_IF_ERROR(read);
  return out;
}

Result<std::vector<Grant>> GrantService::ListActive(std::string_view agent) {
  GrantFilter filter;
  filter.agent = std::string(agent);
  filter.active_only = true;
  return List(filter);
}

Result<Grant> GrantService::ActivateWithApproval(std::string_view grant_id,
                                                 std::string_view approval_id,
                                                 std::string_view actor) {
  WARDEN_RETURN_IF_ERROR(ValidateActor(actor));
  const TimePoint now = TruncateToMicros(clock_.Now());
  Grant g;
  Status written = store_.Write([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(g, MustLoadGrant(txn, grant_id));
    if (g.status != GrantStatus::kPendingApproval) {
      return FailedPrecondition("grant " + g.id + " is " +
                                std::string(GrantStatusName(g.EffectiveStatus(now))) +
                                ", not pending_approval");
    }
    if (!g.approval_id || *g.approval_id != approval_id) {
      return InvalidArgument("approval " + Quoted(approval_id) + " is not the one grant " + g.id +
                                 " waits for",
                             "approval_id");
    }
    WARDEN_ASSIGN_OR_RETURN(AgentRow agent, LoadAgent(txn, g.agent));
    WARDEN_RETURN_IF_ERROR(RequireActiveAgent(agent, g.agent, now));
    // The subject is recomputed from the stored intent and scope, not read
    // from intent_sha256: the approval must match what will be authorized.
    // Any error below, including the consume's refusal, rolls back both.
    WARDEN_RETURN_IF_ERROR(approvals::ConsumeInTransaction(
                               txn, approval_id, BindingHash(SpiffeId(g.agent), g.intent, g.scope),
                               actor, now)
                               .status());
    // The task's time starts when the agent can act, not when it asked.
    g.expires_at = CapExpiry(now, g.intent.ttl, options_.max_ttl, agent.expires_at);
    WARDEN_ASSIGN_OR_RETURN(
        int64_t changed,
        txn.Exec("UPDATE grants SET status = 'active', expires_at = $2, version = version + 1 "
                 "WHERE id = $1 AND status = 'pending_approval'",
                 {g.id, UnixMicros(g.expires_at)}));
    if (changed != 1) return Aborted("grant " + g.id + " changed concurrently");
    g.status = GrantStatus::kActive;
    ++g.version;
    json::object issued{{"scope", ScopeToJson(g.scope)},
                        {"expires_at", FormatRfc3339Exact(g.expires_at)},
                        {"jkt", g.jkt},
                        {"approval", *g.approval_id},
                        {"limits", LimitsJson(g)}};
    if (g.on_behalf_of) issued["on_behalf_of"] = *g.on_behalf_of;
    return AppendEvent(txn, actor, "grant.issued", g.id, std::move(issued), now);
  });
  WARDEN_RETURN_IF_ERROR(written);
  g.spiffe_id = SpiffeId(g.agent);
  return g;
}

Status GrantService::EndTree(store::Transaction& txn, const Grant& root, GrantStatus status,
                             std::string_view actor, std::string_view reason, TimePoint now,
                             std::vector<Ended>* ended) {
  // One tree shares root_id; walk it from `root` down through parent_id.
  std::multimap<std::string, Grant> children;
  WARDEN_ASSIGN_OR_RETURN(
      store::Rows rows,
      txn.Query("SELECT " + std::string(kColumns) + " FROM grants WHERE root_id = $1 AND id <> $2",
                {root.root_id, root.id}));
  for (const auto& row : rows.rows) {
    WARDEN_ASSIGN_OR_RETURN(Grant g, RowFrom(row));
    if (g.parent_id) children.emplace(*g.parent_id, std::move(g));
  }
  const std::string status_name(GrantStatusName(status));
  const std::string end_reason = status_name + (reason.empty() ? "" : ": " + std::string(reason));
  auto end_one = [&](const Grant& g, std::string_view stored_status,
                     std::string_view why) -> Status {
    WARDEN_ASSIGN_OR_RETURN(
        int64_t changed,
        txn.Exec("UPDATE grants SET status = $2, ended_at = $3, end_reason = $4, "
                 "version = version + 1 WHERE id = $1 AND status IN ('active', "
                 "'pending_approval')",
                 {g.id, std::string(stored_status), UnixMicros(now), std::string(why)}));
    if (changed != 1) return Aborted("grant " + g.id + " changed concurrently");
    ended->push_back(Ended{g.id, g.expires_at, std::string(stored_status)});
    return OkStatus();
  };

  WARDEN_RETURN_IF_ERROR(end_one(root, status_name, end_reason));
  json::object details{{"reason", std::string(reason)}, {"agent", root.agent}};
  WARDEN_RETURN_IF_ERROR(AppendEvent(
      txn, actor, status == GrantStatus::kCompleted ? "grant.completed" : "grant.revoked", root.id,
      std::move(details), now));

  std::vector<std::string> frontier{root.id};
  while (!frontier.empty()) {
    std::string parent = std::move(frontier.back());
    frontier.pop_back();
    auto [begin, end] = children.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      const Grant& child = it->second;
      frontier.push_back(child.id);
      if (!IsLive(child.status)) continue;  // already ended on its own
      WARDEN_RETURN_IF_ERROR(end_one(child, "revoked", "cascade from " + root.id));
      WARDEN_RETURN_IF_ERROR(AppendEvent(txn, actor, "grant.revoked", child.id,
                                         {{"reason", "cascade"},
                                          {"cascade_from", root.id},
                                          {"parent", parent},
                                          {"agent", child.agent}},
                                         now));
    }
  }
  return OkStatus();
}

void GrantService::Publish(const std::vector<Ended>& ended) {
  for (const auto& e : ended) revocations_.Add(e.id, e.expires_at, e.reason);
}

Result<Grant> GrantService::EndGrant(std::string_view grant_id,
                                     std::optional<std::string_view> agent, std::string_view actor,
                                     std::string_view reason, GrantStatus status) {
  WARDEN_RETURN_IF_ERROR(ValidateActor(actor));
  const TimePoint now = TruncateToMicros(clock_.Now());
  Grant g;
  std::vector<Ended> ended;
  Status written = store_.Write([&](store::Transaction& txn) -> Status {
    ended.clear();
    WARDEN_ASSIGN_OR_RETURN(g, MustLoadGrant(txn, grant_id));
    if (agent && g.agent != *agent) {
      return PermissionDenied("grant " + g.id + " belongs to agent " + Quoted(g.agent) +
                              ", not " + Quoted(*agent));
    }
    const GrantStatus effective = g.EffectiveStatus(now);
    const bool endable = status == GrantStatus::kCompleted ? effective == GrantStatus::kActive
                                                           : IsLive(effective);
    if (!endable) return NotLive(g, now);
    return EndTree(txn, g, status, actor, reason, now, &ended);
  });
  WARDEN_RETURN_IF_ERROR(written);
  Publish(ended);
  g.status = status;
  g.ended_at = now;
  g.end_reason = std::string(GrantStatusName(status)) +
                 (reason.empty() ? "" : ": " + std::string(reason));
  ++g.version;
  g.spiffe_id = SpiffeId(g.agent);
  return g;
}

Result<Grant> GrantService::Complete(std::string_view grant_id, std::string_view agent) {
  return EndGrant(grant_id, agent, AgentActor(agent), "task completed", GrantStatus::kCompleted);
}

Result<Grant> GrantService::Revoke(std::string_view grant_id, std::string_view actor,
                                   std::string_view reason) {
  return EndGrant(grant_id, std::nullopt, actor, reason, GrantStatus::kRevoked);
}

Result<std::vector<std::string>> GrantService::RevokeAgentGrants(std::string_view agent,
                                                                 std::string_view actor,
                                                                 std::string_view reason) {
  WARDEN_RETURN_IF_ERROR(ValidateActor(actor));
  const TimePoint now = TruncateToMicros(clock_.Now());
  std::vector<Ended> ended;
  Status written = store_.Write([&](store::Transaction& txn) -> Status {
    ended.clear();
    WARDEN_ASSIGN_OR_RETURN(
        store::Rows rows,
        txn.Query("SELECT id FROM grants WHERE agent = $1 AND status IN ('active', "
                  "'pending_approval') ORDER BY depth, id",
                  {std::string(agent)}));
    for (const auto& row : rows.rows) {
      WARDEN_ASSIGN_OR_RETURN(std::string id, store::AsText(row[0]));
      // An earlier grant's cascade may already have ended this one.
      WARDEN_ASSIGN_OR_RETURN(Grant g, MustLoadGrant(txn, id));
      if (!IsLive(g.status)) continue;
      WARDEN_RETURN_IF_ERROR(EndTree(txn, g, GrantStatus::kRevoked, actor, reason, now, &ended));
    }
    return OkStatus();
  });
  WARDEN_RETURN_IF_ERROR(written);
  Publish(ended);
  std::vector<std::string> ids;
  ids.reserve(ended.size());
  for (const auto& e : ended) ids.push_back(e.id);
  return ids;
}

Result<int64_t> GrantService::ExpireDue() {
  const TimePoint now = TruncateToMicros(clock_.Now());
  int64_t count = 0;
  Status written = store_.Write([&](store::Transaction& txn) -> Status {
    count = 0;
    WARDEN_ASSIGN_OR_RETURN(
        store::Rows rows,
        txn.Query("SELECT id, expires_at, agent FROM grants WHERE status = 'active' AND "
                  "expires_at <= $1 ORDER BY expires_at LIMIT $2",
                  {UnixMicros(now), kExpireBatch}));
    for (const auto& row : rows.rows) {
      WARDEN_ASSIGN_OR_RETURN(std::string id, store::AsText(row[0]));
      WARDEN_ASSIGN_OR_RETURN(int64_t expires, store::AsInt(row[1]));
      WARDEN_ASSIGN_OR_RETURN(std::string agent, store::AsText(row[2]));
      WARDEN_ASSIGN_OR_RETURN(
          int64_t changed,
          txn.Exec("UPDATE grants SET status = 'expired', ended_at = $2, end_reason = 'expired', "
                   "version = version + 1 WHERE id = $1 AND status = 'active'",
                   {id, expires}));
      // Another writer (a second replica) may have ended it since the
      // SELECT: recorded once, by whoever changed the row.
      if (changed != 1) continue;
      WARDEN_RETURN_IF_ERROR(AppendEvent(
          txn, "system", "grant.expired", id,
          {{"agent", agent}, {"expired_at", FormatRfc3339Exact(FromUnixMicros(expires))}}, now));
      ++count;
    }
    return OkStatus();
  });
  WARDEN_RETURN_IF_ERROR(written);
  // Ended grants past their expiry need no revocation entry: their tokens
  // are refused as expired.
  revocations_.Prune(now);
  return count;
}

Result<Grant> GrantService::BuildChild(store::Transaction& txn, const DelegationRequest& request,
                                       TimePoint now) {
  WARDEN_RETURN_IF_ERROR(ValidateAgentField(request.child_agent, "child_agent"));
  WARDEN_RETURN_IF_ERROR(ValidateJkt(request.child_jkt, "child_jkt"));
  if (request.ttl && request.ttl->count() <= 0) return InvalidArgument("must be positive", "ttl");
  Grant child;
  WARDEN_ASSIGN_OR_RETURN(Grant parent, MustLoadGrant(txn, request.parent_grant_id));
  if (parent.agent != request.requesting_agent) {
    return PermissionDenied("grant " + parent.id + " belongs to agent " + Quoted(parent.agent) +
                            "; only it may delegate from it");
  }
  if (parent.EffectiveStatus(now) != GrantStatus::kActive) return NotLive(parent, now);
  WARDEN_ASSIGN_OR_RETURN(AgentRow delegator, LoadAgent(txn, parent.agent));
  WARDEN_RETURN_IF_ERROR(RequireActiveAgent(delegator, parent.agent, now));
  if (parent.depth + 1 > options_.max_depth) {
    return InvalidArgument("delegation depth " + std::to_string(parent.depth + 1) +
                               " exceeds the maximum " + std::to_string(options_.max_depth),
                           "depth");
  }
  // Narrowing: every requested element must already be in the parent.
  const Scope& want = request.scope;
  if (want.actions.empty() || want.actions.size() > kMaxActions) {
    return InvalidArgument("must hold 1 to 64 entries", "scope.actions");
  }
  if (want.resources.size() > kMaxResources) {
    return InvalidArgument("must hold at most 64 entries", "scope.resources");
  }
  auto check_subset = [](const std::vector<std::string>& wanted,
                         const std::vector<std::string>& allowed, std::string_view field,
                         std::string_view noun) -> Status {
    std::set<std::string_view> have(allowed.begin(), allowed.end());
    std::set<std::string_view> seen;
    for (size_t i = 0; i < wanted.size(); ++i) {
      const std::string f = std::string(field) + "[" + std::to_string(i) + "]";
      if (!have.contains(wanted[i])) {
        return InvalidArgument(crypto::QuoteUntrusted(wanted[i]) +
                                   " is not in the parent grant's " + std::string(noun),
                               f);
      }
      if (!seen.insert(wanted[i]).second) {
        return InvalidArgument(Quoted(wanted[i]) + " is listed twice", f);
      }
    }
    return OkStatus();
  };
  WARDEN_RETURN_IF_ERROR(
      check_subset(want.actions, parent.scope.actions, "scope.actions", "actions"));
  WARDEN_RETURN_IF_ERROR(
      check_subset(want.resources, parent.scope.resources, "scope.resources", "resources"));
  // An empty list could be read downstream as "no resource restriction";
  // refusing it when the parent names resources keeps the child narrower.
  if (want.resources.empty() && !parent.scope.resources.empty()) {
    return InvalidArgument("must name at least one of the parent grant's resources",
                           "scope.resources");
  }

  TimePoint expires_at = parent.expires_at;
  if (request.ttl) {
    expires_at = now + *request.ttl;
    if (expires_at > parent.expires_at) {
      return InvalidArgument(FormatDuration(*request.ttl) + " would end at " +
                                 FormatRfc3339Exact(expires_at) +
                                 ", after the parent grant expires at " +
                                 FormatRfc3339Exact(parent.expires_at),
                             "ttl");
    }
  }
  Limits limits = request.limits;
  if (limits.max_calls) {
    if (*limits.max_calls < 1 || *limits.max_calls > kMaxCallsLimit) {
      return InvalidArgument("must be between 1 and 1000000", "limits.max_calls");
    }
    if (parent.max_calls && *limits.max_calls > *parent.max_calls) {
      return InvalidArgument(std::to_string(*limits.max_calls) +
                                 " is more than the parent grant's max_calls " +
                                 std::to_string(*parent.max_calls),
                             "limits.max_calls");
    }
  } else {
    limits.max_calls = parent.max_calls;
  }
  if (limits.max_spend) {
    WARDEN_ASSIGN_OR_RETURN(int64_t want_spend,
                            ParseSpend(*limits.max_spend, "limits.max_spend"));
    if (parent.max_spend) {
      WARDEN_ASSIGN_OR_RETURN(int64_t have_spend,
                              ParseSpend(*parent.max_spend, "limits.max_spend"));
      if (want_spend > have_spend) {
        return InvalidArgument(Quoted(*limits.max_spend) +
                                   " is more than the parent grant's max_spend " +
                                   Quoted(*parent.max_spend),
                               "limits.max_spend");
      }
    }
  } else {
    limits.max_spend = parent.max_spend;
  }

  WARDEN_ASSIGN_OR_RETURN(AgentRow agent, LoadAgent(txn, request.child_agent));
  WARDEN_RETURN_IF_ERROR(RequireActiveAgent(agent, request.child_agent, now));
  if (agent.environment != parent.intent.environment) {
    return InvalidArgument("agent " + Quoted(request.child_agent) + " is registered for " +
                               Quoted(agent.environment) + ", the parent grant is for " +
                               Quoted(parent.intent.environment),
                           "child_agent");
  }
  expires_at = std::min(expires_at, agent.expires_at);

  child.agent = request.child_agent;
  child.spiffe_id = SpiffeId(child.agent);
  child.intent = parent.intent;
  child.intent.scope = want;
  child.intent.limits = limits;
  child.intent.ttl = std::max(std::chrono::seconds(1),
                              std::chrono::duration_cast<std::chrono::seconds>(expires_at - now));
  child.scope = want;
  child.intent_sha256 = BindingHash(child.spiffe_id, child.intent, child.scope);
  child.status = GrantStatus::kActive;
  child.jkt = request.child_jkt;
  child.parent_id = parent.id;
  child.root_id = parent.root_id;
  child.depth = parent.depth + 1;
  child.on_behalf_of = parent.on_behalf_of;
  child.max_calls = limits.max_calls;
  child.max_spend = limits.max_spend;
  child.policy_hash = request.policy_hash.value_or(parent.policy_hash);
  if (child.policy_hash.empty()) return InvalidArgument("must not be empty", "policy_hash");
  child.created_at = now;
  child.expires_at = expires_at;
  return child;
}

Result<Grant> GrantService::PlanDelegation(const DelegationRequest& request) {
  const TimePoint now = TruncateToMicros(clock_.Now());
  Grant child;
  Status read = store_.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(child, BuildChild(txn, request, now));
    return OkStatus();
  });
  WARDEN_RETURN_IF_ERROR(read);
  return child;
}

Result<Grant> GrantService::Delegate(const DelegationRequest& request) {
  const TimePoint now = TruncateToMicros(clock_.Now());
  Grant child;
  Status written = store_.Write([&](store::Transaction& txn) -> Status {
    // Every check is made again here, in the transaction that inserts: the
    // parent may have ended since a PlanDelegation.
    WARDEN_ASSIGN_OR_RETURN(child, BuildChild(txn, request, now));
    child.id = RandomId("grt");
    WARDEN_RETURN_IF_ERROR(InsertGrant(txn, child));
    return AppendEvent(txn, AgentActor(request.requesting_agent), "grant.delegated", child.id,
                       {{"parent", *child.parent_id},
                        {"root", child.root_id},
                        {"depth", child.depth},
                        {"from_agent", request.requesting_agent},
                        {"to_agent", child.agent},
                        {"scope", ScopeToJson(child.scope)},
                        {"expires_at", FormatRfc3339Exact(child.expires_at)},
                        {"jkt", child.jkt},
                        {"limits", LimitsJson(child)},
                        {"policy_hash", child.policy_hash},
                        {"decision", request.decision}},
                       now);
  });
  WARDEN_RETURN_IF_ERROR(written);
  return child;
}

Result<std::string> GrantService::MintToken(std::string_view grant_id) {
  const TimePoint now = clock_.Now();
  GrantClaims claims;
  Status written = store_.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Grant g, MustLoadGrant(txn, grant_id));
    if (g.EffectiveStatus(now) != GrantStatus::kActive) return NotLive(g, now);
    WARDEN_ASSIGN_OR_RETURN(AgentRow agent, LoadAgent(txn, g.agent));
    WARDEN_RETURN_IF_ERROR(RequireActiveAgent(agent, g.agent, now));
    claims.actors.clear();
    std::optional<std::string> parent_id = g.parent_id;
    // Bounded walk: depth is stored and capped, but a corrupt row must not loop.
    for (int64_t hops = 0; parent_id; ++hops) {
      if (hops > g.depth) return DataLoss("grant " + g.id + " has a malformed delegation chain");
      WARDEN_ASSIGN_OR_RETURN(Grant parent, MustLoadGrant(txn, *parent_id));
      claims.actors.push_back(SpiffeId(parent.agent));
      parent_id = parent.parent_id;
    }
    claims.issuer = Issuer();
    claims.audience = options_.audience;
    claims.subject = SpiffeId(g.agent);
    claims.grant_id = g.id;
    claims.task = g.intent.task;
    claims.scope = g.scope;
    claims.issued_at = FromUnixSeconds(UnixSeconds(now));
    // Rounded down so the token never outlives the grant.
    claims.expires_at = FromUnixSeconds(UnixSeconds(g.expires_at));
    claims.jkt = g.jkt;
    claims.on_behalf_of = g.on_behalf_of;
    claims.approval_id = g.approval_id;
    if (claims.expires_at <= claims.issued_at) {
      return FailedPrecondition("grant " + g.id + " expires in less than a second");
    }
    return OkStatus();
  });
  WARDEN_RETURN_IF_ERROR(written);
  claims.jti = RandomId("gtj");
  return SignGrantToken(*keys_.Current(), claims);
}

Result<GrantClaims> GrantService::VerifyToken(std::string_view token) const {
  const TimePoint now = clock_.Now();
  WARDEN_ASSIGN_OR_RETURN(
      GrantClaims claims,
      VerifyGrantToken(token, keys_.Resolver(),
                       {Issuer(), options_.audience, now, options_.leeway, &signatures_}));
  WARDEN_RETURN_IF_ERROR(revocations_.CheckUse(claims, now));
  return claims;
}

Status GrantService::CheckUse(const GrantClaims& claims) const {
  return revocations_.CheckUse(claims, clock_.Now());
}

Result<int64_t> GrantService::RecordUse(std::string_view grant_id, std::string_view actor) {
  WARDEN_RETURN_IF_ERROR(ValidateActor(actor));
  const TimePoint now = TruncateToMicros(clock_.Now());
  int64_t calls = 0;
  Status written = store_.Write([&](store::Transaction& txn) -> Status {
    // The condition and the increment are one statement, so concurrent uses
    // can never together exceed max_calls.
    WARDEN_ASSIGN_OR_RETURN(
        int64_t changed,
        txn.Exec("UPDATE grants SET calls = calls + 1, version = version + 1 WHERE id = $1 AND "
                 "status = 'active' AND expires_at > $2 AND (max_calls IS NULL OR calls < "
                 "max_calls)",
                 {std::string(grant_id), UnixMicros(now)}));
    WARDEN_ASSIGN_OR_RETURN(Grant g, MustLoadGrant(txn, grant_id));
    if (changed != 1) {
      if (g.EffectiveStatus(now) != GrantStatus::kActive) return NotLive(g, now);
      return ResourceExhausted("grant " + g.id + " reached its limit of " +
                               std::to_string(g.max_calls.value_or(0)) + " calls");
    }
    calls = g.calls;
    json::object details{{"calls", calls}};
    if (g.max_calls) details["max_calls"] = *g.max_calls;
    return AppendEvent(txn, actor, "grant.used", g.id, std::move(details), now);
  });
  WARDEN_RETURN_IF_ERROR(written);
  return calls;
}

}  // namespace warden::grants
