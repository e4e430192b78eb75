#include "warden/policy/engine.h"

#include <ctime>

#include "warden/cedar/entity_json.h"
#include "warden/cedar/schema_json.h"
#include "warden/cedar/validator.h"
#include "warden/core/time_format.h"

namespace warden::policy {
namespace {

namespace json = boost::json;

cedar::EntityUid Uid(std::string_view type, std::string_view id) {
  return cedar::EntityUid(cedar::EntityType(type), id);
}

// Entity JSON for a uid field of the request; explicit or {"type","id"}.
cedar::SchemaUid ToSchemaUid(const cedar::EntityUid& uid) {
  return cedar::SchemaUid{std::string(uid.type().name()), std::string(uid.id())};
}

Result<std::vector<cedar::Entity>> ParseEntities(const json::value& entities,
                                                 const cedar::Schema* schema) {
  if (!entities.is_array()) return InvalidArgument("must be an array", "entities");
  if (schema == nullptr) {
    auto list = cedar::EntityListFromJson(entities);
    if (!list.ok()) return list.status().WithContext("entities");
    return list;
  }
  auto explicit_json = cedar::ExplicitEntitiesJson(entities, *schema);
  if (!explicit_json.ok()) return explicit_json.status().WithContext("entities");
  auto list = cedar::EntityListFromJson(*explicit_json);
  if (!list.ok()) return list.status().WithContext("entities");
  return list;
}


cedar::Record WithApproval(const cedar::Record& context) {
  std::vector<cedar::Record::Entry> entries;
  for (const auto& [key, value] : context) {
    if (key != "approval") entries.emplace_back(key, value);
  }
  entries.emplace_back("approval", cedar::Value::FromRecord(cedar::Record::FromUniqueEntries(
                                       {{"granted", cedar::Value::Bool(true)}})));
  return cedar::Record::FromUniqueEntries(std::move(entries));
}

}  // namespace

Result<cedar::EntityUid> RequestUid(const json::value& request, std::string_view field) {
  const json::value* v = request.is_object() ? request.as_object().if_contains(field) : nullptr;
  if (v == nullptr) return InvalidArgument("is required", std::string(field));
  auto uid = cedar::EntityUidFromJson(*v, field);
  if (!uid.ok()) {
    return Status(StatusCode::kInvalidArgument, uid.status().message(), std::string(field));
  }
  return uid;
}

Result<cedar::Record> ParseRequestContext(const json::value& context, const cedar::Schema* schema,
                                          const cedar::EntityUid& action) {
  if (!context.is_object()) return InvalidArgument("must be an object", "context");
  json::value explicit_json = context;
  if (schema != nullptr) {
    auto rewritten = cedar::ExplicitContextJson(context, *schema, ToSchemaUid(action));
    if (!rewritten.ok()) {
      return Status(StatusCode::kInvalidArgument, rewritten.status().message(), "context");
    }
    explicit_json = std::move(*rewritten);
  }
  auto record = cedar::ContextFromJson(explicit_json);
  if (!record.ok()) return Status(StatusCode::kInvalidArgument, record.status().message(), "context");
  return record;
}

boost::json::object DecisionTimeContext(TimePoint now) {
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  ::gmtime_r(&secs, &utc);
  return boost::json::object{
      {"now", boost::json::object{{"__extn", boost::json::object{{"fn", "datetime"},
                                                                 {"arg", FormatRfc3339(now)}}}}},
      {"hour", static_cast<int64_t>(utc.tm_hour)},
      {"weekday", static_cast<int64_t>(utc.tm_wday)}};
}

void DropUndeclaredContext(const cedar::Schema* schema, std::string_view action_id,
                           boost::json::object& context) {
  if (schema == nullptr) return;
  const cedar::ActionDef* def =
      schema->FindAction(cedar::SchemaUid{"Action", std::string(action_id)});
  if (def == nullptr) return;
  for (auto it = context.begin(); it != context.end();) {
    if (def->context.FindAttribute(it->key()) == nullptr) {
      it = context.erase(it);
    } else {
      ++it;
    }
  }
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAllow: return "allow";
    case Outcome::kDeny: return "deny";
    case Outcome::kNeedsApproval: return "needs_approval";
  }
  return "deny";
}

