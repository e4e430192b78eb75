// Schema-based JSON: implicit entity and context JSON is rewritten into the
// explicit forms under the schema's guidance, and every mismatch is reported
// with the entity, the attribute path, and what was expected versus found.
#include "warden/cedar/schema_json.h"

#include <gtest/gtest.h>

#include <string>

#include "warden/cedar/schema.h"
#include "warden/core/json.h"

namespace warden::cedar {
namespace {

constexpr const char* kSchema = R"(
  namespace App {
    entity Team;
    entity User in [Team] = {
      name: String, age?: Long, addr: ipaddr, score: decimal, born: datetime,
      ttl: duration, manager?: User, friends: Set<User>, prefs: { dark: Bool }
    } tags String;
    entity Color enum ["red", "green"];
    entity Doc = { color: Color };
    action read;
    action view in [read] appliesTo {
      principal: User, resource: Doc, context: { ip: ipaddr, when?: datetime } };
  })";

Schema MustSchema() {
  auto s = Schema::ParseText(kSchema);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

json::value MustJson(std::string_view text) {
  auto v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : json::value();
}

constexpr const char* kAlice = R"([{
  "uid": {"type": "App::User", "id": "alice"},
  "attrs": {"name": "Alice", "addr": "10.0.0.1", "score": "1.5", "born": "2020-01-01",
            "ttl": "1h", "manager": {"type": "App::User", "id": "bob"},
            "friends": [{"__entity": {"type": "App::User", "id": "carol"}}],
            "prefs": {"dark": true}},
  "parents": [{"type": "App::Team", "id": "t"}],
  "tags": {"k": "v"}
}])";

TEST(SchemaJsonTest, RewritesImplicitFormsToExplicitOnes) {
  Schema schema = MustSchema();
  auto out = ExplicitEntitiesJson(MustJson(kAlice), schema);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const json::array& arr = out->as_array();
  ASSERT_EQ(arr.size(), 3u);  // alice plus the two action entities
  const json::object& attrs = arr[0].at("attrs").as_object();
  EXPECT_EQ(CanonicalJson(attrs.at("addr")), R"({"__extn":{"arg":"10.0.0.1","fn":"ip"}})");
  EXPECT_EQ(CanonicalJson(attrs.at("score")), R"({"__extn":{"arg":"1.5","fn":"decimal"}})");
  EXPECT_EQ(CanonicalJson(attrs.at("born")), R"({"__extn":{"arg":"2020-01-01","fn":"datetime"}})");
  EXPECT_EQ(CanonicalJson(attrs.at("ttl")), R"({"__extn":{"arg":"1h","fn":"duration"}})");
  EXPECT_EQ(CanonicalJson(attrs.at("manager")), R"({"__entity":{"id":"bob","type":"App::User"}})");
  EXPECT_EQ(CanonicalJson(attrs.at("friends")),
            R"([{"__entity":{"id":"carol","type":"App::User"}}])");
  EXPECT_EQ(CanonicalJson(arr[2]), R"({"attrs":{},"parents":[{"id":"read","type":"App::Action"}],)"
                                   R"("tags":{},"uid":{"id":"view","type":"App::Action"}})");
}

TEST(SchemaJsonTest, ParsesEntitiesAndAddsActionEntities) {
  Schema schema = MustSchema();
  auto entities = ParseEntitiesWithSchema(kAlice, schema);
  ASSERT_TRUE(entities.ok()) << entities.status().ToString();
  const Entity* alice = entities->Find(EntityUid(EntityType("App::User"), "alice"));
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->attrs.Find("addr")->kind(), ValueKind::kIpAddr);
  EXPECT_EQ(alice->attrs.Find("score")->kind(), ValueKind::kDecimal);
  EXPECT_EQ(alice->attrs.Find("manager")->kind(), ValueKind::kEntity);
  EXPECT_TRUE(entities->In(EntityUid(EntityType("App::Action"), "view"),
                           EntityUid(EntityType("App::Action"), "read")));
  EXPECT_EQ(ActionEntities(schema).size(), 2u);
}

struct ErrorCase {
  const char* entities;
  const char* expected;  // substring of the error
};

