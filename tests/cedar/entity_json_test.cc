// Cedar entity/value JSON. Acceptance and rejection follow the reference
// implementation (cedar-wasm 4.13), including its quirks: malformed escapes are
// plain records, unknown members of entity objects are ignored.
#include "warden/cedar/entity_json.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cedar/corpus_util.h"
#include "warden/cedar/extensions.h"

namespace warden::cedar {
namespace {

Value ParseValueText(const std::string& text) {
  auto j = ParseJson(text);
  EXPECT_TRUE(j.ok()) << text;
  if (!j.ok()) return Value();
  auto v = ValueFromJson(*j);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status().ToString();
  return v.ok() ? *v : Value();
}

std::string ValueError(const std::string& text) {
  auto j = ParseJson(text);
  if (!j.ok()) return j.status().message();
  auto v = ValueFromJson(*j, "x");
  EXPECT_FALSE(v.ok()) << text << " parsed as " << (v.ok() ? v->ToString() : "");
  return v.ok() ? std::string() : v.status().message();
}

Value Extn(const char* fn, const char* arg) {
  auto r = CallExtensionFunction(fn, std::vector<Value>{Value::String(arg)});
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : Value();
}

Value Uid(const char* t, const char* id) { return Value::Entity(EntityUid(EntityType(t), id)); }

// JSON text and the Cedar value it denotes (as Cedar source text).
struct ValueCase {
  const char* json;
  const char* cedar;
};

const ValueCase kValues[] = {
    {"true", "true"},
    {"false", "false"},
    {"0", "0"},
    {"-0", "0"},
    {"9223372036854775807", "9223372036854775807"},
    {"-9223372036854775808", "-9223372036854775808"},
    {"\"\"", "\"\""},
    {"\"a\\u0000b\"", "\"a\\0b\""},
    {"\"caf\\u00e9\"", "\"caf\xc3\xa9\""},
    {"[]", "[]"},
    {"[1, 1, 2]", "[1, 2]"},
    {"[2, \"a\", true, [1]]", "[true, 2, \"a\", [1]]"},
    {"{}", "{}"},
    {"{\"b\": 1, \"a\": {\"c\": []}}", "{\"a\": {\"c\": []}, \"b\": 1}"},
    {"{\"__entity\": {\"type\": \"A::B\", \"id\": \"x\"}}", "A::B::\"x\""},
    {"{\"__entity\": {\"type\": \"U\", \"id\": \"b\", \"z\": 1}}", "U::\"b\""},
    // Malformed escapes and escapes with company are ordinary records.
    {"{\"__entity\": {\"type\": \"U\", \"id\": \"b\"}, \"y\": 1}",
     "{\"__entity\": {\"id\": \"b\", \"type\": \"U\"}, \"y\": 1}"},
    {"{\"__entity\": \"bad\"}", "{\"__entity\": \"bad\"}"},
    {"{\"__entity\": {\"type\": \"U\"}}", "{\"__entity\": {\"type\": \"U\"}}"},
    {"{\"__entity\": {\"type\": 1, \"id\": \"b\"}}",
     "{\"__entity\": {\"id\": \"b\", \"type\": 1}}"},
    {"{\"__extn\": \"ip\"}", "{\"__extn\": \"ip\"}"},
    {"{\"__extn\": {\"fn\": \"ip\"}}", "{\"__extn\": {\"fn\": \"ip\"}}"},
    {"{\"__extn\": {\"fn\": \"ip\", \"args\": \"1.2.3.4\"}}",
     "{\"__extn\": {\"args\": \"1.2.3.4\", \"fn\": \"ip\"}}"},
    {"{\"__extn\": {\"fn\": \"ip\", \"arg\": \"1.2.3.4\"}, \"z\": 2}",
     "{\"__extn\": {\"arg\": \"1.2.3.4\", \"fn\": \"ip\"}, \"z\": 2}"},
    {"{\"type\": \"U\", \"id\": \"b\"}", "{\"id\": \"b\", \"type\": \"U\"}"},
    {"{\"__expr\": 1}", "{\"__expr\": 1}"},
};

TEST(ValueJsonTest, Table) {
  for (const ValueCase& c : kValues) {
    SCOPED_TRACE(c.json);
    EXPECT_EQ(ParseValueText(c.json).ToString(), c.cedar);
  }
}

TEST(ValueJsonTest, ExtensionEscapes) {
  EXPECT_EQ(ParseValueText(R"({"__extn": {"fn": "ip", "arg": "10.0.0.1"}})"),
            Extn("ip", "10.0.0.1/32"));
  EXPECT_EQ(ParseValueText(R"({"__extn": {"fn": "decimal", "arg": "1.0"}})"),
            Extn("decimal", "1.0000"));
  EXPECT_EQ(ParseValueText(R"({"__extn": {"fn": "datetime", "arg": "2024-01-01"}})"),
            Extn("datetime", "2024-01-01T00:00:00Z"));
  EXPECT_EQ(ParseValueText(R"({"__extn": {"fn": "duration", "arg": "1h"}})"),
            Extn("duration", "60m"));
  // The multi-argument form used for datetimes outside 0000..9999.
  Value off = ParseValueText(R"({"__extn": {"fn": "offset", "args": [
      {"__extn": {"fn": "datetime", "arg": "1970-01-01"}},
      {"__extn": {"fn": "duration", "arg": "-55819152000000ms"}}]}})");
  ASSERT_EQ(off.kind(), ValueKind::kDatetime);
  EXPECT_EQ(off.AsDatetime().ms, -55819152000000);
  EXPECT_EQ(ParseValueText(R"({"__extn": {"fn": "ip", "args": ["1.2.3.4"]}})"),
            Extn("ip", "1.2.3.4"));
  // "arg" wins over "args".
  EXPECT_EQ(ParseValueText(R"({"__extn": {"fn": "ip", "arg": "1.2.3.4", "args": ["bad"]}})"),
            Extn("ip", "1.2.3.4"));
  // Unknown members inside the call are ignored.
  EXPECT_EQ(ParseValueText(R"({"__extn": {"fn": "ip", "arg": "1.2.3.4", "y": 1}})"),
            Extn("ip", "1.2.3.4"));
  // Any extension function may be called, whatever it returns.
  EXPECT_EQ(
      ParseValueText(
          R"({"__extn": {"fn": "isIpv4", "arg": {"__extn": {"fn": "ip", "arg": "1.2.3.4"}}}})"),
      Value::Bool(true));
  EXPECT_EQ(
      ParseValueText(
          R"({"__extn": {"fn": "toTime", "args": [{"__extn": {"fn": "datetime", "arg": "1970-01-01T01:00:00Z"}}]}})"),
      Extn("duration", "1h"));
  EXPECT_EQ(
      ParseValueText(
          R"([{"__entity": {"type": "U", "id": "a"}}, {"__entity": {"type": "U", "id": "a"}}])")
          .AsSet()
          .size(),
      1u);
  EXPECT_EQ(
      ParseValueText(R"({"a": {"__entity": {"type": "U", "id": "a"}}})").AsRecord().Find("a")[0],
      Uid("U", "a"));
}

