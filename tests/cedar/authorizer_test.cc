// Authorization decisions, case by case: policy text, a request, and the
// expected decision, reasons and erroring policies (Cedar's answers), over one
// shared entity store. Plus template links and the JSON the CLI prints.

#include "warden/cedar/authorizer.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "warden/cedar/entity_json.h"
#include "warden/cedar/evaluator.h"
#include "warden/cedar/parser.h"
#include "warden/cedar/policy_set.h"

namespace warden::cedar {
namespace {

constexpr std::string_view kEntities = R"([
  {"uid": {"type": "User", "id": "alice"}, "attrs": {"level": 5, "dept": "eng"},
   "parents": [{"type": "Group", "id": "eng"}]},
  {"uid": {"type": "User", "id": "bob"}, "attrs": {"level": 1}, "parents": []},
  {"uid": {"type": "Group", "id": "eng"}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
  {"uid": {"type": "Group", "id": "all"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Action", "id": "read"}]},
  {"uid": {"type": "Action", "id": "edit"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Action", "id": "read"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Doc", "id": "d1"}, "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}},
   "secret": false}, "parents": [{"type": "Folder", "id": "f"}]},
  {"uid": {"type": "Doc", "id": "d2"}, "attrs": {"secret": true}, "parents": []}
])";

struct Case {
  const char* name;
  const char* policies;
  const char* principal;  // "Type::id" without quotes
  const char* action;
  const char* resource;
  const char* context;  // JSON object
  const char* decision;
  std::vector<std::string> reasons;
  std::vector<std::string> errors;
};

EntityUid Uid(std::string_view text) {
  size_t sep = text.rfind("::");
  return EntityUid(EntityType(text.substr(0, sep)), text.substr(sep + 2));
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> kCases = {
      {"empty set denies", "", "User::alice", "Action::view", "Doc::d1", "{}", "deny", {}, {}},
      {"permit all", "permit(principal, action, resource);", "User::alice", "Action::view",
       "Doc::d1", "{}", "allow", {"policy0"}, {}},
      {"forbid overrides permit",
       "permit(principal, action, resource);\n"
       "forbid(principal, action, resource) when { resource.secret };",
       "User::alice", "Action::view", "Doc::d2", "{}", "deny", {"policy1"}, {}},
      {"forbid not satisfied",
       "permit(principal, action, resource);\n"
       "forbid(principal, action, resource) when { resource.secret };",
       "User::alice", "Action::view", "Doc::d1", "{}", "allow", {"policy0"}, {}},
      {"every satisfied permit is a reason",
       "permit(principal == User::\"alice\", action, resource);\n"
       "permit(principal in Group::\"all\", action, resource);\n"
       "permit(principal, action == Action::\"edit\", resource);",
       "User::alice", "Action::view", "Doc::d1", "{}", "allow", {"policy0", "policy1"}, {}},
      {"every satisfied forbid is a reason",
       "forbid(principal, action, resource);\n"
       "permit(principal, action, resource);\n"
       "forbid(principal is User, action, resource);",
       "User::bob", "Action::view", "Doc::d1", "{}", "deny", {"policy0", "policy2"}, {}},
      {"erroring permit is skipped and reported",
       "permit(principal, action, resource) when { principal.nope };\n"
       "permit(principal, action, resource) when { principal.level > 3 };",
       "User::alice", "Action::view", "Doc::d1", "{}", "allow", {"policy1"}, {"policy0"}},
      {"erroring forbid does not deny",
       "permit(principal, action, resource);\n"
       "forbid(principal, action, resource) when { resource.owner == principal };",
       "User::alice", "Action::view", "Doc::d2", "{}", "allow", {"policy0"}, {"policy1"}},
      {"only errors: default deny with errors",
       "permit(principal, action, resource) when { 1 };", "User::alice", "Action::view",
       "Doc::d1", "{}", "deny", {}, {"policy0"}},
      {"scope mismatch never errors",
       "permit(principal == User::\"bob\", action, resource) when { principal.nope };",
       "User::alice", "Action::view", "Doc::d1", "{}", "deny", {}, {}},
      {"action in hierarchy", "permit(principal, action in Action::\"read\", resource);",
       "User::alice", "Action::view", "Doc::d1", "{}", "allow", {"policy0"}, {}},
      {"action in list",
       "permit(principal, action in [Action::\"edit\", Action::\"read\"], resource);",
       "User::alice", "Action::view", "Doc::d1", "{}", "allow", {"policy0"}, {}},
      {"action in list miss", "permit(principal, action in [Action::\"edit\"], resource);",
       "User::alice", "Action::view", "Doc::d1", "{}", "deny", {}, {}},
      {"resource in folder", "permit(principal, action, resource in Folder::\"f\");",
       "User::alice", "Action::view", "Doc::d1", "{}", "allow", {"policy0"}, {}},
      {"principal is-in", "permit(principal is User in Group::\"all\", action, resource);",
       "User::alice", "Action::view", "Doc::d1", "{}", "allow", {"policy0"}, {}},
      {"principal is-in wrong type",
       "permit(principal is Group in Group::\"all\", action, resource);", "User::alice",
       "Action::view", "Doc::d1", "{}", "deny", {}, {}},
      {"unknown principal entity: only equality",
       "permit(principal in Group::\"all\", action, resource);\n"
       "permit(principal == User::\"zed\", action, resource);",
       "User::zed", "Action::view", "Doc::d1", "{}", "allow", {"policy1"}, {}},
      {"context condition",
       "permit(principal, action, resource) when { context.mfa && context.risk < 50 };",
       "User::bob", "Action::edit", "Doc::d2", R"({"mfa": true, "risk": 10})", "allow",
       {"policy0"}, {}},
      {"context missing attribute errors",
       "permit(principal, action, resource) when { context.mfa };", "User::bob", "Action::edit",
       "Doc::d2", "{}", "deny", {}, {"policy0"}},
      {"unless",
       "permit(principal, action, resource) unless { principal.level < 3 };", "User::bob",
       "Action::view", "Doc::d1", "{}", "deny", {}, {}},
      {"explicit id annotation does not rename",
       "@id(\"mine\") permit(principal, action, resource);", "User::bob", "Action::view",
       "Doc::d1", "{}", "allow", {"policy0"}, {}},
      {"overflow is an error",
       "permit(principal, action, resource) when { context.n + 1 > 0 };", "User::bob",
       "Action::view", "Doc::d1", R"({"n": 9223372036854775807})", "deny", {}, {"policy0"}},
  };
  return kCases;
}

class AuthorizerTest : public ::testing::TestWithParam<size_t> {};

TEST_P(AuthorizerTest, Decides) {
  const Case& c = Cases()[GetParam()];
  SCOPED_TRACE(c.name);
  Result<Entities> ents = ParseEntitiesJson(kEntities);
  ASSERT_TRUE(ents.ok()) << ents.status().ToString();
  Result<std::shared_ptr<const PolicySet>> set = PolicySet::FromText(c.policies);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  Result<Record> ctx = ParseContextJson(c.context);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  Request req{Uid(c.principal), Uid(c.action), Uid(c.resource), *ctx};
  Response r = IsAuthorized(**set, req, *ents);
  EXPECT_EQ(DecisionName(r.decision), c.decision);
  EXPECT_EQ(r.diagnostics.reasons, c.reasons);
  std::vector<std::string> errors;
  for (const PolicyError& e : r.diagnostics.errors) {
    errors.push_back(e.policy_id);
    EXPECT_FALSE(e.message.empty());
  }
  EXPECT_EQ(errors, c.errors);
}

INSTANTIATE_TEST_SUITE_P(Cases, AuthorizerTest, ::testing::Range<size_t>(0, Cases().size()));

// Within one decision, policies that read the same variable paths share the
// reads (and `has` tests of them), and expressions that occur in several
// policies are evaluated once. Every policy must still see exactly what it
// sees alone: the same satisfied/unsatisfied answer and the same error text,
// whichever policy reads a path first and whether that read failed; and an
// expression must never be taken for a similar one (the last lines differ
// from earlier ones only in a constant, a type or a pattern escape).
TEST(AuthorizerPathSharing, EachPolicyAnswersAsIfAlone) {
  const std::string policies = R"(
    permit(principal, action, resource) when { context has a && context.a.b == 1 };
    permit(principal, action, resource) when { context.a.c == 2 };
    permit(principal, action, resource) when { context.a has c };
    permit(principal, action, resource) when { context.a.c == 2 };
    permit(principal, action, resource) when { principal has level && principal.level > 3 };
    permit(principal, action, resource) when { principal.level > 3 && principal.dept == "eng" };
    permit(principal, action, resource) when { principal has dept || context.a.b == 7 };
    permit(principal, action, resource) when { principal.dept like "e*" };
    permit(principal, action, resource) when { resource.owner.level == 5 };
    permit(principal, action, resource) when { resource has owner && resource.owner has level };
    permit(principal, action, resource) when { resource.owner has level && resource.owner.level < 9 };
    permit(principal, action, resource) when { context.a.b.d == 1 };
    permit(principal, action, resource) when { context.a has b && context.a.b has d };
    permit(principal, action, resource) when { context.x };
    permit(principal, action, resource) when { context has x && context.x };
    permit(principal, action, resource) when { (context.a.b == 1 && context.a has c) || context.a.b > 0 };
    forbid(principal, action, resource) unless { context.a.b == 1 && principal has level };
    permit(principal, action, resource) when { !(context.a.b == 1) || principal.level > 3 };
    permit(principal, action, resource) when { context.a.b == "1" || principal.level > 4 };
    permit(principal, action, resource) when { principal.dept like "e\*" };
    permit(principal, action, resource) when { principal is User && principal in Group::"eng" };
    permit(principal, action, resource) when { principal is Group || principal in Group::"all" };
    forbid(principal, action, resource) when { context has x && context.x };
  )";
  Result<Entities> ents = ParseEntitiesJson(kEntities);
  ASSERT_TRUE(ents.ok()) << ents.status().ToString();
  Result<std::shared_ptr<const PolicySet>> set = PolicySet::FromText(policies);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  const std::vector<std::string> contexts = {R"({"a": {"b": 1}})", R"({"a": {"b": 1, "c": 2}})",
                                             R"({"a": {"b": 7}, "x": true})", R"({"a": 3})",
                                             R"({})", R"({"a": {"b": {"d": 1}}, "x": 1})"};
  const std::vector<std::string> principals = {"User::alice", "User::bob", "User::nobody"};
  const std::vector<std::string> resources = {"Doc::d1", "Doc::d2", "Doc::missing"};
  for (const std::string& context : contexts) {
    for (const std::string& principal : principals) {
      for (const std::string& resource : resources) {
        SCOPED_TRACE(context + " " + principal + " " + resource);
        Result<Record> ctx = ParseContextJson(context);
        ASSERT_TRUE(ctx.ok());
        Request req{Uid(principal), Uid("Action::view"), Uid(resource), *ctx};
        Response r = IsAuthorized(**set, req, *ents);
        std::vector<std::string> permits, forbids;
        std::vector<std::pair<std::string, std::string>> errors, got_errors;
        for (const Policy& p : (*set)->policies()) {
          Result<bool> alone = EvaluatePolicy(p, req, *ents);
          if (!alone.ok()) {
            errors.emplace_back(p.id, alone.status().message());
          } else if (*alone) {
            (p.effect == Effect::kForbid ? forbids : permits).push_back(p.id);
          }
        }
        for (const PolicyError& e : r.diagnostics.errors) {
          got_errors.emplace_back(e.policy_id, e.message);
        }
        EXPECT_EQ(got_errors, errors);
        EXPECT_EQ(r.diagnostics.reasons, forbids.empty() ? permits : forbids);
        EXPECT_EQ(r.decision,
                  forbids.empty() && !permits.empty() ? Decision::kAllow : Decision::kDeny);
      }
    }
  }
}

TEST(AuthorizerJson, PrintsTheCliShape) {
  Response r;
  r.decision = Decision::kAllow;
  r.diagnostics.reasons = {"policy0", "policy2"};
  r.diagnostics.errors = {{"policy1", "type error: expected bool, got \"long\""}};
  EXPECT_EQ(ResponseToJson(r),
            R"({"decision":"allow","reasons":["policy0","policy2"],)"
            R"("errors":[{"policy":"policy1","message":"type error: expected bool, got \"long\""}]})");
  EXPECT_EQ(ResponseToJson(Response{}), R"({"decision":"deny","reasons":[],"errors":[]})");
}

