#include "warden/cedar/value.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "warden/cedar/extensions.h"

namespace warden::cedar {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

Value Uid(const char* type, const char* id) {
  return Value::Entity(EntityUid(EntityType(type), id));
}

Value SetOf(std::vector<Value> v) { return Value::FromSet(Set::FromValues(std::move(v))); }

Value RecordOf(std::vector<Record::Entry> entries) {
  auto r = Record::FromEntries(std::move(entries));
  EXPECT_TRUE(r.ok());
  return Value::FromRecord(r.ok() ? *r : Record());
}

TEST(EntityTypeTest, InternedNamesShareData) {
  EntityType a("A::B::Photo");
  EntityType b(std::string("A::B::") + "Photo");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(a.name().data(), b.name().data());  // one interned copy
  EXPECT_FALSE(a == EntityType("A::B::Video"));
  EXPECT_EQ(a.basename(), "Photo");
  EXPECT_EQ(a.namespace_name(), "A::B");
  EXPECT_EQ(EntityType("User").namespace_name(), "");
  EXPECT_EQ(EntityType("User").basename(), "User");
  EXPECT_EQ(EntityType().name(), "");
}

TEST(EntityTypeTest, ConcurrentInterningIsSafe) {
  std::vector<std::thread> threads;
  std::vector<const char*> data(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &data] { data[t] = EntityType("Concurrent::Type").name().data(); });
  }
  for (auto& th : threads) th.join();
  for (int t = 1; t < 8; ++t) EXPECT_EQ(data[t], data[0]);
}

TEST(EntityTypeTest, NameValidation) {
  for (const char* ok : {"User", "A::B", "_a1::B", "a", "A::B::C_d9", "Truex", "iff"}) {
    EXPECT_TRUE(IsValidEntityTypeName(ok)) << ok;
  }
  for (const char* bad :
       {"",      "A::",     "::A",        "A:::B",      "A :: B", " A",  "A ", "1A",   "A-B",
        "if",    "true",    "false",      "then",       "else",   "in",  "is", "like", "has",
        "A::in", "__cedar", "__cedar::X", "A::__cedar", "A::B::", "A:B", "Ä"}) {
    EXPECT_FALSE(IsValidEntityTypeName(bad)) << bad;
  }
  EXPECT_TRUE(IsIdentifierText("_"));
  EXPECT_FALSE(IsIdentifierText("a b"));
  EXPECT_TRUE(IsReservedIdentifier("__cedar"));
  EXPECT_FALSE(IsReservedIdentifier("principal"));
}

TEST(EntityUidTest, EqualityOrderingAndPrinting) {
  EntityUid a(EntityType("User"), "alice");
  EntityUid a2(EntityType("User"), "alice");
  EntityUid b(EntityType("User"), "bob");
  EntityUid g(EntityType("Group"), "alice");
  EXPECT_EQ(a, a2);
  EXPECT_EQ(a.hash(), a2.hash());
  EXPECT_FALSE(a == b);
  EXPECT_FALSE(a == g);
  EXPECT_LT(a, b);
  EXPECT_LT(g, a);  // type first
  EXPECT_EQ(a.ToString(), "User::\"alice\"");
  EXPECT_EQ(EntityUid(EntityType("A::B"), "q\"\\\n").ToString(), "A::B::\"q\\\"\\\\\\n\"");
  EXPECT_EQ(EntityUid(EntityType("T"), std::string("a\0b", 3)).ToString(), "T::\"a\\0b\"");
  EntityUid empty;
  EXPECT_EQ(empty, EntityUid());
  EXPECT_EQ(empty.id(), "");
  EXPECT_EQ(EntityUid(EntityType("T"), "").id(), "");
}

TEST(ValueTest, KindsAndNames) {
  struct Case {
    Value v;
    ValueKind kind;
    const char* name;
  };
  const Case cases[] = {
      {Value::Bool(true), ValueKind::kBool, "bool"},
      {Value::Long(3), ValueKind::kLong, "long"},
      {Value::String("s"), ValueKind::kString, "string"},
      {Uid("U", "a"), ValueKind::kEntity, "entity"},
      {SetOf({}), ValueKind::kSet, "set"},
      {RecordOf({}), ValueKind::kRecord, "record"},
      {Value::Ip(*IpFromString("1.2.3.4")), ValueKind::kIpAddr, "ipaddr"},
      {Value::FromDecimal(Decimal{1}), ValueKind::kDecimal, "decimal"},
      {Value::FromDatetime(Datetime{1}), ValueKind::kDatetime, "datetime"},
      {Value::FromDuration(Duration{1}), ValueKind::kDuration, "duration"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.v.kind(), c.kind);
    EXPECT_EQ(c.v.kind_name(), c.name);
    EXPECT_EQ(c.v.is_extension(), IsExtensionKind(c.kind));
  }
  EXPECT_EQ(Value().kind(), ValueKind::kBool);
  EXPECT_FALSE(Value().AsBool());
}

