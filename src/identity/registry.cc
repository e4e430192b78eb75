#include "warden/identity/registry.h"

#include <algorithm>
#include <utility>

#include "warden/audit/audit_log.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"

namespace warden::identity {
namespace {

constexpr std::string_view kAgentColumns =
    "name, spiffe_id, owner, purpose, environment, expires_at, selectors, status, created_at, "
    "updated_at, version";

std::string Subject(std::string_view name) { return "agent:" + std::string(name); }

json::array SelectorsJson(const std::vector<std::string>& selectors) {
  json::array out;
  for (const auto& s : selectors) out.emplace_back(s);
  return out;
}

Result<Agent> AgentFromRow(const std::vector<store::SqlValue>& row) {
  auto corrupt = [](std::string_view what) {
    return DataLoss("agents row is malformed: " + std::string(what));
  };
  if (row.size() != 11) return corrupt("wrong column count");
  Agent a;
  auto text = [&](size_t i, std::string* out) { return store::ReadText(row[i], out); };
  auto micros = [&](size_t i, TimePoint* out) { return store::ReadMicros(row[i], out); };
  std::string selectors_json, status;
  if (!text(0, &a.name) || !text(1, &a.spiffe_id) || !text(2, &a.owner) || !text(3, &a.purpose) ||
      !text(4, &a.environment) || !micros(5, &a.expires_at) || !text(6, &selectors_json) ||
      !text(7, &status) || !micros(8, &a.created_at) || !micros(9, &a.updated_at)) {
    return corrupt("unexpected column type");
  }
  auto version = store::AsInt(row[10]);
  if (!version.ok()) return corrupt("version");
  a.version = *version;
  auto st = ParseAgentStatus(status);
  if (!st.ok()) return corrupt("status \"" + status + "\"");
  a.status = *st;
  auto parsed = ParseJson(selectors_json);
  if (!parsed.ok() || !parsed->is_array()) return corrupt("selectors is not a JSON array");
  for (const auto& s : parsed->get_array()) {
    if (!s.is_string()) return corrupt("selectors holds a non-string");
    a.selectors.emplace_back(s.get_string());
  }
  return a;
}

// Reads one agent inside a transaction; NotFound when absent.
Result<Agent> LoadAgent(store::Transaction& txn, std::string_view name) {
  WARDEN_ASSIGN_OR_RETURN(store::Rows rows, txn.Query("SELECT " + std::string(kAgentColumns) +
                                                          " FROM agents WHERE name = $1",
                                                      {std::string(name)}));
  if (rows.empty()) return NotFound("no agent named \"" + std::string(name) + "\"");
  return AgentFromRow(rows.rows[0]);
}

// Writes every mutable column of `a`, guarded by the version it was read at.
Status StoreAgent(store::Transaction& txn, const Agent& a, int64_t read_version) {
  WARDEN_ASSIGN_OR_RETURN(
      int64_t changed,
      txn.Exec("UPDATE agents SET owner = $1, purpose = $2, environment = $3, expires_at = $4, "
               "selectors = $5, status = $6, updated_at = $7, version = $8 "
               "WHERE name = $9 AND version = $10",
               {a.owner, a.purpose, a.environment, UnixMicros(a.expires_at),
                CanonicalJson(SelectorsJson(a.selectors)), std::string(AgentStatusName(a.status)),
                UnixMicros(a.updated_at), a.version, a.name, read_version}));
  if (changed != 1) {
    return Status(StatusCode::kAborted,
                  "agent \"" + a.name + "\" changed concurrently; re-read and retry", "version");
  }
  return OkStatus();
}

// Resolves expires_at / expires_in against `now` and the lifetime limit.
// Precise errors name the field that was given.
Result<TimePoint> ResolveExpiry(const std::optional<TimePoint>& expires_at,
                                const std::optional<std::chrono::seconds>& expires_in,
                                TimePoint now, std::chrono::seconds max_lifetime) {
  if (expires_at && expires_in) {
    return InvalidArgument("give either expires_at or expires_in, not both", "expires_in");
  }
  const TimePoint limit = now + max_lifetime;
  if (expires_in) {
    if (expires_in->count() <= 0) return InvalidArgument("must be positive", "expires_in");
    if (*expires_in > max_lifetime) {
      return InvalidArgument("must be at most " + FormatDuration(max_lifetime) +
                                 " (the maximum agent lifetime), got " +
                                 FormatDuration(*expires_in),
                             "expires_in");
    }
    return TruncateToMicros(now + *expires_in);
  }
  if (!expires_at) {
    return InvalidArgument("is required: give expires_at (RFC 3339) or expires_in (e.g. \"30d\")",
                           "expires_at");
  }
  if (*expires_at <= now) {
    return InvalidArgument("must be in the future (now is " + FormatRfc3339Exact(now) + ", got " +
                               FormatRfc3339Exact(*expires_at) + ")",
                           "expires_at");
  }
  if (*expires_at > limit) {
    return InvalidArgument("must be at most " + FormatDuration(max_lifetime) +
                               " from now (the maximum agent lifetime): no later than " +
                               FormatRfc3339Exact(limit) + ", got " + FormatRfc3339Exact(*expires_at),
                           "expires_at");
  }
  return TruncateToMicros(*expires_at);
}

Status ValidateActor(std::string_view actor) {
  if (actor.empty()) return InvalidArgument("is required", "actor");
  return OkStatus();
}

Result<std::optional<TimePoint>> ReadTime(StrictObject& obj, std::string_view key) {
  WARDEN_ASSIGN_OR_RETURN(auto text, obj.OptionalString(key));
  if (!text) return std::optional<TimePoint>();
  auto t = ParseRfc3339(*text);
  if (!t.ok()) return InvalidArgument(t.status().message(), obj.FieldPath(key));
  return std::optional<TimePoint>(*t);
}

Result<std::optional<std::chrono::seconds>> ReadDuration(StrictObject& obj, std::string_view key) {
  WARDEN_ASSIGN_OR_RETURN(auto text, obj.OptionalString(key));
  if (!text) return std::optional<std::chrono::seconds>();
  auto d = ParseDuration(*text);
  if (!d.ok()) return InvalidArgument(d.status().message(), obj.FieldPath(key));
  return std::optional<std::chrono::seconds>(*d);
}

std::string_view StatusEventKind(AgentStatus target) {
  switch (target) {
    case AgentStatus::kActive:
      return "agent.resumed";
    case AgentStatus::kSuspended:
      return "agent.suspended";
    case AgentStatus::kRetired:
      return "agent.retired";
  }
  return "agent.unknown";
}

}  // namespace

Status ValidateRegistryOptions(const RegistryOptions& options) {
  WARDEN_RETURN_IF_ERROR(ValidateTrustDomain(options.trust_domain));
  if (options.environments.empty()) {
    return InvalidArgument("at least one environment is required", "environments");
  }
  for (size_t i = 0; i < options.environments.size(); ++i) {
    const std::string& env = options.environments[i];
    const std::string field = "environments[" + std::to_string(i) + "]";
    if (env.empty() || env.size() > 63 || !std::all_of(env.begin(), env.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        })) {
      return InvalidArgument("must be 1 to 63 lower-case letters, digits, '-' or '_'", field);
    }
    if (std::count(options.environments.begin(), options.environments.end(), env) > 1) {
      return InvalidArgument("duplicate environment \"" + env + "\"", field);
    }
  }
  if (options.max_lifetime.count() <= 0) {
    return InvalidArgument("must be positive", "max_lifetime");
  }
  return OkStatus();
}

