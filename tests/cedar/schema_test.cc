// Schema parsing: text and JSON forms of the same schema give equal models;
// name resolution; malformed schemas fail with positions and what was expected.
#include "warden/cedar/schema.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace warden::cedar {
namespace {

struct EquivalenceCase {
  const char* name;
  const char* text;
  const char* json;
};

// JSON forms are what the reference implementation's schema converter prints.
const EquivalenceCase kEquivalent[] = {
    {"photos",
     R"(entity Account in [AccountGroup] = { admins: Set<User>, owner: User, private: Bool };
        entity AccountGroup = { owner: User };
        entity Administrator, UserGroup;
        entity Album, Photo in [Account, Album] = { account: Account, admins: Set<User>, private: Bool };
        entity User in [UserGroup] = { department: String, jobLevel: Long };
        action view appliesTo { principal: [User], resource: [Photo],
                                context: { authenticated: Bool } };)",
     R"({"":{"entityTypes":{"Account":{"memberOfTypes":["AccountGroup"],"shape":{"type":"Record","attributes":{"admins":{"type":"Set","element":{"type":"EntityOrCommon","name":"User"}},"owner":{"type":"EntityOrCommon","name":"User"},"private":{"type":"EntityOrCommon","name":"Bool"}}}},"AccountGroup":{"shape":{"type":"Record","attributes":{"owner":{"type":"EntityOrCommon","name":"User"}}}},"Administrator":{},"Album":{"memberOfTypes":["Account","Album"],"shape":{"type":"Record","attributes":{"account":{"type":"EntityOrCommon","name":"Account"},"admins":{"type":"Set","element":{"type":"EntityOrCommon","name":"User"}},"private":{"type":"EntityOrCommon","name":"Bool"}}}},"Photo":{"memberOfTypes":["Account","Album"],"shape":{"type":"Record","attributes":{"account":{"type":"EntityOrCommon","name":"Account"},"admins":{"type":"Set","element":{"type":"EntityOrCommon","name":"User"}},"private":{"type":"EntityOrCommon","name":"Bool"}}}},"User":{"memberOfTypes":["UserGroup"],"shape":{"type":"Record","attributes":{"department":{"type":"EntityOrCommon","name":"String"},"jobLevel":{"type":"EntityOrCommon","name":"Long"}}}},"UserGroup":{}},"actions":{"view":{"appliesTo":{"resourceTypes":["Photo"],"principalTypes":["User"],"context":{"type":"Record","attributes":{"authenticated":{"type":"EntityOrCommon","name":"Bool"}}}}}}}})"},
    {"namespaced",
     R"(namespace App {
          type Addr = { ip: ipaddr, tags?: Set<String> };
          entity Group;
          entity User in [Group] = { addr: Addr, "quoted key": Long, manager?: User } tags decimal;
          entity Color enum ["red", "green"];
          action read, write appliesTo { principal: [User], resource: [Group, Color],
                                         context: { when: datetime, d?: duration } };
          action all;
          action readAll in [all, Action::"all"];
        })",
     R"({"App":{"commonTypes":{"Addr":{"type":"Record","attributes":{"ip":{"type":"EntityOrCommon","name":"ipaddr"},"tags":{"type":"Set","element":{"type":"EntityOrCommon","name":"String"},"required":false}}}},"entityTypes":{"Color":{"enum":["red","green"]},"Group":{},"User":{"memberOfTypes":["Group"],"shape":{"type":"Record","attributes":{"addr":{"type":"EntityOrCommon","name":"Addr"},"manager":{"type":"EntityOrCommon","name":"User","required":false},"quoted key":{"type":"EntityOrCommon","name":"Long"}}},"tags":{"type":"EntityOrCommon","name":"decimal"}}},"actions":{"all":{"appliesTo":{"resourceTypes":[],"principalTypes":[]}},"read":{"appliesTo":{"resourceTypes":["Group","Color"],"principalTypes":["User"],"context":{"type":"Record","attributes":{"d":{"type":"EntityOrCommon","name":"duration","required":false},"when":{"type":"EntityOrCommon","name":"datetime"}}}}},"readAll":{"appliesTo":{"resourceTypes":[],"principalTypes":[]},"memberOf":[{"id":"all"},{"id":"all","type":"Action"}]},"write":{"appliesTo":{"resourceTypes":["Group","Color"],"principalTypes":["User"],"context":{"type":"Record","attributes":{"d":{"type":"EntityOrCommon","name":"duration","required":false},"when":{"type":"EntityOrCommon","name":"datetime"}}}}}}}})"},
    {"explicit_json_kinds",
     R"(entity E = { a: Long, b: String, c: Bool, d: Set<E>, e: ipaddr, f: __cedar::decimal };
        action "do it" appliesTo { principal: E, resource: [E] };)",
     R"({"":{"entityTypes":{"E":{"shape":{"type":"Record","attributes":{
          "a":{"type":"Long"},"b":{"type":"String"},"c":{"type":"Boolean"},
          "d":{"type":"Set","element":{"type":"Entity","name":"E"}},
          "e":{"type":"Extension","name":"ipaddr"},"f":{"type":"Extension","name":"decimal"}}}}},
        "actions":{"do it":{"appliesTo":{"principalTypes":["E"],"resourceTypes":["E"]}}}}})"},
};

