// Finding and unpacking Cedar's conformance corpus for tests: the folder is
// $WARDEN_CEDAR_CORPUS, else $WARDEN_SOURCE_DIR/../shared/cedar-corpus; the
// generated corpus-tests.tar.gz is unpacked once into
// $WARDEN_BINARY_DIR/cedar-corpus-unpacked through a temporary folder and a
// rename, so tests running at the same time never see a partial tree.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <boost/json.hpp>

#include "warden/core/random.h"

namespace warden::cedar::testing {

inline std::filesystem::path CorpusDir() {
  if (const char* dir = std::getenv("WARDEN_CEDAR_CORPUS"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (const char* src = std::getenv("WARDEN_SOURCE_DIR"); src != nullptr && *src != '\0') {
    return std::filesystem::path(src) / ".." / "shared" / "cedar-corpus";
  }
  return {};
}

inline std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// The whole file into *out; false when it cannot be read.
inline bool ReadFile(const std::filesystem::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// The strings of a JSON array (a test's "reason" or "errors"), as a set.
inline std::set<std::string> StringSet(const boost::json::value* v) {
  std::set<std::string> out;
  if (v == nullptr || !v->is_array()) return out;
  for (const boost::json::value& e : v->as_array()) {
    if (e.is_string()) out.insert(std::string(e.as_string()));
  }
  return out;
}

// "[a, b]" for messages.
inline std::string Join(const std::set<std::string>& s) {
  std::string out = "[";
  for (const auto& x : s) out += (out.size() > 1 ? ", " : "") + x;
  return out + "]";
}

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The folder holding corpus-tests/ (unpacking `archive` when needed), or an
// empty path with *why set.
inline std::filesystem::path UnpackedGeneratedCorpus(const std::filesystem::path& archive,
                                                     std::string* why) {
  namespace fs = std::filesystem;
  const char* bin = std::getenv("WARDEN_BINARY_DIR");
  fs::path base = bin != nullptr && *bin != '\0' ? fs::path(bin) : fs::temp_directory_path();
  fs::path target = base / "cedar-corpus-unpacked";
  if (fs::is_directory(target / "corpus-tests")) return target;
  std::error_code ec;
  fs::path tmp = base / ("cedar-corpus-unpacking-" + RandomId("tmp"));
  fs::create_directories(tmp, ec);
  if (ec) {
    *why = "cannot create " + tmp.string() + ": " + ec.message();
    return {};
  }
  std::string cmd = "tar xzf " + ShellQuote(archive.string()) + " -C " + ShellQuote(tmp.string());
  if (std::system(cmd.c_str()) != 0) {
    fs::remove_all(tmp, ec);
    *why = "`" + cmd + "` failed";
    return {};
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    // Another test unpacked it first; use theirs.
    fs::remove_all(tmp, ec);
    if (!fs::is_directory(target / "corpus-tests")) {
      *why = "cannot rename into " + target.string();
      return {};
    }
  }
  return target;
}

// The unpacked generated corpus (the folder holding corpus-tests/). When the
// archive is absent, an empty path with *skip saying where it was looked for
// (the test should skip); when it is present but cannot be unpacked, an
// empty path with *error set (the test should fail).
inline std::filesystem::path GeneratedCorpus(std::string* skip, std::string* error) {
  const std::filesystem::path corpus = CorpusDir();
  const std::filesystem::path archive = corpus / "corpus-tests.tar.gz";
  if (corpus.empty() || !std::filesystem::exists(archive)) {
    *skip = "Cedar corpus not found (set WARDEN_CEDAR_CORPUS to the folder holding "
            "corpus-tests.tar.gz, or place it at $WARDEN_SOURCE_DIR/../shared/cedar-corpus; "
            "looked at '" + archive.string() + "')";
    return {};
  }
  return UnpackedGeneratedCorpus(archive, error);
}

}  // namespace warden::cedar::testing