AgentRegistry::AgentRegistry(store::Store& store, const Clock& clock, RegistryOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

Result<Agent> AgentRegistry::Create(const AgentSpec& spec, std::string_view actor) {
  WARDEN_RETURN_IF_ERROR(ValidateActor(actor));
  const TimePoint now = TruncateToMicros(clock_.Now());
  Agent a;
  WARDEN_RETURN_IF_ERROR(ValidateAgentName(spec.name));
  a.name = spec.name;
  a.spiffe_id = SpiffeIdFor(options_.trust_domain, a.name);
  WARDEN_ASSIGN_OR_RETURN(a.owner, NormalizeText(spec.owner, "owner", kMaxOwnerLength));
  WARDEN_ASSIGN_OR_RETURN(a.purpose, NormalizeText(spec.purpose, "purpose", kMaxPurposeLength));
  WARDEN_RETURN_IF_ERROR(ValidateEnvironment(spec.environment));
  a.environment = spec.environment;
  WARDEN_ASSIGN_OR_RETURN(
      a.expires_at, ResolveExpiry(spec.expires_at, spec.expires_in, now, options_.max_lifetime));
  WARDEN_ASSIGN_OR_RETURN(a.selectors, NormalizeSelectors(spec.selectors));
  a.status = AgentStatus::kActive;
  a.created_at = now;
  a.updated_at = now;
  a.version = 1;

  audit::EventInput event{std::string(actor), "agent.created", Subject(a.name),
                          json::object{{"name", a.name},
                                       {"spiffe_id", a.spiffe_id},
                                       {"owner", a.owner},
                                       {"purpose", a.purpose},
                                       {"environment", a.environment},
                                       {"expires_at", FormatRfc3339Exact(a.expires_at)},
                                       {"selectors", SelectorsJson(a.selectors)}}};
  Status s = store_.Write([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(store::Rows existing,
                            txn.Query("SELECT name FROM agents WHERE name = $1", {a.name}));
    if (!existing.empty()) {
      return AlreadyExists("an agent named \"" + a.name + "\" already exists", "name");
    }
    auto inserted =
        txn.Exec("INSERT INTO agents (" + std::string(kAgentColumns) +
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                 {a.name, a.spiffe_id, a.owner, a.purpose, a.environment, UnixMicros(a.expires_at),
                  CanonicalJson(SelectorsJson(a.selectors)), std::string(AgentStatusName(a.status)),
                  UnixMicros(a.created_at), UnixMicros(a.updated_at), a.version});
    if (!inserted.ok()) {
      // The pre-check runs in the same serialized transaction, so this only
      // fires if another writer bypassed the registry; still report it exactly.
      if (inserted.status().code() == StatusCode::kAlreadyExists) {
        return AlreadyExists("an agent named \"" + a.name + "\" already exists", "name");
      }
      return inserted.status();
    }
    WARDEN_ASSIGN_OR_RETURN(auto appended, audit::Append(txn, event, now));
    (void)appended;
    return OkStatus();
  });
  WARDEN_RETURN_IF_ERROR(s);
  return a;
}

Status AgentRegistry::ValidateEnvironment(std::string_view environment) const {
  if (environment.empty()) return InvalidArgument("is required", "environment");
  const auto& envs = options_.environments;
  if (std::find(envs.begin(), envs.end(), environment) != envs.end()) return OkStatus();
  std::string list;
  for (const auto& e : envs) list += (list.empty() ? "" : ", ") + e;
  return InvalidArgument("unknown environment; configured environments: " + list, "environment");
}

Result<Agent> AgentRegistry::Get(std::string_view name) {
  WARDEN_RETURN_IF_ERROR(ValidateAgentName(name));
  std::optional<Agent> out;
  WARDEN_RETURN_IF_ERROR(store_.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Agent a, LoadAgent(txn, name));
    out = std::move(a);
    return OkStatus();
  }));
  if (!out) return Internal("store read succeeded without running the read function");
  return std::move(*out);
}

