#include "warden/identity/agent.h"

#include <algorithm>
#include <cstdint>

#include "warden/crypto/jwt.h"

namespace warden::identity {
namespace {

constexpr std::string_view kSelectorForms =
    "accepted forms: unix:uid:<n>, unix:gid:<n>, unix:user:<name>, "
    "unix:path:/<absolute path>, unix:sha256:<64 lower-case hex digits>";
constexpr size_t kMaxPathLength = 4096;
constexpr size_t kMaxUserLength = 32;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string Hex2(unsigned v) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  if (v > 0xff) {
    out += kDigits[(v >> 12) & 0xf];
    out += kDigits[(v >> 8) & 0xf];
  }
  out += kDigits[(v >> 4) & 0xf];
  out += kDigits[v & 0xf];
  return out;
}

// Decodes one UTF-8 sequence at `i`; returns its length, or 0 when malformed
// (overlong forms, surrogates and values past U+10FFFF are malformed).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len = 0;
  uint32_t min = 0;
  if ((b0 & 0xe0) == 0xc0) {
    len = 2;
    min = 0x80;
    *cp = b0 & 0x1f;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3;
    min = 0x800;
    *cp = b0 & 0x0f;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4;
    min = 0x10000;
    *cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    *cp = (*cp << 6) | (b & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) return 0;
  return len;
}

// Control characters (C0, DEL, C1) and the invisible bidirectional controls,
// which can make an owner or purpose read differently from what is stored.
bool IsForbiddenCodePoint(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f;
}

// Decimal without sign or leading zeros, at most 4294967294 ((uid_t)-1 is
// the "no id" value of chown(2), never a real id).
bool IsUnixId(std::string_view s) {
  if (s.empty() || s.size() > 10) return false;
  if (!std::all_of(s.begin(), s.end(), IsDigit)) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  return std::stoull(std::string(s)) <= 4294967294ULL;
}

bool IsUserName(std::string_view s) {
  if (s.empty() || s.size() > kMaxUserLength || s[0] == '-') return false;
  bool all_digits = true;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_' ||
              c == '-' || c == '.';
    if (!ok) return false;
    all_digits = all_digits && IsDigit(c);
  }
  return !all_digits;  // a numeric "name" would be read as a uid by tools
}

// Why `path` is not a normalized absolute path, or empty when it is one.
std::string PathProblem(std::string_view path) {
  if (path.empty() || path[0] != '/') return "must be an absolute path starting with '/'";
  if (path.size() > kMaxPathLength) {
    return "path must be at most " + std::to_string(kMaxPathLength) + " bytes";
  }
  if (path.size() > 1 && path.back() == '/') return "path must not end with '/'";
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (path.size() > 1 && part.empty()) return "path must not contain empty components ('//')";
    if (part == "." || part == "..") return "path must not contain '.' or '..' components";
    start = end + 1;
  }
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "path must not contain control characters";
  }
  return {};
}

}  // namespace

std::string_view AgentStatusName(AgentStatus status) {
  switch (status) {
    case AgentStatus::kActive:
      return "active";
    case AgentStatus::kSuspended:
      return "suspended";
    case AgentStatus::kRetired:
      return "retired";
  }
  return "unknown";
}

Result<AgentStatus> ParseAgentStatus(std::string_view text) {
  if (text == "active") return AgentStatus::kActive;
  if (text == "suspended") return AgentStatus::kSuspended;
  if (text == "retired") return AgentStatus::kRetired;
  return InvalidArgument("unknown status; accepted: active, suspended, retired", "status");
}

AgentStatus Agent::EffectiveStatus(TimePoint now) const {
  if (status == AgentStatus::kActive && IsExpired(now)) return AgentStatus::kSuspended;
  return status;
}

Status ValidateAgentName(std::string_view name) {
  if (name.empty()) return InvalidArgument("is required", "name");
  static constexpr std::string_view kRule =
      "must match [a-z0-9][a-z0-9-_.]{0,62}: 1 to 63 characters, lower-case letters, digits, "
      "'-', '_' and '.', starting with a letter or digit";
  if (name.size() > 63) {
    return InvalidArgument(
        std::string(kRule) + " (got " + std::to_string(name.size()) + " characters)", "name");
  }
  if (!IsLowerAlnum(name[0])) return InvalidArgument(std::string(kRule), "name");
  for (size_t i = 1; i < name.size(); ++i) {
    char c = name[i];
    if (!IsLowerAlnum(c) && c != '-' && c != '_' && c != '.') {
      return InvalidArgument(
          std::string(kRule) + " (bad character at position " + std::to_string(i + 1) + ")",
          "name");
    }
  }
  return OkStatus();
}