TEST(ValueTest, CedarEquality) {
  // Different kinds are never equal, even with "similar" contents.
  EXPECT_FALSE(Value::Long(1) == Value::Bool(true));
  EXPECT_FALSE(Value::Long(1) == Value::String("1"));
  EXPECT_FALSE(Value::FromDatetime(Datetime{5}) == Value::FromDuration(Duration{5}));
  EXPECT_FALSE(Value::FromDecimal(Decimal{10000}) == Value::Long(1));
  EXPECT_FALSE(Uid("U", "a") == Value::String("U::\"a\""));
  EXPECT_EQ(Value::String("abc"), Value::String(std::string("ab") + "c"));
  EXPECT_EQ(Value::Long(kMin), Value::Long(kMin));
  // Set equality ignores order and duplicates.
  EXPECT_EQ(SetOf({Value::Long(1), Value::Long(1), Value::Long(2)}),
            SetOf({Value::Long(2), Value::Long(1)}));
  EXPECT_FALSE(SetOf({Value::Long(1)}) == SetOf({Value::Long(1), Value::Long(2)}));
  EXPECT_EQ(SetOf({}), SetOf({}));
  // Nested sets of sets.
  EXPECT_EQ(SetOf({SetOf({Value::Long(1), Value::Long(2)}), SetOf({})}),
            SetOf({SetOf({}), SetOf({Value::Long(2), Value::Long(1)})}));
  // Records compare keys and values, not insertion order.
  EXPECT_EQ(RecordOf({{"a", Value::Long(1)}, {"b", Value::Bool(true)}}),
            RecordOf({{"b", Value::Bool(true)}, {"a", Value::Long(1)}}));
  EXPECT_FALSE(RecordOf({{"a", Value::Long(1)}}) == RecordOf({{"a", Value::Long(2)}}));
  EXPECT_FALSE(RecordOf({{"a", Value::Long(1)}}) == RecordOf({{"b", Value::Long(1)}}));
  EXPECT_FALSE(RecordOf({{"a", Value::Long(1)}}) ==
               RecordOf({{"a", Value::Long(1)}, {"b", Value::Long(1)}}));
  EXPECT_EQ(Value::Ip(*IpFromString("10.0.0.1")), Value::Ip(*IpFromString("10.0.0.1/32")));
  EXPECT_EQ(Value::FromDecimal(*DecimalFromString("1.0")),
            Value::FromDecimal(*DecimalFromString("1.0000")));
}

TEST(ValueTest, HashAgreesWithEquality) {
  std::vector<std::pair<Value, Value>> equal_pairs = {
      {Value::String("x"), Value::String("x")},
      {Uid("A::B", "x"), Uid("A::B", "x")},
      {SetOf({Value::Long(3), Value::Long(1)}),
       SetOf({Value::Long(1), Value::Long(3), Value::Long(1)})},
      {RecordOf({{"k", SetOf({Value::String("a")})}}),
       RecordOf({{"k", SetOf({Value::String("a")})}})},
      {Value::Ip(*IpFromString("::1")), Value::Ip(*IpFromString("0::1/128"))},
  };
  for (const auto& [a, b] : equal_pairs) {
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.hash(), b.hash()) << a.ToString();
    EXPECT_EQ(CompareValues(a, b), 0);
  }
  std::unordered_set<Value, ValueHash> set;
  set.insert(Value::Long(1));
  set.insert(Value::Long(1));
  set.insert(Value::String("1"));
  set.insert(Value::Bool(true));
  EXPECT_EQ(set.size(), 3u);
}