Result<std::vector<Agent>> AgentRegistry::List(const AgentFilter& filter) {
  std::string sql = "SELECT " + std::string(kAgentColumns) + " FROM agents";
  std::vector<store::SqlValue> params;
  std::vector<std::string> where;
  if (filter.owner) {
    params.emplace_back(*filter.owner);
    where.push_back("owner = $" + std::to_string(params.size()));
  }
  if (filter.environment) {
    params.emplace_back(*filter.environment);
    where.push_back("environment = $" + std::to_string(params.size()));
  }
  for (size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
  sql += " ORDER BY name";
  const TimePoint now = clock_.Now();
  std::vector<Agent> out;
  WARDEN_RETURN_IF_ERROR(store_.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(store::Rows rows, txn.Query(sql, params));
    for (const auto& row : rows.rows) {
      WARDEN_ASSIGN_OR_RETURN(Agent a, AgentFromRow(row));
      if (filter.status && a.EffectiveStatus(now) != *filter.status) continue;
      out.push_back(std::move(a));
    }
    return OkStatus();
  }));
  return out;
}

Result<Agent> AgentRegistry::Update(std::string_view name, const AgentPatch& patch,
                                    std::string_view actor) {
  WARDEN_RETURN_IF_ERROR(ValidateActor(actor));
  WARDEN_RETURN_IF_ERROR(ValidateAgentName(name));
  if (patch.empty()) {
    return InvalidArgument(
        "nothing to change: give at least one of owner, purpose, environment, expires_at, "
        "expires_in, selectors");
  }
  const TimePoint now = TruncateToMicros(clock_.Now());
  // Validate every given field before touching the store.
  std::optional<std::string> owner, purpose;
  std::optional<TimePoint> expires_at;
  std::optional<std::vector<std::string>> selectors;
  if (patch.owner) {
    WARDEN_ASSIGN_OR_RETURN(owner, NormalizeText(*patch.owner, "owner", kMaxOwnerLength));
  }
  if (patch.purpose) {
    WARDEN_ASSIGN_OR_RETURN(purpose, NormalizeText(*patch.purpose, "purpose", kMaxPurposeLength));
  }
  if (patch.environment) WARDEN_RETURN_IF_ERROR(ValidateEnvironment(*patch.environment));
  if (patch.expires_at || patch.expires_in) {
    WARDEN_ASSIGN_OR_RETURN(
        expires_at, ResolveExpiry(patch.expires_at, patch.expires_in, now, options_.max_lifetime));
  }
  if (patch.selectors) {
    WARDEN_ASSIGN_OR_RETURN(selectors, NormalizeSelectors(*patch.selectors));
  }

  std::optional<Agent> result;
  Status s = store_.Write([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Agent a, LoadAgent(txn, name));
    if (a.status == AgentStatus::kRetired) {
      return FailedPrecondition("agent \"" + a.name +
                                "\" is retired; a retired agent cannot be changed");
    }
    if (patch.expected_version && *patch.expected_version != a.version) {
      return Status(StatusCode::kAborted,
                    "agent \"" + a.name + "\" is at version " + std::to_string(a.version) +
                        ", not " + std::to_string(*patch.expected_version) +
                        "; re-read it and retry",
                    "version");
    }
    const int64_t read_version = a.version;
    json::object changes;
    auto change_text = [&](std::string_view field, std::string* current,
                           const std::optional<std::string>& next) {
      if (!next || *next == *current) return;
      changes[field] = json::object{{"old", *current}, {"new", *next}};
      *current = *next;
    };
    change_text("owner", &a.owner, owner);
    change_text("purpose", &a.purpose, purpose);
    change_text("environment", &a.environment, patch.environment);
    if (expires_at && *expires_at != a.expires_at) {
      changes["expires_at"] =
          json::object{{"old", FormatRfc3339Exact(a.expires_at)}, {"new", FormatRfc3339Exact(*expires_at)}};
      a.expires_at = *expires_at;
    }
    if (selectors && *selectors != a.selectors) {
      changes["selectors"] =
          json::object{{"old", SelectorsJson(a.selectors)}, {"new", SelectorsJson(*selectors)}};
      a.selectors = *selectors;
    }
    if (changes.empty()) {  // nothing differs: no new version, no event
      result = std::move(a);
      return OkStatus();
    }
    a.version = read_version + 1;
    a.updated_at = now;
    WARDEN_RETURN_IF_ERROR(StoreAgent(txn, a, read_version));
    WARDEN_ASSIGN_OR_RETURN(
        auto appended,
        audit::Append(txn,
                      {std::string(actor), "agent.updated", Subject(a.name),
                       json::object{{"changes", std::move(changes)}, {"version", a.version}}},
                      now));
    (void)appended;
    result = std::move(a);
    return OkStatus();
  });
  WARDEN_RETURN_IF_ERROR(s);
  if (!result) return Internal("store write succeeded without running the write function");
  return std::move(*result);
}