TEST(SchemaTest, TextAndJsonFormsGiveEqualModels) {
  for (const auto& c : kEquivalent) {
    SCOPED_TRACE(c.name);
    auto text = Schema::ParseText(c.text);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto json = Schema::ParseJsonText(c.json);
    ASSERT_TRUE(json.ok()) << json.status().ToString();
    EXPECT_TRUE(*text == *json);
    EXPECT_FALSE(text->entity_types().empty());
  }
}

TEST(SchemaTest, ResolvesNamesAndHierarchy) {
  auto s = Schema::ParseText(kEquivalent[1].text);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const EntityTypeDef* user = s->FindEntityType("App::User");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->member_of, std::set<std::string>{"App::Group"});
  EXPECT_EQ(user->shape.ToString(),
            "{addr: {ip: ipaddr, tags?: Set<String>}, manager?: App::User, \"quoted key\": Long}");
  ASSERT_TRUE(user->tags.has_value());
  EXPECT_EQ(user->tags->ToString(), "decimal");
  const EntityTypeDef* color = s->FindEntityType("App::Color");
  ASSERT_NE(color, nullptr);
  ASSERT_TRUE(color->enum_ids.has_value());
  EXPECT_EQ(*color->enum_ids, (std::vector<std::string>{"red", "green"}));
  const ActionDef* read = s->FindAction({"App::Action", "read"});
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->principal_types, std::set<std::string>{"App::User"});
  EXPECT_EQ(read->context.ToString(), "{d?: duration, when: datetime}");
  EXPECT_EQ(s->ActionAncestors({"App::Action", "readAll"}),
            (std::set<SchemaUid>{{"App::Action", "all"}}));
  EXPECT_TRUE(s->AncestorTypes("App::User").count("App::Group"));
  EXPECT_TRUE(s->IsActionType("App::Action"));
  EXPECT_FALSE(s->IsActionType("Action"));
}

TEST(SchemaTest, CurrentNamespaceShadowsEmptyNamespaceAndBuiltins) {
  auto s = Schema::ParseText(R"(
    type Long = String;
    entity Thing;
    namespace N {
      type decimal = Bool;
      entity Thing;
      entity E = { a: Thing, b: decimal, c: __cedar::decimal, d: Long, e: String };
    })");
  // `type Long` is reserved in Cedar 4.
  ASSERT_FALSE(s.ok());
  s = Schema::ParseText(R"(
    entity Thing;
    entity Other;
    namespace N {
      type decimal = Bool;
      entity Thing;
      entity E = { a: Thing, b: decimal, c: __cedar::decimal, d: Other, e: String };
    })");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->FindEntityType("N::E")->shape.ToString(),
            "{a: N::Thing, b: Bool, c: decimal, d: Other, e: String}");
}

TEST(SchemaTest, StringEscapesInNames) {
  auto s = Schema::ParseText(R"(entity a = { "\0\u{1}x\n"?: Long };
    action "a\"b" appliesTo { principal: a, resource: a };)");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_NE(s->FindEntityType("a")->shape.FindAttribute(std::string("\0\x01x\n", 4)), nullptr);
  EXPECT_NE(s->FindAction({"Action", "a\"b"}), nullptr);
}

struct ErrorCase {
  const char* text;
  const char* expected;  // substring of the error message
};