// JSON text and a fragment of the expected error.
struct ErrorCase {
  const char* json;
  const char* error;
};

const ErrorCase kValueErrors[] = {
    {"null", "x: found a `null`; JSON nulls are not allowed in Cedar"},
    {"[1, null]", "x[1]: found a `null`"},
    {"{\"a\": {\"b c\": null}}", "x.a[\"b c\"]: found a `null`"},
    {"9223372036854775808", "x: number 9223372036854775808 is not a 64-bit integer"},
    {"-9223372036854775809", "is not a 64-bit integer"},
    {"18446744073709551616", "is not a 64-bit integer"},
    {"1.0", "is not a 64-bit integer"},
    {"1.5", "is not a 64-bit integer"},
    {"1e2", "is not a 64-bit integer"},
    {"{\"a\": [{\"b\": 1.5}]}", "x.a[0].b: number"},
    {"{\"__expr\": \"1\"}", "x: the `__expr` escape is no longer supported"},
    {"{\"__entity\": {\"type\": \"A :: B\", \"id\": \"a\"}}",
     "x.__entity: invalid entity type name \"A :: B\""},
    {"{\"__entity\": {\"type\": \"if\", \"id\": \"a\"}}", "invalid entity type name"},
    {"{\"__entity\": {\"type\": \"\", \"id\": \"a\"}}", "invalid entity type name"},
    {"{\"__extn\": {\"fn\": \"ipaddr\", \"arg\": \"1.2.3.4\"}}",
     "x: extension function `ipaddr` does not exist"},
    {"{\"__extn\": {\"fn\": \"ip\", \"arg\": \"1.2.3\"}}",
     "x: error while evaluating `ipaddr` extension function: invalid IP address: 1.2.3"},
    {"{\"__extn\": {\"fn\": \"ip\", \"arg\": \"bad\", \"args\": [\"1.2.3.4\"]}}",
     "invalid IP address: bad"},
    {"{\"__extn\": {\"fn\": \"ip\", \"arg\": 1}}", "x: type error: expected string, got long"},
    {"{\"__extn\": {\"fn\": \"ip\", \"arg\": [\"1.2.3.4\"]}}",
     "type error: expected string, got set"},
    {"{\"__extn\": {\"fn\": \"ip\", \"args\": []}}", "expected 1, got 0"},
    {"{\"__extn\": {\"fn\": \"offset\", \"args\": [{\"__extn\": {\"fn\": \"datetime\", \"arg\": "
     "\"1970-01-01\"}}]}}",
     "wrong number of arguments provided to extension function `offset`: expected 2, got 1"},
    {"{\"__extn\": {\"fn\": \"ip\", \"arg\": null}}", "x.__extn.arg: found a `null`"},
    {"{\"__extn\": {\"fn\": \"offset\", \"args\": [1, null]}}", "x.__extn.args[1]: found a `null`"},
    {"{\"a\": 1, \"a\": 2}", "duplicate"},
};

