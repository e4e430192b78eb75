#include "warden/server/options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace warden::server {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-config-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& text) {
    std::string path = dir_ + "/warden.json";
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }

  Status LoadError(const std::string& text) { return LoadConfig(Write(text)).status(); }

  std::string dir_;
};

TEST_F(ConfigTest, EveryKeyIsRead) {
  auto o = LoadConfig(Write(R"({
    "data_dir": "/var/lib/warden", "listen": "0.0.0.0:8443", "trust_domain": "example.org",
    "tls_cert": "/etc/warden/cert.pem", "tls_key": "/etc/warden/key.pem",
    "insecure_listen": false, "max_body_bytes": 65536, "store_url": "sqlite:/tmp/w.db",
    "agent_max_lifetime": "30d", "environments": ["dev", "prod"], "log_level": "debug",
    "read_timeout": "15s", "shutdown_timeout": "5s", "threads": 4, "max_long_poll": "2m",
    "auth_failure_events_per_minute": 5, "handler_threads": 0, "housekeeping_interval": "30s"})"));
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->data_dir, "/var/lib/warden");
  EXPECT_EQ(o->listen, "0.0.0.0:8443");
  EXPECT_EQ(o->trust_domain, "example.org");
  EXPECT_EQ(o->tls_key, "/etc/warden/key.pem");
  EXPECT_EQ(o->max_body_bytes, 65536u);
  EXPECT_EQ(o->store_url, "sqlite:/tmp/w.db");
  EXPECT_EQ(o->agent_max_lifetime, std::chrono::hours(24 * 30));
  EXPECT_EQ(o->environments, (std::vector<std::string>{"dev", "prod"}));
  EXPECT_EQ(o->log_level, "debug");
  EXPECT_EQ(o->read_timeout, std::chrono::seconds(15));
  EXPECT_EQ(o->shutdown_timeout, std::chrono::seconds(5));
  EXPECT_EQ(o->threads, 4);
  EXPECT_EQ(o->handler_threads, 0);
  EXPECT_EQ(o->housekeeping_interval, std::chrono::seconds(30));
  EXPECT_EQ(o->max_long_poll, std::chrono::seconds(120));
  EXPECT_EQ(o->auth_failure_events_per_minute, 5);
  EXPECT_EQ(o->config_file, dir_ + "/warden.json");
}

TEST_F(ConfigTest, EmptyObjectGivesDefaults) {
  auto o = LoadConfig(Write("{}"));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->data_dir, "./.warden");
  EXPECT_EQ(o->listen, "127.0.0.1:8181");
  EXPECT_EQ(o->max_body_bytes, 1u << 20);
  EXPECT_EQ(EffectiveStoreUrl(*o), "sqlite:./.warden/warden.db");
}

TEST_F(ConfigTest, PreciseErrors) {
  struct Case {
    const char* json;
    const char* field;
  };
  for (const Case& c : std::initializer_list<Case>{
           {R"({"listen": "127.0.0.1:8181", "lisen": "x"})", "lisen"},
           {R"({"threads": "2"})", "threads"},
           {R"({"threads": 0})", "threads"},
           {R"({"handler_threads": 257})", "handler_threads"},
           {R"({"handler_threads": -1})", "handler_threads"},
           {R"({"housekeeping_interval": "0s"})", "housekeeping_interval"},
           {R"({"housekeeping_interval": "2h"})", "housekeeping_interval"},
           {R"({"insecure_listen": "yes"})", "insecure_listen"},
           {R"({"max_body_bytes": 10})", "max_body_bytes"},
           {R"({"max_body_bytes": 1.5})", "max_body_bytes"},
           {R"({"environments": ["dev", 3]})", "environments[1]"},
           {R"({"environments": ["dev", "dev"]})", "environments[0]"},
           {R"({"environments": ["Dev"]})", "environments[0]"},
           {R"({"agent_max_lifetime": "forever"})", "agent_max_lifetime"},
           {R"({"agent_max_lifetime": 30})", "agent_max_lifetime"},
           {R"({"listen": "example.com:80"})", "listen"},
           {R"({"trust_domain": "Bad Domain"})", "trust_domain"},
           {R"({"tls_cert": "/c.pem"})", "tls_key"},
           {R"({"log_level": "loud"})", "log_level"},
           {R"({"max_long_poll": "1h"})", "max_long_poll"},
       }) {
    Status st = LoadError(c.json);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_EQ(st.field(), c.field) << c.json << " -> " << st.ToString();
    EXPECT_NE(st.message().find("warden.json"), std::string::npos) << st.ToString();
  }
  EXPECT_EQ(LoadError("{\"a\": 1,}").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadError("[]").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadError(R"({"threads": 2, "threads": 3})").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadConfig(dir_ + "/missing.json").status().code(), StatusCode::kNotFound);
}

TEST(ValidateServeOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateServeOptions(ServeOptions{}).ok());
  ServeOptions o;
  o.data_dir = "";
  EXPECT_EQ(ValidateServeOptions(o).field(), "data_dir");
}

}  // namespace
}  // namespace warden::server
