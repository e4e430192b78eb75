#include "warden/approvals/approval.h"

#include "warden/core/json.h"
#include "warden/core/time_format.h"
#include "warden/crypto/hash.h"
#include "warden/identity/agent.h"

namespace warden::approvals {
namespace {

// RandomId: prefix, '_', 26 characters of lower-case RFC 4648 base32.
constexpr size_t kIdBodyLength = 26;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::string_view ApprovalKindName(ApprovalKind kind) {
  switch (kind) {
    case ApprovalKind::kGrant:
      return "grant";
    case ApprovalKind::kCall:
      return "call";
  }
  return "unknown";
}

Result<ApprovalKind> ParseApprovalKind(std::string_view text) {
  if (text == "grant") return ApprovalKind::kGrant;
  if (text == "call") return ApprovalKind::kCall;
  return InvalidArgument("unknown kind; accepted: grant, call", "kind");
}

std::string_view ApprovalStatusName(ApprovalStatus status) {
  switch (status) {
    case ApprovalStatus::kPending:
      return "pending";
    case ApprovalStatus::kApproved:
      return "approved";
    case ApprovalStatus::kDenied:
      return "denied";
    case ApprovalStatus::kExpired:
      return "expired";
    case ApprovalStatus::kUsed:
      return "used";
  }
  return "unknown";
}

Result<ApprovalStatus> ParseApprovalStatus(std::string_view text) {
  if (text == "pending") return ApprovalStatus::kPending;
  if (text == "approved") return ApprovalStatus::kApproved;
  if (text == "denied") return ApprovalStatus::kDenied;
  if (text == "expired") return ApprovalStatus::kExpired;
  if (text == "used") return ApprovalStatus::kUsed;
  return InvalidArgument("unknown status; accepted: pending, approved, denied, expired, used",
                         "status");
}

ApprovalStatus Approval::EffectiveStatus(TimePoint now) const {
  if (stored_status == ApprovalStatus::kUsed || used_at) return ApprovalStatus::kUsed;
  if (stored_status == ApprovalStatus::kDenied) return ApprovalStatus::kDenied;
  if (now >= expires_at) return ApprovalStatus::kExpired;
  return stored_status;
}

std::string ComputeSubjectSha256(ApprovalKind kind, const boost::json::object& subject) {
  std::string input = "warden-approval-subject:v1:";
  input += ApprovalKindName(kind);
  input += ':';
  input += CanonicalJson(subject);
  return crypto::Sha256Hex(input);
}

Status ValidateSubjectSha256(std::string_view hex, std::string_view field) {
  if (hex.size() != 2 * crypto::kSha256Size || !IsLowerHex(hex)) {
    return InvalidArgument("must be a SHA-256 digest: 64 lower-case hex digits",
                           std::string(field));
  }
  return OkStatus();
}

Status ValidateApprovalId(std::string_view id) {
  const Status bad = InvalidArgument(
      "malformed approval id: expected \"apr_\" + 26 lower-case base32 characters", "id");
  if (id.size() != kApprovalIdPrefix.size() + 1 + kIdBodyLength ||
      id.substr(0, kApprovalIdPrefix.size()) != kApprovalIdPrefix ||
      id[kApprovalIdPrefix.size()] != '_') {
    return bad;
  }
  for (char c : id.substr(kApprovalIdPrefix.size() + 1)) {
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return bad;
  }
  return OkStatus();
}

Result<std::string> NormalizeReason(std::string_view reason) {
  // NormalizeText bounds bytes; a code point takes at most 4 of them, so
  // this bound never refuses a reason of up to kMaxReasonChars code points.
  WARDEN_ASSIGN_OR_RETURN(std::string text,
                          identity::NormalizeText(reason, "reason", 4 * kMaxReasonChars));
  size_t code_points = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++code_points;  // NormalizeText has checked UTF-8
  }
  if (code_points > kMaxReasonChars) {
    return InvalidArgument("must be at most " + std::to_string(kMaxReasonChars) +
                               " characters, got " + std::to_string(code_points),
                           "reason");
  }
  return text;
}

bool IsSelfApproval(std::string_view approver, std::string_view agent,
                    const std::optional<std::string>& on_behalf_of) {
  if (EqualsIgnoringAsciiCase(approver, agent)) return true;
  if (!on_behalf_of) return false;
  std::string_view human = *on_behalf_of;
  if (EqualsIgnoringAsciiCase(approver, human)) return true;
  const size_t at = human.rfind('@');
  return at != std::string_view::npos && EqualsIgnoringAsciiCase(approver, human.substr(0, at));
}

boost::json::object ApprovalToJson(const Approval& a, TimePoint now) {
  boost::json::object out;
  out["id"] = a.id;
  out["kind"] = ApprovalKindName(a.kind);
  out["subject_sha256"] = a.subject_sha256;
  out["agent"] = a.agent;
  if (a.on_behalf_of) out["on_behalf_of"] = *a.on_behalf_of;
  out["summary"] = a.summary;
  out["status"] = ApprovalStatusName(a.EffectiveStatus(now));
  out["stored_status"] = ApprovalStatusName(a.stored_status);
  out["created_at"] = FormatRfc3339Exact(a.created_at);
  out["expires_at"] = FormatRfc3339Exact(a.expires_at);
  if (a.decided_at) out["decided_at"] = FormatRfc3339Exact(*a.decided_at);
  if (a.decided_by) out["decided_by"] = *a.decided_by;
  if (a.reason) out["reason"] = *a.reason;
  if (a.used_at) out["used_at"] = FormatRfc3339Exact(*a.used_at);
  if (a.used_by) out["used_by"] = *a.used_by;
  return out;
}

}  // namespace warden::approvals
