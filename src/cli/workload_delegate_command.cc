// `warden workload delegate`: the delegating agent (the planner) exchanges
// its grant token for a child grant of a worker, narrowed to --scope and
// --resource, bound to the worker's key (the key of the SVID given with
// --to-svid). The planner authenticates with its own key-bound SVID from the
// Workload API socket and a DPoP proof, as for `warden workload grant`.
// Tokens are read from the argument, from @FILE or from stdin ("-"), so they
// need not appear in argv, where every local user can read them.
#include "cli/workload_delegate_command.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "warden/core/time_format.h"
#include "warden/crypto/dpop.h"
#include "warden/crypto/signing_key.h"

namespace warden::cli {
namespace {

constexpr std::string_view kTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
constexpr std::string_view kGrantTokenType = "urn:warden:params:oauth:token-type:grant";
constexpr std::string_view kJwtTokenType = "urn:ietf:params:oauth:token-type:jwt";
// A grant token or an SVID is a compact JWS of a few kilobytes.
constexpr size_t kMaxTokenBytes = 16 * 1024;

struct DelegateArgs {
  std::string grant;                   // --grant: TOKEN, @FILE or -
  std::string to_svid;                 // --to-svid: TOKEN, @FILE or -
  std::vector<std::string> scopes;     // --scope (repeatable)
  std::vector<std::string> resources;  // --resource (repeatable)
  std::string ttl;                     // --ttl of the child grant
  WorkloadArgs agent;                  // --key, --socket: the delegating agent
};

// The token named by `spec` (the token, "@FILE" or "-" for stdin), trimmed of
// surrounding whitespace. InvalidArgument with `field` when empty, too large
// or not shaped like a compact JWS (which also keeps it from altering the
// form it is sent in); NotFound for an unreadable file.
Result<std::string> ReadToken(const std::string& spec, std::string_view field) {
  std::string text;
  if (spec == "-" || spec.starts_with("@")) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (spec != "-") {
      file.open(spec.substr(1), std::ios::binary);
      if (!file) return NotFound("cannot read " + spec.substr(1) + " (" + std::string(field) + ")");
      in = &file;
    }
    std::vector<char> buf(kMaxTokenBytes + 2);
    in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<size_t>(in->gcount());
    if (got > kMaxTokenBytes + 1) {
      return InvalidArgument("is larger than " + std::to_string(kMaxTokenBytes) + " bytes",
                             std::string(field));
    }
    text.assign(buf.data(), got);
  } else {
    text = spec;
  }
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && space(text.back())) text.pop_back();
  size_t start = 0;
  while (start < text.size() && space(text[start])) ++start;
  text.erase(0, start);
  if (text.empty()) return InvalidArgument("is empty", std::string(field));
  if (text.size() > kMaxTokenBytes) {
    return InvalidArgument("is larger than " + std::to_string(kMaxTokenBytes) + " bytes",
                           std::string(field));
  }
  int dots = 0;
  for (char c : text) {
    const bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_';
    if (c == '.') {
      ++dots;
    } else if (!b64) {
      return InvalidArgument("is not a token (a compact JWS: base64url parts joined by dots)",
                             std::string(field));
    }
  }
  if (dots != 2) {
    return InvalidArgument("is not a token (a compact JWS has three parts)", std::string(field));
  }
  return text;
}

// "a b c": the space-separated list RFC 8693 uses for scope.
std::string SpaceJoined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : " ") + item;
  return out;
}

// application/x-www-form-urlencoded body from (name, value) pairs.
std::string FormBody(const std::vector<std::pair<std::string_view, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += std::string(name) + "=" + UrlEscape(value);
  }
  return out;
}

