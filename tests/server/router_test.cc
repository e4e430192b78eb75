#include "warden/server/router.h"

#include <gtest/gtest.h>

#include "server/internal/listen_address.h"
#include "server/internal/metrics.h"
#include "warden/server/errors.h"

namespace warden::server {
namespace {

Handler Echo(std::string tag) {
  return [tag](Request& r) {
    boost::json::object o{{"tag", tag}, {"route", r.route}};
    for (const auto& [k, v] : r.params) o[k] = v;
    return Response::Json(200, o);
  };
}

Request Make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = path;
  r.target = std::move(path);
  return r;
}

boost::json::object Body(const Response& r) { return boost::json::parse(r.body).as_object(); }

TEST(RouterTest, MatchesLiteralsAndParameters) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/v1/agents", Echo("list")).ok());
  ASSERT_TRUE(router.Add("GET", "/v1/agents/{name}", Echo("get")).ok());
  ASSERT_TRUE(router.Add("POST", "/v1/agents/{name}/suspend", Echo("suspend")).ok());
  ASSERT_TRUE(router.Add("GET", "/v1/audit/{x}", Echo("param")).ok());
  ASSERT_TRUE(router.Add("GET", "/v1/audit/verify", Echo("verify")).ok());

  auto r = Make("GET", "/v1/agents/bot-1");
  Response res = router.Dispatch(r);
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(Body(res)["tag"], "get");
  EXPECT_EQ(Body(res)["name"], "bot-1");
  EXPECT_EQ(r.route, "/v1/agents/{name}");

  auto s = Make("POST", "/v1/agents/a%2Db/suspend");
  res = router.Dispatch(s);
  EXPECT_EQ(Body(res)["name"], "a-b");

  // A literal segment beats a parameter whatever the registration order.
  auto v = Make("GET", "/v1/audit/verify");
  EXPECT_EQ(Body(router.Dispatch(v))["tag"], "verify");
}

TEST(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/v1/agents/{name}", Echo("get")).ok());
  ASSERT_TRUE(router.Add("PATCH", "/v1/agents/{name}", Echo("patch")).ok());

  auto missing = Make("GET", "/v1/nothing");
  Response res = router.Dispatch(missing);
  EXPECT_EQ(res.status, 404u);
  EXPECT_EQ(Body(res)["error"].as_object()["code"], "not_found");
  EXPECT_EQ(missing.route, "unmatched");

  auto trailing = Make("GET", "/v1/agents/");
  EXPECT_EQ(router.Dispatch(trailing).status, 404u);

  auto del = Make("DELETE", "/v1/agents/x");
  res = router.Dispatch(del);
  EXPECT_EQ(res.status, 405u);
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0].first, "Allow");
  EXPECT_EQ(res.headers[0].second, "GET, PATCH, HEAD");
}

TEST(RouterTest, HeadIsAnsweredByTheGetRoute) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/v1/agents/{name}", Echo("get")).ok());
  ASSERT_TRUE(router.Add("PATCH", "/v1/agents/{name}", Echo("patch")).ok());
  ASSERT_TRUE(router.Add("POST", "/v1/things", Echo("post")).ok());
  ASSERT_TRUE(router.Add("GET", "/v1/check", Echo("get-check")).ok());
  ASSERT_TRUE(router.Add("HEAD", "/v1/check", Echo("head-check")).ok());

  auto head = Make("HEAD", "/v1/agents/bot-1");
  Response res = router.Dispatch(head);
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(Body(res)["tag"], "get");
  EXPECT_EQ(Body(res)["name"], "bot-1");
  EXPECT_EQ(head.route, "/v1/agents/{name}");

  // A HEAD route of its own wins.
  auto own = Make("HEAD", "/v1/check");
  EXPECT_EQ(Body(router.Dispatch(own))["tag"], "head-check");

  // Without a GET route HEAD is not allowed; with one, Allow lists HEAD.
  auto no_get = Make("HEAD", "/v1/things");
  res = router.Dispatch(no_get);
  EXPECT_EQ(res.status, 405u);
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0].second, "POST");
  auto del = Make("DELETE", "/v1/agents/x");
  res = router.Dispatch(del);
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0].second, "GET, PATCH, HEAD");
}

