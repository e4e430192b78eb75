// Parses every policy file of Cedar's conformance corpus (the hand-written
// tests and the generated corpus-tests.tar.gz, unpacked under the build dir)
// and checks the formatter round trip on each. The corpus lives outside the
// repository: $WARDEN_CEDAR_CORPUS or $WARDEN_SOURCE_DIR/../shared/cedar-corpus;
// the test is skipped when neither exists.
#include <gtest/gtest.h>

#include "cedar/corpus_util.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "warden/cedar/formatter.h"
#include "warden/cedar/parser.h"

namespace warden::cedar {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}



std::vector<fs::path> CedarFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".cedar") {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Value of the first `"key": "value"` in a JSON text (no escapes expected).
std::string StringField(const std::string& json, const std::string& key) {
  const size_t k = json.find("\"" + key + "\"");
  if (k == std::string::npos) return {};
  const size_t open = json.find('"', json.find(':', k) + 1);
  const size_t close = open == std::string::npos ? open : json.find('"', open + 1);
  if (close == std::string::npos) return {};
  return json.substr(open + 1, close - open - 1);
}

// N for every string literal "policyN" in a JSON text.
std::vector<size_t> PolicyIdNumbers(const std::string& json) {
  std::vector<size_t> out;
  const std::string prefix = "\"policy";
  for (size_t p = json.find(prefix); p != std::string::npos; p = json.find(prefix, p + 1)) {
    size_t i = p + prefix.size();
    size_t n = 0;
    size_t digits = 0;
    while (i < json.size() && json[i] >= '0' && json[i] <= '9' && digits < 9) {
      n = n * 10 + static_cast<size_t>(json[i] - '0');
      ++i;
      ++digits;
    }
    if (digits > 0 && i < json.size() && json[i] == '"') out.push_back(n);
  }
  return out;
}

// Parses and round-trips one file; returns the number of policies (-1 on failure).
int CheckFile(const fs::path& path) {
  const std::string text = ReadFile(path);
  auto parsed = ParsePolicies(text, path.filename().string());
  if (!parsed.ok()) {
    ADD_FAILURE() << path << ": " << parsed.status().message();
    return -1;
  }
  const std::string formatted = FormatPolicies(*parsed);
  auto again = ParsePolicies(formatted, "formatted");
  if (!again.ok() || again->policies.size() != parsed->policies.size()) {
    ADD_FAILURE() << path << ": formatted text does not re-parse:\n" << formatted;
    return -1;
  }
  for (size_t i = 0; i < parsed->policies.size(); ++i) {
    if (!Equal(parsed->policies[i], again->policies[i])) {
      ADD_FAILURE() << path << ": round trip changed policy " << i << ":\n" << formatted;
      return -1;
    }
  }
  return static_cast<int>(parsed->policies.size());
}

TEST(SyntaxCorpusTest, HandWrittenTests) {
  const fs::path corpus = testing::CorpusDir();
  if (corpus.empty() || !fs::exists(corpus / "tests")) {
    GTEST_SKIP() << "Cedar corpus not found (set WARDEN_CEDAR_CORPUS or place it at "
                    "$WARDEN_SOURCE_DIR/../shared/cedar-corpus)";
  }
  const auto files = CedarFiles(corpus / "tests");
  ASSERT_FALSE(files.empty());
  int parsed = 0;
  for (const auto& file : files) {
    if (CheckFile(file) >= 0) ++parsed;
  }
  EXPECT_EQ(parsed, static_cast<int>(files.size()));
  std::printf("parsed %d/%zu hand-written corpus policy files\n", parsed, files.size());

  // Every policy id a test expects (policyN in reasons/errors) must exist in
  // the file it names: the ids follow text order.
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(corpus / "tests", ec)) {
    if (entry.path().extension() != ".json") continue;
    const std::string json = ReadFile(entry.path());
    const std::string policies_file = StringField(json, "policies");
    if (policies_file.empty()) continue;
    auto set = ParsePolicies(ReadFile(corpus / policies_file));
    ASSERT_TRUE(set.ok()) << policies_file;
    for (size_t id : PolicyIdNumbers(json)) {
      EXPECT_LT(id, set->policies.size()) << entry.path();
    }
  }
}

TEST(SyntaxCorpusTest, GeneratedCorpus) {
  std::string skip, why;
  const fs::path scratch = testing::GeneratedCorpus(&skip, &why);
  if (!skip.empty()) GTEST_SKIP() << skip;
  ASSERT_FALSE(scratch.empty()) << why;
  const auto files = CedarFiles(scratch);
  ASSERT_GT(files.size(), 1000u);
  int parsed = 0;
  int failed = 0;
  for (const auto& file : files) {
    const int count = CheckFile(file);
    if (count >= 0) {
      ++parsed;
      EXPECT_EQ(count, 1) << file << ": each generated test has one policy";
    } else if (++failed > 50) {
      break;  // enough to diagnose; avoid a flood of failures
    }
  }
  EXPECT_EQ(parsed, static_cast<int>(files.size()));
  std::printf("parsed %d/%zu generated corpus policy files\n", parsed, files.size());
}

}  // namespace
}  // namespace warden::cedar