TEST(AuthorizerTemplates, LinkedPoliciesUseSlotValues) {
  Result<Entities> ents = ParseEntitiesJson(kEntities);
  ASSERT_TRUE(ents.ok()) << ents.status().ToString();
  std::vector<TemplateLink> links = {
      {"link-alice", "policy0", EntityUidLit{"User", "alice", {}}, EntityUidLit{"Folder", "f", {}}},
      {"link-bob", "policy0", EntityUidLit{"User", "bob", {}}, EntityUidLit{"Doc", "d2", {}}},
  };
  Result<std::shared_ptr<const PolicySet>> set = PolicySet::FromText(
      "permit(principal == ?principal, action, resource in ?resource) when { principal.level > 0 };\n"
      "forbid(principal, action == Action::\"edit\", resource);",
      links);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ((*set)->size(), 3u);  // one static policy and two links; the template is not evaluated

  auto decide = [&](const char* p, const char* a, const char* r) {
    return IsAuthorized(**set, Request{Uid(p), Uid(a), Uid(r), Record()}, *ents);
  };
  Response r1 = decide("User::alice", "Action::view", "Doc::d1");
  EXPECT_EQ(r1.decision, Decision::kAllow);
  EXPECT_EQ(r1.diagnostics.reasons, std::vector<std::string>{"link-alice"});
  Response r2 = decide("User::alice", "Action::view", "Doc::d2");
  EXPECT_EQ(r2.decision, Decision::kDeny);
  EXPECT_TRUE(r2.diagnostics.reasons.empty());
  Response r3 = decide("User::bob", "Action::view", "Doc::d2");
  EXPECT_EQ(r3.diagnostics.reasons, std::vector<std::string>{"link-bob"});
  Response r4 = decide("User::bob", "Action::edit", "Doc::d2");
  EXPECT_EQ(r4.decision, Decision::kDeny);
  EXPECT_EQ(r4.diagnostics.reasons, std::vector<std::string>{"policy1"});
}

TEST(AuthorizerTemplates, BadLinksAreRejected) {
  const char* text = "permit(principal == ?principal, action, resource);";
  EXPECT_FALSE(PolicySet::FromText(text, {{"l", "nope", EntityUidLit{"User", "a", {}}, {}}}).ok());
  EXPECT_FALSE(PolicySet::FromText(text, {{"policy0", "policy0", EntityUidLit{"User", "a", {}}, {}}})
                   .ok());
  EXPECT_FALSE(PolicySet::FromText(text, {{"l", "policy0", {}, {}}}).ok());
  EXPECT_FALSE(PolicySet::FromText(text, {{"l", "policy0", EntityUidLit{"User", "a", {}}, {}},
                                          {"l", "policy0", EntityUidLit{"User", "b", {}}, {}}})
                   .ok());
}

}  // namespace
}  // namespace warden::cedar
