// Authorization conformance against Cedar's generated integration corpus
// (cedar-policy/cedar-integration-tests): every request of every test is
// parsed, authorized without a schema, and compared with Cedar's answer
// (decision, the set of reason ids, the set of erroring policy ids).
//
// The corpus is found at $WARDEN_CEDAR_CORPUS, else at
// $WARDEN_SOURCE_DIR/../shared/cedar-corpus; the test is skipped when absent.
// corpus-tests.tar.gz is unpacked once into the build tree and reused.
// WARDEN_CORPUS_SAMPLE=N runs only every Nth test file (for slow sanitizer builds).

#include <gtest/gtest.h>

#include "cedar/corpus_util.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "warden/cedar/authorizer.h"
#include "warden/cedar/entity_json.h"
#include "warden/cedar/parser.h"
#include "warden/cedar/policy_set.h"
#include "warden/core/json.h"

namespace warden::cedar {
namespace {

namespace fs = std::filesystem;
using testing::Env;
using testing::Join;
using testing::ReadFile;
using testing::StringSet;

// Disagreements accepted on purpose, as "<test file id>/<request description>",
// each with a comment saying why. Empty: Warden agrees with Cedar on the whole corpus.
const std::set<std::string>& AllowList() {
  static const std::set<std::string> kAllowed = {};
  return kAllowed;
}

struct Counts {
  size_t tests = 0;
  size_t requests = 0;
  size_t passed = 0;
  size_t failed = 0;
  size_t allowed_failures = 0;
  std::vector<std::string> failures;
};

void Note(Counts& c, const std::string& id, const std::string& desc, const std::string& why) {
  std::string key = id + "/" + desc;
  if (AllowList().count(key) != 0) {
    ++c.allowed_failures;
    return;
  }
  ++c.failed;
  c.failures.push_back(key + ": " + why);
}

void RunTest(const fs::path& root, const fs::path& test_file, Counts& c) {
  const std::string id = test_file.stem().string();
  JsonParseOptions limits;
  limits.max_bytes = 64u << 20;
  limits.max_depth = 512;
  std::string text;
  ReadFile(test_file, &text);
  Result<json::value> doc = ParseJson(text, limits);
  ASSERT_TRUE(doc.ok()) << id << ": " << doc.status().ToString();
  const json::object& obj = doc->as_object();
  const json::array& requests = obj.at("requests").as_array();
  c.requests += requests.size();
  ++c.tests;

  auto fail_all = [&](const std::string& why) {
    for (const json::value& r : requests) {
      Note(c, id, std::string(r.as_object().at("description").as_string()), why);
    }
  };
  std::string policy_text;
  if (!ReadFile(root / std::string(obj.at("policies").as_string()), &policy_text)) {
    return fail_all("cannot read policies");
  }
  Result<std::shared_ptr<const PolicySet>> policies = PolicySet::FromText(policy_text);
  if (!policies.ok()) return fail_all("policies: " + policies.status().ToString());
  std::string entities_text;
  if (!ReadFile(root / std::string(obj.at("entities").as_string()), &entities_text)) {
    return fail_all("cannot read entities");
  }
  EntityJsonOptions eopts;
  eopts.json = limits;
  Result<Entities> entities = ParseEntitiesJson(entities_text, eopts);
  if (!entities.ok()) return fail_all("entities: " + entities.status().ToString());

  for (const json::value& rv : requests) {
    const json::object& r = rv.as_object();
    const std::string desc(r.at("description").as_string());
    Request req;
    Result<EntityUid> p = EntityUidFromJson(r.at("principal"), "principal");
    Result<EntityUid> a = EntityUidFromJson(r.at("action"), "action");
    Result<EntityUid> res = EntityUidFromJson(r.at("resource"), "resource");
    Result<Record> ctx = ContextFromJson(r.at("context"));
    if (!p.ok() || !a.ok() || !res.ok() || !ctx.ok()) {
      Status s = !p.ok() ? p.status() : !a.ok() ? a.status() : !res.ok() ? res.status() : ctx.status();
      Note(c, id, desc, "request: " + s.ToString());
      continue;
    }
    req.principal = *p;
    req.action = *a;
    req.resource = *res;
    req.context = *ctx;
    Response got = IsAuthorized(**policies, req, *entities);

    const std::string want_decision(r.at("decision").as_string());
    std::set<std::string> want_reasons = StringSet(r.if_contains("reason"));
    std::set<std::string> want_errors = StringSet(r.if_contains("errors"));
    std::set<std::string> got_reasons(got.diagnostics.reasons.begin(),
                                      got.diagnostics.reasons.end());
    std::set<std::string> got_errors;
    for (const PolicyError& e : got.diagnostics.errors) got_errors.insert(e.policy_id);
    std::string why;
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
    if (why.empty()) {
      ++c.passed;
    } else {
      Note(c, id, desc, why);
    }
  }
}

TEST(CedarCorpusConformance, AuthorizationMatchesCedar) {
  std::string skip, why;
  fs::path root = testing::GeneratedCorpus(&skip, &why);
  if (!skip.empty()) GTEST_SKIP() << skip;
  ASSERT_FALSE(root.empty()) << why;

  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(root / "corpus-tests")) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".json") && !name.ends_with(".entities.json")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  size_t sample = 1;
  if (std::string s = Env("WARDEN_CORPUS_SAMPLE"); !s.empty()) {
    sample = std::max<size_t>(1, std::strtoull(s.c_str(), nullptr, 10));
    std::cout << "WARDEN_CORPUS_SAMPLE=" << sample << ": running every " << sample
              << "th test file only\n";
  }

  Counts counts;
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < files.size(); i += sample) {
    RunTest(root, files[i], counts);
    if (HasFatalFailure()) return;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::cout << "cedar corpus: " << counts.tests << " tests, " << counts.requests << " requests: "
            << counts.passed << " passed, " << counts.failed << " failed, "
            << counts.allowed_failures << " allow-listed (" << secs << " s)\n";
  for (const std::string& f : counts.failures) std::cout << "  DISAGREE " << f << "\n";
  if (sample == 1) {
    EXPECT_EQ(counts.tests, 7809u);
    EXPECT_EQ(counts.requests, 62472u);
  }
  EXPECT_EQ(counts.failed, 0u) << "see the DISAGREE lines above";
}

}  // namespace
}  // namespace warden::cedar
