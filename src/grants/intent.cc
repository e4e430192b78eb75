#include "warden/grants/intent.h"

#include <set>
#include <utility>

#include "warden/approvals/approval.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"
#include "warden/identity/agent.h"

namespace warden::grants {
namespace {

bool IsTaskChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

Status ValidateTask(std::string_view task) {
  if (task.empty() || task.size() > kMaxTaskLength) {
    return InvalidArgument("must be 1 to 128 characters, got " + std::to_string(task.size()),
                           "task");
  }
  for (char c : task) {
    if (!IsTaskChar(c)) {
      return InvalidArgument("may contain only letters, digits, '.', '_', ':' and '-'", "task");
    }
  }
  return OkStatus();
}

Status ValidateEnvironmentName(std::string_view env) {
  if (env.empty() || env.size() > 64) {
    return InvalidArgument("must be 1 to 64 characters", "environment");
  }
  for (char c : env) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
      return InvalidArgument("may contain only lower-case letters, digits, '-', '_' and '.'",
                             "environment");
    }
  }
  return OkStatus();
}

std::string Indexed(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

Status ValidateList(const std::vector<std::string>& items, std::string_view field, size_t min,
                    size_t max, bool actions) {
  if (items.size() < min || items.size() > max) {
    return InvalidArgument("must hold " + std::to_string(min) + " to " + std::to_string(max) +
                               " entries, got " + std::to_string(items.size()),
                           std::string(field));
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string f = Indexed(field, i);
    WARDEN_RETURN_IF_ERROR(actions ? ValidateAction(items[i], f) : ValidateResource(items[i], f));
    // A duplicate would make scope comparisons and hashes depend on spelling.
    if (!seen.insert(items[i]).second) {
      return InvalidArgument("\"" + items[i] + "\" is listed twice", f);
    }
  }
  return OkStatus();
}

Status ValidateLimits(const Limits& limits) {
  if (limits.max_calls && (*limits.max_calls < 1 || *limits.max_calls > kMaxCallsLimit)) {
    return InvalidArgument("must be between 1 and 1000000, got " +
                               std::to_string(*limits.max_calls),
                           "limits.max_calls");
  }
  if (limits.max_spend) {
    WARDEN_ASSIGN_OR_RETURN(int64_t spend, ParseSpend(*limits.max_spend, "limits.max_spend"));
    (void)spend;
  }
  return OkStatus();
}

json::array StringsJson(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::string_view SensitivityName(Sensitivity s) {
  switch (s) {
    case Sensitivity::kPublic: return "public";
    case Sensitivity::kInternal: return "internal";
    case Sensitivity::kConfidential: return "confidential";
    case Sensitivity::kRestricted: return "restricted";
  }
  return "restricted";
}

Result<Sensitivity> ParseSensitivity(std::string_view text) {
  for (Sensitivity s : {Sensitivity::kPublic, Sensitivity::kInternal, Sensitivity::kConfidential,
                        Sensitivity::kRestricted}) {
    if (text == SensitivityName(s)) return s;
  }
  return InvalidArgument("must be one of public, internal, confidential, restricted",
                         "sensitivity");
}

Status ValidateAction(std::string_view action, std::string_view field) {
  if (action.empty() || action.size() > kMaxActionLength) {
    return InvalidArgument("must be 1 to 128 characters", std::string(field));
  }
  for (char c : action) {
    if (!(IsTaskChar(c) || c == '/')) {
      return InvalidArgument("may contain only letters, digits, '.', '_', ':', '/' and '-'",
                             std::string(field));
    }
  }
  return OkStatus();
}

Status ValidateResource(std::string_view resource, std::string_view field) {
  WARDEN_ASSIGN_OR_RETURN(std::string normalized,
                          identity::NormalizeText(resource, field, kMaxResourceLength));
  if (normalized != resource) {
    return InvalidArgument("must not start or end with whitespace", std::string(field));
  }
  return OkStatus();
}

Result<int64_t> ParseSpend(std::string_view text, std::string_view field) {
  const Status bad = InvalidArgument(
      "must be a decimal amount like \"250.00\" (up to 12 digits, optionally '.' and up to 6 "
      "digits)",
      std::string(field));
  const size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 12 || (dot != std::string_view::npos && frac.empty()) ||
      frac.size() > 6) {
    return bad;
  }
  int64_t value = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return bad;
    value = value * 10 + (c - '0');
  }
  int64_t scale = 1'000'000;
  for (char c : frac) {
    if (c < '0' || c > '9') return bad;
    scale /= 10;
    value = value * 10 + (c - '0');
  }
  // value carries frac.size() decimals; bring it to millionths.
  return value * scale;
}

Status ValidateIntent(const Intent& intent) {
  WARDEN_RETURN_IF_ERROR(ValidateTask(intent.task));
  WARDEN_ASSIGN_OR_RETURN(std::string description,
                          identity::NormalizeText(intent.description, "description",
                                                  kMaxDescriptionLength));
  if (description != intent.description) {
    return InvalidArgument("must not start or end with whitespace", "description");
  }
  WARDEN_RETURN_IF_ERROR(ValidateList(intent.scope.actions, "actions", 1, kMaxActions, true));
  WARDEN_RETURN_IF_ERROR(ValidateList(intent.scope.resources, "resources", 0, kMaxResources, false));
  WARDEN_RETURN_IF_ERROR(ValidateEnvironmentName(intent.environment));
  if (intent.ttl.count() <= 0) return InvalidArgument("must be positive", "ttl");
  if (intent.on_behalf_of) {
    WARDEN_ASSIGN_OR_RETURN(std::string obo, identity::NormalizeText(*intent.on_behalf_of,
                                                                     "on_behalf_of",
                                                                     kMaxOnBehalfOfLength));
    if (obo != *intent.on_behalf_of) {
      return InvalidArgument("must not start or end with whitespace", "on_behalf_of");
    }
  }
  return ValidateLimits(intent.limits);
}