TEST(ValueJsonTest, Errors) {
  for (const ErrorCase& c : kValueErrors) {
    SCOPED_TRACE(c.json);
    std::string err = ValueError(c.json);
    EXPECT_NE(err.find(c.error), std::string::npos) << err;
  }
}

TEST(ValueJsonTest, DepthIsBoundedForInMemoryJson) {
  json::value v = json::array();
  for (int i = 0; i < 200; ++i) {
    json::array outer;
    outer.push_back(std::move(v));
    v = std::move(outer);
  }
  auto r = ValueFromJson(v);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested deeper than 128 levels"), std::string::npos);
}

TEST(EntityUidJsonTest, Forms) {
  struct Case {
    const char* json;
    const char* uid;  // "" when rejected
  };
  const Case cases[] = {
      {R"({"type": "User", "id": "alice"})", "User::\"alice\""},
      {R"({"__entity": {"type": "User", "id": "alice"}})", "User::\"alice\""},
      {R"({"__entity": {"type": "User", "id": "alice"}, "x": 1})", "User::\"alice\""},
      {R"({"type": "User", "id": "alice", "x": 1})", "User::\"alice\""},
      {R"({"type": "A::B::C", "id": ""})", "A::B::C::\"\""},
      {R"({"type": "User", "id": 1})", ""},
      {R"({"type": "User"})", ""},
      {R"("User::\"alice\"")", ""},
      {R"(["User", "alice"])", ""},
      {R"({"type": "A :: B", "id": "a"})", ""},
      {R"({"type": "__cedar::X", "id": "a"})", ""},
      {R"({"type": "A::in", "id": "a"})", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    auto r = ParseEntityUidJson(c.json);
    if (std::string(c.uid).empty()) {
      EXPECT_FALSE(r.ok());
    } else {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->ToString(), c.uid);
    }
  }
  auto bad = ParseEntityUidJson(R"({"type": "User", "id": 1})");
  EXPECT_EQ(bad.status().message(),
            "uid: expected an entity reference {\"type\": string, \"id\": string} or "
            "{\"__entity\": {...}}, got {\"type\":\"User\",\"id\":1}");
}

constexpr const char* kEntities = R"([
  {"uid": {"type": "User", "id": "alice"},
   "attrs": {"age": 30, "ip": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}},
             "manager": {"__entity": {"type": "User", "id": "bob"}}, "tags": ["a", "b"]},
   "parents": [{"type": "Group", "id": "eng"}, {"__entity": {"type": "Group", "id": "staff"}}],
   "tags": {"level": 3}},
  {"uid": {"__entity": {"type": "Group", "id": "eng"}}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
  {"uid": {"type": "Group", "id": "all"}, "attrs": {}, "parents": [], "unknown_member": true}
])";

