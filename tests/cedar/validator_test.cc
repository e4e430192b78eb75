// Strict validation, data driven: each case is a policy, whether it validates
// against kSchema, and the first error ("file:line:column: message") expected.
// Verdicts were checked against the reference implementation (cedar-wasm) in
// strict mode; the one deliberate difference is marked.
#include "warden/cedar/validator.h"

#include <gtest/gtest.h>

#include <string>

#include "warden/cedar/parser.h"
#include "warden/cedar/schema.h"

namespace warden::cedar {
namespace {

constexpr const char* kSchema = R"(
  entity Group;
  entity User in [Group] = { name: String, nickname?: String, age: Long } tags String;
  entity Color enum ["red", "green"];
  entity Doc = { color: Color };
  action readOnly;
  action view in [readOnly] appliesTo {
    principal: User, resource: Doc, context: { ip: ipaddr, when: datetime, flag: Bool } };
  action edit appliesTo { principal: User, resource: Doc };
)";

struct Case {
  const char* policy;
  bool valid;
  const char* first_error;  // location and message of the first error; "" when valid
};

const Case kCases[] = {
    {R"(permit(principal, action == Action::"view", resource) when { principal.name == "a" };)",
     true, ""},
    {R"(permit(principal, action == Action::"view", resource) when { principal.nickname == "a" };)",
     false,
     "p.cedar:1:62: unable to guarantee safety of access to optional attribute `nickname` on "
     "entity type `User`; guard it with `has`"},
    {R"(permit(principal, action == Action::"view", resource) when { principal has nickname && principal.nickname == "a" };)",
     true, ""},
    {R"(permit(principal, action == Action::"view", resource) when { principal has nickname || principal.nickname == "a" };)",
     false,
     "p.cedar:1:88: unable to guarantee safety of access to optional attribute `nickname` on "
     "entity type `User`; guard it with `has`"},
    {R"(permit(principal, action == Action::"view", resource) when { if principal has nickname then principal.nickname == "a" else false };)",
     true, ""},
    {R"(permit(principal, action == Action::"view", resource) when { principal.age == "ten" };)",
     false, "p.cedar:1:62: the types Long and String are not compatible"},
    {R"(permit(principal, action == Action::"view", resource) when { principal.missing };)", false,
     "p.cedar:1:62: attribute `missing` on entity type `User` not found"},
    {R"(permit(principal, action == Action::"view", resource) when { principal.age + 1 > 3 };)",
     true, ""},
    {R"(permit(principal, action == Action::"view", resource) when { principal.name like "a*" };)",
     true, ""},
    {R"(permit(principal, action == Action::"view", resource) when { principal.age like "a*" };)",
     false, "p.cedar:1:62: unexpected type: expected String but saw Long"},
    {R"(permit(principal, action == Action::"view", resource) when { [1, "a"].contains(1) };)",
     false, "p.cedar:1:62: the types Long and String are not compatible"},
    {R"(permit(principal, action == Action::"view", resource) when { [].isEmpty() };)", false,
     "p.cedar:1:62: empty set literals are forbidden in policies"},
    {R"(permit(principal, action == Action::"view", resource) when { context.ip.isInRange(ip("10.0.0.0/8")) };)",
     true, ""},
    {R"(permit(principal, action == Action::"view", resource) when { context.ip.isInRange(ip("10.0.0.0/99")) };)",
     false, "p.cedar:1:86: invalid argument to `ip`: \"10.0.0.0/99\" is not a valid ipaddr"},
    {R"(permit(principal, action == Action::"view", resource) when { decimal(principal.name).lessThan(decimal("1.0")) };)",
     false, "p.cedar:1:62: extension constructors may not be called with non-literal expressions"},
    {R"(permit(principal, action == Action::"view", resource) when { context.when > datetime("2024-01-01") };)",
     true, ""},
    {R"(permit(principal, action == Action::"view", resource) when { context.when > duration("1h") };)",
     false, "p.cedar:1:62: the types datetime and duration are not compatible"},
    {R"(permit(principal, action == Action::"view", resource) when { if context.flag then 1 else "a" };)",
     false, "p.cedar:1:62: the types Long and String are not compatible"},
    {R"(permit(principal, action == Action::"view", resource) when { principal in Group::"admins" };)",
     true, ""},
    {R"(permit(principal, action == Action::"view", resource) when { resource in Group::"admins" };)",
     true, ""},
    // Deliberate difference: cedar-wasm 4.13 only warns here (see below).
    {R"(permit(principal == Doc::"x", action == Action::"view", resource);)", false,
     "p.cedar:1:1: unable to find an applicable action given the policy scope constraints: no "
     "action's appliesTo admits this principal, action and resource"},
    {R"(permit(principal, action == Action::"view", resource == Nope::"x");)", false,
     "p.cedar:1:57: unrecognized entity type `Nope`"},
    {R"(permit(principal, action == Action::"nope", resource);)", false,
     "p.cedar:1:29: unrecognized action `Action::\"nope\"`"},
    {R"(permit(principal, action == Action::"view", resource) when { principal.hasTag("k") && principal.getTag("k") == "v" };)",
     true, ""},
    {R"(permit(principal, action == Action::"view", resource) when { principal.getTag("k") == "v" };)",
     false,
     "p.cedar:1:62: unable to guarantee safety of access to tag `\"k\"` on entity type `User`; "
     "guard it with `hasTag`"},
    {R"(permit(principal, action == Action::"view", resource) when { resource.getTag("k") == "v" };)",
     false, "p.cedar:1:62: entity type `Doc` does not declare tags"},
    {R"(permit(principal, action == Action::"view", resource) when { Color::"red" == resource.color };)",
     true, ""},
    {R"(permit(principal, action == Action::"view", resource) when { Color::"blue" == resource.color };)",
     false,
     "p.cedar:1:62: entity `Color::\"blue\"` is of an enumerated entity type, but `\"blue\"` is "
     "not one of its declared ids"},
    {R"(permit(principal, action in Action::"readOnly", resource) when { principal.age > 1 };)",
     true, ""},
    {R"(permit(principal, action, resource) when { context.flag };)", false,
     "p.cedar:1:44: attribute `flag` in context for Action::\"edit\" not found"},
    {R"(forbid(principal, action == Action::"view", resource) unless { context.when.toDate() == context.when.offset(duration("-1d")) };)",
     true, ""},
    {R"(permit(principal, action == Action::"view", resource) when { {a: 1} == {a: true} };)",
     false, "p.cedar:1:62: the types {a: Long} and {a: Bool} are not compatible"},
    {R"(permit(principal, action == Action::"view", resource) when { principal == resource };)",
     true, ""},
};

TEST(ValidatorTest, DataDrivenCases) {
  auto schema = Schema::ParseText(kSchema);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.policy);
    auto ast = ParsePolicies(c.policy, "p.cedar");
    ASSERT_TRUE(ast.ok()) << ast.status().ToString();
    ValidationResult r = ValidatePolicies(*schema, *ast);
    EXPECT_EQ(r.ok(), c.valid) << r.ErrorText();
    if (!c.valid && !r.errors.empty()) {
      EXPECT_EQ(r.errors[0].policy_id, "policy0");
      std::string got = r.errors[0].loc.ToString() + ": " + r.errors[0].message;
      EXPECT_EQ(got.rfind(c.first_error, 0), 0u) << got;
    }
  }
}

