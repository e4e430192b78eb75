#include "warden/gateway/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <fstream>

#include "warden/core/json.h"
#include "warden/net/http_client.h"

namespace warden::gateway {
namespace {

Result<GatewayConfig> Parse(std::string_view text) {
  auto doc = ParseJson(text);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  if (!doc.ok()) return doc.status();
  return ParseGatewayConfig(*doc);
}

void ExpectError(std::string_view text, std::string_view field, std::string_view fragment) {
  auto c = Parse(text);
  ASSERT_FALSE(c.ok()) << text;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().field(), field) << c.status().ToString();
  EXPECT_NE(c.status().message().find(fragment), std::string::npos) << c.status().ToString();
}

TEST(GatewayConfigTest, ParsesAFullConfig) {
  ::setenv("WARDEN_GW_TEST_TOKEN", "s3cret", 1);
  auto c = Parse(R"({
    "mcp_servers": {"helpdesk": {"url": "http://127.0.0.1:3001/mcp",
                                 "headers": {"Authorization": "env:WARDEN_GW_TEST_TOKEN",
                                             "X-Team": "support"},
                                 "timeout": "10s", "audit_arguments": true}},
    "http_services": {"billing": {"url": "https://billing.internal:8443/api?v=2"}},
    "approval_wait": "2m", "audit_arguments": false, "max_message_bytes": 65536})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->mcp_servers.size(), 1u);
  const Upstream& h = c->mcp_servers[0];
  EXPECT_EQ(h.name, "helpdesk");
  EXPECT_EQ(h.url, "http://127.0.0.1:3001/mcp");
  ASSERT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.headers[0].first, "Authorization");
  EXPECT_EQ(h.headers[0].second, "s3cret");
  EXPECT_EQ(h.timeout, std::chrono::seconds(10));
  EXPECT_TRUE(h.audit_arguments);
  EXPECT_EQ(c->approval_wait, std::chrono::minutes(2));
  EXPECT_EQ(c->max_message_bytes, 65536u);
  ASSERT_NE(FindHttpService(*c, "billing"), nullptr);
  EXPECT_EQ(FindHttpService(*c, "helpdesk"), nullptr);
  EXPECT_NE(FindMcpServer(*c, "helpdesk"), nullptr);
  EXPECT_EQ(FindMcpServer(*c, "nope"), nullptr);
}

TEST(GatewayConfigTest, DefaultsWhenEmpty) {
  auto c = Parse("{}");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->mcp_servers.empty());
  EXPECT_EQ(c->approval_wait, std::chrono::seconds(60));
  EXPECT_FALSE(c->audit_arguments);
  EXPECT_EQ(c->max_message_bytes, size_t{4} << 20);
}

TEST(GatewayConfigTest, PreciseErrors) {
  ExpectError(R"({"mcp_server": {}})", "gateway.mcp_server", "");
  ExpectError(R"({"mcp_servers": []})", "gateway.mcp_servers", "object");
  ExpectError(R"({"mcp_servers": {"Help": {"url": "http://a:1/"}}})", "gateway.mcp_servers.Help",
              "must match");
  ExpectError(R"({"mcp_servers": {"h": {}}})", "gateway.mcp_servers.h.url", "");
  ExpectError(R"({"mcp_servers": {"h": {"url": "ftp://a/"}}})", "gateway.mcp_servers.h.url",
              "http:// or https://");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://u:p@a:1/"}}})",
              "gateway.mcp_servers.h.url", "user info");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a:1/x#f"}}})", "gateway.mcp_servers.h.url",
              "fragment");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a b/"}}})", "gateway.mcp_servers.h.url",
              "whitespace");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a:99999/"}}})",
              "gateway.mcp_servers.h.url", "");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a:1/", "extra": 1}}})",
              "gateway.mcp_servers.h.extra", "");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a:1/", "timeout": "11m"}}})",
              "gateway.mcp_servers.h.timeout", "between");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a:1/", "headers": {"Host": "x"}}}})",
              "gateway.mcp_servers.h.headers.Host", "set by the gateway");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a:1/", "headers": {"X Bad": "x"}}}})",
              "gateway.mcp_servers.h.headers.X Bad", "header name");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a:1/", "headers": {"X-A": "a\nb"}}}})",
              "gateway.mcp_servers.h.headers.X-A", "control");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a:1/", "headers": {"X-A": 1}}}})",
              "gateway.mcp_servers.h.headers.X-A", "");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a:1/", "cacert_file": "/x.pem"}}})",
              "gateway.mcp_servers.h.cacert_file", "https");
  ExpectError(R"({"approval_wait": "forever"})", "gateway.approval_wait", "");
  ExpectError(R"({"approval_wait": "11m"})", "gateway.approval_wait", "between");
  ExpectError(R"({"max_message_bytes": 10})", "gateway.max_message_bytes", "between");
  ExpectError(R"({"audit_arguments": "yes"})", "gateway.audit_arguments", "");
}