TEST(EntitiesJsonTest, ParsesEveryForm) {
  auto r = ParseEntitiesJson(kEntities);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 3u);
  EntityUid alice(EntityType("User"), "alice");
  const Entity* e = r->Find(alice);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(*e->attrs.Find("age"), Value::Long(30));
  EXPECT_EQ(*e->attrs.Find("ip"), Extn("ip", "10.0.0.1"));
  EXPECT_EQ(*e->attrs.Find("manager"), Uid("User", "bob"));
  EXPECT_EQ(e->attrs.Find("tags")->AsSet().size(), 2u);
  EXPECT_EQ(*e->tags.Find("level"), Value::Long(3));
  EXPECT_TRUE(r->In(alice, EntityUid(EntityType("Group"), "all")));
  EXPECT_TRUE(r->In(alice, EntityUid(EntityType("Group"), "staff")));
  EXPECT_FALSE(r->In(EntityUid(EntityType("Group"), "all"), alice));
  EXPECT_TRUE(r->Find(EntityUid(EntityType("Group"), "all"))->tags.empty());
}

TEST(EntitiesJsonTest, RoundTrip) {
  auto r = ParseEntitiesJson(kEntities);
  ASSERT_TRUE(r.ok());
  std::string text = CanonicalJson(EntitiesToJson(*r));
  auto again = ParseEntitiesJson(text);
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << text;
  EXPECT_EQ(CanonicalJson(EntitiesToJson(*again)), text);
  // Every value kind survives the explicit encoding.
  std::vector<Value> values = {
      Value::Long(-9223372036854775807 - 1),
      Value::String("\"q\""),
      Extn("decimal", "-1.5"),
      Extn("datetime", "2024-10-15T11:38:02.101+1134"),
      Extn("duration", "-1d2ms"),
      Value::FromDatetime(Datetime{-9223372036854775807 - 1}),
      Extn("ip", "2001:db8::/32"),
      Value::FromSet(Set::FromValues({Uid("A::B", "x"), Value::Bool(false)}))};
  for (const Value& v : values) {
    auto back = ValueFromJson(ValueToJson(v));
    ASSERT_TRUE(back.ok()) << v.ToString() << ": " << back.status().ToString();
    EXPECT_EQ(*back, v) << v.ToString();
  }
}

const ErrorCase kEntityErrors[] = {
    {R"([{"uid": {"type": "U", "id": "a"}}])", "entity U::\"a\": missing field `attrs`"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}}])",
     "entity U::\"a\": missing field `parents`"},
    {R"([{"attrs": {}, "parents": []}])", "entities[0]: missing field `uid`"},
    {R"([{"uid": "U::\"a\"", "attrs": {}, "parents": []}])",
     "entities[0].uid: expected an entity reference"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": null, "parents": []}])",
     "entity U::\"a\": attrs: expected an object, got null"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": {}}])",
     "entity U::\"a\": parents: expected an array, got object"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": [], "tags": null}])",
     "entity U::\"a\": tags: expected an object"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"x": [1, 1.5]}, "parents": []}])",
     "entity U::\"a\": attrs.x[1]: number 1.5 is not a 64-bit integer"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": [{"type": "G"}]}])",
     "entity U::\"a\": parents[0]: expected an entity reference"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": [], "tags": {"t": null}}])",
     "entity U::\"a\": tags.t: found a `null`"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"x": {"__extn": {"fn": "ip", "arg": "1.2.3"}}}, "parents": []}])",
     "entity U::\"a\": attrs.x: error while evaluating `ipaddr` extension function: invalid IP "
     "address: 1.2.3"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"x": 1}, "parents": []},
         {"uid": {"type": "U", "id": "a"}, "attrs": {"x": 2}, "parents": []}])",
     "duplicate entity entry `U::\"a\"`"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": [{"type": "G", "id": "g"}]},
         {"uid": {"type": "G", "id": "g"}, "attrs": {}, "parents": [{"type": "U", "id": "a"}]}])",
     "input graph has a cycle containing vertex"},
    {R"({"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": []})",
     "entities: expected an array of entities, got object"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"x": 1, "x": 2}, "parents": []}])",
     "duplicate"},
    {R"([1])", "entities[0]: expected an entity object, got"},
    {R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": []} ] x)", "line 1"},
};