const ErrorCase kEntityErrors[] = {
    {R"([{"uid": {"type": "App::User", "id": "a"}, "attrs": {"name": "A"}, "parents": []}])",
     R"(App::User::"a".attrs: required attribute `addr` (ipaddr) is missing)"},
    {R"([{"uid": {"type": "App::Doc", "id": "d"}, "attrs": {"color": {"type": "App::Color", "id": "red"}, "x": 1}, "parents": []}])",
     R"(App::Doc::"d".attrs.x: attribute `x` is not declared in the schema)"},
    {R"([{"uid": {"type": "App::Doc", "id": "d"}, "attrs": {"color": "red"}, "parents": []}])",
     R"(App::Doc::"d".attrs.color: expected App::Color, found a string)"},
    {R"([{"uid": {"type": "App::Doc", "id": "d"}, "attrs": {"color": {"type": "App::Doc", "id": "red"}}, "parents": []}])",
     R"(App::Doc::"d".attrs.color: expected App::Color, found an entity of type App::Doc)"},
    {R"([{"uid": {"type": "App::Doc", "id": "d"}, "attrs": {"color": {"type": "App::Color", "id": "blue"}}, "parents": []}])",
     R"(entity App::Color::"blue" is of an enumerated entity type, but "blue" is not one of its ids)"},
    {R"([{"uid": {"type": "App::Doc", "id": "d"}, "attrs": {"color": {"type": "App::Color", "id": "red"}}, "parents": [{"type": "App::Team", "id": "t"}]}])",
     R"(App::Doc::"d".parents: App::Team::"t" is not allowed as a parent)"},
    {R"([{"uid": {"type": "App::Doc", "id": "d"}, "attrs": {"color": {"type": "App::Color", "id": "red"}}, "parents": [], "tags": {"a": "b"}}])",
     R"(App::Doc::"d".tags: entity type `App::Doc` declares no tags)"},
    {R"([{"uid": {"type": "App::Nope", "id": "n"}, "attrs": {}, "parents": []}])",
     R"(App::Nope::"n": entity type `App::Nope` is not declared in the schema)"},
    {R"([{"uid": {"type": "App::Action", "id": "view"}, "attrs": {}, "parents": []}])",
     R"(App::Action::"view": action entity does not match its schema declaration)"},
    {R"([{"uid": {"type": "App::Team", "id": "t"}, "attrs": {}, "parents": [], "extra": 1}])",
     R"(entities[0]: unknown member `extra`)"},
    {R"({"uid": 1})", "entities: expected a JSON array, found an object"},
    {R"([{"uid": {"type": "App::User", "id": "a"}, "attrs": {"name": "A", "addr": "1.2.3.4", "score": "1.0", "born": "2020-01-01", "ttl": "1h", "friends": [], "prefs": {"dark": 1}}, "parents": []}])",
     R"(App::User::"a".attrs.prefs.dark: expected Bool, found an integer)"},
};

TEST(SchemaJsonTest, EntityErrorsNamePaths) {
  Schema schema = MustSchema();
  for (const auto& c : kEntityErrors) {
    SCOPED_TRACE(c.entities);
    auto out = ExplicitEntitiesJson(MustJson(c.entities), schema);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find(c.expected), std::string::npos) << out.status().message();
  }
}

TEST(SchemaJsonTest, BadExtensionLiteralFailsWhenParsed) {
  Schema schema = MustSchema();
  auto out = ParseEntitiesWithSchema(
      R"([{"uid": {"type": "App::User", "id": "a"}, "attrs": {"name": "A", "addr": "1.2.3", "score": "1.0", "born": "2020-01-01", "ttl": "1h", "friends": [], "prefs": {"dark": true}}, "parents": []}])",
      schema);
  EXPECT_FALSE(out.ok());
}

TEST(SchemaJsonTest, Context) {
  Schema schema = MustSchema();
  SchemaUid view{"App::Action", "view"};
  auto ctx =
      ParseContextWithSchema(R"({"ip": "192.168.0.1/24", "when": "2024-10-15"})", schema, view);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  EXPECT_EQ(ctx->Find("ip")->kind(), ValueKind::kIpAddr);
  EXPECT_EQ(ctx->Find("when")->kind(), ValueKind::kDatetime);

  auto missing = ParseContextWithSchema(R"({})", schema, view);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("context: required attribute `ip` (ipaddr) is missing"),
            std::string::npos)
      << missing.status().message();

  auto undeclared = ParseContextWithSchema(R"({})", schema, SchemaUid{"App::Action", "nope"});
  ASSERT_FALSE(undeclared.ok());
  EXPECT_NE(undeclared.status().message().find("App::Action::\"nope\" is not declared"),
            std::string::npos);

  auto syntax = ParseContextWithSchema(R"({"ip": )", schema, view);
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().message().rfind("context: ", 0), 0u) << syntax.status().message();
}

TEST(SchemaJsonTest, ValueRewriteHandlesLongRangeAndExplicitForms) {
  Schema schema = MustSchema();
  auto big = ExplicitValueJson(MustJson("18446744073709551615"), SchemaType::Long(), schema, "v");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("v: integer out of range for Long"), std::string::npos);
  auto max = ExplicitValueJson(MustJson("9223372036854775807"), SchemaType::Long(), schema, "v");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->as_int64(), INT64_MAX);
  auto ext = ExplicitValueJson(MustJson(R"({"__extn": {"fn": "ip", "arg": "::1"}})"),
                               SchemaType::Extension("ipaddr"), schema, "v");
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(CanonicalJson(*ext), R"({"__extn":{"arg":"::1","fn":"ip"}})");
  auto dbl = ExplicitValueJson(MustJson("1.5"), SchemaType::Long(), schema, "v");
  ASSERT_FALSE(dbl.ok());
  EXPECT_NE(dbl.status().message().find("v: expected Long, found a floating-point number"),
            std::string::npos);
}

}  // namespace
}  // namespace warden::cedar