Result<std::string> NormalizeText(std::string_view value, std::string_view field,
                                  size_t max_length) {
  while (!value.empty() && IsAsciiSpace(value.front())) value.remove_prefix(1);
  while (!value.empty() && IsAsciiSpace(value.back())) value.remove_suffix(1);
  const std::string f(field);
  if (value.empty()) return InvalidArgument("is required and must not be blank", f);
  if (value.size() > max_length) {
    return InvalidArgument("must be at most " + std::to_string(max_length) + " bytes, got " +
                               std::to_string(value.size()),
                           f);
  }
  for (size_t i = 0; i < value.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(value, i, &cp);
    if (len == 0) {
      return InvalidArgument("is not valid UTF-8 (at byte " + std::to_string(i) + ")", f);
    }
    if (IsForbiddenCodePoint(cp)) {
      return InvalidArgument("must not contain control characters (found " + Hex2(cp) +
                                 " at byte " + std::to_string(i) + ")",
                             f);
    }
    i += len;
  }
  return std::string(value);
}

Status ValidateSelector(std::string_view selector, std::string_view field) {
  const std::string f(field);
  auto bad = [&](const std::string& why) {
    return InvalidArgument(why + "; " + std::string(kSelectorForms), f);
  };
  if (selector.size() > kMaxPathLength + 16) return bad("selector is too long");
  auto strip = [&](std::string_view prefix, std::string_view* rest) {
    if (selector.substr(0, prefix.size()) != prefix) return false;
    *rest = selector.substr(prefix.size());
    return true;
  };
  std::string_view rest;
  if (strip("unix:uid:", &rest)) {
    if (!IsUnixId(rest)) return bad("unix:uid: needs a decimal user id without leading zeros");
    return OkStatus();
  }
  if (strip("unix:gid:", &rest)) {
    if (!IsUnixId(rest)) return bad("unix:gid: needs a decimal group id without leading zeros");
    return OkStatus();
  }
  if (strip("unix:user:", &rest)) {
    if (!IsUserName(rest)) {
      return bad(
          "unix:user: needs a user name of 1 to 32 letters, digits, '_', '-' or '.', "
          "not starting with '-' and not all digits (use unix:uid: for ids)");
    }
    return OkStatus();
  }
  if (strip("unix:path:", &rest)) {
    std::string problem = PathProblem(rest);
    if (!problem.empty()) return bad("unix:path: " + problem);
    return OkStatus();
  }
  if (strip("unix:sha256:", &rest)) {
    bool ok = rest.size() == 64 && std::all_of(rest.begin(), rest.end(), [](char c) {
                return IsDigit(c) || (c >= 'a' && c <= 'f');
              });
    if (!ok) return bad("unix:sha256: needs exactly 64 lower-case hex digits");
    return OkStatus();
  }
  return bad("unsupported selector");
}

Result<std::vector<std::string>> NormalizeSelectors(std::vector<std::string> selectors) {
  if (selectors.size() > kMaxSelectors) {
    return InvalidArgument("at most " + std::to_string(kMaxSelectors) + " selectors, got " +
                               std::to_string(selectors.size()),
                           "selectors");
  }
  for (size_t i = 0; i < selectors.size(); ++i) {
    WARDEN_RETURN_IF_ERROR(ValidateSelector(selectors[i], "selectors[" + std::to_string(i) + "]"));
  }
  std::sort(selectors.begin(), selectors.end());
  selectors.erase(std::unique(selectors.begin(), selectors.end()), selectors.end());
  return selectors;
}

Status ValidateTrustDomain(std::string_view trust_domain) {
  if (trust_domain.empty() || trust_domain.size() > 255) {
    return InvalidArgument("must be 1 to 255 characters", "trust_domain");
  }
  for (char c : trust_domain) {
    if (!IsLowerAlnum(c) && c != '.' && c != '-' && c != '_') {
      return InvalidArgument(
          "may contain only lower-case letters, digits, '.', '-' and '_' (SPIFFE trust domain)",
          "trust_domain");
    }
  }
  return OkStatus();
}

std::string SpiffeIdFor(std::string_view trust_domain, std::string_view name) {
  return "spiffe://" + std::string(trust_domain) + "/agent/" + std::string(name);
}

Result<std::string> AgentNameFromSpiffeId(std::string_view sub, std::string_view trust_domain) {
  const std::string prefix = "spiffe://" + std::string(trust_domain) + "/agent/";
  if (sub.substr(0, prefix.size()) != prefix) {
    return Unauthenticated("token subject " + crypto::QuoteUntrusted(sub) +
                           " is not an agent of trust domain \"" + std::string(trust_domain) +
                           "\"");
  }
  std::string_view name = sub.substr(prefix.size());
  Status valid = ValidateAgentName(name);
  if (!valid.ok()) {
    return Unauthenticated("token subject " + crypto::QuoteUntrusted(sub) +
                           " has an invalid agent name: " + valid.message());
  }
  return std::string(name);
}

}  // namespace warden::identity
