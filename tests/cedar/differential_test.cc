// Differential test against the reference Cedar engine: differential/
// differential.js generates seeded random policy sets, entity graphs and
// requests and decides them with @cedar-policy/cedar-wasm; every case is then
// decided by Warden and compared (decision, set of reasons, set of erroring
// policy ids). Skipped when node or the npm package is missing.
//
// Environment: WARDEN_SOURCE_DIR (required, set by ctest); optional
// WARDEN_DIFF_SEED, WARDEN_DIFF_SETS, WARDEN_DIFF_REQUESTS to widen the search.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "warden/cedar/authorizer.h"
#include "warden/cedar/entity_json.h"
#include "warden/cedar/policy_set.h"
#include "warden/core/json.h"

namespace warden::cedar {
namespace {

namespace fs = std::filesystem;

std::string Env(const char* name, std::string fallback = {}) {
  const char* v = std::getenv(name);
  return v == nullptr || *v == '\0' ? fallback : std::string(v);
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Only decimal digits, so the values can go on a command line unquoted.
bool IsNumber(const std::string& s) {
  return !s.empty() && s.size() < 12 && s.find_first_not_of("0123456789") == std::string::npos;
}

std::set<std::string> StringSet(const json::value* v) {
  std::set<std::string> out;
  if (v == nullptr || !v->is_array()) return out;
  for (const json::value& e : v->as_array()) {
    if (e.is_string()) out.insert(std::string(e.as_string()));
  }
  return out;
}

std::string Join(const std::set<std::string>& s) {
  std::string out = "[";
  for (const std::string& e : s) out += (out.size() > 1 ? "," : "") + e;
  return out + "]";
}

TEST(CedarDifferential, AgreesWithReferenceEngine) {
  const std::string source = Env("WARDEN_SOURCE_DIR");
  if (source.empty()) GTEST_SKIP() << "WARDEN_SOURCE_DIR is not set (run through ctest)";
  const fs::path script = fs::path(source) / "tests" / "cedar" / "differential" / "differential.js";
  const fs::path package = fs::path(source) / "node_modules" / "@cedar-policy" / "cedar-wasm" / "nodejs";
  ASSERT_TRUE(fs::exists(script)) << script;
  if (std::system("command -v node >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "node is not on PATH; the differential test needs Node.js to run the "
                    "reference engine";
  }
  if (!fs::exists(package / "cedar_wasm.js")) {
    GTEST_SKIP() << "@cedar-policy/cedar-wasm is not installed at " << package.string()
                 << " (run npm ci in the source tree)";
  }

  const std::string seed = Env("WARDEN_DIFF_SEED", "20241121");
  const std::string sets = Env("WARDEN_DIFF_SETS", "150");
  const std::string requests = Env("WARDEN_DIFF_REQUESTS", "20");
  ASSERT_TRUE(IsNumber(seed) && IsNumber(sets) && IsNumber(requests))
      << "WARDEN_DIFF_SEED/SETS/REQUESTS must be decimal numbers";

  const fs::path dir = fs::path(Env("WARDEN_BINARY_DIR", fs::temp_directory_path().string()));
  const fs::path out = dir / ("cedar-differential-" + seed + ".jsonl");
  const fs::path log = dir / ("cedar-differential-" + seed + ".log");
  const std::string cmd = "WARDEN_SOURCE_DIR=" + ShellQuote(source) + " node " +
                          ShellQuote(script.string()) + " " + seed + " " + ShellQuote(out.string()) +
                          " " + sets + " " + requests + " 2>" + ShellQuote(log.string());
  const int rc = std::system(cmd.c_str());
  std::string log_text;
  {
    std::ifstream in(log);
    std::ostringstream ss;
    ss << in.rdbuf();
    log_text = ss.str();
  }
  std::cout << log_text;
  ASSERT_EQ(rc, 0) << "`" << cmd << "` failed:\n" << log_text;

  std::ifstream in(out);
  ASSERT_TRUE(in) << "cannot read " << out;
  JsonParseOptions limits;
  limits.max_bytes = 16u << 20;
  limits.max_depth = 128;

  size_t cases = 0, agreed = 0;
  std::vector<std::string> disagreements;
  // Consecutive cases of one set share its policies and entities: compile once.
  std::string cached_policies;
  std::string cached_entities;
  Result<std::shared_ptr<const PolicySet>> policies = InvalidArgument("none yet");
  Result<Entities> entities = InvalidArgument("none yet");

  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Result<json::value> doc = ParseJson(line, limits);
    ASSERT_TRUE(doc.ok() && doc->is_object()) << "case line " << cases + 1 << ": "
                                              << doc.status().ToString();
    const json::object& c = doc->as_object();
    ++cases;
    const std::string where = "seed " + json::serialize(c.at("seed")) + " set " +
                              json::serialize(c.at("set")) + " case " + json::serialize(c.at("case"));
    const std::string policy_text(c.at("policies").as_string());
    if (policy_text != cached_policies || cases == 1) {
      cached_policies = policy_text;
      policies = PolicySet::FromText(policy_text);
    }
    const std::string entities_text = json::serialize(c.at("entities"));
    if (entities_text != cached_entities || cases == 1) {
      cached_entities = entities_text;
      entities = EntitiesFromJson(c.at("entities"));
    }
    const json::object& expected = c.at("expected").as_object();
    const std::string want_decision(expected.at("decision").as_string());
    const std::set<std::string> want_reasons = StringSet(expected.if_contains("reasons"));
    const std::set<std::string> want_errors = StringSet(expected.if_contains("errors"));

    std::string why;
    if (!policies.ok()) {
      why = "policies: " + policies.status().ToString();
    } else if (!entities.ok()) {
      why = "entities: " + entities.status().ToString();
    } else {
      const json::object& r = c.at("request").as_object();
      Result<EntityUid> p = EntityUidFromJson(r.at("principal"), "principal");
      Result<EntityUid> a = EntityUidFromJson(r.at("action"), "action");
      Result<EntityUid> res = EntityUidFromJson(r.at("resource"), "resource");
      Result<Record> ctx = ContextFromJson(r.at("context"));
      if (!p.ok() || !a.ok() || !res.ok() || !ctx.ok()) {
        Status s = !p.ok() ? p.status() : !a.ok() ? a.status() : !res.ok() ? res.status() : ctx.status();
        why = "request: " + s.ToString();
      } else {
        Response got = IsAuthorized(**policies, Request{*p, *a, *res, *ctx}, *entities);
        std::set<std::string> got_reasons(got.diagnostics.reasons.begin(), got.diagnostics.reasons.end());
        std::set<std::string> got_errors;
        for (const PolicyError& e : got.diagnostics.errors) got_errors.insert(e.policy_id);
        if (DecisionName(got.decision) != want_decision) {
          why += "decision " + std::string(DecisionName(got.decision)) + " want " + want_decision + "; ";
        }
        if (got_reasons != want_reasons) {
          why += "reasons " + Join(got_reasons) + " want " + Join(want_reasons) + "; ";
        }
        if (got_errors != want_errors) {
          why += "errors " + Join(got_errors) + " want " + Join(want_errors) + "; ";
          for (const PolicyError& e : got.diagnostics.errors) why += e.policy_id + ": " + e.message + "; ";
        }
      }
    }
    if (why.empty()) {
      ++agreed;
    } else {
      disagreements.push_back(where + ": " + why + "\n    policies:\n" + policy_text +
                              "    request: " + json::serialize(c.at("request")));
    }
  }

  std::cout << "cedar differential: seed " << seed << ": " << cases << " cases, " << agreed
            << " agree, " << disagreements.size() << " disagree\n";
  for (const std::string& d : disagreements) std::cout << "  DISAGREE " << d << "\n";
  EXPECT_GT(cases, 0u) << "the generator produced no cases";
  EXPECT_TRUE(disagreements.empty()) << "see the DISAGREE lines above; the cases are in " << out;
  if (disagreements.empty()) {
    // Kept only when something disagrees, to reproduce it.
    std::error_code ec;
    in.close();
    fs::remove(out, ec);
    fs::remove(log, ec);
  }
}

}  // namespace
}  // namespace warden::cedar