Result<Intent> ParseIntent(const json::value& body) {
  WARDEN_ASSIGN_OR_RETURN(StrictObject obj, StrictObject::From(body));
  Intent in;
  WARDEN_ASSIGN_OR_RETURN(in.task, obj.RequiredString("task"));
  WARDEN_RETURN_IF_ERROR(ValidateTask(in.task));
  WARDEN_ASSIGN_OR_RETURN(std::string description, obj.RequiredString("description"));
  // Surrounding whitespace is trimmed here, so the stored and hashed intent
  // is the normalized one.
  WARDEN_ASSIGN_OR_RETURN(in.description, identity::NormalizeText(description, "description",
                                                                   kMaxDescriptionLength));
  WARDEN_ASSIGN_OR_RETURN(auto actions, obj.OptionalStringArray("actions"));
  if (!actions) return InvalidArgument("is required", "actions");
  in.scope.actions = std::move(*actions);
  WARDEN_ASSIGN_OR_RETURN(auto resources, obj.OptionalStringArray("resources"));
  if (resources) in.scope.resources = std::move(*resources);
  WARDEN_ASSIGN_OR_RETURN(in.environment, obj.RequiredString("environment"));
  WARDEN_ASSIGN_OR_RETURN(std::string sensitivity, obj.RequiredString("sensitivity"));
  WARDEN_ASSIGN_OR_RETURN(in.sensitivity, ParseSensitivity(sensitivity));
  WARDEN_ASSIGN_OR_RETURN(auto ttl, obj.OptionalString("ttl"));
  if (ttl) {
    auto parsed = ParseDuration(*ttl);
    if (!parsed.ok()) return InvalidArgument(parsed.status().message(), "ttl");
    in.ttl = *parsed;
  }
  WARDEN_ASSIGN_OR_RETURN(in.on_behalf_of, obj.OptionalString("on_behalf_of"));
  if (in.on_behalf_of) {
    WARDEN_ASSIGN_OR_RETURN(*in.on_behalf_of, identity::NormalizeText(*in.on_behalf_of,
                                                                      "on_behalf_of",
                                                                      kMaxOnBehalfOfLength));
  }
  if (const json::value* limits = obj.Optional("limits")) {
    WARDEN_ASSIGN_OR_RETURN(StrictObject lim, StrictObject::From(*limits, "limits"));
    WARDEN_ASSIGN_OR_RETURN(in.limits.max_calls, lim.OptionalInt("max_calls"));
    WARDEN_ASSIGN_OR_RETURN(in.limits.max_spend, lim.OptionalString("max_spend"));
    WARDEN_RETURN_IF_ERROR(lim.Finish());
  }
  WARDEN_RETURN_IF_ERROR(obj.Finish());
  WARDEN_RETURN_IF_ERROR(ValidateIntent(in));
  return in;
}

json::object ScopeToJson(const Scope& scope) {
  return json::object{{"actions", StringsJson(scope.actions)},
                      {"resources", StringsJson(scope.resources)}};
}

Result<Scope> ScopeFromJson(const json::value& v) {
  WARDEN_ASSIGN_OR_RETURN(StrictObject obj, StrictObject::From(v, "scope"));
  Scope scope;
  WARDEN_ASSIGN_OR_RETURN(auto actions, obj.OptionalStringArray("actions"));
  WARDEN_ASSIGN_OR_RETURN(auto resources, obj.OptionalStringArray("resources"));
  WARDEN_RETURN_IF_ERROR(obj.Finish());
  if (!actions || !resources) return InvalidArgument("needs actions and resources", "scope");
  scope.actions = std::move(*actions);
  scope.resources = std::move(*resources);
  return scope;
}

json::object IntentToJson(const Intent& in) {
  json::object o{{"task", in.task},
                 {"description", in.description},
                 {"actions", StringsJson(in.scope.actions)},
                 {"resources", StringsJson(in.scope.resources)},
                 {"environment", in.environment},
                 {"sensitivity", SensitivityName(in.sensitivity)},
                 {"ttl", FormatDuration(in.ttl)}};
  if (in.on_behalf_of) o["on_behalf_of"] = *in.on_behalf_of;
  if (in.limits.max_calls || in.limits.max_spend) {
    json::object limits;
    if (in.limits.max_calls) limits["max_calls"] = *in.limits.max_calls;
    if (in.limits.max_spend) limits["max_spend"] = *in.limits.max_spend;
    o["limits"] = std::move(limits);
  }
  return o;
}

std::string BindingHash(std::string_view agent_id, const Intent& intent, const Scope& scope) {
  json::object o{{"agent", agent_id},
                 {"intent", IntentToJson(intent)},
                 {"scope", ScopeToJson(scope)}};
  // The approval subject hash of kind "grant": one hash names the request in
  // the grants table (intent_sha256) and in the approval that allowed it.
  return approvals::ComputeSubjectSha256(approvals::ApprovalKind::kGrant, o);
}

}  // namespace warden::grants
