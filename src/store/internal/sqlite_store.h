// The SQLite backend of Store: WAL, synchronous=FULL, one writer thread doing
// group commit, a pool of read-only connections. Private to the store module.
// Thread-safety: as Store.
#pragma once

#include <memory>
#include <string_view>

#include "warden/core/status.h"
#include "warden/store/store.h"

namespace warden::store::internal {

// `path` is a file path or ":memory:" (one private in-memory database).
Result<std::unique_ptr<Store>> OpenSqliteStore(std::string_view path, const StoreOptions& options);

}  // namespace warden::store::internal
