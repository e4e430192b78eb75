// Workload identity on the command line. Admin side: `warden keys list|rotate`
// and `warden agent join-token`. Agent side: `warden workload keygen`,
// `warden workload svid` (over the Workload API socket) and `warden workload
// join` (a join token redeemed over HTTP).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "warden/core/encoding.h"
#include "warden/crypto/jwt.h"
#include "warden/crypto/signing_key.h"

namespace warden::cli {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxJoinTokenFileBytes = 4096;

// The Workload API socket: --socket, else WARDEN_WORKLOAD_SOCKET, else
// DATA/public/workload.sock.
std::string SocketPath(const Context& ctx, const WorkloadArgs& args) {
  if (!args.socket.empty()) return args.socket;
  if (const char* env = std::getenv("WARDEN_WORKLOAD_SOCKET"); env != nullptr && *env != '\0') {
    return env;
  }
  std::string dir = ctx.global.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/public/workload.sock";
}

Result<ApiClient> ConnectSocket(const std::string& path) {
  std::string url = "unix:" + path;
  WARDEN_ASSIGN_OR_RETURN(auto http, HttpClient::Create(url, HttpClientOptions{}));
  return ApiClient(std::move(http), "");
}

// Adds "audience" and "ttl" to an SVID request body.
void PutSvidAsk(const WorkloadArgs& args, json::object& body) {
  if (args.audiences.size() == 1) {
    body["audience"] = args.audiences.front();
  } else if (!args.audiences.empty()) {
    json::array aud;
    for (const auto& a : args.audiences) aud.emplace_back(a);
    body["audience"] = std::move(aud);
  }
  if (!args.ttl.empty()) body["ttl"] = args.ttl;
}

// Prints an SVID response: the bare JWT, or with --json the response plus the
// token's decoded header and claims.
int PrintSvid(const Context& ctx, const json::value& answer) {
  if (!answer.is_object()) return ctx.Fail(Internal("server sent an unexpected SVID response"));
  const json::object& obj = answer.get_object();
  const json::value* token = obj.if_contains("svid");
  if (token == nullptr || !token->is_string()) {
    return ctx.Fail(Internal("server response has no \"svid\""));
  }
  if (!ctx.global.json) {
    *ctx.out << std::string(token->get_string()) << "\n";
    return kExitOk;
  }
  json::object out = obj;
  auto decoded = crypto::DecodeJwt(std::string(token->get_string()));
  if (decoded.ok()) {
    out["header"] = decoded->header;
    out["claims"] = decoded->claims;
  }
  *ctx.out << PrettyJson(out);
  return kExitOk;
}

// The join token from --token-file or WARDEN_JOIN_TOKEN (never a command-line
// argument: those are visible to every user through /proc).
Result<std::string> ReadJoinToken(const WorkloadArgs& args) {
  std::string token;
  if (!args.token_file.empty()) {
    std::ifstream in(args.token_file, std::ios::binary);
    if (!in) return NotFound("cannot read join token file " + args.token_file);
    char buf[kMaxJoinTokenFileBytes + 1];
    in.read(buf, sizeof buf);
    if (static_cast<size_t>(in.gcount()) > kMaxJoinTokenFileBytes) {
      return InvalidArgument("join token file " + args.token_file + " is too large");
    }
    token.assign(buf, static_cast<size_t>(in.gcount()));
  } else if (const char* env = std::getenv("WARDEN_JOIN_TOKEN"); env != nullptr) {
    token = env;
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty()) {
    return InvalidArgument("no join token: pass --token-file FILE or set WARDEN_JOIN_TOKEN");
  }
  return token;
}

}  // namespace

int KeysList(const Context& ctx) {
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  auto listed = api->Call("GET", "/v1/keys");
  if (!listed.ok()) return ctx.Fail(listed.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*listed);
    return kExitOk;
  }
  const json::value* keys = listed->is_object() ? listed->get_object().if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    return ctx.Fail(Internal("server sent an unexpected key list"));
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : keys->get_array()) {
    if (!item.is_object()) continue;
    const auto& k = item.get_object();
    const json::value* signing = k.if_contains("signing");
    bool is_signing = signing != nullptr && signing->is_bool() && signing->get_bool();
    rows.push_back({JsonText(k, "kid"), JsonText(k, "alg"),
                    JsonText(k, "status") + (is_signing ? " (signing)" : ""),
                    JsonText(k, "created_at"), JsonText(k, "publish_until")});
  }
  *ctx.out << FormatTable({"KID", "ALG", "STATUS", "CREATED", "PUBLISHED UNTIL"}, rows);
  return kExitOk;
}

int KeysRotate(const Context& ctx, const KeysArgs& args) {
  json::object body;
  if (!args.algorithm.empty()) body["algorithm"] = args.algorithm;
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  json::value request(std::move(body));
  auto rotated = api->Call("POST", "/v1/keys/rotate", &request);
  if (!rotated.ok()) return ctx.Fail(rotated.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*rotated);
    return kExitOk;
  }
  const json::object& r = AsObject(*rotated);
  *ctx.out << "signing key rotated\n"
           << FormatKeyValues({{"kid", JsonText(r, "kid")},
                               {"alg", JsonText(r, "alg")},
                               {"previous_kid", JsonText(r, "previous_kid")}});
  return kExitOk;
}

