// Schema migrations: one ordered list of portable SQL scripts, applied by
// OpenStore inside one transaction. The version reached is recorded in the
// table schema_migrations(version, applied_at). Immutable; thread-safe.
#pragma once

#include <string_view>
#include <vector>

namespace warden::store {

struct Migration {
  int version;                   // 1, 2, 3, ... without gaps
  std::string_view description;  // one line, for logs
  std::string_view sql;          // statements separated by ';', portable SQL
};

// Every migration this binary knows, in ascending version order.
const std::vector<Migration>& Migrations();

// The highest version in Migrations(): a database above it is refused.
int LatestSchemaVersion();

}  // namespace warden::store
