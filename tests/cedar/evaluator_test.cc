// Expression evaluation, case by case: each row is a Cedar expression evaluated
// against one fixed request and entity store, and the expected result (a value
// in Cedar syntax) or the expected error. The expectations agree with Cedar 4.x.

#include "warden/cedar/evaluator.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "warden/cedar/entity_json.h"
#include "warden/cedar/parser.h"

namespace warden::cedar {
namespace {

constexpr std::string_view kEntities = R"([
  {"uid": {"type": "User", "id": "alice"},
   "attrs": {"age": 30, "name": "Alice", "roles": ["admin", "dev"],
             "addr": {"city": "Paris", "zip": "75001"},
             "manager": {"__entity": {"type": "User", "id": "bob"}},
             "ip": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}},
             "big": 9223372036854775807, "small": -9223372036854775808},
   "parents": [{"type": "Group", "id": "eng"}],
   "tags": {"level": 3, "team": "core"}},
  {"uid": {"type": "User", "id": "bob"}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
  {"uid": {"type": "Group", "id": "eng"}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
  {"uid": {"type": "Group", "id": "all"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Action", "id": "read"}]},
  {"uid": {"type": "Action", "id": "read"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Doc", "id": "d"},
   "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}, "public": false},
   "parents": [{"type": "Folder", "id": "f"}]}
])";

constexpr std::string_view kContext = R"({
  "n": 5, "s": "hello", "flag": true, "rec": {"x": 1, "inner": {"y": 2}}, "nums": [1, 2, 3],
  "t": {"__extn": {"fn": "datetime", "arg": "2024-10-15T11:38:02Z"}},
  "d": {"__extn": {"fn": "duration", "arg": "1h30m"}},
  "amount": {"__extn": {"fn": "decimal", "arg": "12.50"}}
})";

struct Case {
  const char* expr;
  // The value in Cedar syntax (Value::ToString), or "error: <text the
  // error message must contain>".
  const char* want;
};

const Case kCases[] = {
    // Literals and variables.
    {"true", "true"},
    {"-9223372036854775808", "-9223372036854775808"},
    {R"("a\"b")", R"("a\"b")"},
    {"principal", R"(User::"alice")"},
    {"action", R"(Action::"view")"},
    {"resource", R"(Doc::"d")"},
    {"context.n", "5"},
    // Equality: structural, across kinds false (never an error).
    {"1 == 1", "true"},
    {R"(1 == "1")", "false"},
    {"[1, 2] == [2, 1, 1]", "true"},
    {"{a: 1, b: [true]} == {b: [true], a: 1}", "true"},
    {R"(principal == User::"alice")", "true"},
    {R"(User::"alice" == Group::"alice")", "false"},
    {R"(ip("10.0.0.1") == ip("10.0.0.1/32"))", "true"},
    {R"(decimal("1.0") == decimal("1.0000"))", "true"},
    {R"(duration("60m") == duration("1h"))", "true"},
    {R"(datetime("2024-01-01") == datetime("2024-01-01T00:00:00Z"))", "true"},
    {R"(decimal("1.0") == 1)", "false"},
    {"1 != 2", "true"},
    {"context.rec == {x: 1, inner: {y: 2}}", "true"},
    // Ordering: long, datetime and duration; anything else is a type error.
    {"1 < 2", "true"},
    {"2 <= 2", "true"},
    {"3 > 4", "false"},
    {"4 >= 4", "true"},
    {R"(context.t > datetime("2024-01-01"))", "true"},
    {R"(context.d < duration("2h"))", "true"},
    {R"(duration("1h") >= duration("60m"))", "true"},
    {R"(decimal("1.0") < decimal("2.0"))", "error: type error"},
    {R"("a" < "b")", "error: type error"},
    {R"(1 < decimal("2.0"))", "error: type error"},
    {R"(context.t < context.d)", "error: type error"},
    // Checked arithmetic.
    {"1 + 2 * 3 - 4", "3"},
    {"-context.n", "-5"},
    {"principal.big + 1", "error: integer overflow"},
    {"principal.small - 1", "error: integer overflow"},
    {"principal.big * 2", "error: integer overflow"},
    {"-principal.small", "error: integer overflow"},
    {"principal.small + principal.big", "-1"},
    {R"(1 + "a")", "error: type error: expected long, got string"},
    {"context.n * context.n", "25"},
    // Boolean operators: short circuit; non-bool operands are errors.
    {"true && false", "false"},
    {"false && 1", "false"},
    {"false && principal.missing", "false"},
    {"true || principal.missing", "true"},
    {"true && 1", "error: type error: expected bool, got long"},
    {"1 && true", "error: type error: expected bool, got long"},
    {"false || 1", "error: type error: expected bool, got long"},
    {"!context.flag", "false"},
    {"!1", "error: type error: expected bool, got long"},
    {"if context.flag then 1 else principal.missing", "1"},
    {"if 1 then 2 else 3", "error: type error: expected bool, got long"},
    // Attribute access and `has`.
    {"principal.name", R"("Alice")"},
    {"principal.addr.city", R"("Paris")"},
    {R"(principal["addr"]["zip"])", R"("75001")"},
    {"principal.manager", R"(User::"bob")"},
    {"principal.missing", "error: does not have the attribute `missing`"},
    {"context.nope", "error: record does not have the attribute `nope`"},
    {R"(User::"ghost".name)", "error: entity `User::\"ghost\"` does not exist"},
    {"context.n.x", "error: type error"},
    {"principal has name", "true"},
    {"principal has nope", "false"},
    {R"(User::"ghost" has name)", "false"},
    {"principal has addr.city", "true"},
    {"principal has addr.nope", "false"},
    {"principal has name.first", "error: type error"},
    {"context has rec.inner.y", "true"},
    {"context.n has x", "error: type error"},
    {"principal.manager has name", "false"},
    // `in`: transitive, entity or set of entities.
    {R"(principal in Group::"eng")", "true"},
    {R"(principal in Group::"all")", "true"},
    {R"(principal in User::"alice")", "true"},
    {R"(principal in [Group::"x", Group::"all"])", "true"},
    {R"(principal in [])", "false"},
    {R"(User::"ghost" in Group::"all")", "false"},
    {R"(User::"ghost" in User::"ghost")", "true"},
    {R"(resource in Folder::"f")", "true"},
    {R"(action in Action::"read")", "true"},
    {R"(1 in Group::"all")", "error: type error"},
    {R"(principal in 1)", "error: type error"},
    {R"(principal in [Group::"all", 1])", "error: type error"},
    // `is`.
    {"principal is User", "true"},
    {"principal is Group", "false"},
    {R"(principal is User in Group::"all")", "true"},
    {R"(principal is Group in Group::"all")", "false"},
    {R"(principal is Group in 1)", "false"},
    {"1 is User", "error: type error"},
    // `like`.
    {R"("hello" like "h*o")", "true"},
    {R"("hello" like "h*l")", "false"},
    {R"("hello" like "*")", "true"},
    {R"("" like "*")", "true"},
    {R"("a*b" like "a\*b")", "true"},
    {R"("axb" like "a\*b")", "false"},
    {R"("abcabd" like "*abd")", "true"},
    {R"("héllo wörld" like "h*w*d")", "true"},
    {R"(1 like "1")", "error: type error: expected string, got long"},
    // Sets.
    {"[1, 2, 3].contains(2)", "true"},
    {"context.nums.contains(4)", "false"},
    {"[1, 2, 3].containsAll([1, 3])", "true"},
    {"[1, 2].containsAll([1, 3])", "false"},
    {"[1, 2].containsAny([3, 2])", "true"},
    {"[1, 2].containsAny([])", "false"},
    {"[].isEmpty()", "true"},
    {"[1].isEmpty()", "false"},
    {"1.contains(1)", "error: type error: expected set, got long"},
    {"[1].containsAll(1)", "error: type error: expected set, got long"},
    {"{a: 1}.isEmpty()", "error: type error: expected set, got record"},
    {R"(principal.roles.contains("admin"))", "true"},
    {R"([principal.missing, 1].contains(1))", "error: does not have the attribute"},
    // Tags.
    {R"(principal.hasTag("level"))", "true"},
    {R"(principal.hasTag("nope"))", "false"},
    {R"(User::"ghost".hasTag("level"))", "false"},
    {R"(principal.getTag("level"))", "3"},
    {R"(principal.getTag("nope"))", "error: does not have the tag `nope`"},
    {R"(User::"ghost".getTag("level"))", "error: does not exist"},
    {"principal.getTag(1)", "error: type error: expected string, got long"},
    {R"(context.getTag("x"))", "error: type error"},
    // Extension functions and methods.
    {R"(ip("10.0.0.1").isIpv4())", "true"},
    {R"(ip("::1").isLoopback())", "true"},
    {R"(ip("224.0.0.1").isMulticast())", "true"},
    {R"(principal.ip.isInRange(ip("10.0.0.0/8")))", "true"},
    {R"(ip("1.2.3"))", "error: invalid IP address"},
    {R"(ip("1.2.3.4").isInRange(1))", "error: type error"},
    {R"(decimal("1.5").lessThan(decimal("2.0")))", "true"},
    {R"(context.amount.greaterThanOrEqual(decimal("12.5")))", "true"},
    {R"(decimal("1.0").lessThan(duration("1h")))", "error: type error"},
    {R"(decimal("1.23456"))", "error: decimal"},
    {R"(datetime("2024-10-15").offset(duration("1d")) == datetime("2024-10-16"))", "true"},
    {R"(context.t.toDate() == datetime("2024-10-15"))", "true"},
    {R"(context.t.toTime() == duration("11h38m2s"))", "true"},
    {R"(context.t.durationSince(datetime("2024-10-15")) == duration("11h38m2s"))", "true"},
    {R"(context.d.toMinutes())", "90"},
    {R"(duration("2d").toHours())", "48"},
    {R"(datetime("2024-13-01"))", "error: datetime"},
    // Records and sets built at run time.
    {"{a: context.n, b: [context.s]}.b.contains(\"hello\")", "true"},
    {"[context.n, 5, context.n]", "[5]"},
};

class EvaluatorTest : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    Result<Entities> ents = ParseEntitiesJson(kEntities);
    ASSERT_TRUE(ents.ok()) << ents.status().ToString();
    entities_ = new Entities(*ents);
    Result<Record> ctx = ParseContextJson(kContext);
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    request_ = new Request{EntityUid(EntityType("User"), "alice"),
                           EntityUid(EntityType("Action"), "view"),
                           EntityUid(EntityType("Doc"), "d"), *ctx};
  }
  static void TearDownTestSuite() {
    delete entities_;
    delete request_;
    entities_ = nullptr;
    request_ = nullptr;
  }
  static const Entities* entities_;
  static const Request* request_;
};

