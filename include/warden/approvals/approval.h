// Approval: a human decision about one exact request (a grant for an intent,
// or one tool call), bound to it by the SHA-256 of its canonical description
// (the subject). Plain values and pure functions: the rules for effective
// status, self-approval and the subject hash, shared by the queue, the server
// and the command line. Thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "warden/core/clock.h"
#include "warden/core/status.h"

namespace warden::approvals {

// What is being approved: a grant for an intent, or one tool call.
enum class ApprovalKind { kGrant, kCall };

// Stored statuses are pending, approved, denied and used; kExpired is only
// ever effective (computed from expires_at), never stored.
enum class ApprovalStatus { kPending, kApproved, kDenied, kExpired, kUsed };

// "grant" | "call".
std::string_view ApprovalKindName(ApprovalKind kind);
// Inverse of ApprovalKindName; InvalidArgument (field "kind") otherwise.
Result<ApprovalKind> ParseApprovalKind(std::string_view text);

// "pending" | "approved" | "denied" | "expired" | "used".
std::string_view ApprovalStatusName(ApprovalStatus status);
// Inverse of ApprovalStatusName; InvalidArgument (field "status") otherwise.
Result<ApprovalStatus> ParseApprovalStatus(std::string_view text);

inline constexpr std::string_view kApprovalIdPrefix = "apr";
inline constexpr size_t kMaxSummaryBytes = 16 * 1024;  // canonical JSON
inline constexpr size_t kMaxSummaryDepth = 16;
inline constexpr size_t kMaxReasonChars = 1000;        // Unicode code points
inline constexpr size_t kMaxOnBehalfOfBytes = 256;
inline constexpr std::chrono::seconds kDefaultApprovalTtl = std::chrono::minutes(15);
inline constexpr std::chrono::seconds kMinApprovalTtl = std::chrono::seconds(1);
inline constexpr std::chrono::seconds kMaxApprovalTtl = std::chrono::hours(24);

struct Approval {
  std::string id;  // "apr_" + 26 base32 characters
  ApprovalKind kind = ApprovalKind::kGrant;
  std::string subject_sha256;  // 64 lower-case hex digits
  std::string agent;
  std::optional<std::string> on_behalf_of;  // the human the agent acts for
  boost::json::object summary;              // what the approver reads
  ApprovalStatus stored_status = ApprovalStatus::kPending;  // never kExpired
  TimePoint created_at;
  // One deadline for both steps: an approval must be decided and then used
  // before it.
  TimePoint expires_at;
  std::optional<TimePoint> decided_at;
  std::optional<std::string> decided_by;  // approver name
  std::optional<std::string> reason;      // the approver's reason
  std::optional<TimePoint> used_at;
  std::optional<std::string> used_by;  // the consumer ("grant:<id>", ...)

  // The status every check uses: used and denied are final; otherwise an
  // approval at or past expires_at is expired (pending or approved alike).
  ApprovalStatus EffectiveStatus(TimePoint now) const;
};

// What Create needs. The subject hash must be computed by the requester from
// exactly what will later be presented to Consume (see ComputeSubjectSha256).
struct ApprovalRequest {
  ApprovalKind kind = ApprovalKind::kGrant;
  std::string subject_sha256;
  std::string agent;  // agent name rule: [a-z0-9][a-z0-9-_.]{0,62}
  std::optional<std::string> on_behalf_of;
  // For humans: agent, task, actions, resources, tool, args digest, the
  // policies that required approval. At most kMaxSummaryBytes of canonical
  // JSON and kMaxSummaryDepth levels. Never put secrets or raw arguments here.
  boost::json::object summary;
  std::optional<std::chrono::seconds> ttl;  // default ApprovalOptions::default_ttl
};

// List filter. `status` compares against the effective status; nullopt
// lists every status. Ordered oldest first (created_at, then id).
struct ApprovalFilter {
  std::optional<ApprovalStatus> status = ApprovalStatus::kPending;
  std::optional<std::string> agent;
  size_t limit = 100;  // 1..1000, else InvalidArgument (field "limit")
};

// The subject hash of `subject` for `kind`: lower-case hex SHA-256 of
// "warden-approval-subject:v1:" + kind name + ":" + CanonicalJson(subject).
// The kind is inside the hash, so a grant approval can never be consumed as a
// call approval. Recommended members: grant {"agent","intent","scope"
// (,"on_behalf_of")}; call {"agent","grant","tool","arguments","target"}.
std::string ComputeSubjectSha256(ApprovalKind kind, const boost::json::object& subject);

// InvalidArgument (with `field`) unless `hex` is 64 lower-case hex digits.
Status ValidateSubjectSha256(std::string_view hex, std::string_view field = "subject_sha256");

// InvalidArgument (field "id") unless `id` has the shape of an approval id.
// The message never repeats the input.
Status ValidateApprovalId(std::string_view id);

// Trims ASCII whitespace and checks a decision reason: 1..1000 code points
// of UTF-8 without control or bidirectional-override characters.
// InvalidArgument (field "reason").
Result<std::string> NormalizeReason(std::string_view reason);

// Self-approval rule: true when `approver` (an approver name, lower-case by
// its name rule) equals, ignoring ASCII case, the agent's name, the whole
// on_behalf_of value, or the local part of on_behalf_of before its last '@'
// ("alice" decides nothing on behalf of "Alice@example.com"). Deliberately
// broad: a false match only means another approver must decide.
bool IsSelfApproval(std::string_view approver, std::string_view agent,
                    const std::optional<std::string>& on_behalf_of);

// API form: {"id","kind","subject_sha256","agent","on_behalf_of"?,"summary",
// "status" (effective at `now`),"stored_status","created_at","expires_at",
// "decided_at"?,"decided_by"?,"reason"?,"used_at"?,"used_by"?}; times in
// RFC 3339 (microseconds when present); absent optionals are omitted.
boost::json::object ApprovalToJson(const Approval& approval, TimePoint now);

}  // namespace warden::approvals
