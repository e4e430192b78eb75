// In-process checks of the command line: parsing, usage errors (exit 2) and
// failures that need no server (exit 1).
#include "cli/commands.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/context.h"

namespace warden::cli {
namespace {

struct Outcome {
  int code;
  std::string out, err;
};

Outcome RunArgs(std::vector<std::string> args) {
  args.insert(args.begin(), "warden");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = Run(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("WARDEN_TOKEN");
    unsetenv("WARDEN_SERVER");
  }
};

TEST_F(CommandsTest, VersionAndHelp) {
  auto r = RunArgs({"version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, std::string("warden ") + WARDEN_TEST_VERSION + "\n");
  r = RunArgs({"version", "--json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("\"version\""), std::string::npos);
  r = RunArgs({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("agent"), std::string::npos);
  r = RunArgs({"agent", "create", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("--expires"), std::string::npos);
}

TEST_F(CommandsTest, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"nosuch"},
      {"agent"},
      {"agent", "frobnicate"},
      {"agent", "show"},
      {"agent", "show", ""},
      {"agent", "create", "bot", "--expires", "tomorrow"},
      {"agent", "create", "bot", "--expires", "-5d"},
      {"agent", "create", "bot", "--unknown-flag"},
      {"agent", "list", "--status", "sleeping"},
      {"agent", "update", "bot"},
      {"agent", "update", "bot", "--selector", "a", "--clear-selectors"},
      {"audit", "tail", "--limit", "zero"},
      {"audit", "tail", "--limit", "0"},
      {"audit", "tail", "--after", "-1"},
      {"serve", "--tls-cert", "c.pem"},
      {"serve", "--max-body-bytes", "lots"},
  };
  for (const auto& args : cases) {
    auto r = RunArgs(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, kExitUsage) << joined << "\n" << r.err;
    EXPECT_TRUE(r.err.starts_with("warden: ")) << joined << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << joined;
  }
}

TEST_F(CommandsTest, BadExpiresNamesTheValue) {
  auto r = RunArgs({"agent", "create", "bot", "--expires", "soon"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("\"soon\" is neither a duration"), std::string::npos) << r.err;
}

TEST_F(CommandsTest, MissingTokenFailsBeforeConnecting) {
  auto dir = std::filesystem::temp_directory_path() / "warden_cli_no_token";
  std::filesystem::create_directories(dir);
  auto r = RunArgs({"--data", dir.string(), "agent", "list"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("no admin token"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

TEST_F(CommandsTest, TokenFromDataDirAndGlobalOptionsAfterSubcommand) {
  auto dir = std::filesystem::temp_directory_path() / "warden_cli_token";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "admin.token") << "wdn_admin_abc\n";
  GlobalOptions g;
  g.data_dir = dir.string();
  auto token = ResolveToken(g);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, "wdn_admin_abc");
  g.token = "explicit";
  EXPECT_EQ(*ResolveToken(g), "explicit");
  std::filesystem::remove_all(dir);

  // --server after the verb is accepted (fallthrough) and checked.
  auto r = RunArgs({"agent", "list", "--token", "t", "--server", "ftp://x"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("unsupported scheme"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(field: server)"), std::string::npos) << r.err;
}

TEST_F(CommandsTest, ServerDownIsExitOneWithHint) {
  auto r = RunArgs({"--server", "http://127.0.0.1:1", "--token", "wdn_admin_secret", "agent",
                    "show", "bot"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("is `warden serve` running?"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("wdn_admin_secret"), std::string::npos);
}

TEST_F(CommandsTest, VerifyDbRefusesMissingFile) {
  auto r = RunArgs({"audit", "verify", "--db", "/nonexistent/warden.db"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("no database file"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists("/nonexistent/warden.db"));
}

TEST(CheckExpiresTest, AcceptsDurationsAndTimes) {
  EXPECT_EQ(CheckExpires("30d"), "");
  EXPECT_EQ(CheckExpires("1h30m"), "");
  EXPECT_EQ(CheckExpires("2030-01-01T00:00:00Z"), "");
  EXPECT_EQ(CheckExpires("2030-01-01T02:00:00+02:00"), "");
  EXPECT_NE(CheckExpires(""), "");
  EXPECT_NE(CheckExpires("30"), "");
  EXPECT_NE(CheckExpires("2030-01-01"), "");
}

}  // namespace
}  // namespace warden::cli