// Cedar 4.13 only warns about a scope no action applies to; Warden (like the
// Cedar 4.10 conformance corpus) rejects it, since such a policy can never apply.
TEST(ValidatorTest, ScopeMatchingNoActionIsAnError) {
  auto schema = Schema::ParseText(kSchema);
  ASSERT_TRUE(schema.ok());
  auto ast = ParsePolicies(R"(permit(principal == Doc::"x", action, resource);)", "p.cedar");
  ASSERT_TRUE(ast.ok());
  ValidationResult r = ValidatePolicies(*schema, *ast);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].message.find("unable to find an applicable action"), std::string::npos);
}

TEST(ValidatorTest, AlwaysFalsePolicyIsOnlyAWarning) {
  auto schema = Schema::ParseText(kSchema);
  ASSERT_TRUE(schema.ok());
  auto ast = ParsePolicies(R"(permit(principal, action, resource) when { false };)", "p.cedar");
  ASSERT_TRUE(ast.ok());
  ValidationResult r = ValidatePolicies(*schema, *ast);
  EXPECT_TRUE(r.ok()) << r.ErrorText();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].message.find("impossible"), std::string::npos);
}

TEST(ValidatorTest, ErrorsNameEachPolicy) {
  auto schema = Schema::ParseText(kSchema);
  ASSERT_TRUE(schema.ok());
  auto ast = ParsePolicies(
      "permit(principal, action == Action::\"view\", resource);\n"
      "forbid(principal, action == Action::\"view\", resource) when { principal.nope };\n",
      "two.cedar");
  ASSERT_TRUE(ast.ok());
  ValidationResult r = ValidatePolicies(*schema, *ast);
  ASSERT_EQ(r.errors.size(), 1u) << r.ErrorText();
  EXPECT_EQ(r.errors[0].ToString(),
            "policy1 at two.cedar:2:62: attribute `nope` on entity type `User` not found");
}

