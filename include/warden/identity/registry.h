// AgentRegistry: the durable set of agents. Every change writes the agents row
// and its audit event (agent.created/updated/suspended/resumed/retired,
// subject "agent:<name>") in one Store::Write, so the registry and the
// evidence chain never disagree. All times come from the injected Clock.
// Thread-safe: concurrent calls are serialized by the Store's writer.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/identity/agent.h"
#include "warden/store/store.h"

namespace warden::identity {

struct RegistryOptions {
  std::string trust_domain = "warden.local";
  std::vector<std::string> environments = {"dev", "staging", "prod"};
  std::chrono::seconds max_lifetime = std::chrono::hours(24 * 90);
};

// InvalidArgument (field "trust_domain", "environments" or "max_lifetime")
// when the options cannot be used; call once at startup.
Status ValidateRegistryOptions(const RegistryOptions& options);

class AgentRegistry {
 public:
  // Borrows `store` and `clock`; both must outlive the registry.
  AgentRegistry(store::Store& store, const Clock& clock, RegistryOptions options);

  // Validates and registers a new agent (status active, version 1).
  // InvalidArgument with the field; AlreadyExists (field "name") for a taken
  // name; Unavailable when the store cannot be written.
  Result<Agent> Create(const AgentSpec& spec, std::string_view actor);

  // NotFound when no agent has that name.
  Result<Agent> Get(std::string_view name);

  // Matching agents ordered by name.
  Result<std::vector<Agent>> List(const AgentFilter& filter);

  // Applies `patch`. InvalidArgument for an empty or invalid patch;
  // FailedPrecondition for a retired agent; Aborted (field "version") when
  // expected_version differs. A patch that changes nothing returns the agent
  // unchanged and writes no event.
  Result<Agent> Update(std::string_view name, const AgentPatch& patch, std::string_view actor);

  // active -> suspended. FailedPrecondition when retired or already suspended.
  Result<Agent> Suspend(std::string_view name, std::string_view actor, std::string_view reason);
  // suspended -> active. FailedPrecondition when retired, already active, or
  // expired ("expired on <time>, extend expires_at first").
  Result<Agent> Resume(std::string_view name, std::string_view actor, std::string_view reason);
  // any -> retired (terminal). FailedPrecondition when already retired.
  Result<Agent> Retire(std::string_view name, std::string_view actor, std::string_view reason);

  // Strict JSON readers for the HTTP API: unknown members and wrong types are
  // InvalidArgument naming the field. Semantic checks happen in Create/Update.
  // Spec: {"name","owner","purpose","environment","expires_at"|"expires_in",
  // "selectors"?}. Patch: any of owner, purpose, environment,
  // expires_at|expires_in, selectors, and optionally "version" (expected).
  static Result<AgentSpec> SpecFromJson(const boost::json::value& body);
  static Result<AgentPatch> PatchFromJson(const boost::json::value& body);

  // API form: {"name","spiffe_id","owner","purpose","environment",
  // "expires_at","selectors","status" (effective),"stored_status","expired",
  // "created_at","updated_at","version"}; times RFC 3339.
  boost::json::object ToJson(const Agent& agent, TimePoint now) const;

  const RegistryOptions& options() const { return options_; }

 private:
  // InvalidArgument (field "environment") unless one of options_.environments.
  Status ValidateEnvironment(std::string_view environment) const;
  Result<Agent> ChangeStatus(std::string_view name, std::string_view actor, std::string_view reason,
                             AgentStatus target);

  store::Store& store_;
  const Clock& clock_;
  RegistryOptions options_;
};

}  // namespace warden::identity
