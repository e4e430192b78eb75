// Conformance on Cedar's 22 hand-written integration tests (74 requests) in
// tests/{decimal,example_use_cases,ip,multi}/ of the corpus. Unlike the generated
// corpus these need schema-based parsing: entity attributes and context values
// such as "123.123.123.123" are ipaddr values only because the schema says so.
// For each test: the schema, the policies and the entities are parsed (entities
// through the schema), `shouldValidate` is compared with strict validation, and
// every request is authorized and compared (decision, set of reason ids, set of
// erroring policy ids). The corpus is found at $WARDEN_CEDAR_CORPUS, else
// $WARDEN_SOURCE_DIR/../shared/cedar-corpus; the test is skipped when absent.

#include <gtest/gtest.h>

#include "cedar/corpus_util.h"

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
#include "warden/cedar/schema.h"
#include "warden/cedar/schema_json.h"
#include "warden/cedar/validator.h"
#include "warden/core/json.h"

namespace warden::cedar {
namespace {

namespace fs = std::filesystem;
using testing::Env;
using testing::Join;
using testing::ReadFile;
using testing::StringSet;

EntityUid Uid(const json::value& v) {
  return EntityUid(EntityType(std::string(v.at("type").as_string())),
                   std::string(v.at("id").as_string()));
}

TEST(HandwrittenConformanceTest, AllRequestsMatchCedar) {
  fs::path root = testing::CorpusDir();
  if (root.empty() || !fs::is_directory(root / "tests")) {
    GTEST_SKIP() << "Cedar corpus not found (set WARDEN_CEDAR_CORPUS or place it at "
                    "$WARDEN_SOURCE_DIR/../shared/cedar-corpus)";
  }
  std::vector<fs::path> files;
  for (const char* dir : {"decimal", "example_use_cases", "ip", "multi"}) {
    for (const auto& e : fs::directory_iterator(root / "tests" / dir)) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());

  size_t tests = 0, requests = 0, passed = 0, validation_agree = 0;
  for (const auto& file : files) {
    std::string id = fs::relative(file, root).string();
    SCOPED_TRACE(id);
    std::string text, schema_text, policy_text, entities_text;
    ASSERT_TRUE(ReadFile(file, &text));
    auto doc = ParseJson(text);
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    const json::object& t = doc->as_object();
    ASSERT_TRUE(ReadFile(root / std::string(t.at("schema").as_string()), &schema_text));
    ASSERT_TRUE(ReadFile(root / std::string(t.at("policies").as_string()), &policy_text));
    ASSERT_TRUE(ReadFile(root / std::string(t.at("entities").as_string()), &entities_text));
    ++tests;

    auto schema =
        Schema::ParseText(schema_text, SchemaSource{std::string(t.at("schema").as_string())});
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    auto ast = ParsePolicies(policy_text, std::string(t.at("policies").as_string()));
    ASSERT_TRUE(ast.ok()) << ast.status().ToString();
    ValidationResult vr = ValidatePolicies(*schema, *ast);
    bool should_validate = t.at("shouldValidate").as_bool();
    EXPECT_EQ(vr.ok(), should_validate) << vr.ErrorText();
    if (vr.ok() == should_validate) ++validation_agree;

    auto policies = PolicySet::Create(std::move(ast).value());
    ASSERT_TRUE(policies.ok()) << policies.status().ToString();
    auto entities = ParseEntitiesWithSchema(entities_text, *schema);
    ASSERT_TRUE(entities.ok()) << entities.status().ToString();

    for (const auto& rv : t.at("requests").as_array()) {
      const json::object& r = rv.as_object();
      std::string desc(r.at("description").as_string());
      SCOPED_TRACE(desc);
      ++requests;
      Request req;
      req.principal = Uid(r.at("principal"));
      req.action = Uid(r.at("action"));
      req.resource = Uid(r.at("resource"));
      SchemaUid action{std::string(req.action.type().name()), std::string(req.action.id())};
      auto ctx_json = ExplicitContextJson(r.at("context"), *schema, action);
      ASSERT_TRUE(ctx_json.ok()) << ctx_json.status().ToString();
      auto ctx = ContextFromJson(*ctx_json);
      ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
      req.context = *ctx;
      EXPECT_TRUE(ValidateRequest(*schema, req).ok()) << ValidateRequest(*schema, req).ToString();

      Response resp = IsAuthorized(**policies, req, *entities);
      std::string want_decision(r.at("decision").as_string());
      std::set<std::string> want_reasons = StringSet(&r.at("reason"));
      std::set<std::string> want_errors = StringSet(&r.at("errors"));
      std::set<std::string> got_reasons(resp.diagnostics.reasons.begin(),
                                        resp.diagnostics.reasons.end());
      std::set<std::string> got_errors;
      for (const auto& e : resp.diagnostics.errors) got_errors.insert(e.policy_id);
      bool ok = DecisionName(resp.decision) == want_decision && got_reasons == want_reasons &&
                got_errors == want_errors;
      EXPECT_TRUE(ok) << "expected " << want_decision << " reasons " << Join(want_reasons)
                      << " errors " << Join(want_errors) << "; got " << DecisionName(resp.decision)
                      << " reasons " << Join(got_reasons) << " errors " << Join(got_errors) << " "
                      << ResponseToJson(resp);
      if (ok) ++passed;
    }
  }
  std::cout << "hand-written conformance: " << tests << " tests, " << requests << " requests, "
            << passed << " passed; shouldValidate agrees on " << validation_agree << "/" << tests
            << "\n";
  EXPECT_EQ(tests, 22u);
  EXPECT_EQ(requests, 74u);
  EXPECT_EQ(passed, requests);
}

}  // namespace
}  // namespace warden::cedar