int AgentJoinToken(const Context& ctx, const AgentArgs& args, const std::string& ttl) {
  json::object body;
  if (!ttl.empty()) body["ttl"] = ttl;
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  json::value request(std::move(body));
  auto created =
      api->Call("POST", "/v1/agents/" + UrlEscape(args.name) + "/join-tokens", &request);
  if (!created.ok()) return ctx.Fail(created.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*created);
    return kExitOk;
  }
  const json::object& t = AsObject(*created);
  // The secret alone on stdout, so `TOKEN=$(warden agent join-token NAME)` works;
  // the rest is for the human.
  *ctx.out << JsonText(t, "token") << "\n";
  *ctx.err << "warden: join token " << SanitizeForTerminal(JsonText(t, "id")) << " for agent "
           << SanitizeForTerminal(args.name) << ", valid once until "
           << SanitizeForTerminal(JsonText(t, "expires_at")) << "\n";
  return kExitOk;
}

int WorkloadKeygen(const Context& ctx, const WorkloadArgs& args) {
  auto alg = crypto::ParseAlgorithm(args.algorithm.empty() ? "ed25519" : args.algorithm);
  if (!alg.ok()) return ctx.Fail(alg.status());
  std::error_code ec;
  if (!args.force && fs::symlink_status(args.key_file, ec).type() != fs::file_type::not_found) {
    return ctx.Fail(AlreadyExists(args.key_file +
                                  " exists; pass --force to replace it (the old key is lost)"));
  }
  auto key = crypto::SigningKey::Generate(*alg);
  if (!key.ok()) return ctx.Fail(key.status());
  if (Status st = key->SavePem(args.key_file); !st.ok()) return ctx.Fail(st);
  if (ctx.global.json) {
    json::object out;
    out["file"] = args.key_file;
    out["jkt"] = key->kid();
    out["public_jwk"] = key->public_key().ToJwk();
    *ctx.out << PrettyJson(out);
    return kExitOk;
  }
  *ctx.out << "key written to " << SanitizeForTerminal(args.key_file) << " (mode 0600)\n"
           << FormatKeyValues({{"alg", std::string(key->jose_alg())}, {"jkt", key->kid()}});
  return kExitOk;
}

Result<json::value> RequestSvid(const Context& ctx, const WorkloadArgs& args,
                                const crypto::SigningKey* key) {
  json::object body;
  PutSvidAsk(args, body);
  if (key != nullptr) body["public_key"] = key->public_key().ToJwk();
  WARDEN_ASSIGN_OR_RETURN(auto api, ConnectSocket(SocketPath(ctx, args)));
  json::value request(std::move(body));
  return api.Call("POST", "/v1/svid", &request);
}

int WorkloadSvid(const Context& ctx, const WorkloadArgs& args) {
  std::optional<crypto::SigningKey> key;
  if (!args.key_file.empty()) {
    auto loaded = crypto::SigningKey::LoadPem(args.key_file);
    if (!loaded.ok()) return ctx.Fail(loaded.status());
    key = std::move(*loaded);
  }
  auto svid = RequestSvid(ctx, args, key ? &*key : nullptr);
  if (!svid.ok()) return ctx.Fail(svid.status());
  return PrintSvid(ctx, *svid);
}

int WorkloadJoin(const Context& ctx, const WorkloadArgs& args) {
  auto token = ReadJoinToken(args);
  if (!token.ok()) return ctx.Fail(token.status());
  auto key = crypto::SigningKey::LoadPem(args.key_file);
  if (!key.ok()) return ctx.Fail(key.status());
  HttpClientOptions options;
  options.cacert_file = ctx.global.cacert;
  auto http = HttpClient::Create(ctx.global.server, options);
  if (!http.ok()) return ctx.Fail(http.status());
  // The join token is the credential here, not an admin token.
  ApiClient api(std::move(*http), "");
  json::value challenge_body(json::object{{"token", *token}});
  auto challenge = api.Call("POST", "/v1/attest/challenge", &challenge_body);
  if (!challenge.ok()) return ctx.Fail(challenge.status());
  const json::value* nonce =
      challenge->is_object() ? challenge->get_object().if_contains("nonce") : nullptr;
  if (nonce == nullptr || !nonce->is_string()) {
    return ctx.Fail(Internal("server sent a challenge without a nonce"));
  }
  std::string nonce_text(nonce->get_string());
  auto signature = key->Sign("warden-join:" + nonce_text);
  if (!signature.ok()) return ctx.Fail(signature.status());
  json::object body;
  body["token"] = *token;
  body["nonce"] = nonce_text;
  body["public_key"] = key->public_key().ToJwk();
  body["signature"] = Base64UrlEncode(*signature);
  PutSvidAsk(args, body);
  json::value join_body(std::move(body));
  auto svid = api.Call("POST", "/v1/attest/join", &join_body);
  if (!svid.ok()) return ctx.Fail(svid.status());
  return PrintSvid(ctx, *svid);
}

}  // namespace warden::cli
