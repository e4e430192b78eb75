// The agent's side of the grant API, shared by `warden workload grant|complete`
// and `warden workload mcp`: calls authenticated by a fresh key-bound SVID from
// the Workload API socket plus a DPoP proof, and obtaining a grant for an
// intent (waiting while a human decides). Private to the cli module.
// Thread-safety: one AgentCaller per thread; the key may be shared.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cli/context.h"
#include "warden/core/json.h"
#include "warden/core/status.h"
#include "warden/crypto/signing_key.h"

namespace warden::cli {

inline constexpr std::chrono::seconds kDefaultGrantWait = std::chrono::minutes(5);

// Calls the Warden API as the workload: each call fetches a fresh SVID bound
// to the key and signs a DPoP proof for exactly that method and URL, so the
// SVID is useless to anyone without the key.
class AgentCaller {
 public:
  // The key from args.key_file. Errors: the key file's (NotFound,
  // FailedPrecondition for loose permissions), InvalidArgument for --server.
  static Result<AgentCaller> Create(const Context& ctx, const WorkloadArgs& args);
  // With a key held in memory. `ctx` and `args` must outlive the caller.
  // stop_on_interrupt: SIGINT/SIGTERM end a call in progress (see HttpClient).
  static Result<AgentCaller> Create(const Context& ctx, const WorkloadArgs& args,
                                    std::shared_ptr<const crypto::SigningKey> key,
                                    bool stop_on_interrupt = true);

  // `method target` at --server with `body`: the parsed JSON of a 2xx
  // answer, else the Status the server (or the transport) gave.
  Result<json::value> Call(std::string_view method, const std::string& target,
                           const json::value* body,
                           std::chrono::milliseconds timeout = kDefaultTimeout);

  bool interrupted() const { return api_.interrupted(); }
  const crypto::SigningKey& key() const { return *key_; }

 private:
  AgentCaller(const Context& ctx, const WorkloadArgs& args,
              std::shared_ptr<const crypto::SigningKey> key, ApiClient api, std::string base)
      : ctx_(ctx),
        args_(args),
        key_(std::move(key)),
        api_(std::move(api)),
        base_(std::move(base)) {}

  const Context& ctx_;
  const WorkloadArgs& args_;
  std::shared_ptr<const crypto::SigningKey> key_;
  ApiClient api_;
  std::string base_;
};

// The intent JSON in `path` (parsed with the core limits). NotFound when
// unreadable; InvalidArgument (context: the path) when malformed.
Result<json::value> ReadIntentFile(const std::string& path);

// Declares `intent` (POST /v1/grants) and, while the grant waits for a human,
// long-polls it until decided or `wait` has passed; progress lines go to
// ctx.err. The server's grant JSON ("status" "active", "token", "id",
// "expires_at", ...) on success; the server's Status when refused;
// DeadlineExceeded naming the approval ("still waiting for approval ...")
// when `wait` ends first, after storing the last (pending) answer in
// `pending` when non-null.
Result<json::value> ObtainGrant(const Context& ctx, AgentCaller& caller, const json::value& intent,
                                std::chrono::seconds wait, json::value* pending = nullptr);

// Registers `warden workload mcp` (workload_mcp_command.cc) under the
// existing `workload` subcommand of `app`; it sets `action` when chosen.
void AddWorkloadMcpCommand(CLI::App& app, Context& ctx, std::function<int()>& action);

}  // namespace warden::cli