TEST(EntitiesJsonTest, Errors) {
  for (const ErrorCase& c : kEntityErrors) {
    SCOPED_TRACE(c.json);
    auto r = ParseEntitiesJson(c.json);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
  }
  // The failing attribute path is also reported as the status field.
  auto r = ParseEntitiesJson(
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"x": null}, "parents": []}])");
  EXPECT_EQ(r.status().field(), "attrs.x");
}

TEST(EntitiesJsonTest, IdenticalDuplicatesMerge) {
  auto r = ParseEntitiesJson(R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": []},
                                 {"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": []}])");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 1u);
}

TEST(EntitiesJsonTest, SizeLimit) {
  EntityJsonOptions options;
  options.json.max_bytes = 16;
  auto r = ParseEntitiesJson(R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": []}])",
                             options);
  EXPECT_FALSE(r.ok());
}

// The text entry points read JSON in one pass; whatever that pass cannot
// take as is (duplicate keys at any depth, doubles, malformed or oversized
// text, trailing content) must give exactly what ParseJson followed by the
// value converters gives, errors included.
TEST(EntitiesJsonTest, TextParsingMatchesParseJsonThenConvert) {
  std::vector<std::string> docs = {
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"x": 1, "x": 2}, "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"r": {"k": [1, {"z": 1, "z": {}}]}},
           "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a", "id": "b"}, "attrs": {}, "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": [], "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"d": 1.5}, "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"d": 1e400}, "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"d": 18446744073709551615}, "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": []}] x)",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": []})",
      R"([{"uid": {"type": "U", "id": "a\u0041"}, "attrs": {"k\"": "v\n"}, "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"e": {"__entity": {"type": "U", "id": "b",
           "junk": 1.25}}}, "parents": [{"type": "G", "id": "g"}]}])",
      R"({"a": {"a": 1}, "a": 2})",
      R"([])",
      "",
      // A duplicate spelled with an escape, and one among more than eight keys.
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"a": 1, "\u0061": 2}, "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"k1": 1, "k2": 2, "k3": 3, "k4": 4,
           "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, "k3": 10}, "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"k1": 1, "k2": 2, "k3": 3, "k4": 4,
           "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, "k\n": {"x": [true]}},
           "parents": []}])",
      // Conversion errors after a well-formed parse.
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {"n": null}, "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": [{"type": 1}]}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": [], "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": {}}])",
      R"([{"attrs": {}, "parents": []}])",
      R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": []},
          {"uid": {"type": "U", "id": "a"}, "attrs": {"x": 1}, "parents": []}])",
      R"({"context": 1})",
  };
  // Strings long enough that the parser hands them over in parts (escapes
  // make it copy them through its own buffer).
  std::string long_id;
  for (int i = 0; i < 3000; ++i) long_id += "ab\\";
  docs.push_back(R"([{"uid": {"type": "U", "id": ")" + long_id +
                 R"("}, "attrs": {")" + long_id + R"(": ")" + long_id +
                 R"("}, "parents": [{"type": "G", "id": ")" + long_id + R"("}]}])");
  for (const std::string& text : docs) {
    SCOPED_TRACE(text);
    auto direct = ParseEntitiesJson(text);
    auto dom = ParseJson(text);
    Result<Entities> via_dom =
        dom.ok() ? EntitiesFromJson(*dom) : Result<Entities>(dom.status());
    ASSERT_EQ(direct.ok(), via_dom.ok()) << (direct.ok() ? via_dom : direct).status().ToString();
    if (!direct.ok()) {
      EXPECT_EQ(direct.status().ToString(), via_dom.status().ToString());
      EXPECT_EQ(direct.status().field(), via_dom.status().field());
    } else {
      EXPECT_EQ(CanonicalJson(EntitiesToJson(*direct)), CanonicalJson(EntitiesToJson(*via_dom)));
    }
    auto ctx = ParseContextJson(text);
    Result<Record> ctx_dom = dom.ok() ? ContextFromJson(*dom) : Result<Record>(dom.status());
    ASSERT_EQ(ctx.ok(), ctx_dom.ok());
    if (!ctx.ok()) {
      EXPECT_EQ(ctx.status().ToString(), ctx_dom.status().ToString());
    }
  }
  EntityJsonOptions shallow;
  shallow.json.max_depth = 2;
  const std::string deep = R"([{"uid": {"type": "U", "id": "a"}, "attrs": {}, "parents": []}])";
  auto direct = ParseEntitiesJson(deep, shallow);
  auto dom = ParseJson(deep, shallow.json);
  ASSERT_FALSE(direct.ok());
  ASSERT_FALSE(dom.ok());
  EXPECT_EQ(direct.status().ToString(), dom.status().ToString());
}

