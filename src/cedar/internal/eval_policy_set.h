// The inside of a PolicySet: the policies, their compiled forms and the scope
// indexes the authorizer uses to find candidates. Immutable once built; safe to
// read from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "cedar/internal/eval_compiled.h"
#include "warden/cedar/ast.h"
#include "warden/cedar/policy_set.h"
#include "warden/cedar/value.h"

namespace warden::cedar {
namespace internal {

// Each policy is filed under exactly one key of one scope variable (the most
// selective one it constrains), or in `unscoped` when its scope is all `any`.
// An `action in [A, B]` policy is filed under each listed action.
struct ScopeIndex {
  using UidMap = std::unordered_map<EntityUid, std::vector<uint32_t>, EntityUidHash>;
  using TypeMap = std::unordered_map<EntityType, std::vector<uint32_t>, EntityTypeHash>;
  struct Dimension {
    UidMap eq;   // `== X`: looked up by the request uid
    UidMap in;   // `in X`, `is T in X`, `in [X, ..]`: by the uid and its ancestors
    TypeMap is;  // `is T`: by the request uid's type
  };
  Dimension principal;
  Dimension action;
  Dimension resource;
  std::vector<uint32_t> unscoped;
  bool has_multi_key = false;  // some policy is filed under several keys

  // Files the policy; returns the scope variables (kScopeBit*) whose
  // constraint holds for every request whose Lookup returns this policy.
  uint8_t Add(uint32_t index, const CompiledPolicy& policy);
  // Candidates for the request described by `env`, ascending and unique.
  void Lookup(const EvalEnv& env, std::vector<uint32_t>* out) const;
};

}  // namespace internal

struct PolicySet::Impl {
  std::vector<Policy> policies;   // evaluated: static policies, then instantiated links
  std::vector<Template> templates;
  std::vector<TemplateLink> links;
  std::vector<internal::CompiledPolicy> compiled;  // parallel to `policies`
  std::string content_hash;
  internal::ScopeIndex index;
};

}  // namespace warden::cedar
