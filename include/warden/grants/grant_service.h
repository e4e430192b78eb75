// GrantService: the durable lifecycle of intent-bound, just-in-time grants
// (rows of the `grants` table): create (active or pending approval),
// activate after an approval, complete, revoke, expire, delegate by
// narrowing, count uses against limits.max_calls, and mint grant tokens.
// Every change writes its rows and audit events (subject "grant:<id>",
// details.grant = id; never a token) in one Store::Write. Ending a grant ends
// all its descendants in the same transaction (cascade). Times come from the
// injected Clock and are kept to the microsecond.
// Thread-safe: writes are serialized by the Store; the RevocationSet is
// updated right after each end commits (a CheckUse racing that commit may
// still pass; RecordUse, which reads the row in its transaction, cannot).
// Proof of possession (matching cnf.jkt to a DPoP proof) is the caller's
// check: this library records and signs the thumbprint.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/grants/grant_token.h"
#include "warden/grants/intent.h"
#include "warden/grants/revocation_set.h"
#include "warden/identity/key_store.h"
#include "warden/store/store.h"

namespace warden::grants {

// Stored statuses. kExpired is stored by ExpireDue; an active grant past its
// expires_at is reported as kExpired by EffectiveStatus whether or not it was.
enum class GrantStatus { kPendingApproval, kActive, kCompleted, kRevoked, kExpired };

// "pending_approval" | "active" | "completed" | "revoked" | "expired".
std::string_view GrantStatusName(GrantStatus status);
Result<GrantStatus> ParseGrantStatus(std::string_view text);

struct Grant {
  std::string id;         // "grt_<26 base32>"
  std::string agent;      // agent name
  std::string spiffe_id;  // the agent's SPIFFE ID
  Intent intent;          // as requested (for a child: the parent's, narrowed)
  std::string intent_sha256;  // BindingHash(spiffe_id, intent, scope)
  Scope scope;
  GrantStatus status = GrantStatus::kActive;  // as stored
  std::string jkt;        // the agent key's RFC 7638 thumbprint (cnf.jkt)
  std::optional<std::string> parent_id;
  std::string root_id;    // own id for a root grant
  int64_t depth = 0;      // 0 for a root grant
  std::optional<std::string> on_behalf_of;
  std::optional<std::string> approval_id;
  std::optional<int64_t> max_calls;
  int64_t calls = 0;
  std::optional<std::string> max_spend;
  std::string policy_hash;  // the policy set that decided
  TimePoint created_at;
  TimePoint expires_at;
  std::optional<TimePoint> ended_at;
  std::optional<std::string> end_reason;
  int64_t version = 1;