const Entities* EvaluatorTest::entities_ = nullptr;
const Request* EvaluatorTest::request_ = nullptr;

TEST_P(EvaluatorTest, Evaluates) {
  const Case& c = GetParam();
  Result<ExprPtr> expr = ParseExpression(c.expr);
  ASSERT_TRUE(expr.ok()) << c.expr << ": " << expr.status().ToString();
  Result<Value> got = EvaluateExpression(**expr, *request_, *entities_);
  std::string_view want = c.want;
  if (want.starts_with("error: ")) {
    ASSERT_FALSE(got.ok()) << c.expr << " gave " << got->ToString();
    EXPECT_NE(got.status().message().find(want.substr(7)), std::string::npos)
        << c.expr << ": " << got.status().message();
  } else {
    ASSERT_TRUE(got.ok()) << c.expr << ": " << got.status().ToString();
    EXPECT_EQ(got->ToString(), want) << c.expr;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, EvaluatorTest, ::testing::ValuesIn(kCases));

// `like` against a plain reference matcher, over every pattern of up to five
// elements drawn from `a`, `b`, `ab` and `*` (which covers the shapes matched
// directly, such as "a*", "*a", "*a*" and "a*b", and the general ones) and
// every text of up to five letters.
bool ReferenceLike(std::string_view text, std::string_view pattern) {
  if (pattern.empty()) return text.empty();
  if (pattern[0] == '*') {
    for (size_t i = 0; i <= text.size(); ++i) {
      if (ReferenceLike(text.substr(i), pattern.substr(1))) return true;
    }
    return false;
  }
  return !text.empty() && text[0] == pattern[0] && ReferenceLike(text.substr(1), pattern.substr(1));
}

TEST(EvaluatorLike, AgreesWithAReferenceMatcher) {
  const std::vector<std::string> parts = {"a", "b", "ab", "*"};
  std::vector<std::string> patterns = {""};
  for (size_t len = 0, begin = 0; len < 5; ++len) {
    size_t end = patterns.size();
    for (size_t i = begin; i < end; ++i) {
      for (const std::string& p : parts) patterns.push_back(patterns[i] + p);
    }
    begin = end;
  }
  std::vector<std::string> texts = {""};
  for (size_t i = 0; texts[i].size() < 5; ++i) {
    texts.push_back(texts[i] + "a");
    texts.push_back(texts[i] + "b");
  }
  Entities none;
  Request request;
  size_t checked = 0;
  for (const std::string& pattern : patterns) {
    for (const std::string& text : texts) {
      std::string source = "\"" + text + "\" like \"" + pattern + "\"";
      Result<ExprPtr> expr = ParseExpression(source);
      ASSERT_TRUE(expr.ok()) << source;
      Result<Value> got = EvaluateExpression(**expr, request, none);
      ASSERT_TRUE(got.ok()) << source;
      ASSERT_EQ(got->AsBool(), ReferenceLike(text, pattern)) << source;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10000u);
}

TEST(EvaluatorPolicy, ScopeAndConditions) {
  Result<Entities> ents = ParseEntitiesJson(kEntities);
  ASSERT_TRUE(ents.ok()) << ents.status().ToString();
  Request req{EntityUid(EntityType("User"), "alice"), EntityUid(EntityType("Action"), "view"),
              EntityUid(EntityType("Doc"), "d"), Record()};
  struct PolicyCase {
    const char* text;
    const char* want;  // "true", "false" or "error"
  };
  const PolicyCase cases[] = {
      {R"(permit(principal, action, resource);)", "true"},
      {R"(permit(principal == User::"alice", action, resource);)", "true"},
      {R"(permit(principal == User::"bob", action, resource);)", "false"},
      {R"(permit(principal in Group::"all", action, resource);)", "true"},
      {R"(permit(principal is User, action, resource);)", "true"},
      {R"(permit(principal is Group, action, resource);)", "false"},
      {R"(permit(principal is User in Group::"eng", action, resource);)", "true"},
      {R"(permit(principal is User in Group::"nope", action, resource);)", "false"},
      {R"(permit(principal, action == Action::"view", resource);)", "true"},
      {R"(permit(principal, action in Action::"read", resource);)", "true"},
      {R"(permit(principal, action in [Action::"x", Action::"read"], resource);)", "true"},
      {R"(permit(principal, action in [], resource);)", "false"},
      {R"(permit(principal, action, resource in Folder::"f");)", "true"},
      {R"(permit(principal, action, resource == Doc::"e");)", "false"},
      {R"(permit(principal, action, resource) when { resource.owner == principal };)", "true"},
      {R"(permit(principal, action, resource) unless { resource.public };)", "true"},
      {R"(permit(principal, action, resource) when { true } unless { false } when { 1 };)",
       "error"},
      {R"(permit(principal, action, resource) when { false } when { 1 };)", "false"},
      {R"(permit(principal, action, resource) unless { 1 };)", "error"},
      // The scope is checked first: a non-matching scope never errors.
      {R"(permit(principal == User::"bob", action, resource) when { 1 };)", "false"},
  };
  for (const PolicyCase& c : cases) {
    Result<Policy> p = ParsePolicy(c.text);
    ASSERT_TRUE(p.ok()) << c.text << ": " << p.status().ToString();
    Result<bool> got = EvaluatePolicy(*p, req, *ents);
    std::string got_text = !got.ok() ? "error" : *got ? "true" : "false";
    EXPECT_EQ(got_text, c.want) << c.text << (got.ok() ? "" : ": " + got.status().message());
  }
}

TEST(EvaluatorPolicy, UnlinkedTemplateIsAnError) {
  Result<Policy> p = ParsePolicy(R"(permit(principal == ?principal, action, resource);)");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Request req{EntityUid(EntityType("User"), "alice"), EntityUid(EntityType("Action"), "view"),
              EntityUid(EntityType("Doc"), "d"), Record()};
  EXPECT_FALSE(EvaluatePolicy(*p, req, Entities()).ok());
}

}  // namespace
}  // namespace warden::cedar
