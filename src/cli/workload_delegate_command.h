// `warden workload delegate`: the delegating agent exchanges its grant for a
// narrower child grant of another agent (RFC 8693 token exchange at
// POST /v1/token). Private to the cli module; single-threaded like Run.
#pragma once

#include <functional>

#include "cli/context.h"

namespace warden::cli {

// Registers `warden workload delegate` under the existing `workload`
// subcommand of `app`; it sets `action` when chosen.
void AddWorkloadDelegateCommand(CLI::App& app, Context& ctx, std::function<int()>& action);

}  // namespace warden::cli