const ErrorCase kTextErrors[] = {
    {"entity User", "schema:1:12: expected `;`, found end of input"},
    {"entity User = { a: Long, };\naction view appliesTo { principal: User, resourc: User };",
     "schema:2:42: expected `principal`, `resource` or `context`"},
    {"entity User = { a: Lng };", "schema:1:20: undeclared type `Lng`"},
    {"entity User in [Group];", "schema:1:17: undeclared entity type `Group`"},
    {"entity A; entity A;", "schema:1:18: entity type `A` is declared more than once"},
    {"type T = { a: T };", "common type `T` is defined in terms of itself"},
    {"entity A = { a: Long, a: String };", "schema:1:23: duplicate attribute `a`"},
    {"action a in b;", "schema:1:13: undeclared action group Action::\"b\""},
    {"action a in b; action b in a;", "is (transitively) a member of itself"},
    {"entity A; action a appliesTo { principal: [A] };", "`appliesTo` must declare `resource`"},
    {"entity A = \"x\";", "schema:1:12: expected a record type `{ ... }` after `=`"},
    {"entity A = { a: Long \n  b: Long };", "schema:2:3: expected `,` or `}`, found `b`"},
    {"entity A = { \"\\q\": Long };", "schema:1:15: invalid escape sequence `\\q`"},
    {"entity A; action a appliesTo { principal: A, resource: A, context: Set<Long> };",
     "expected a record type or a common type name for `context`"},
    {"type T = Long; entity A; action a appliesTo { principal: A, resource: A, context: T };",
     "the context of action Action::\"a\" must be a record type, found Long"},
    {"namespace N { entity A; } namespace N { entity B; }",
     "namespace `N` is declared more than once"},
    {"entity A # ;", "schema:1:10: unexpected character '#'"},
};

TEST(SchemaTest, TextErrorsHavePositions) {
  for (const auto& c : kTextErrors) {
    SCOPED_TRACE(c.text);
    auto s = Schema::ParseText(c.text);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find(c.expected), std::string::npos) << s.status().message();
  }
}

const ErrorCase kJsonErrors[] = {
    {R"({"": {"entityTypes": {}}})", "schema: at \"\": missing required member `actions`"},
    {R"({"N": {"entityTypes": {"A": {"shap": {}}}, "actions": {}}})",
     "schema: at N.entityTypes.A: unknown member `shap`"},
    {R"({"N": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": {"x": {"type": "Set"}}}}}, "actions": {}}})",
     "schema: at N.entityTypes.A.shape.attributes.x: missing required member `element`"},
    {R"({"N": {"entityTypes": {"A": {"shape": {"type": "Long"}}}, "actions": {}}})",
     "the shape of entity type `N::A` must be a record type, found Long"},
    {R"({"N": {"entityTypes": {}, "actions": {"a": {"appliesTo": {"principalTypes": ["X"], "resourceTypes": []}}}}})",
     "schema: at N.actions.a.appliesTo.principalTypes[0]: undeclared entity type `X`"},
    {R"({"N": {"entityTypes": {"A": {"shape": {"type": "Extension", "name": "ip"}}}, "actions": {}}})",
     "unknown extension type `ip`"},
    {R"({"N": {"entityTypes": {}, "actions": {}}, })", "schema: "},
    {R"([])", "expected a JSON object"},
};

TEST(SchemaTest, JsonErrorsHaveFieldPaths) {
  for (const auto& c : kJsonErrors) {
    SCOPED_TRACE(c.text);
    auto s = Schema::ParseJsonText(c.text);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find(c.expected), std::string::npos) << s.status().message();
  }
}

TEST(SchemaTest, HostileNestingIsRejectedNotFatal) {
  std::string chain;
  for (int i = 0; i < 5000; ++i) {
    chain += "type T" + std::to_string(i) + " = T" + std::to_string(i + 1) + ";\n";
  }
  chain += "type T5000 = Long;";
  auto s = Schema::ParseText(chain);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("nested more than 128 definitions deep"), std::string::npos);

  std::string deep = "entity A = ";
  for (int i = 0; i < 200; ++i) deep += "{ a: ";
  deep += "Long";
  for (int i = 0; i < 200; ++i) deep += " }";
  deep += ";";
  s = Schema::ParseText(deep);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("types nested too deeply"), std::string::npos);

  std::string json_deep = R"({"": {"entityTypes": {"A": {"shape": )";
  for (int i = 0; i < 100; ++i) json_deep += R"({"type": "Set", "element": )";
  json_deep += R"({"type": "Long"})" + std::string(100, '}') + "}}, \"actions\": {}}}";
  s = Schema::ParseJsonText(json_deep);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("nested too deeply"), std::string::npos)
      << s.status().message();
}

TEST(SchemaTest, SourceNameAppearsInErrors) {
  auto s = Schema::ParseText("entity", SchemaSource{"policies/app.cedarschema"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().rfind("policies/app.cedarschema:1:7: expected", 0), 0u)
      << s.status().message();
}

}  // namespace
}  // namespace warden::cedar