TEST(ValueTest, TotalOrderIsConsistent) {
  std::vector<Value> values = {Value::Bool(false),
                               Value::Bool(true),
                               Value::Long(kMin),
                               Value::Long(-1),
                               Value::Long(0),
                               Value::Long(kMax),
                               Value::String(""),
                               Value::String("a"),
                               Value::String("b"),
                               Uid("A", "z"),
                               Uid("B", "a"),
                               SetOf({}),
                               SetOf({Value::Long(1)}),
                               SetOf({Value::Long(1), Value::Long(2)}),
                               SetOf({Value::Long(2)}),
                               RecordOf({}),
                               RecordOf({{"a", Value::Long(1)}}),
                               Value::Ip(*IpFromString("1.2.3.4")),
                               Value::Ip(*IpFromString("::")),
                               Value::FromDecimal(Decimal{-1}),
                               Value::FromDatetime(Datetime{0}),
                               Value::FromDuration(Duration{0})};
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = 0; j < values.size(); ++j) {
      int c = CompareValues(values[i], values[j]);
      EXPECT_EQ(c < 0, i < j) << values[i].ToString() << " vs " << values[j].ToString();
      EXPECT_EQ(c == 0, values[i] == values[j]);
      EXPECT_EQ(c, -CompareValues(values[j], values[i]));
    }
  }
}

TEST(SetTest, MembershipSmallAndLarge) {
  for (int n : {0, 1, 5, 8, 9, 100}) {
    std::vector<Value> elems;
    for (int i = 0; i < n; ++i) elems.push_back(Value::Long(i * 2));
    elems.push_back(Value::String("s"));
    Set s = Set::FromValues(elems);
    EXPECT_EQ(s.size(), static_cast<size_t>(n) + 1);
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(s.Contains(Value::Long(i * 2)));
      EXPECT_FALSE(s.Contains(Value::Long(i * 2 + 1)));
    }
    EXPECT_TRUE(s.Contains(Value::String("s")));
    EXPECT_FALSE(s.Contains(Value::String("t")));
    EXPECT_FALSE(s.Contains(Value::Bool(false)));
  }
  Set empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_FALSE(empty.Contains(Value::Long(0)));
  EXPECT_EQ(empty.begin(), empty.end());
}

TEST(SetTest, ContainsAllAndAny) {
  Set abc = Set::FromValues({Value::String("a"), Value::String("b"), Value::String("c")});
  Set ab = Set::FromValues({Value::String("b"), Value::String("a")});
  Set cd = Set::FromValues({Value::String("c"), Value::String("d")});
  Set empty;
  EXPECT_TRUE(abc.ContainsAll(ab));
  EXPECT_FALSE(ab.ContainsAll(abc));
  EXPECT_TRUE(abc.ContainsAll(empty));
  EXPECT_TRUE(empty.ContainsAll(empty));
  EXPECT_TRUE(abc.ContainsAny(cd));
  EXPECT_TRUE(cd.ContainsAny(abc));
  EXPECT_FALSE(ab.ContainsAny(cd));
  EXPECT_FALSE(abc.ContainsAny(empty));
  EXPECT_FALSE(empty.ContainsAny(empty));
}

TEST(RecordTest, FindAndDuplicates) {
  std::vector<Record::Entry> entries;
  for (int i = 0; i < 20; ++i) entries.emplace_back("k" + std::to_string(i), Value::Long(i));
  auto r = Record::FromEntries(entries);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 20u);
  for (int i = 0; i < 20; ++i) {
    const Value* v = r->Find("k" + std::to_string(i));
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, Value::Long(i));
  }
  EXPECT_EQ(r->Find("k20"), nullptr);
  EXPECT_EQ(r->Find(""), nullptr);
  // Keys are sorted by bytes.
  EXPECT_EQ(r->entries().front().first, "k0");
  EXPECT_EQ(r->entries()[1].first, "k1");
  EXPECT_EQ(r->entries()[2].first, "k10");

  auto dup =
      Record::FromEntries({{"a", Value::Long(1)}, {"b", Value::Long(1)}, {"a", Value::Long(2)}});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "duplicate record key \"a\"");
  Record unique = Record::FromUniqueEntries({{"a", Value::Long(1)}, {"a", Value::Long(2)}});
  EXPECT_EQ(unique.size(), 1u);
  EXPECT_EQ(*unique.Find("a"), Value::Long(1));

  Record small = Record::FromUniqueEntries({{"", Value::Long(0)}, {"x y", Value::Long(1)}});
  EXPECT_TRUE(small.Has(""));
  EXPECT_TRUE(small.Has("x y"));
  EXPECT_FALSE(Record().Has("a"));
}