Result<Agent> AgentRegistry::Suspend(std::string_view name, std::string_view actor,
                                     std::string_view reason) {
  return ChangeStatus(name, actor, reason, AgentStatus::kSuspended);
}

Result<Agent> AgentRegistry::Resume(std::string_view name, std::string_view actor,
                                    std::string_view reason) {
  return ChangeStatus(name, actor, reason, AgentStatus::kActive);
}

Result<Agent> AgentRegistry::Retire(std::string_view name, std::string_view actor,
                                    std::string_view reason) {
  return ChangeStatus(name, actor, reason, AgentStatus::kRetired);
}

Result<Agent> AgentRegistry::ChangeStatus(std::string_view name, std::string_view actor,
                                          std::string_view reason, AgentStatus target) {
  WARDEN_RETURN_IF_ERROR(ValidateActor(actor));
  WARDEN_RETURN_IF_ERROR(ValidateAgentName(name));
  std::string clean_reason;
  if (reason.find_first_not_of(" \t\r\n\f\v") != std::string::npos) {
    WARDEN_ASSIGN_OR_RETURN(clean_reason, NormalizeText(reason, "reason", kMaxReasonLength));
  }
  const TimePoint now = TruncateToMicros(clock_.Now());
  std::optional<Agent> result;
  Status s = store_.Write([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Agent a, LoadAgent(txn, name));
    const std::string quoted = "agent \"" + a.name + "\"";
    if (a.status == AgentStatus::kRetired) {
      return FailedPrecondition(quoted + (target == AgentStatus::kRetired
                                              ? " is already retired"
                                              : " is retired; retirement is final"));
    }
    switch (target) {
      case AgentStatus::kSuspended:
        if (a.status == AgentStatus::kSuspended) {
          return FailedPrecondition(quoted + " is already suspended");
        }
        break;
      case AgentStatus::kActive:
        if (a.IsExpired(now)) {
          return FailedPrecondition(quoted + " expired on " + FormatRfc3339Exact(a.expires_at) +
                                    ", extend expires_at first");
        }
        if (a.status == AgentStatus::kActive) {
          return FailedPrecondition(quoted + " is already active");
        }
        break;
      case AgentStatus::kRetired:
        break;
    }
    const AgentStatus previous = a.status;
    const int64_t read_version = a.version;
    a.status = target;
    a.version = read_version + 1;
    a.updated_at = now;
    WARDEN_RETURN_IF_ERROR(StoreAgent(txn, a, read_version));
    WARDEN_ASSIGN_OR_RETURN(
        auto appended,
        audit::Append(txn,
                      {std::string(actor), std::string(StatusEventKind(target)), Subject(a.name),
                       json::object{{"from", AgentStatusName(previous)},
                                    {"to", AgentStatusName(target)},
                                    {"reason", clean_reason},
                                    {"version", a.version}}},
                      now));
    (void)appended;
    result = std::move(a);
    return OkStatus();
  });
  WARDEN_RETURN_IF_ERROR(s);
  if (!result) return Internal("store write succeeded without running the write function");
  return std::move(*result);
}

