// Shared fixtures for approvals tests: a temporary directory, a SQLite store
// inside it, and readers for the audit log.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "identity/test_util.h"
#include "warden/audit/audit_log.h"
#include "warden/store/store.h"

namespace warden::approvals::testing {

// The temporary directory, store and audit reader shared with the identity tests.
using identity::testing::AllEvents;
using identity::testing::OpenTestStore;
using identity::testing::TempDir;

inline std::vector<audit::Event> EventsOfKind(store::Store& s, std::string_view kind) {
  std::vector<audit::Event> out;
  for (auto& e : AllEvents(s)) {
    if (e.kind == kind) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace warden::approvals::testing