TEST(RouterTest, RejectsBadPatternsAndDuplicates) {
  Router router;
  EXPECT_FALSE(router.Add("GET", "v1/agents", Echo("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/v1//agents", Echo("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/v1/{name", Echo("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/v1/{}", Echo("x")).ok());
  ASSERT_TRUE(router.Add("GET", "/v1/a", Echo("x")).ok());
  EXPECT_EQ(router.Add("GET", "/v1/a", Echo("y")).code(), StatusCode::kAlreadyExists);
}

TEST(RouterTest, PathAndQueryDecoding) {
  EXPECT_FALSE(SplitPath("/a%2Fb").ok());
  EXPECT_FALSE(SplitPath("/a%zz").ok());
  EXPECT_FALSE(SplitPath("/a%0").ok());
  EXPECT_FALSE(SplitPath("/a%00").ok());
  EXPECT_FALSE(SplitPath("relative").ok());
  EXPECT_EQ(SplitPath("/").value().size(), 0u);

  auto q = ParseQuery("status=active&owner=alice%40example.com&x=a+b&flag");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->at("owner"), "alice@example.com");
  EXPECT_EQ(q->at("x"), "a b");
  EXPECT_EQ(q->at("flag"), "");
  auto dup = ParseQuery("a=1&a=2");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().field(), "a");
  EXPECT_FALSE(ParseQuery("a=%G1").ok());
}

TEST(RouterTest, TailParameterTakesTheRestOfThePath) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/proxy/{service}/{path...}", Echo("proxy")).ok());
  ASSERT_TRUE(router.Add("GET", "/v1/check", Echo("check")).ok());
  ASSERT_TRUE(router.Add("POST", "/v1/check/{service}/{path...}", Echo("check-tail")).ok());
  ASSERT_TRUE(router.Add("POST", "/v1/check/special/{x}", Echo("fixed")).ok());

  auto deep = Make("GET", "/proxy/billing/v1/invoices/42");
  Response res = router.Dispatch(deep);
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(Body(res)["service"], "billing");
  EXPECT_EQ(Body(res)["path"], "v1/invoices/42");
  EXPECT_EQ(deep.route, "/proxy/{service}/{path...}");

  // Segments are decoded one by one; a trailing slash is kept; the service root is "".
  auto decoded = Make("GET", "/proxy/billing/a%20b/c%3Fd/");
  EXPECT_EQ(Body(router.Dispatch(decoded))["path"], "a b/c?d/");
  auto root = Make("GET", "/proxy/billing/");
  EXPECT_EQ(Body(router.Dispatch(root))["path"], "");

  // At least one segment after the prefix: no tail, no match.
  auto bare = Make("GET", "/proxy/billing");
  EXPECT_EQ(router.Dispatch(bare).status, 404u);

  // A fixed-length route wins over a tail with as many literals.
  auto fixed = Make("POST", "/v1/check/special/one");
  EXPECT_EQ(Body(router.Dispatch(fixed))["tag"], "fixed");
  auto two = Make("POST", "/v1/check/special/one/two");
  EXPECT_EQ(Body(router.Dispatch(two))["tag"], "check-tail");

  // Methods other than the registered ones are 405 with Allow.
  auto del = Make("DELETE", "/proxy/billing/x");
  res = router.Dispatch(del);
  EXPECT_EQ(res.status, 405u);
  EXPECT_EQ(res.headers.at(0).second, "GET, HEAD");
}

