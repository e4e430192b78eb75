// Shared fixtures for grants tests: a temporary directory holding a SQLite
// store and the key directory, agents registered in it, and audit helpers.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "warden/audit/audit_log.h"
#include "warden/store/store.h"

namespace warden::grants::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "warden-grants-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<store::Store> OpenTestStore(const TempDir& dir) {
  auto s = store::OpenStore("sqlite:" + (dir.path() / "warden.db").string());
  if (!s.ok()) return nullptr;
  return std::move(*s);
}

// Every audit event, oldest first (empty on error, which the caller's
// expectations will then show).
inline std::vector<audit::Event> AllEvents(store::Store& s) {
  std::vector<audit::Event> out;
  Status st = s.Read([&](store::Transaction& txn) -> Status {
    auto events = audit::List(txn, 0, 100000);
    if (!events.ok()) return events.status();
    out = std::move(*events);
    return OkStatus();
  });
  if (!st.ok()) out.clear();
  return out;
}

// Kinds of the events whose details.grant is `grant_id`, oldest first.
inline std::vector<std::string> KindsFor(store::Store& s, const std::string& grant_id) {
  std::vector<std::string> kinds;
  for (const auto& e : AllEvents(s)) {
    const auto* g = e.details.if_contains("grant");
    if (g != nullptr && g->is_string() && g->as_string() == grant_id) kinds.push_back(e.kind);
  }
  return kinds;
}

}  // namespace warden::grants::testing
