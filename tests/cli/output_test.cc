#include "cli/output.h"

#include <gtest/gtest.h>

#include "cli/api_client.h"

namespace warden::cli {
namespace {

TEST(SanitizeTest, EscapesControlsAndInvalidUtf8) {
  EXPECT_EQ(SanitizeForTerminal("plain text"), "plain text");
  EXPECT_EQ(SanitizeForTerminal("a\x1b[2Jb"), "a\\x1b[2Jb");
  EXPECT_EQ(SanitizeForTerminal("line\nnext\ttab\r"), "line\\x0anext\\x09tab\\x0d");
  EXPECT_EQ(SanitizeForTerminal("del\x7f"), "del\\x7f");
  EXPECT_EQ(SanitizeForTerminal("back\\slash"), "back\\\\slash");
  // U+009B (C1 CSI) and U+202E (right-to-left override).
  EXPECT_EQ(SanitizeForTerminal("x\xc2\x9by"), "x\\u009by");
  EXPECT_EQ(SanitizeForTerminal("x\xe2\x80\xaey"), "x\\u202ey");
  // Invalid: lone continuation byte, overlong '/', truncated sequence, surrogate.
  EXPECT_EQ(SanitizeForTerminal("\x80"), "\\x80");
  EXPECT_EQ(SanitizeForTerminal("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(SanitizeForTerminal("\xe2\x82"), "\\xe2\\x82");
  EXPECT_EQ(SanitizeForTerminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  // Well-formed multibyte text passes through.
  EXPECT_EQ(SanitizeForTerminal("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
}

TEST(FormatTableTest, AlignsColumnsAndTrimsTrailingSpace) {
  std::string table = FormatTable({"NAME", "STATUS", "ENV"},
                                  {{"a", "active", "dev"}, {"longer-name", "retired", ""}});
  EXPECT_EQ(table,
            "NAME         STATUS   ENV\n"
            "a            active   dev\n"
            "longer-name  retired\n");
}

TEST(FormatTableTest, CountsCodePointsAndSanitizesCells) {
  std::string table = FormatTable({"A", "B"}, {{"\xc3\xa9\xc3\xa9", "x"}, {"\x1b", "y"}});
  EXPECT_EQ(table,
            "A     B\n"
            "\xc3\xa9\xc3\xa9    x\n"
            "\\x1b  y\n");
}

TEST(FormatTableTest, MissingCellsAreEmpty) {
  EXPECT_EQ(FormatTable({"A", "B"}, {{"1"}}), "A  B\n1\n");
}

TEST(FormatKeyValuesTest, AlignsValues) {
  EXPECT_EQ(FormatKeyValues({{"name", "bot"}, {"spiffe_id", "spiffe://x/agent/bot"}}),
            "name:      bot\n"
            "spiffe_id: spiffe://x/agent/bot\n");
}

TEST(PrettyJsonTest, IndentsAndKeepsOrder) {
  json::object o;
  o["b"] = 1;
  o["a"] = json::array{"x", nullptr, true};
  o["e"] = json::object{};
  o["f"] = json::array{};
  o["s"] = "q\"\n";
  EXPECT_EQ(PrettyJson(o),
            "{\n"
            "  \"b\": 1,\n"
            "  \"a\": [\n"
            "    \"x\",\n"
            "    null,\n"
            "    true\n"
            "  ],\n"
            "  \"e\": {},\n"
            "  \"f\": [],\n"
            "  \"s\": \"q\\\"\\n\"\n"
            "}\n");
  // Round trip.
  auto parsed = ParseJson(PrettyJson(o));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, json::value(o));
}

TEST(FormatErrorTest, NamesFieldAndEscapes) {
  EXPECT_EQ(FormatError(InvalidArgument("must not be empty", "owner")),
            "warden: must not be empty (field: owner)");
  EXPECT_EQ(FormatError(NotFound("no agent \"x\x1b\"")), "warden: no agent \"x\\x1b\"");
  EXPECT_EQ(FormatError(Status(StatusCode::kInternal, "")), "warden: internal");
}

TEST(JsonTextTest, RendersMembers) {
  json::object o;
  o["s"] = "text";
  o["n"] = 42;
  o["list"] = json::array{"a", "b"};
  o["empty"] = json::array{};
  o["null"] = nullptr;
  EXPECT_EQ(JsonText(o, "s"), "text");
  EXPECT_EQ(JsonText(o, "n"), "42");
  EXPECT_EQ(JsonText(o, "list"), "a, b");
  EXPECT_EQ(JsonText(o, "empty"), "-");
  EXPECT_EQ(JsonText(o, "null"), "-");
  EXPECT_EQ(JsonText(o, "absent"), "-");
}

TEST(ApiErrorTest, ServerErrorBecomesStatusWithField) {
  Status s = StatusFromErrorResponse(
      400, R"({"error":{"code":"invalid_argument","message":"must not be empty","field":"owner"}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "must not be empty");
  EXPECT_EQ(s.field(), "owner");

  s = StatusFromErrorResponse(409, R"({"error":{"code":"failed_precondition","message":"m"}})");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.field(), "");

  s = StatusFromErrorResponse(401, "<html>nope</html>");
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("HTTP 401"), std::string::npos);

  s = StatusFromErrorResponse(500, R"({"error":{"code":"no_such_code","message":"m"}})");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
}

TEST(ApiErrorTest, CodeNamesRoundTrip) {
  for (int c = 1; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    auto code = static_cast<StatusCode>(c);
    EXPECT_EQ(StatusCodeFromName(StatusCodeName(code)), code);
  }
}

TEST(UrlEscapeTest, KeepsUnreservedOnly) {
  EXPECT_EQ(UrlEscape("bot-1_a.b~c"), "bot-1_a.b~c");
  EXPECT_EQ(UrlEscape("a/b?c=d&e f"), "a%2Fb%3Fc%3Dd%26e%20f");
  EXPECT_EQ(UrlEscape(".."), "..");
  EXPECT_EQ(UrlEscape("\xff"), "%FF");
}

}  // namespace
}  // namespace warden::cli