TEST(RouterTest, TailRefusesSmuggledStructure) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/proxy/{service}/{path...}", Echo("proxy")).ok());
  for (const char* path : {"/proxy/billing/../admin", "/proxy/billing/a/%2e%2e/admin",
                           "/proxy/billing/a/%2E%2E", "/proxy/billing/./a", "/proxy/billing/a/.",
                           "/proxy/billing/a//b", "/proxy/billing//"}) {
    auto r = Make("GET", path);
    Response res = router.Dispatch(r);
    EXPECT_EQ(res.status, 400u) << path;
    EXPECT_EQ(Body(res)["error"].as_object()["field"], "path") << path;
  }
  for (const char* path : {"/proxy/billing/a%2Fb", "/proxy/billing/a%2fb", "/proxy/billing/a%00",
                           "/proxy/billing/a%zz", "/proxy/billing/a%2"}) {
    auto r = Make("GET", path);
    EXPECT_EQ(router.Dispatch(r).status, 400u) << path;
  }
  // ".." as a fixed parameter is not a tail concern, and "..." is an ordinary name.
  auto dots = Make("GET", "/proxy/billing/.../x");
  EXPECT_EQ(Body(router.Dispatch(dots))["path"], ".../x");
}

TEST(RouterTest, TailPatternsAreChecked) {
  Router router;
  EXPECT_FALSE(router.Add("GET", "/proxy/{path...}/x", Echo("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/proxy/{...}", Echo("x")).ok());
  EXPECT_FALSE(router.Add("GET", "/proxy/{a.b}", Echo("x")).ok());
  EXPECT_TRUE(router.Add("GET", "/proxy/{rest...}", Echo("x")).ok());
  EXPECT_EQ(router.RouteFor("/proxy/a/b"), "/proxy/{rest...}");
  EXPECT_EQ(router.RouteFor("/proxy"), "unmatched");
}

TEST(ErrorsTest, OneMappingForEveryCode) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 409u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAborted), 409u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDeadlineExceeded), 504u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDataLoss), 500u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnimplemented), 501u);

  auto body = ErrorBody(InvalidArgument("must not be empty", "owner"));
  EXPECT_EQ(boost::json::serialize(body),
            R"({"error":{"code":"invalid_argument","message":"must not be empty","field":"owner"}})");
  EXPECT_FALSE(ErrorBody(NotFound("x"))["error"].as_object().contains("field"));
}

TEST(ListenAddressTest, ParsesIpLiteralsOnly) {
  auto a = internal::ParseListenAddress("127.0.0.1:8181");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 8181);
  EXPECT_TRUE(a->loopback);
  auto b = internal::ParseListenAddress("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->loopback);
  EXPECT_EQ(internal::FormatHostPort(b->host, 9), "[::1]:9");
  auto c = internal::ParseListenAddress("0.0.0.0:443");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->loopback);
  EXPECT_TRUE(internal::ParseListenAddress("localhost:1")->loopback);
  for (const char* bad : {"", "8181", "example.com:80", "1.2.3.4:65536", "1.2.3.4:-1", "::1:80",
                          "[::1]80", "1.2.3.4:", "1.2.3.4:8x"}) {
    auto r = internal::ParseListenAddress(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().field(), "listen");
    }
  }
}

TEST(MetricsTest, RendersPrometheusText) {
  internal::Metrics m;
  m.ObserveRequest("/v1/agents/{name}", "GET", 200, 0.003);
  m.ObserveRequest("/v1/agents/{name}", "GET", 200, 0.2);
  m.ObserveRequest("/v1/agents/{name}", "BREW", 405, 0.0001);
  m.StoreError();
  std::string text = m.Render();
  EXPECT_NE(text.find("warden_http_requests_total{route=\"/v1/agents/{name}\",method=\"GET\","
                      "code=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("method=\"other\",code=\"405\"} 1"), std::string::npos);
  EXPECT_NE(text.find("warden_http_request_duration_seconds_bucket{route=\"/v1/agents/{name}\","
                      "method=\"GET\",le=\"0.005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("le=\"0.25\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("warden_http_request_duration_seconds_count{route=\"/v1/agents/{name}\","
                      "method=\"GET\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("warden_store_errors_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE warden_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("warden_build_info{version=\""), std::string::npos);
}

}  // namespace
}  // namespace warden::server