std::vector<cedar::Entity> AgentEntities(const identity::Agent& agent, TimePoint now) {
  std::vector<cedar::Value> selectors;
  selectors.reserve(agent.selectors.size());
  for (const auto& s : agent.selectors) selectors.push_back(cedar::Value::String(s));
  cedar::Datetime expires{std::chrono::duration_cast<std::chrono::milliseconds>(
                              agent.expires_at.time_since_epoch())
                              .count()};
  cedar::Entity entity;
  entity.uid = Uid("Agent", agent.name);
  entity.attrs = cedar::Record::FromUniqueEntries({
      {"owner", cedar::Value::String(agent.owner)},
      {"purpose", cedar::Value::String(agent.purpose)},
      {"environment", cedar::Value::String(agent.environment)},
      {"spiffe_id", cedar::Value::String(agent.spiffe_id)},
      {"status", cedar::Value::String(identity::AgentStatusName(agent.EffectiveStatus(now)))},
      {"expires_at", cedar::Value::FromDatetime(expires)},
      {"selectors", cedar::Value::FromSet(cedar::Set::FromValues(std::move(selectors)))},
  });
  entity.parents = {Uid("Owner", agent.owner)};
  cedar::Entity owner;
  owner.uid = Uid("Owner", agent.owner);
  return {std::move(entity), std::move(owner)};
}

Result<DecisionResult> Decide(std::shared_ptr<const PolicyBundle> bundle,
                              const DecisionInput& input, TimePoint now) {
  if (bundle == nullptr) return Unavailable("no policies loaded");
  const cedar::Schema* schema = bundle->schema.get();

  WARDEN_ASSIGN_OR_RETURN(std::vector<cedar::Entity> list, ParseEntities(input.entities, schema));
  if (input.agent) {
    // The registry is the source of truth for agents: drop caller-supplied
    // copies of this agent and its owner.
    auto registry = AgentEntities(*input.agent, now);
    std::erase_if(list, [&](const cedar::Entity& e) {
      return e.uid == registry[0].uid || e.uid == registry[1].uid;
    });
    for (auto& e : registry) list.push_back(std::move(e));
  }
  auto entities = cedar::Entities::Create(std::move(list));
  if (!entities.ok()) return Status(StatusCode::kInvalidArgument, entities.status().message(), "entities");

  cedar::Request request;
  request.principal = input.principal;
  request.action = input.action;
  request.resource = input.resource;
  WARDEN_ASSIGN_OR_RETURN(request.context, ParseRequestContext(input.context, schema, input.action));
  if (schema != nullptr) {
    Status valid = cedar::ValidateRequest(*schema, request);
    if (!valid.ok()) return Status(StatusCode::kInvalidArgument, valid.message(), "request");
  }

  DecisionResult result;
  result.policy_set_hash = bundle->hash;
  result.response = cedar::IsAuthorized(*bundle->policies, request, *entities);
  if (result.response.decision == cedar::Decision::kAllow) {
    result.outcome = Outcome::kAllow;
  } else if (result.response.diagnostics.reasons.empty()) {
    // No forbid applied: would a recorded human approval allow it?
    cedar::Request approved = request;
    approved.context = WithApproval(request.context);
    bool approval_fits = schema == nullptr || cedar::ValidateRequest(*schema, approved).ok();
    cedar::Response with = approval_fits ? cedar::IsAuthorized(*bundle->policies, approved, *entities)
                                         : cedar::Response{};
    if (approval_fits && with.decision == cedar::Decision::kAllow) {
      result.outcome = Outcome::kNeedsApproval;
      result.approval_policies = with.diagnostics.reasons;
    } else {
      result.outcome = Outcome::kDeny;
    }
  } else {
    result.outcome = Outcome::kDeny;
  }
  result.bundle = std::move(bundle);
  return result;
}

PolicyEngine::PolicyEngine(std::filesystem::path dir, const Clock& clock,
                           std::shared_ptr<const PolicyBundle> initial)
    : dir_(std::move(dir)), clock_(clock), current_(std::move(initial)) {}

Result<std::unique_ptr<PolicyEngine>> PolicyEngine::Create(std::filesystem::path dir,
                                                           const Clock& clock) {
  WARDEN_ASSIGN_OR_RETURN(auto bundle, LoadPolicyDirectory(dir, clock.Now()));
  return std::unique_ptr<PolicyEngine>(new PolicyEngine(std::move(dir), clock, std::move(bundle)));
}

Result<std::shared_ptr<const PolicyBundle>> PolicyEngine::Reload() {
  std::lock_guard<std::mutex> lock(reload_mu_);
  WARDEN_ASSIGN_OR_RETURN(auto bundle, LoadPolicyDirectory(dir_, clock_.Now()));
  current_.store(bundle);
  return bundle;
}

}  // namespace warden::policy