TEST(GatewayConfigTest, SecretReferencesNameTheReferenceNeverAValue) {
  ::unsetenv("WARDEN_GW_TEST_MISSING");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a:1/",
                  "headers": {"X-Key": "env:WARDEN_GW_TEST_MISSING"}}}})",
              "gateway.mcp_servers.h.headers.X-Key", "WARDEN_GW_TEST_MISSING is not set");
  ExpectError(R"({"mcp_servers": {"h": {"url": "http://a:1/",
                  "headers": {"X-Key": "file:/nonexistent/warden-secret"}}}})",
              "gateway.mcp_servers.h.headers.X-Key", "/nonexistent/warden-secret cannot be read");
  std::string path = ::testing::TempDir() + "warden_gw_secret.txt";
  {
    std::ofstream out(path);
    out << "Bearer from-file\nsecond line ignored\n";
  }
  auto c = Parse(R"({"mcp_servers": {"h": {"url": "http://a:1/",
                     "headers": {"Authorization": "file:)" + path + R"("}}}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->mcp_servers[0].headers[0].second, "Bearer from-file");
  std::remove(path.c_str());
}

TEST(GatewayConfigTest, SplitsUpstreamUrls) {
  auto u = ParseUpstreamUrl("http://127.0.0.1:3001/mcp");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->base, "http://127.0.0.1:3001");
  EXPECT_EQ(u->path, "/mcp");
  u = ParseUpstreamUrl("https://example.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->base, "https://example.com:443");
  EXPECT_EQ(u->path, "/");
  u = ParseUpstreamUrl("http://[::1]:8080?x=1");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->path, "/?x=1");
  EXPECT_FALSE(ParseUpstreamUrl("unix:/tmp/x.sock").ok());
  EXPECT_FALSE(ParseUpstreamUrl("http:///mcp").ok());
}

// Upstream requests carry configured and caller-influenced header values
// (MCP-Protocol-Version): the client refuses any that could split a header.
TEST(UpstreamClientTest, RefusesHeaderInjection) {
  auto client = net::HttpClient::Create("http://127.0.0.1:1", {});
  ASSERT_TRUE(client.ok());
  net::HttpRequest req;
  req.method = "POST";
  req.target = "/mcp";
  req.headers = {{"MCP-Protocol-Version", "2025-06-18\r\nX-Evil: 1"}};
  auto sent = (*client)->Send(req, std::chrono::seconds(1));
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.status().code(), StatusCode::kInvalidArgument) << sent.status().ToString();
  req.headers = {{"Bad Name", "x"}};
  EXPECT_EQ((*client)->Send(req, std::chrono::seconds(1)).status().code(),
            StatusCode::kInvalidArgument);
  req.headers = {{"X-Nul", std::string("a\0b", 3)}};
  EXPECT_EQ((*client)->Send(req, std::chrono::seconds(1)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(UpstreamClientTest, ResponseHeaderLookupIgnoresCase) {
  net::HttpResponse r;
  r.headers = {{"Mcp-Session-Id", "abc"}, {"content-type", "text/event-stream"}};
  EXPECT_EQ(r.Header("mcp-session-id"), "abc");
  EXPECT_EQ(r.Header("Content-Type"), "text/event-stream");
  EXPECT_FALSE(r.Header("x-missing"));
}

}  // namespace
}  // namespace warden::gateway