TEST(ContextJsonTest, Parse) {
  auto r =
      ParseContextJson(R"({"ip": {"__extn": {"fn": "ip", "arg": "::1"}}, "n": 1, "s": ["x"]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 3u);
  EXPECT_EQ(*r->Find("ip"), Extn("ip", "::1"));
  auto empty = ParseContextJson("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto not_object = ParseContextJson("[]");
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.status().message(), "context: expected an object, got array");
  auto bad = ParseContextJson(R"({"x": {"__extn": {"fn": "ip", "arg": "bad"}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(
      bad.status().message(),
      "context.x: error while evaluating `ipaddr` extension function: invalid IP address: bad");
}

// Parses every entity file and request of Cedar's generated corpus (found as
// the conformance test finds it), through the text entry points and through
// ParseJson followed by the converters, which must agree.
TEST(EntitiesJsonTest, GeneratedCorpusEntityFiles) {
  namespace fs = std::filesystem;
  std::string skip, why;
  fs::path root = testing::GeneratedCorpus(&skip, &why);
  if (!skip.empty()) GTEST_SKIP() << skip;
  ASSERT_FALSE(root.empty()) << why;
  const fs::path dir = root / "corpus-tests";
  size_t files = 0;
  size_t requests = 0;
  JsonParseOptions options;
  options.max_bytes = 64 << 20;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.size() < 5 || name.substr(name.size() - 5) != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream buf;
    buf << in.rdbuf();
    auto doc = ParseJson(buf.str(), options);
    ASSERT_TRUE(doc.ok()) << name << ": " << doc.status().ToString();
    if (name.size() > 14 && name.substr(name.size() - 14) == ".entities.json") {
      auto r = EntitiesFromJson(*doc);
      ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
      EntityJsonOptions text_options;
      text_options.json = options;
      auto direct = ParseEntitiesJson(buf.str(), text_options);
      ASSERT_TRUE(direct.ok()) << name << ": " << direct.status().ToString();
      EXPECT_EQ(CanonicalJson(EntitiesToJson(*direct)), CanonicalJson(EntitiesToJson(*r))) << name;
      ++files;
      continue;
    }
    // A test file: every request's uids and context must parse.
    const json::value* reqs =
        doc->is_object() ? doc->get_object().if_contains("requests") : nullptr;
    if (reqs == nullptr || !reqs->is_array()) continue;
    for (const json::value& req : reqs->get_array()) {
      const json::object& o = req.get_object();
      for (const char* key : {"principal", "action", "resource"}) {
        auto uid = EntityUidFromJson(o.at(key), key);
        EXPECT_TRUE(uid.ok()) << name << ": " << uid.status().ToString();
      }
      auto ctx = ContextFromJson(o.at("context"));
      EXPECT_TRUE(ctx.ok()) << name << ": " << ctx.status().ToString();
      auto direct = ParseContextJson(ToJson(o.at("context")));
      ASSERT_EQ(direct.ok(), ctx.ok()) << name;
      if (ctx.ok()) {
        EXPECT_EQ(Value::FromRecord(*direct), Value::FromRecord(*ctx)) << name;
      }
      ++requests;
    }
  }
  EXPECT_GT(files, 0u);
  EXPECT_GT(requests, 0u);
  std::printf("parsed %zu entity files and %zu requests\n", files, requests);
}

}  // namespace
}  // namespace warden::cedar