// The Status of a refused exchange: the RFC 6749 error body of /v1/token
// ({"error": "invalid_scope", "error_description", "error_field"}), or the
// API's own error body for other refusals (authentication, policy).
Status ExchangeError(const HttpResponse& response) {
  auto parsed = ParseJson(response.body);
  if (parsed.ok() && parsed->is_object()) {
    const json::object& obj = parsed->get_object();
    const json::value* error = obj.if_contains("error");
    if (error != nullptr && error->is_string()) {
      std::string message = std::string(error->get_string());
      const json::value* description = obj.if_contains("error_description");
      if (description != nullptr && description->is_string()) {
        message += ": " + std::string(description->get_string());
      }
      const json::value* field = obj.if_contains("error_field");
      return InvalidArgument(message, field != nullptr && field->is_string()
                                          ? std::string(field->get_string())
                                          : std::string());
    }
  }
  return StatusFromErrorResponse(response.status, response.body);
}

int WorkloadDelegate(const Context& ctx, const DelegateArgs& args) {
  auto usage = [&](const Status& why) {
    *ctx.err << FormatError(why) << "\n";
    return kExitUsage;
  };
  if (args.grant == "-" && args.to_svid == "-") {
    return usage(InvalidArgument("only one of --grant and --to-svid can be read from stdin",
                                 "--to-svid"));
  }
  auto grant = ReadToken(args.grant, "--grant");
  if (!grant.ok()) {
    return grant.status().code() == StatusCode::kInvalidArgument ? usage(grant.status())
                                                                  : ctx.Fail(grant.status());
  }
  auto worker = ReadToken(args.to_svid, "--to-svid");
  if (!worker.ok()) {
    return worker.status().code() == StatusCode::kInvalidArgument ? usage(worker.status())
                                                                   : ctx.Fail(worker.status());
  }
  if (!args.ttl.empty()) {
    if (auto d = ParseDuration(args.ttl); !d.ok()) {
      return usage(InvalidArgument(d.status().message(), "--ttl"));
    }
  }
  // The form carries each list space-separated, so an entry cannot hold one.
  for (const auto& [list, flag] : {std::pair{&args.scopes, "--scope"},
                                   std::pair{&args.resources, "--resource"}}) {
    for (const auto& item : *list) {
      if (item.empty() || item.find(' ') != std::string::npos) {
        return usage(InvalidArgument("entries must be non-empty and without spaces", flag));
      }
    }
  }

  auto key = crypto::SigningKey::LoadPem(args.agent.key_file);
  if (!key.ok()) return ctx.Fail(key.status());
  HttpClientOptions options;
  options.cacert_file = ctx.global.cacert;
  options.stop_on_interrupt = true;
  auto http = HttpClient::Create(ctx.global.server, options);
  if (!http.ok()) return ctx.Fail(http.status());

  // The delegating agent's own SVID, bound to its key: the same Workload API
  // request `warden workload grant` makes.
  auto answer = RequestSvid(ctx, args.agent, &*key);
  if (!answer.ok()) return ctx.Fail(answer.status());
  const json::value* svid =
      answer->is_object() ? answer->get_object().if_contains("svid") : nullptr;
  if (svid == nullptr || !svid->is_string()) {
    return ctx.Fail(Internal("the Workload API answered without an SVID"));
  }
  const std::string own_svid(svid->get_string());
  const std::string target = "/v1/token";
  auto proof = crypto::CreateDpopProof(*key, "POST", (*http)->url().ToString() + target,
                                       SystemClock::Instance().Now(), own_svid);
  if (!proof.ok()) return ctx.Fail(proof.status());

  std::vector<std::pair<std::string_view, std::string>> form{
      {"grant_type", std::string(kTokenExchange)},
      {"subject_token", *grant},
      {"subject_token_type", std::string(kGrantTokenType)},
      {"actor_token", *worker},
      {"actor_token_type", std::string(kJwtTokenType)},
      {"scope", SpaceJoined(args.scopes)}};
  if (!args.resources.empty()) form.emplace_back("resource", SpaceJoined(args.resources));
  if (!args.ttl.empty()) form.emplace_back("ttl", args.ttl);
  HttpRequest request;
  request.method = "POST";
  request.target = target;
  request.body = FormBody(form);
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Authorization", "DPoP " + own_svid},
                     {"DPoP", *proof}};
  auto response = (*http)->Send(request, kDefaultTimeout);
  if (!response.ok()) return ctx.Fail(response.status());
  if (response->status < 200 || response->status > 299) {
    return ctx.Fail(ExchangeError(*response));
  }
  auto parsed = ParseJson(response->body);
  if (!parsed.ok() || !parsed->is_object()) {
    return ctx.Fail(Internal("server sent an unexpected token exchange response"));
  }
  const json::object& issued = parsed->get_object();
  const json::value* token = issued.if_contains("access_token");
  if (token == nullptr || !token->is_string()) {
    return ctx.Fail(Internal("server response has no \"access_token\""));
  }
  if (ctx.global.json) {
    json::object out;
    out["grant_id"] = JsonText(issued, "grant_id");
    out["token"] = token->get_string();
    const json::value* expires_in = issued.if_contains("expires_in");
    out["expires_in"] = expires_in != nullptr ? *expires_in : json::value(nullptr);
    out["scope"] = JsonText(issued, "scope");
    *ctx.out << PrettyJson(out);
    return kExitOk;
  }
  // The token alone on stdout, so `warden workload delegate ... > child.token`
  // works; the rest is for the human.
  *ctx.out << std::string(token->get_string()) << "\n";
  *ctx.err << "warden: grant " << SanitizeForTerminal(JsonText(issued, "grant_id"))
           << " delegated (scope " << SanitizeForTerminal(JsonText(issued, "scope"))
           << "), expires in " << SanitizeForTerminal(JsonText(issued, "expires_in")) << "s\n";
  return kExitOk;
}

}  // namespace

