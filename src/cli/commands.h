// The `warden` command line: `warden <noun> <verb> [options]`, parsed with
// CLI11 and carried out over the HTTP API (or, for `serve` and
// `audit verify --db`, directly with the libraries). Exit codes: 0 success,
// 1 refused or failed, 2 usage error.
// Run is not reentrant across threads (it may install signal handlers).
#pragma once

#include <ostream>

namespace warden::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Parses argv (argv[0] is the program name) and runs the command. Results go
// to `out`, diagnostics ("warden: ...") to `err`. Returns the exit code.
int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace warden::cli
