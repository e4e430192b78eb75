#include "warden/cedar/authorizer.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "cedar/internal/eval_compiled.h"
#include "cedar/internal/eval_policy_set.h"
#include "warden/core/json.h"

namespace warden::cedar {

std::string_view DecisionName(Decision d) { return d == Decision::kAllow ? "allow" : "deny"; }

Response IsAuthorized(const PolicySet& policies, const Request& request,
                      const Entities& entities) {
  const PolicySet::Impl& impl = policies.impl();
  // Candidate indexes are kept per thread so a decision does not allocate for them.
  internal::EvalEnv env(request, entities);
  thread_local std::vector<const Value*> path_cache;
  path_cache.assign(impl.path_slots, nullptr);
  env.path_cache = path_cache.data();
  // The result cache is cleared by moving to a new epoch; entries written
  // under an earlier epoch (by any policy set) read as not evaluated.
  thread_local std::vector<uint32_t> bool_cache;
  thread_local uint32_t bool_epoch = 0;
  if (bool_cache.size() < impl.bool_slots) bool_cache.resize(impl.bool_slots, 0);
  if (++bool_epoch >= (1u << 31)) {
    std::fill(bool_cache.begin(), bool_cache.end(), 0);
    bool_epoch = 1;
  }
  env.bool_cache = bool_cache.data();
  env.bool_epoch = bool_epoch;
  thread_local std::vector<uint32_t> candidates;
  impl.index.Lookup(env, &candidates);

  Response response;
  // Satisfied policies by effect, as indexes; names are copied at the end.
  thread_local std::vector<uint32_t> permits;
  thread_local std::vector<uint32_t> forbids;
  permits.clear();
  forbids.clear();
  // Errors with their policy index: reported in text order like the reasons.
  thread_local std::vector<std::pair<uint32_t, std::string>> errors;
  errors.clear();
  std::string error;
  for (uint32_t i : candidates) {
    const internal::CompiledPolicy& p = impl.compiled[i];
    // Candidates come from the index lookup, so its established scopes are skipped.
    switch (internal::EvaluateCompiledPolicy(p, env, &error, p.indexed_scopes)) {
      case internal::PolicyOutcome::kSatisfied:
        (p.effect == Effect::kForbid ? forbids : permits).push_back(i);
        break;
      case internal::PolicyOutcome::kNotSatisfied:
        break;
      case internal::PolicyOutcome::kError:
        errors.emplace_back(i, std::move(error));
        error.clear();
        break;
    }
  }
  // Candidates come in index order except for a few lists; reasons and
  // errors are reported in text order whatever the lookup gave.
  std::sort(permits.begin(), permits.end());
  std::sort(forbids.begin(), forbids.end());
  if (!errors.empty()) {
    std::sort(errors.begin(), errors.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    response.diagnostics.errors.reserve(errors.size());
    for (auto& [i, message] : errors) {
      response.diagnostics.errors.push_back(PolicyError{impl.compiled[i].id, std::move(message)});
    }
  }
  const std::vector<uint32_t>* reasons = nullptr;
  if (!forbids.empty()) {
    response.decision = Decision::kDeny;
    reasons = &forbids;
  } else if (!permits.empty()) {
    response.decision = Decision::kAllow;
    reasons = &permits;
  } else {
    response.decision = Decision::kDeny;
  }
  if (reasons != nullptr) {
    response.diagnostics.reasons.reserve(reasons->size());
    for (uint32_t i : *reasons) response.diagnostics.reasons.push_back(impl.compiled[i].id);
  }
  return response;
}

std::string ResponseToJson(const Response& response) {
  json::object out;
  out["decision"] = DecisionName(response.decision);
  json::array reasons;
  for (const std::string& r : response.diagnostics.reasons) reasons.emplace_back(r);
  out["reasons"] = std::move(reasons);
  json::array errors;
  for (const PolicyError& e : response.diagnostics.errors) {
    json::object o;
    o["policy"] = e.policy_id;
    o["message"] = e.message;
    errors.emplace_back(std::move(o));
  }
  out["errors"] = std::move(errors);
  return ToJson(out);
}

}  // namespace warden::cedar