  // Status as every check sees it: active past expires_at is expired.
  GrantStatus EffectiveStatus(TimePoint now) const;
};

// List filter. `active_only` keeps the effectively active grants (stored
// active and not past expires_at at the clock's now).
struct GrantFilter {
  std::optional<std::string> agent;
  bool active_only = false;
  int64_t limit = 1000;  // 1..1000
};

struct GrantServiceOptions {
  std::string trust_domain = "warden.local";  // iss is "spiffe://<trust_domain>"
  std::string audience = "warden";            // aud of grant tokens
  std::chrono::seconds max_ttl = std::chrono::hours(8);  // cap of any grant's TTL
  int64_t max_depth = 3;                      // longest delegation chain
  std::chrono::seconds leeway{30};            // clock skew for token checks
};

// InvalidArgument (field "trust_domain", "audience", "max_ttl" or
// "max_depth") when the options cannot be used.
Status ValidateGrantServiceOptions(const GrantServiceOptions& options);

// A request for a root grant, after the caller authenticated the agent and
// decided by policy.
struct GrantRequest {
  std::string agent;        // agent name
  std::string jkt;          // thumbprint of the key the agent proved (required)
  Intent intent;
  std::string policy_hash;  // hash of the policy set that decided (required)
  // The decision needs a human: the grant is created pending_approval and
  // `approval_id` (required then) names the Approval bound to
  // BindingHash(agent SPIFFE ID, intent, scope).
  bool needs_approval = false;
  std::optional<std::string> approval_id;
  boost::json::object decision;  // audit details of the decision (policies...)
};

// A request to delegate part of a grant to another agent (RFC 8693 token
// exchange, library part). Narrowing rules: scope.actions (1..64) and
// scope.resources each a subset of the parent's (resources may be empty only
// when the parent's are); expiry no later than the parent's (and capped by
// the child agent's expiry); max_calls and max_spend no larger than the
// parent's (uses are counted per grant, not against the parent); depth + 1
// <= options.max_depth. The child keeps the parent's task, environment,
// sensitivity and on_behalf_of, and must be registered in the same
// environment.
struct DelegationRequest {
  std::string parent_grant_id;
  std::string requesting_agent;  // must be the parent grant's agent
  std::string child_agent;       // the worker receiving the child grant
  std::string child_jkt;         // the worker's key thumbprint (required)
  Scope scope;                   // each element must be in the parent's scope
  std::optional<std::chrono::seconds> ttl;  // default: until the parent ends
  Limits limits;                 // absent members inherit the parent's
  // The policy decision that allowed the delegation (the caller asked the
  // policy engine for the child agent): its policy set hash, recorded on the
  // child, and its audit details (decision, policies, policy_set_hash),
  // recorded in grant.delegated as details.decision. Without it the child
  // records the parent's hash and no decision.
  std::optional<std::string> policy_hash;   // default: the parent's
  boost::json::object decision;
};

class GrantService {
 public:
  // Validates options and loads the revocation set from the store. Borrows
  // everything; all must outlive the service.
  static Result<std::unique_ptr<GrantService>> Open(store::Store& store,
                                                    const identity::KeyRing& keys,
                                                    const Clock& clock,
                                                    GrantServiceOptions options);

  // Creates a root grant: validates the intent, requires the agent to exist,
  // be active and unexpired, and match the intent's environment; caps the TTL
  // at options.max_ttl and the agent's expiry. Audits grant.requested, then
  // grant.issued or grant.pending_approval, by actor "agent:<name>".
  // InvalidArgument with the field; NotFound for an unknown agent;
  // FailedPrecondition for an agent that is not active.
  Result<Grant> Create(const GrantRequest& request);

  // NotFound("grant <id> not found").
  Result<Grant> Get(std::string_view grant_id);

  // Grants matching `filter`, newest first (created_at, then id). Pagination
  // is the caller's: at most filter.limit rows. InvalidArgument (field
  // "agent" or "limit").
  Result<std::vector<Grant>> List(const GrantFilter& filter);

  // The agent's effectively active grants, newest first, at most 1000: List
  // with {agent, active_only}.
  Result<std::vector<Grant>> ListActive(std::string_view agent);

  // pending_approval -> active, consuming the approval `approval_id` (which
  // must be the one recorded on the grant) for exactly BindingHash(agent
  // SPIFFE ID, intent, scope) in the same transaction: both commit or
  // neither (approvals::ConsumeInTransaction), so a refusal or a crash never
  // leaves a used approval with a pending grant, or an active grant with an
  // unused approval. The TTL counts from now, capped as at Create. Audits
  // approval.used and grant.issued by `actor`. Errors, checked in this order:
  // NotFound; FailedPrecondition when the grant is not pending or its agent
  // is no longer active; InvalidArgument (field "approval_id") for another
  // approval; then the errors of ApprovalQueue::Consume (the approval is
  // left unchanged).
  Result<Grant> ActivateWithApproval(std::string_view grant_id, std::string_view approval_id,
                                     std::string_view actor);

  // The agent ends its own task: active -> completed, descendants revoked.
  // PermissionDenied when `agent` is not the grant's; FailedPrecondition
  // when it already ended or expired. Audits grant.completed (+ grant.revoked
  // per descendant with details.cascade_from).
  Result<Grant> Complete(std::string_view grant_id, std::string_view agent);