void AddWorkloadDelegateCommand(CLI::App& app, Context& ctx, std::function<int()>& action) {
  // Owned by the closure: parsing fills it after this function returns.
  auto args = std::make_shared<DelegateArgs>();
  std::function<int()>* act = &action;
  Context* c = &ctx;
  CLI::App* workload = app.get_subcommand("workload");
  CLI::App* delegate = workload->add_subcommand(
      "delegate",
      "Give another agent part of a grant: a child grant narrowed to --scope, bound to its key");
  delegate
      ->add_option("--grant", args->grant,
                   "The grant token to delegate from: TOKEN, @FILE (preferred: argv is visible "
                   "to other users) or - for stdin")
      ->required()
      ->type_name("TOKEN|@FILE|-")
      ->check(NonEmpty());
  delegate
      ->add_option("--to-svid", args->to_svid,
                   "The receiving agent's key-bound SVID (it runs `warden workload svid --key`): "
                   "TOKEN, @FILE or -")
      ->required()
      ->type_name("SVID|@FILE|-")
      ->check(NonEmpty());
  delegate
      ->add_option("--scope", args->scopes,
                   "Actions the child may use (several after one --scope, or repeated)")
      ->required()
      ->type_name("ACTION");
  delegate
      ->add_option("--resource", args->resources,
                   "Resources the child may use (as --scope; required when the parent names "
                   "resources)")
      ->type_name("RESOURCE");
  delegate->add_option("--ttl", args->ttl, "Lifetime of the child (default: until the parent ends)")
      ->type_name("DURATION");
  delegate->add_option("--key", args->agent.key_file, "This (delegating) workload's key")
      ->required()
      ->type_name("FILE");
  delegate
      ->add_option("--socket", args->agent.socket,
                   "Workload API socket (default: $WARDEN_WORKLOAD_SOCKET or "
                   "DATA/public/workload.sock)")
      ->type_name("PATH");
  AddJsonFlag(delegate, ctx.global);
  delegate->callback([act, c, args] { *act = [c, args] { return WorkloadDelegate(*c, *args); }; });
}

}  // namespace warden::cli
