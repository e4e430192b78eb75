#include "warden/gateway/jsonrpc.h"

#include <gtest/gtest.h>

#include <string>

#include "warden/core/json.h"

namespace warden::gateway {
namespace {

namespace json = boost::json;

Result<Payload> P(std::string_view body, size_t max_bytes = 1 << 20) {
  PayloadLimits limits;
  limits.max_bytes = max_bytes;
  return ParsePayload(body, limits);
}

TEST(JsonRpcTest, ReadsRequestsNotificationsAndResponses) {
  auto p = P(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_FALSE(p->batch);
  ASSERT_TRUE(p->entries[0].message);
  EXPECT_EQ(p->entries[0].message->kind, MessageKind::kRequest);
  EXPECT_EQ(p->entries[0].message->id, json::value(7));
  EXPECT_EQ(p->entries[0].message->method, "tools/call");

  p = P(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->entries[0].message->kind, MessageKind::kNotification);

  p = P(R"({"jsonrpc":"2.0","id":"a","result":{}})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->entries[0].message->kind, MessageKind::kResponse);

  p = P(R"({"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"m"}})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->entries[0].message->kind, MessageKind::kResponse);
}

TEST(JsonRpcTest, HostileBodies) {
  // Not JSON: parse error (field "json").
  for (std::string_view bad : {"", "{", "[1,", "{\"a\":1}}", "\xff", "{\"a\":1,\"a\":2}"}) {
    auto p = P(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().field(), "json") << bad;
  }
  // JSON but not a message container: invalid request (field "message").
  for (std::string_view bad : {"[]", "1", "\"x\"", "null", "true"}) {
    auto p = P(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().field(), "message") << bad;
  }
  // Too large.
  auto big = P(std::string(2000, ' ') + "{}", 1024);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  // Too deep.
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(P(deep).ok());
  // Too many in a batch.
  std::string batch = "[";
  for (int i = 0; i < 101; ++i) batch += std::string(i ? "," : "") + "{}";
  batch += "]";
  auto many = P(batch);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().field(), "message");
}

TEST(JsonRpcTest, MalformedMessagesAreInvalidRequests) {
  for (std::string_view bad : {
           R"({"id":1,"method":"x"})",                              // no jsonrpc
           R"({"jsonrpc":"1.0","id":1,"method":"x"})",              // wrong version
           R"({"jsonrpc":2.0,"id":1,"method":"x"})",                // number version
           R"({"jsonrpc":"2.0","id":1,"method":5})",                // method not a string
           R"({"jsonrpc":"2.0","id":1,"method":""})",               // empty method
           R"({"jsonrpc":"2.0","id":1.5,"method":"x"})",            // fractional id
           R"({"jsonrpc":"2.0","id":null,"method":"x"})",           // null id on a request
           R"({"jsonrpc":"2.0","id":{},"method":"x"})",             // object id
           R"({"jsonrpc":"2.0","id":1,"method":"x","params":3})",   // scalar params
           R"({"jsonrpc":"2.0","id":1,"method":"x","result":{}})",  // both
           R"({"jsonrpc":"2.0","id":1})",                           // neither
           R"({"jsonrpc":"2.0","id":1,"result":1,"error":{}})",     // result and error
           R"({"jsonrpc":"2.0","result":1})",                       // response without id
           R"({"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}})",
           R"({"jsonrpc":"2.0","id":1,"error":{"code":1}})",
       }) {
    auto p = P(bad);
    ASSERT_TRUE(p.ok()) << bad;
    ASSERT_EQ(p->entries.size(), 1u);
    EXPECT_FALSE(p->entries[0].message) << bad;
    EXPECT_EQ(p->entries[0].error_code, kInvalidRequest) << bad;
  }
  // The id of a malformed element is kept when it is usable.
  auto p = P(R"([{"jsonrpc":"1.0","id":"k","method":"x"},1,{"jsonrpc":"2.0","method":"n"}])");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->batch);
  ASSERT_EQ(p->entries.size(), 3u);
  EXPECT_EQ(p->entries[0].error_id, json::value("k"));
  EXPECT_TRUE(p->entries[1].error_id.is_null());
  EXPECT_TRUE(p->entries[2].message);
}

TEST(JsonRpcTest, ErrorResponseShape) {
  json::object e = ErrorResponse(3, kPolicyDenied, "denied", json::object{{"grant", "g"}});
  EXPECT_EQ(ToJson(e),
            R"({"jsonrpc":"2.0","id":3,"error":{"code":-32010,"message":"denied","data":{"grant":"g"}}})");
  EXPECT_EQ(ToJson(ErrorResponse(nullptr, kParseError, "x")),
            R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}})");
}

TEST(JsonRpcTest, ToolCallParams) {
  auto ok = ParseToolCall(json::parse(R"({"name":"read_ticket","arguments":{"id":1},"_meta":{}})"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->name, "read_ticket");
  EXPECT_EQ(ok->arguments.at("id"), json::value(1));
  auto no_args = ParseToolCall(json::parse(R"({"name":"t"})"));
  ASSERT_TRUE(no_args.ok());
  EXPECT_TRUE(no_args->arguments.empty());
  struct Case {
    const char* params;
    const char* field;
  };
  for (const Case& c : {Case{R"([])", "params"}, Case{R"({})", "params.name"},
                        Case{R"({"name":1})", "params.name"}, Case{R"({"name":""})", "params.name"},
                        Case{R"({"name":"a/b"})", "params.name"},
                        Case{R"({"name":"a\nb"})", "params.name"},
                        Case{R"({"name":"a","arguments":[]})", "params.arguments"},
                        Case{R"({"name":"a","extra":1})", "params.extra"}}) {
    auto r = ParseToolCall(json::parse(c.params));
    ASSERT_FALSE(r.ok()) << c.params;
    EXPECT_EQ(r.status().field(), c.field) << c.params;
  }
  EXPECT_FALSE(ParseToolCall(json::value()).ok());
  EXPECT_FALSE(ParseToolCall(json::object{{"name", std::string(300, 'a')}}).ok());
}

TEST(JsonRpcTest, ServerSentEvents) {
  auto e = ParseSse("event: message\r\nid: 1\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n: comment\n\ndata: x");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[0].event, "message");
  EXPECT_EQ((*e)[0].id, "1");
  EXPECT_EQ((*e)[0].data, "{\"a\":\n1}");
  EXPECT_EQ((*e)[1].data, "x");
  // An event without data is no event.
  auto none = ParseSse("event: ping\n\nretry: 10\n\n");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(ParseSse("data: a\n\ndata: b\n\ndata: c\n\n", 2).ok());

  // Formatting round-trips, and a line break cannot forge a field.
  std::vector<SseEvent> out{{"message\nevent: evil", "7\ndata: forged", "line1\nline2"}};
  std::string text = FormatSse(out);
  EXPECT_EQ(text, "event: message\nid: 7\ndata: line1\ndata: line2\n\n");
  auto back = ParseSse(text);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].data, "line1\nline2");
}

TEST(JsonRpcTest, ProtocolVersions) {
  EXPECT_TRUE(IsKnownProtocolVersion("2025-11-25"));
  EXPECT_TRUE(IsKnownProtocolVersion("2025-06-18"));
  EXPECT_TRUE(IsKnownProtocolVersion("2025-03-26"));
  EXPECT_FALSE(IsKnownProtocolVersion("2099-01-01"));
  EXPECT_TRUE(ProtocolAllowsBatches("2025-03-26"));
  EXPECT_FALSE(ProtocolAllowsBatches("2025-06-18"));
}

}  // namespace
}  // namespace warden::gateway