TEST(ValueTest, CopiesShareContents) {
  Value s = Value::String(std::string(1000, 'x'));
  Value copy = s;
  EXPECT_EQ(s.SharedString().get(), copy.SharedString().get());
  Value set = SetOf({Value::Long(1), Value::Long(2)});
  Value set_copy = set;
  EXPECT_EQ(set.AsSet().elements().data(), set_copy.AsSet().elements().data());
  EXPECT_LE(sizeof(Value), 32u);
}

TEST(ValueTest, ToString) {
  EXPECT_EQ(Value::Bool(true).ToString(), "true");
  EXPECT_EQ(Value::Long(kMin).ToString(), "-9223372036854775808");
  EXPECT_EQ(Value::String("a\"b\n").ToString(), "\"a\\\"b\\n\"");
  EXPECT_EQ(Uid("User", "x").ToString(), "User::\"x\"");
  EXPECT_EQ(SetOf({Value::Long(2), Value::Long(1)}).ToString(), "[1, 2]");
  EXPECT_EQ(RecordOf({{"b", Value::Long(1)}, {"a", SetOf({})}}).ToString(),
            "{\"a\": [], \"b\": 1}");
  EXPECT_EQ(Value::Ip(*IpFromString("10.0.0.1")).ToString(), "ip(\"10.0.0.1/32\")");
  EXPECT_EQ(Value::FromDecimal(Decimal{12300}).ToString(), "decimal(\"1.2300\")");
  EXPECT_EQ(Value::FromDatetime(Datetime{0}).ToString(), "datetime(\"1970-01-01T00:00:00Z\")");
  EXPECT_EQ(Value::FromDatetime(Datetime{kMin}).ToString(),
            "datetime(\"1970-01-01\").offset(duration(\"-106751991167d7h12m55s808ms\"))");
  EXPECT_EQ(Value::FromDuration(Duration{90000}).ToString(), "duration(\"1m30s\")");
  EXPECT_EQ(EscapeCedarString(std::string("\x01\x7f\t'", 4)), "\\u{1}\\u{7f}\\t\\'");
}

struct ArithCase {
  int64_t a;
  int64_t b;
  bool add_ok;
  bool sub_ok;
  bool mul_ok;
};

const ArithCase kArith[] = {
    {0, 0, true, true, true},
    {kMax, 0, true, true, true},
    {kMax, 1, false, true, true},
    {kMax, -1, true, false, true},
    {kMin, -1, false, true, false},
    {kMin, 1, true, false, true},
    {kMin, 0, true, true, true},
    {kMin, kMin, false, true, false},
    {kMax, kMax, false, true, false},
    {kMax, kMin, true, false, false},
    {-1, kMin, false, true, false},
    {0, kMin, true, false, true},
    {4611686018427387904, 2, true, true, false},  // 2^62 * 2 = 2^63 overflows
    {-4611686018427387904, 2, true, true, true},  // -2^62 * 2 = INT64_MIN fits
    {3037000499, 3037000499, true, true, true},
    {3037000500, 3037000500, true, true, false},
};

TEST(CheckedArithmeticTest, Int64Boundaries) {
  for (const auto& c : kArith) {
    SCOPED_TRACE(std::to_string(c.a) + " op " + std::to_string(c.b));
    int64_t out = 0;
    EXPECT_EQ(CheckedAdd(c.a, c.b, &out), c.add_ok);
    EXPECT_EQ(CheckedSub(c.a, c.b, &out), c.sub_ok);
    EXPECT_EQ(CheckedMul(c.a, c.b, &out), c.mul_ok);
    if (c.mul_ok) {
      ASSERT_TRUE(CheckedMul(c.a, c.b, &out));
      EXPECT_EQ(out, static_cast<int64_t>(static_cast<uint64_t>(c.a) * static_cast<uint64_t>(c.b)));
    }
  }
  int64_t out = 0;
  EXPECT_FALSE(CheckedNeg(kMin, &out));
  EXPECT_TRUE(CheckedNeg(kMax, &out));
  EXPECT_EQ(out, -kMax);
  EXPECT_TRUE(CheckedNeg(0, &out));
  EXPECT_EQ(out, 0);
  EXPECT_TRUE(CheckedAdd(kMax, kMin, &out));
  EXPECT_EQ(out, -1);
}

}  // namespace
}  // namespace warden::cedar
