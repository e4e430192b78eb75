// PolicySet: the scope index returns exactly what a scan of every policy would
// (checked on random policy sets, hierarchies and requests), the content hash is
// stable under layout changes, and malformed sets are rejected.

#include "warden/cedar/policy_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "warden/cedar/authorizer.h"
#include "warden/cedar/evaluator.h"
#include "warden/cedar/parser.h"

namespace warden::cedar {
namespace {

EntityUid Uid(std::string_view type, std::string_view id) {
  return EntityUid(EntityType(type), id);
}

std::string Lit(std::string_view type, std::string_view id) {
  return std::string(type) + "::\"" + std::string(id) + "\"";
}

// A random world: users in a group DAG, actions in action groups, documents in
// folders; `level` is missing on some users so some conditions error.
struct World {
  Entities entities;
  std::vector<EntityUid> principals;
  std::vector<EntityUid> actions;
  std::vector<EntityUid> resources;
};

World MakeWorld(std::mt19937& rng) {
  std::vector<Entity> list;
  World w;
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  for (int g = 0; g < 6; ++g) {
    Entity e{Uid("Group", "g" + std::to_string(g)), Record(), {}, Record()};
    if (g > 0 && pick(3) != 0) e.parents.push_back(Uid("Group", "g" + std::to_string(pick(g))));
    list.push_back(e);
    w.principals.push_back(e.uid);
  }
  for (int u = 0; u < 12; ++u) {
    std::vector<Record::Entry> attrs;
    if (pick(4) != 0) attrs.emplace_back("level", Value::Long(pick(10)));
    Entity e{Uid("User", "u" + std::to_string(u)), Record::FromUniqueEntries(attrs), {}, Record()};
    for (int k = pick(3); k > 0; --k) e.parents.push_back(Uid("Group", "g" + std::to_string(pick(6))));
    std::sort(e.parents.begin(), e.parents.end());
    e.parents.erase(std::unique(e.parents.begin(), e.parents.end()), e.parents.end());
    list.push_back(e);
    w.principals.push_back(e.uid);
  }
  w.principals.push_back(Uid("User", "stranger"));  // not in the store
  for (int a = 0; a < 2; ++a) list.push_back(Entity{Uid("Action", "ag" + std::to_string(a)), Record(), {}, Record()});
  for (int a = 0; a < 5; ++a) {
    Entity e{Uid("Action", "a" + std::to_string(a)), Record(), {}, Record()};
    if (pick(2) != 0) e.parents.push_back(Uid("Action", "ag" + std::to_string(pick(2))));
    list.push_back(e);
    w.actions.push_back(e.uid);
  }
  for (int f = 0; f < 3; ++f) list.push_back(Entity{Uid("Folder", "f" + std::to_string(f)), Record(), {}, Record()});
  for (int r = 0; r < 8; ++r) {
    Entity e{Uid("Doc", "r" + std::to_string(r)), Record(), {}, Record()};
    if (pick(3) != 0) e.parents.push_back(Uid("Folder", "f" + std::to_string(pick(3))));
    list.push_back(e);
    w.resources.push_back(e.uid);
  }
  Result<Entities> ents = Entities::Create(std::move(list));
  EXPECT_TRUE(ents.ok()) << ents.status().ToString();
  w.entities = *ents;
  return w;
}

std::string RandomPolicy(std::mt19937& rng) {
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto user = [&] { return Lit("User", "u" + std::to_string(pick(13))); };
  auto group = [&] { return Lit("Group", "g" + std::to_string(pick(6))); };
  std::string p;
  switch (pick(7)) {
    case 0: p = "principal"; break;
    case 1: p = "principal == " + user(); break;
    case 2: p = "principal in " + group(); break;
    case 3: p = "principal is User"; break;
    case 4: p = "principal is User in " + group(); break;
    case 5: p = "principal == " + group(); break;
    default: p = "principal in " + user(); break;
  }
  std::string a;
  switch (pick(5)) {
    case 0: a = "action"; break;
    case 1: a = "action == " + Lit("Action", "a" + std::to_string(pick(5))); break;
    case 2: a = "action in " + Lit("Action", "ag" + std::to_string(pick(2))); break;
    case 3: {
      a = "action in [";
      for (int k = pick(4); k > 0; --k) {
        a += Lit("Action", (pick(2) != 0 ? "a" : "ag") + std::to_string(pick(2)));
        if (k > 1) a += ", ";
      }
      a += "]";
      break;
    }
    default: a = "action in " + Lit("Action", "a" + std::to_string(pick(5))); break;
  }
  std::string r;
  switch (pick(5)) {
    case 0: r = "resource"; break;
    case 1: r = "resource == " + Lit("Doc", "r" + std::to_string(pick(8))); break;
    case 2: r = "resource in " + Lit("Folder", "f" + std::to_string(pick(3))); break;
    case 3: r = "resource is Doc"; break;
    default: r = "resource is Folder in " + Lit("Folder", "f" + std::to_string(pick(3))); break;
  }
  std::string cond;
  switch (pick(4)) {
    case 0: cond = " when { principal.level > " + std::to_string(pick(10)) + " }"; break;
    case 1: cond = " unless { context.flag }"; break;
    case 2: cond = " when { context.n < " + std::to_string(pick(10)) + " }"; break;
    default: break;
  }
  return std::string(pick(4) == 0 ? "forbid" : "permit") + "(" + p + ", " + a + ", " + r + ")" +
         cond + ";\n";
}

// The answer of evaluating every policy, without the index.
Response BruteForce(const PolicySet& set, const Request& req, const Entities& ents) {
  Response r;
  std::vector<std::string> permits;
  std::vector<std::string> forbids;
  for (const Policy& p : set.policies()) {
    Result<bool> v = EvaluatePolicy(p, req, ents);
    if (!v.ok()) {
      r.diagnostics.errors.push_back({p.id, v.status().message()});
    } else if (*v) {
      (p.effect == Effect::kForbid ? forbids : permits).push_back(p.id);
    }
  }
  r.decision = forbids.empty() && !permits.empty() ? Decision::kAllow : Decision::kDeny;
  r.diagnostics.reasons = !forbids.empty() ? forbids : r.decision == Decision::kAllow ? permits
                                                                                        : std::vector<std::string>{};
  return r;
}

TEST(PolicySetIndex, MatchesBruteForceOnRandomSets) {
  std::mt19937 rng(20240517);
  size_t decisions = 0;
  for (int round = 0; round < 12; ++round) {
    World w = MakeWorld(rng);
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 150);
    for (int i = 0; i < n; ++i) text += RandomPolicy(rng);
    Result<std::shared_ptr<const PolicySet>> set = PolicySet::FromText(text);
    ASSERT_TRUE(set.ok()) << set.status().ToString() << "\n" << text;
    for (int q = 0; q < 150; ++q) {
      std::vector<Record::Entry> ctx;
      if (rng() % 3 != 0) ctx.emplace_back("flag", Value::Bool(rng() % 2 == 0));
      if (rng() % 3 != 0) ctx.emplace_back("n", Value::Long(static_cast<int64_t>(rng() % 10)));
      Request req{w.principals[rng() % w.principals.size()], w.actions[rng() % w.actions.size()],
                  w.resources[rng() % w.resources.size()], Record::FromUniqueEntries(ctx)};
      Response want = BruteForce(**set, req, w.entities);
      Response got = IsAuthorized(**set, req, w.entities);
      ASSERT_EQ(got.decision, want.decision) << "round " << round << " request " << q;
      ASSERT_EQ(got.diagnostics.reasons, want.diagnostics.reasons) << "round " << round;
      ASSERT_EQ(got.diagnostics.errors.size(), want.diagnostics.errors.size()) << "round " << round;
      for (size_t i = 0; i < got.diagnostics.errors.size(); ++i) {
        EXPECT_EQ(got.diagnostics.errors[i].policy_id, want.diagnostics.errors[i].policy_id);
        EXPECT_EQ(got.diagnostics.errors[i].message, want.diagnostics.errors[i].message);
      }
      // Candidates are ascending, unique and never miss a policy that matched.
      std::vector<uint32_t> cand;
      (*set)->Candidates(req, w.entities, &cand);
      EXPECT_TRUE(std::is_sorted(cand.begin(), cand.end()));
      EXPECT_EQ(std::adjacent_find(cand.begin(), cand.end()), cand.end());
      ++decisions;
    }
  }
  EXPECT_EQ(decisions, 12u * 150u);
}

TEST(PolicySetIndex, CandidatesAreSelective) {
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += "permit(principal == User::\"u" + std::to_string(i) + "\", action, resource);\n";
  }
  text += "permit(principal, action == Action::\"view\", resource);\n";
  Result<std::shared_ptr<const PolicySet>> set = PolicySet::FromText(text);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  std::vector<uint32_t> cand;
  (*set)->Candidates(Request{Uid("User", "u7"), Uid("Action", "view"), Uid("Doc", "d"), Record()},
                     Entities(), &cand);
  EXPECT_EQ(cand, (std::vector<uint32_t>{7, 1000}));
}

