// Shared fixtures for grants tests: a temporary directory holding a SQLite
// store and the key directory, agents registered in it, and audit helpers.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "identity/test_util.h"
#include "warden/audit/audit_log.h"
#include "warden/store/store.h"

namespace warden::grants::testing {

// The temporary directory, store and audit reader shared with the identity tests.
using identity::testing::AllEvents;
using identity::testing::OpenTestStore;
using identity::testing::TempDir;

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
