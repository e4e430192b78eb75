// Shared fixtures for identity tests: a temporary directory and a SQLite
// store inside it.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "warden/audit/audit_log.h"
#include "warden/store/store.h"

namespace warden::identity::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "warden-test-XXXXXX").string();
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

// A migrated SQLite store in `dir`, or nullptr.
inline std::unique_ptr<store::Store> OpenTestStore(const TempDir& dir) {
  if (dir.path().empty()) return nullptr;
  auto s = store::OpenStore("sqlite:" + (dir.path() / "warden.db").string());
  if (!s.ok()) return nullptr;
  return std::move(*s);
}

// Every audit event, oldest first (empty on error, which the caller's
// expectations will then show).
inline std::vector<audit::Event> AllEvents(store::Store& s) {
  std::vector<audit::Event> out;
  Status st = s.Read([&](store::Transaction& txn) -> Status {
    auto events = audit::List(txn, 0, 10000);
    if (!events.ok()) return events.status();
    out = std::move(*events);
    return OkStatus();
  });
  if (!st.ok()) out.clear();
  return out;
}

}  // namespace warden::identity::testing