TEST(PolicySetHash, StableUnderLayoutAndSensitiveToContent) {
  auto hash = [](std::string_view text) {
    Result<std::shared_ptr<const PolicySet>> s = PolicySet::FromText(text);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? (*s)->content_hash() : std::string();
  };
  std::string a = hash("permit(principal, action, resource) when { context.x == 1 };");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a, hash("// comment\npermit(\n  principal,\n  action,\n  resource\n)\nwhen {\n"
                    "  context.x == 1\n};\n"));
  EXPECT_NE(a, hash("permit(principal, action, resource) when { context.x == 2 };"));
  EXPECT_NE(a, hash("forbid(principal, action, resource) when { context.x == 1 };"));
  EXPECT_NE(a, hash("@a(\"b\") permit(principal, action, resource) when { context.x == 1 };"));

  const char* tmpl = "permit(principal == ?principal, action, resource);";
  auto linked = [&](std::string_view id) {
    Result<std::shared_ptr<const PolicySet>> s =
        PolicySet::FromText(tmpl, {{"l", "policy0", EntityUidLit{"User", std::string(id), {}}, {}}});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? (*s)->content_hash() : std::string();
  };
  EXPECT_EQ(linked("a"), linked("a"));
  EXPECT_NE(linked("a"), linked("b"));
}

TEST(PolicySetCreate, RejectsDuplicateIdsAndFindsPolicies) {
  Result<PolicySetAst> ast = ParsePolicies("permit(principal, action, resource);\n"
                                           "forbid(principal, action, resource);");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  ast->policies[1].id = "policy0";
  EXPECT_FALSE(PolicySet::Create(std::move(*ast)).ok());

  Result<std::shared_ptr<const PolicySet>> set = PolicySet::FromText(
      "permit(principal, action, resource);\npermit(principal == ?principal, action, resource);");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ((*set)->size(), 1u);
  EXPECT_EQ((*set)->templates().size(), 1u);
  ASSERT_NE((*set)->Find("policy1"), nullptr);
  EXPECT_TRUE((*set)->Find("policy1")->IsTemplate());
  EXPECT_EQ((*set)->Find("policy9"), nullptr);
  EXPECT_FALSE(PolicySet::FromText("permit(principal, action, resource)").ok());
}

}  // namespace
}  // namespace warden::cedar