TEST(ValidatorTest, ActionGroupsAndNamespaces) {
  auto schema = Schema::ParseText(R"(
    namespace App {
      entity User = { level: Long };
      entity Doc;
      action read, write appliesTo { principal: User, resource: Doc };
      action all in [] ;
    })");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  auto ast = ParsePolicies(R"(
    permit(principal is App::User, action in [App::Action::"read", App::Action::"write"],
           resource) when { principal.level > 2 && action != App::Action::"write" };)");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  EXPECT_TRUE(ValidatePolicies(*schema, *ast).ok()) << ValidatePolicies(*schema, *ast).ErrorText();
}

TEST(ValidatorTest, TemplateLinksAreValidatedAsInstances) {
  auto schema = Schema::ParseText(kSchema);
  ASSERT_TRUE(schema.ok());
  auto ast = ParsePolicies(
      R"(permit(principal in ?principal, action == Action::"view", resource)
         when { principal.age > 3 };)",
      "t.cedar");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  EXPECT_TRUE(ValidatePolicies(*schema, *ast).ok());
  ast->links.push_back(
      TemplateLink{"link0", "policy0", EntityUidLit{"Group", "admins", {}}, std::nullopt});
  EXPECT_TRUE(ValidatePolicies(*schema, *ast).ok()) << ValidatePolicies(*schema, *ast).ErrorText();
  ast->links.push_back(
      TemplateLink{"link1", "policy0", EntityUidLit{"Nope", "x", {}}, std::nullopt});
  ValidationResult r = ValidatePolicies(*schema, *ast);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].policy_id, "link1");
  EXPECT_NE(r.errors[0].message.find("unrecognized entity type `Nope`"), std::string::npos);
}

TEST(ValidatorTest, RequestValidation) {
  auto schema = Schema::ParseText(kSchema);
  ASSERT_TRUE(schema.ok());
  Request req;
  req.principal = EntityUid(EntityType("User"), "alice");
  req.action = EntityUid(EntityType("Action"), "edit");
  req.resource = EntityUid(EntityType("Doc"), "d");
  EXPECT_TRUE(ValidateRequest(*schema, req).ok()) << ValidateRequest(*schema, req).ToString();

  req.principal = EntityUid(EntityType("Doc"), "alice");
  Status st = ValidateRequest(*schema, req);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("principal type `Doc` is not valid for action Action::\"edit\""),
            std::string::npos)
      << st.message();

  req.principal = EntityUid(EntityType("User"), "alice");
  req.action = EntityUid(EntityType("Action"), "view");
  st = ValidateRequest(*schema, req);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("required attribute `flag` (Bool) is missing"), std::string::npos)
      << st.message();

  auto ctx = Record::FromEntries(
      {{"flag", Value::Long(1)}, {"ip", Value::Bool(true)}, {"when", Value::Bool(true)}});
  ASSERT_TRUE(ctx.ok());
  req.context = *ctx;
  st = ValidateRequest(*schema, req);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("context.flag: expected Bool, found long"), std::string::npos)
      << st.message();

  req.action = EntityUid(EntityType("Action"), "nope");
  EXPECT_FALSE(ValidateRequest(*schema, req).ok());
}

}  // namespace
}  // namespace warden::cedar