Result<AgentSpec> AgentRegistry::SpecFromJson(const json::value& body) {
  WARDEN_ASSIGN_OR_RETURN(StrictObject obj, StrictObject::From(body));
  AgentSpec spec;
  WARDEN_ASSIGN_OR_RETURN(spec.name, obj.RequiredString("name"));
  WARDEN_ASSIGN_OR_RETURN(spec.owner, obj.RequiredString("owner"));
  WARDEN_ASSIGN_OR_RETURN(spec.purpose, obj.RequiredString("purpose"));
  WARDEN_ASSIGN_OR_RETURN(spec.environment, obj.RequiredString("environment"));
  WARDEN_ASSIGN_OR_RETURN(spec.expires_at, ReadTime(obj, "expires_at"));
  WARDEN_ASSIGN_OR_RETURN(spec.expires_in, ReadDuration(obj, "expires_in"));
  WARDEN_ASSIGN_OR_RETURN(auto selectors, obj.OptionalStringArray("selectors"));
  if (selectors) spec.selectors = std::move(*selectors);
  WARDEN_RETURN_IF_ERROR(obj.Finish());
  return spec;
}

Result<AgentPatch> AgentRegistry::PatchFromJson(const json::value& body) {
  WARDEN_ASSIGN_OR_RETURN(StrictObject obj, StrictObject::From(body));
  AgentPatch patch;
  WARDEN_ASSIGN_OR_RETURN(patch.owner, obj.OptionalString("owner"));
  WARDEN_ASSIGN_OR_RETURN(patch.purpose, obj.OptionalString("purpose"));
  WARDEN_ASSIGN_OR_RETURN(patch.environment, obj.OptionalString("environment"));
  WARDEN_ASSIGN_OR_RETURN(patch.expires_at, ReadTime(obj, "expires_at"));
  WARDEN_ASSIGN_OR_RETURN(patch.expires_in, ReadDuration(obj, "expires_in"));
  WARDEN_ASSIGN_OR_RETURN(patch.selectors, obj.OptionalStringArray("selectors"));
  WARDEN_ASSIGN_OR_RETURN(patch.expected_version, obj.OptionalInt("version"));
  WARDEN_RETURN_IF_ERROR(obj.Finish());
  return patch;
}

json::object AgentRegistry::ToJson(const Agent& agent, TimePoint now) const {
  return json::object{{"name", agent.name},
                      {"spiffe_id", agent.spiffe_id},
                      {"owner", agent.owner},
                      {"purpose", agent.purpose},
                      {"environment", agent.environment},
                      {"expires_at", FormatRfc3339Exact(agent.expires_at)},
                      {"selectors", SelectorsJson(agent.selectors)},
                      {"status", AgentStatusName(agent.EffectiveStatus(now))},
                      {"stored_status", AgentStatusName(agent.status)},
                      {"expired", agent.IsExpired(now)},
                      {"created_at", FormatRfc3339Exact(agent.created_at)},
                      {"updated_at", FormatRfc3339Exact(agent.updated_at)},
                      {"version", agent.version}};
}

}  // namespace warden::identity
