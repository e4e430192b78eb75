// Tests of the Cedar printer: exact layout of formatted policies, minimal
// parentheses in expressions, escapes, and the round trip text -> AST -> text ->
// AST giving equal trees.
#include "warden/cedar/formatter.h"

#include <gtest/gtest.h>

#include <string>

#include "warden/cedar/parser.h"

namespace warden::cedar {
namespace {

void ExpectRoundTrip(const std::string& text) {
  auto first = ParsePolicies(text);
  ASSERT_TRUE(first.ok()) << text << ": " << first.status().message();
  const std::string formatted = FormatPolicies(*first);
  auto second = ParsePolicies(formatted);
  ASSERT_TRUE(second.ok()) << formatted << ": " << second.status().message();
  ASSERT_EQ(first->policies.size(), second->policies.size());
  for (size_t i = 0; i < first->policies.size(); ++i) {
    EXPECT_TRUE(Equal(first->policies[i], second->policies[i])) << text << "\n=>\n" << formatted;
  }
  // Formatting is idempotent.
  EXPECT_EQ(FormatPolicies(*second), formatted);
}

TEST(FormatterTest, ConventionalLayout) {
  auto out = FormatPolicyText(
      "@id(\"a\")\n@b permit(principal, action in [Action::\"a\",Action::\"b\"], resource) "
      "when { principal.x && resource has y.z } unless {false};"
      "forbid(principal is User in Group::\"g\", action, resource);");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out,
            "@id(\"a\")\n"
            "@b\n"
            "permit (\n"
            "  principal,\n"
            "  action in [Action::\"a\", Action::\"b\"],\n"
            "  resource\n"
            ")\n"
            "when { principal.x && resource has y.z }\n"
            "unless { false };\n"
            "\n"
            "forbid (\n"
            "  principal is User in Group::\"g\",\n"
            "  action,\n"
            "  resource\n"
            ");\n");
}

TEST(FormatterTest, ScopeForms) {
  auto out = FormatPolicyText(
      "permit(principal == ?principal, action == Action::\"r\", resource is Doc);"
      "permit(principal is A::B, action, resource in ?resource);");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_NE(out->find("  principal == ?principal,\n  action == Action::\"r\",\n  resource is Doc\n"),
            std::string::npos)
      << *out;
  EXPECT_NE(out->find("  principal is A::B,\n  action,\n  resource in ?resource\n"),
            std::string::npos)
      << *out;
}

struct PrintCase {
  const char* in;
  const char* out;
};

const PrintCase kPrintCases[] = {
    {"(1 + 2) * 3", "(1 + 2) * 3"},
    {"1 + (2 * 3)", "1 + 2 * 3"},
    {"1 - (2 - 3)", "1 - (2 - 3)"},
    {"(1 - 2) - 3", "1 - 2 - 3"},
    {"(true || false) && true", "(true || false) && true"},
    {"true || (false && true)", "true || false && true"},
    {"(1 < 2) == true", "(1 < 2) == true"},
    {"!(1 < 2)", "!(1 < 2)"},
    {"!!true", "!(!true)"},
    {"-(5)", "-(5)"},
    {"--5", "-(-5)"},
    {"-9223372036854775808", "-9223372036854775808"},
    {"(-5).foo", "(-5).foo"},
    {"-principal.x", "-principal.x"},
    {"(if true then 1 else 2) + 1", "(if true then 1 else 2) + 1"},
    {"if true then 1 else 2 || 3", "if true then 1 else 2 || 3"},
    {"[if true then 1 else 2]", "[if true then 1 else 2]"},
    {"principal[\"a b\"]", "principal[\"a b\"]"},
    {"principal[\"ab\"]", "principal[\"ab\"]"},
    {"principal.ab", "principal.ab"},
    {"principal has \"a b\"", "principal has \"a b\""},
    {"principal has \"if\"", "principal has \"if\""},
    {"principal has a.b.c", "principal has a.b.c"},
    {"{\"a b\": 1, c: 2, \"then\": 3}", "{\"a b\": 1, c: 2, \"then\": 3}"},
    {"context.s like \"a*\\*\\\"\\n\"", "context.s like \"a*\\*\\\"\\n\""},
    {"\"tab\\t\\u{1}\\0\"", "\"tab\\t\\u{1}\\0\""},
    {"(principal is User) == true", "(principal is User) == true"},
    {"principal is User in (Group::\"a\")", "principal is User in Group::\"a\""},
    {"(principal has a) && (principal like \"x\")", "principal has a && principal like \"x\""},
    {"(1 + 2).foo", "(1 + 2).foo"},
    {"[1, 2].contains(3)", "[1, 2].contains(3)"},
    {"ip(\"1.2.3.4\").isIpv4()", "ip(\"1.2.3.4\").isIpv4()"},
    {"decimal(\"1\", \"2\")", "decimal(\"1\", \"2\")"},
    {"Ns::User::\"a\\\"b\"", "Ns::User::\"a\\\"b\""},
    {"principal in [A::\"x\"]", "principal in [A::\"x\"]"},
    {"(principal in A::\"x\") in B::\"y\"", "(principal in A::\"x\") in B::\"y\""},
    {"1 * (2 * 3)", "1 * (2 * 3)"},
    {"-(1 + 2)", "-(1 + 2)"},
};

TEST(FormatterTest, ExpressionsUseMinimalParentheses) {
  for (const auto& c : kPrintCases) {
    auto e = ParseExpression(c.in);
    ASSERT_TRUE(e.ok()) << c.in << ": " << e.status().message();
    EXPECT_EQ(ExprToString(**e), c.out) << c.in;
    auto again = ParseExpression(ExprToString(**e));
    ASSERT_TRUE(again.ok()) << ExprToString(**e);
    EXPECT_TRUE(Equal(**e, **again)) << c.in;
  }
}

TEST(FormatterTest, SynthesizedTreesPrintUnambiguously) {
  // Neg applied directly to a literal cannot come from source text but may be
  // built by other code; it must not print as a folded literal.
  auto lit = std::make_unique<Expr>();
  lit->kind = ExprKind::kLong;
  lit->long_value = 5;
  Expr neg;
  neg.kind = ExprKind::kNeg;
  neg.operands.push_back(std::move(lit));
  EXPECT_EQ(ExprToString(neg), "-(5)");
  Expr attr;
  attr.kind = ExprKind::kGetAttr;
  attr.string_value = "has";
  attr.operands.push_back(std::make_unique<Expr>());
  attr.operands[0]->kind = ExprKind::kVar;
  attr.operands[0]->var = Var::kContext;
  EXPECT_EQ(ExprToString(attr), "context[\"has\"]");
}

TEST(FormatterTest, RoundTrips) {
  const char* kTexts[] = {
      "permit(principal, action, resource);",
      "@id(\"x\") @y forbid(principal == User::\"a\", action in [Action::\"b\"], resource in "
      "F::\"c\") when { context.a.b.c == [1, -2, {k: \"v\"}] } unless { principal has x.y };",
      "permit(principal in ?principal, action, resource is D in ?resource) when { "
      "if principal.a then resource.b else !context.c };",
      "permit(principal, action, resource) when { principal.tags.hasTag(\"t\") && "
      "principal.getTag(\"t\") like \"a*\\*b\" && ip(\"::1\").isLoopback() && "
      "datetime(\"2024-10-15\").offset(duration(\"-1d\")) < datetime(\"2024-10-15\") && "
      "decimal(\"1.23\").greaterThanOrEqual(decimal(\"0.5\")) && --(-3) * 2 - 4 > 0 && "
      "(principal is A::B::C in [G::\"1\", G::\"2\"]) };",
      "permit(principal, action, resource) when { \"\\u{1F600}\\n\\\\\" == context[\"\\\"\"] };",
  };
  for (const char* text : kTexts) ExpectRoundTrip(text);
}

TEST(FormatterTest, FormatPolicyTextReportsErrors) {
  auto out = FormatPolicyText("permit(principal, action, resource) when { a };", "x.cedar");
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("x.cedar:1:44:"), std::string::npos);
}

TEST(FormatterTest, EmptyPolicySet) { EXPECT_EQ(FormatPolicies(PolicySetAst{}), ""); }

}  // namespace
}  // namespace warden::cedar
