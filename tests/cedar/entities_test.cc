#include "warden/cedar/entities.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warden::cedar {
namespace {

EntityUid U(const char* type, const std::string& id) { return EntityUid(EntityType(type), id); }

Entity E(EntityUid uid, std::vector<EntityUid> parents = {}, Record attrs = {}) {
  Entity e;
  e.uid = std::move(uid);
  e.parents = std::move(parents);
  e.attrs = std::move(attrs);
  return e;
}

TEST(EntitiesTest, EmptyStore) {
  Entities store;
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.Find(U("User", "a")), nullptr);
  EXPECT_EQ(store.Ancestors(U("User", "a")).size(), 0u);
  EXPECT_TRUE(store.In(U("User", "a"), U("User", "a")));
  EXPECT_FALSE(store.In(U("User", "a"), U("Group", "a")));
}

TEST(EntitiesTest, TransitiveClosure) {
  // alice -> eng -> all; bob -> sales -> all; eng -> staff (staff not in the store).
  auto r = Entities::Create({
      E(U("User", "alice"), {U("Group", "eng")}),
      E(U("User", "bob"), {U("Group", "sales")}),
      E(U("Group", "eng"), {U("Group", "all"), U("Group", "staff")}),
      E(U("Group", "sales"), {U("Group", "all")}),
      E(U("Group", "all")),
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Entities& s = *r;
  EXPECT_EQ(s.size(), 5u);
  struct Case {
    EntityUid a;
    EntityUid b;
    bool in;
  };
  const Case cases[] = {
      {U("User", "alice"), U("User", "alice"), true},
      {U("User", "alice"), U("Group", "eng"), true},
      {U("User", "alice"), U("Group", "all"), true},
      {U("User", "alice"), U("Group", "staff"), true},  // parent outside the store still counts
      {U("User", "alice"), U("Group", "sales"), false},
      {U("User", "bob"), U("Group", "all"), true},
      {U("User", "bob"), U("Group", "eng"), false},
      {U("Group", "all"), U("User", "alice"), false},
      {U("Group", "staff"), U("Group", "staff"), true},  // unknown entity: only itself
      {U("Group", "staff"), U("Group", "all"), false},
      {U("User", "nobody"), U("Group", "all"), false},
      {U("Team", "eng"), U("Group", "all"), false},  // same id, other type
  };
  for (const Case& c : cases) {
    EXPECT_EQ(s.In(c.a, c.b), c.in) << c.a.ToString() << " in " << c.b.ToString();
  }
  const AncestorSet& anc = s.Ancestors(U("User", "alice"));
  ASSERT_EQ(anc.size(), 3u);
  std::vector<std::string> names;
  for (const EntityUid& u : anc.ancestors()) names.push_back(u.ToString());
  EXPECT_EQ(names,
            (std::vector<std::string>{"Group::\"all\"", "Group::\"eng\"", "Group::\"staff\""}));
  const Entity* eng = s.Find(U("Group", "eng"));
  ASSERT_NE(eng, nullptr);
  EXPECT_EQ(eng->parents.size(), 2u);
}

TEST(EntitiesTest, LongChainAndWideSetsUseNoRecursion) {
  // A 20,000-long parent chain would overflow a recursive walk (the walk goes
  // all the way up before computing any closure).
  constexpr int kChain = 20000;
  std::vector<Entity> list;
  for (int i = 0; i < kChain; ++i) {
    std::vector<EntityUid> parents;
    if (i + 1 < kChain) parents.push_back(U("N", std::to_string(i + 1)));
    list.push_back(E(U("N", std::to_string(i)), parents));
  }
  // The full closure of a 20,000 chain is 2*10^8 entries: refused by the bound
  // (a small explicit bound keeps the test fast; the default is 8M entries).
  auto too_big = Entities::Create(list, 100000);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  // With a generous bound it works, and deep membership is a lookup.
  std::vector<Entity> short_list(list.end() - 400, list.end());
  auto r = Entities::Create(short_list);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->In(U("N", std::to_string(kChain - 400)), U("N", std::to_string(kChain - 1))));
  EXPECT_FALSE(r->In(U("N", std::to_string(kChain - 1)), U("N", std::to_string(kChain - 400))));
  EXPECT_EQ(r->Ancestors(U("N", std::to_string(kChain - 400))).size(), 399u);
  // Parent-first order in the input does not matter either.
  std::vector<Entity> reversed(short_list.rbegin(), short_list.rend());
  auto r2 = Entities::Create(reversed);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->Ancestors(U("N", std::to_string(kChain - 400))).size(), 399u);
}