  // Admin or system revocation of an active or pending grant and its
  // descendants. FailedPrecondition when it already ended or expired.
  Result<Grant> Revoke(std::string_view grant_id, std::string_view actor,
                       std::string_view reason);

  // Revokes every live grant of `agent` (and descendants): call when the
  // agent is suspended or retired. Returns the ids ended.
  Result<std::vector<std::string>> RevokeAgentGrants(std::string_view agent,
                                                     std::string_view actor,
                                                     std::string_view reason);

  // Marks active grants past expires_at as expired (audited grant.expired by
  // "system"), at most 1,000 per call, and drops revocation entries of
  // grants past their expiry. Returns how many were marked. Expiry is
  // enforced without it; this records it (the server calls it periodically).
  Result<int64_t> ExpireDue();

  // Creates a child grant narrowing the parent (see DelegationRequest).
  // InvalidArgument naming the widened element: "scope.actions[i]",
  // "scope.resources[i]", "ttl", "limits.max_calls", "limits.max_spend",
  // "depth". PermissionDenied when requesting_agent is not the parent's
  // agent; FailedPrecondition when the parent is not active. Audits
  // grant.delegated on the child (details.parent, details.decision) by the
  // requesting agent.
  Result<Grant> Delegate(const DelegationRequest& request);

  // Makes every check of Delegate without writing, and returns the child
  // grant Delegate would create now (empty id): what a policy decision
  // about the delegation is asked about. Same errors as Delegate.
  Result<Grant> PlanDelegation(const DelegationRequest& request);

  // Signs a token for an effectively active grant with the ring's current key;
  // exp = the grant's expiry (whole seconds, rounded down). The act chain is
  // read from the ancestors. FailedPrecondition when not active.
  Result<std::string> MintToken(std::string_view grant_id);

  // VerifyGrantToken with this service's issuer, audience and clock, the
  // ring's keys, then CheckUse. A token's signature is verified once; later
  // presentations repeat every other check (crypto::SignatureCache).
  Result<GrantClaims> VerifyToken(std::string_view token) const;

  // RevocationSet::CheckUse at the clock's time. Hot path: no store access.
  Status CheckUse(const GrantClaims& claims) const;

  // Counts one use atomically (conditional UPDATE): the new count. Audits
  // grant.used {grant, calls, max_calls}. ResourceExhausted when max_calls
  // is reached; FailedPrecondition when the grant ended or expired; NotFound.
  Result<int64_t> RecordUse(std::string_view grant_id, std::string_view actor);

  // The issuer ("spiffe://<trust_domain>") and the SPIFFE ID of an agent.
  std::string Issuer() const;
  std::string SpiffeId(std::string_view agent) const;

  const RevocationSet& revocations() const { return revocations_; }
  const GrantServiceOptions& options() const { return options_; }

 private:
  GrantService(store::Store& store, const identity::KeyRing& keys, const Clock& clock,
               GrantServiceOptions options)
      : store_(store), keys_(keys), clock_(clock), options_(std::move(options)) {}

  struct Ended {
    std::string id;
    TimePoint expires_at;
    std::string reason;
  };
  // Ends `root` (already loaded, live) and its live descendants in `txn`.
  Status EndTree(store::Transaction& txn, const Grant& root, GrantStatus status,
                 std::string_view actor, std::string_view reason, TimePoint now,
                 std::vector<Ended>* ended);
  Result<Grant> EndGrant(std::string_view grant_id, std::optional<std::string_view> agent,
                         std::string_view actor, std::string_view reason, GrantStatus status);
  void Publish(const std::vector<Ended>& ended);
  // The checks and the child of a delegation, read in `txn` at `now`.
  Result<Grant> BuildChild(store::Transaction& txn, const DelegationRequest& request,
                           TimePoint now);

  store::Store& store_;
  const identity::KeyRing& keys_;
  const Clock& clock_;
  GrantServiceOptions options_;
  RevocationSet revocations_;
  // Grant tokens are presented on every gateway call: their signatures are
  // verified once (times, key and revocation are checked every time).
  mutable crypto::SignatureCache signatures_;
};

}  // namespace warden::grants
