// Shared state of one `warden` invocation (global options, output streams)
// and the command implementations that commands.cc dispatches to.
// Private to the cli module; one Context per invocation, single-threaded.
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/api_client.h"

namespace CLI {
class App;
class Validator;
}
namespace warden::crypto {
class SigningKey;
}
#include "warden/core/status.h"

namespace warden::cli {

inline constexpr const char* kDefaultServer = "http://127.0.0.1:8181";
inline constexpr const char* kDefaultDataDir = "./.warden";

struct GlobalOptions {
  std::string server = kDefaultServer;  // --server / WARDEN_SERVER
  std::string token;                    // --token / WARDEN_TOKEN; never printed
  std::string data_dir = kDefaultDataDir;
  bool data_dir_given = false;          // --data was passed explicitly
  std::string cacert;                   // --cacert
  bool json = false;                    // --json
};

struct Context {
  GlobalOptions global;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;

  // Prints "warden: message (field: f)" to err and returns kExitFailed.
  int Fail(const Status& status) const;
};

// The admin token: --token or WARDEN_TOKEN, else the first line of
// DATA/admin.token. Unauthenticated (naming the places looked at) when none.
Result<std::string> ResolveToken(const GlobalOptions& global);

// Adds the --json flag every read command takes.
void AddJsonFlag(CLI::App* sub, GlobalOptions& global);

// Refuses an empty argument ("" passes CLI11's required()).
CLI::Validator NonEmpty();

// An API client for --server with the resolved token.
Result<ApiClient> Connect(const GlobalOptions& global, bool stop_on_interrupt = false);

struct AgentArgs {
  std::string name;
  std::string owner, purpose, environment, expires;
  std::vector<std::string> selectors;
  bool clear_selectors = false;
  std::string status_filter;
  std::string reason;
};

// Validates --expires: empty when `text` is a duration ("30d", sent as
// expires_in) or an RFC 3339 time (sent as expires_at), else the message of
// the usage error.
std::string CheckExpires(const std::string& text);

int AgentCreate(const Context& ctx, const AgentArgs& args);
int AgentList(const Context& ctx, const AgentArgs& args);
int AgentShow(const Context& ctx, const AgentArgs& args);
int AgentUpdate(const Context& ctx, const AgentArgs& args, bool selectors_given);
// `verb` is "suspend", "resume" or "retire".
int AgentTransition(const Context& ctx, const AgentArgs& args, const std::string& verb);

struct AuditArgs {
  bool follow = false;
  int64_t limit = 20;
  std::optional<int64_t> after;
  std::string db_file;  // audit verify --db
};

int AuditTail(const Context& ctx, const AuditArgs& args);
int AuditVerify(const Context& ctx, const AuditArgs& args);

struct PolicyArgs {
  std::string policies, entities, schema, request, requests;
  std::string file;  // format / test
  bool write = false;  // format --write
  bool check = false;  // format --check
};

// Server-side policies: GET /v1/policies, POST /v1/policies/reload.
int PolicyList(const Context& ctx);
int PolicyReload(const Context& ctx);
// Offline tools over files (no server).
int PolicyAuthorize(const Context& ctx, const PolicyArgs& args);
int PolicyValidate(const Context& ctx, const PolicyArgs& args);
int PolicyFormat(const Context& ctx, const PolicyArgs& args);
int PolicyTest(const Context& ctx, const PolicyArgs& args);

struct KeysArgs {
  std::string algorithm;  // rotate --algorithm; empty keeps the current one
};

// The trust domain's signing keys: GET /v1/keys, POST /v1/keys/rotate.
int KeysList(const Context& ctx);
int KeysRotate(const Context& ctx, const KeysArgs& args);
// POST /v1/agents/NAME/join-tokens; prints the one-time token alone on stdout.
int AgentJoinToken(const Context& ctx, const AgentArgs& args, const std::string& ttl);

struct WorkloadArgs {
  std::string intent_file;             // grant --intent
  std::string wait;                    // grant --wait (default 5m)
  std::string grant_id;                // complete GRANT_ID
  std::string socket;                  // svid --socket
  std::vector<std::string> audiences;  // --audience (repeatable)
  std::string ttl;                     // --ttl
  std::string key_file;                // svid/join --key, keygen --out
  std::string algorithm;               // keygen --algorithm
  bool force = false;                  // keygen --force
  std::string token_file;              // join --token-file
};

// The agent side: a key pair for proof of possession, an SVID over the
// Workload API socket, or an SVID for a join token.
int WorkloadKeygen(const Context& ctx, const WorkloadArgs& args);
int WorkloadSvid(const Context& ctx, const WorkloadArgs& args);
int WorkloadJoin(const Context& ctx, const WorkloadArgs& args);
// A JWT-SVID for this process from the Workload API socket (--socket,
// --audience, --ttl), bound to `key` when given: the server's JSON answer.
Result<json::value> RequestSvid(const Context& ctx, const WorkloadArgs& args,
                                const crypto::SigningKey* key);

// Registers `warden grant list|show|revoke` and `warden workload
// grant|delegate|complete` (grant_commands.cc). Commands set `action`.
void AddGrantCommands(CLI::App& app, Context& ctx, std::function<int()>& action);
// Registers `warden approval list|show|approve|deny` and `warden approver
// add|list|disable` (approval_commands.cc).
void AddApprovalCommands(CLI::App& app, Context& ctx, std::function<int()>& action);

}  // namespace warden::cli