TEST(EntitiesTest, CyclesAreRejected) {
  auto self = Entities::Create({E(U("U", "a"), {U("U", "a")})});
  ASSERT_FALSE(self.ok());
  EXPECT_EQ(self.status().message(), "input graph has a cycle containing vertex `U::\"a\"`");

  auto two = Entities::Create({E(U("U", "a"), {U("G", "g")}), E(U("G", "g"), {U("U", "a")})});
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("input graph has a cycle"), std::string::npos);

  auto three = Entities::Create({E(U("A", "1"), {U("A", "2")}), E(U("A", "2"), {U("A", "3")}),
                                 E(U("A", "3"), {U("A", "1")}), E(U("A", "0"), {U("A", "1")})});
  EXPECT_FALSE(three.ok());

  // A diamond is not a cycle.
  auto diamond = Entities::Create({E(U("A", "top")), E(U("A", "l"), {U("A", "top")}),
                                   E(U("A", "r"), {U("A", "top")}),
                                   E(U("A", "bottom"), {U("A", "l"), U("A", "r")})});
  ASSERT_TRUE(diamond.ok());
  EXPECT_EQ(diamond->Ancestors(U("A", "bottom")).size(), 3u);
}

TEST(EntitiesTest, Duplicates) {
  Record attrs = Record::FromUniqueEntries({{"x", Value::Long(1)}});
  Record other = Record::FromUniqueEntries({{"x", Value::Long(2)}});
  auto same = Entities::Create(
      {E(U("U", "a"), {U("G", "g")}, attrs), E(U("U", "a"), {U("G", "g")}, attrs)});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->size(), 1u);
  auto diff = Entities::Create({E(U("U", "a"), {}, attrs), E(U("U", "a"), {}, other)});
  ASSERT_FALSE(diff.ok());
  EXPECT_EQ(diff.status().message(), "duplicate entity entry `U::\"a\"`");
  auto diff_parents = Entities::Create({E(U("U", "a"), {U("G", "g")}), E(U("U", "a"))});
  EXPECT_FALSE(diff_parents.ok());
  // Repeated parents within one entity are merged.
  auto rep = Entities::Create({E(U("U", "a"), {U("G", "g"), U("G", "g")})});
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->Find(U("U", "a"))->parents.size(), 1u);
}

TEST(EntitiesTest, LargeAncestorSetsUseTheHashIndex) {
  std::vector<EntityUid> parents;
  std::vector<Entity> list;
  for (int i = 0; i < 100; ++i) parents.push_back(U("G", std::to_string(i)));
  list.push_back(E(U("U", "wide"), parents));
  auto r = Entities::Create(list);
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(r->In(U("U", "wide"), U("G", std::to_string(i))));
  EXPECT_FALSE(r->In(U("U", "wide"), U("G", "100")));
  EXPECT_FALSE(r->In(U("U", "wide"), U("H", "1")));
}

TEST(EntitiesTest, CopiesShareTheStore) {
  auto r = Entities::Create({E(U("U", "a"))});
  ASSERT_TRUE(r.ok());
  Entities copy = *r;
  EXPECT_EQ(copy.Find(U("U", "a")), r->Find(U("U", "a")));
  EXPECT_EQ(copy.entities().size(), 1u);
}

}  // namespace
}  // namespace warden::cedar
