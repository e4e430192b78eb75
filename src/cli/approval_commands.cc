// `warden approver add|list|disable` (admin token) and `warden approval
// list|show` (admin token) and `warden approval approve|deny` (an approver
// token, read from a file or the environment, never from the command line).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "warden/core/time_format.h"

namespace warden::cli {
namespace {

constexpr size_t kMaxApproverTokenFileBytes = 4096;
constexpr const char* kApproverTokenEnv = "WARDEN_APPROVER_TOKEN";
// Patience beyond the server's long-poll before giving up on a `show --wait`.
constexpr std::chrono::seconds kWaitSlack{15};

struct ApprovalArgs {
  std::string name;                 // approver NAME
  std::string id;                   // approval ID
  std::string status;               // list --status
  std::string agent;                // list --agent
  int64_t limit = 0;                // list --limit (0: server default)
  std::string wait;                 // show --wait
  std::string reason;               // approve/deny --reason
  std::string approver_token_file;  // approve/deny --approver-token-file
};

// The array member `key` of a list response, or nullptr.
const json::array* ArrayOf(const json::value& v, std::string_view key) {
  const json::value* items = AsObject(v).if_contains(key);
  return items != nullptr && items->is_array() ? &items->get_array() : nullptr;
}

// The approver token from --approver-token-file or WARDEN_APPROVER_TOKEN.
// Command-line values are visible to every local user through /proc, so there
// is deliberately no flag that takes the token itself. An empty optional when
// neither is given (the caller's usage error); an error when the file is bad.
Result<std::optional<std::string>> ReadApproverToken(const ApprovalArgs& args) {
  std::string token;
  if (!args.approver_token_file.empty()) {
    std::ifstream in(args.approver_token_file, std::ios::binary);
    if (!in) return NotFound("cannot read approver token file " + args.approver_token_file);
    char buf[kMaxApproverTokenFileBytes + 1];
    in.read(buf, sizeof buf);
    if (static_cast<size_t>(in.gcount()) > kMaxApproverTokenFileBytes) {
      return InvalidArgument("approver token file " + args.approver_token_file + " is too large");
    }
    token.assign(buf, static_cast<size_t>(in.gcount()));
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
      token.pop_back();
    }
    if (token.empty()) {
      return InvalidArgument("approver token file " + args.approver_token_file + " is empty");
    }
    return std::optional<std::string>(std::move(token));
  }
  if (const char* env = std::getenv(kApproverTokenEnv); env != nullptr && *env != '\0') {
    token = env;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
      token.pop_back();
    }
    if (!token.empty()) return std::optional<std::string>(std::move(token));
  }
  return std::optional<std::string>();
}

// "denied" or, when the stored status differs, "expired (stored: pending)".
std::string StatusText(const json::object& a) {
  std::string status = JsonText(a, "status");
  const json::value* stored = a.if_contains("stored_status");
  if (stored != nullptr && stored->is_string() && stored->get_string() != status) {
    status += " (stored: " + std::string(stored->get_string()) + ")";
  }
  return status;
}

void PrintApproval(const Context& ctx, const json::value& v) {
  if (ctx.global.json || !v.is_object()) {
    *ctx.out << PrettyJson(v);
    return;
  }
  const json::object& a = v.get_object();
  std::vector<std::pair<std::string, std::string>> fields = {
      {"id", JsonText(a, "id")},
      {"kind", JsonText(a, "kind")},
      {"status", StatusText(a)},
      {"agent", JsonText(a, "agent")},
      {"on_behalf_of", JsonText(a, "on_behalf_of")},
      {"created_at", JsonText(a, "created_at")},
      {"expires_at", JsonText(a, "expires_at")},
  };
  for (const char* key : {"decided_by", "decided_at", "reason", "used_by", "used_at"}) {
    if (a.contains(key)) fields.emplace_back(key, JsonText(a, key));
  }
  fields.emplace_back("subject_sha256", JsonText(a, "subject_sha256"));
  *ctx.out << FormatKeyValues(fields);
  if (const json::value* summary = a.if_contains("summary"); summary != nullptr) {
    // The summary is what the requester wants approved: shown in full, each
    // line escaped so a hostile value cannot rewrite the terminal.
    *ctx.out << "summary:\n";
    std::string pretty = PrettyJson(*summary);
    size_t start = 0;
    while (start < pretty.size()) {
      size_t end = pretty.find('\n', start);
      if (end == std::string::npos) end = pretty.size();
      *ctx.out << "  " << SanitizeForTerminal(std::string_view(pretty).substr(start, end - start))
               << "\n";
      start = end + 1;
    }
  }
}

int ApproverAdd(const Context& ctx, const ApprovalArgs& args) {
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  json::value request(json::object{{"name", args.name}});
  auto created = api->Call("POST", "/v1/approvers", &request);
  if (!created.ok()) return ctx.Fail(created.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*created);
    return kExitOk;
  }
  // The secret alone on stdout, so `warden approver add bob > bob.token`
  // works; the rest is for the human.
  *ctx.out << JsonText(AsObject(*created), "token") << "\n";
  *ctx.err << "warden: approver " << SanitizeForTerminal(args.name)
           << " added; the token above is shown only this once (give it to the approver, who "
              "passes it with --approver-token-file or "
           << kApproverTokenEnv << ")\n";
  return kExitOk;
}

int ApproverList(const Context& ctx) {
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  auto listed = api->Call("GET", "/v1/approvers");
  if (!listed.ok()) return ctx.Fail(listed.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*listed);
    return kExitOk;
  }
  const json::array* items = ArrayOf(*listed, "approvers");
  if (items == nullptr) return ctx.Fail(Internal("server sent an unexpected approver list"));
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : *items) {
    const json::object& a = AsObject(item);
    const json::value* enabled = a.if_contains("enabled");
    bool on = enabled != nullptr && enabled->is_bool() && enabled->get_bool();
    rows.push_back({JsonText(a, "name"), on ? "enabled" : "disabled", JsonText(a, "created_at"),
                    JsonText(a, "created_by"), JsonText(a, "disabled_at")});
  }
  if (rows.empty()) {
    *ctx.out << "no approvers\n";
    return kExitOk;
  }
  *ctx.out << FormatTable({"NAME", "STATUS", "CREATED", "CREATED BY", "DISABLED"}, rows);
  return kExitOk;
}

int ApproverDisable(const Context& ctx, const ApprovalArgs& args) {
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  auto disabled = api->Call("POST", "/v1/approvers/" + UrlEscape(args.name) + "/disable");
  if (!disabled.ok()) return ctx.Fail(disabled.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*disabled);
    return kExitOk;
  }
  *ctx.out << "approver " << SanitizeForTerminal(args.name)
           << " disabled; its token no longer authenticates\n";
  return kExitOk;
}

int ApprovalList(const Context& ctx, const ApprovalArgs& args) {
  std::string target = "/v1/approvals";
  std::string sep = "?";
  auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    target += sep + key + "=" + UrlEscape(value);
    sep = "&";
  };
  add("status", args.status);
  add("agent", args.agent);
  if (args.limit > 0) add("limit", std::to_string(args.limit));
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  auto listed = api->Call("GET", target);
  if (!listed.ok()) return ctx.Fail(listed.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*listed);
    return kExitOk;
  }
  const json::array* items = ArrayOf(*listed, "approvals");
  if (items == nullptr) return ctx.Fail(Internal("server sent an unexpected approval list"));
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : *items) {
    const json::object& a = AsObject(item);
    const json::value* summary = a.if_contains("summary");
    std::string task = summary != nullptr && summary->is_object()
                           ? JsonText(summary->get_object(), "task")
                           : std::string("-");
    rows.push_back({JsonText(a, "id"), JsonText(a, "kind"), JsonText(a, "agent"),
                    JsonText(a, "on_behalf_of"), task, JsonText(a, "status"),
                    JsonText(a, "expires_at")});
  }
  if (rows.empty()) {
    std::string which = args.status.empty() ? std::string("pending ")
                        : args.status == "all" ? std::string()
                                               : args.status + " ";
    *ctx.out << "no " << which << "approvals\n";
    return kExitOk;
  }
  *ctx.out << FormatTable({"ID", "KIND", "AGENT", "ON BEHALF OF", "TASK", "STATUS", "EXPIRES"},
                          rows);
  return kExitOk;
}

int ApprovalShow(const Context& ctx, const ApprovalArgs& args) {
  std::string target = "/v1/approvals/" + UrlEscape(args.id);
  std::chrono::milliseconds timeout = kDefaultTimeout;
  if (!args.wait.empty()) {
    auto wait = ParseDuration(args.wait);
    if (!wait.ok()) return ctx.Fail(InvalidArgument(wait.status().message(), "--wait"));
    target += "?wait=" + UrlEscape(args.wait);
    timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*wait + kWaitSlack);
  }
  auto api = Connect(ctx.global, /*stop_on_interrupt=*/!args.wait.empty());
  if (!api.ok()) return ctx.Fail(api.status());
  auto shown = api->Call("GET", target, nullptr, timeout);
  if (!shown.ok()) return ctx.Fail(shown.status());
  PrintApproval(ctx, *shown);
  return kExitOk;
}

int ApprovalDecide(const Context& ctx, const ApprovalArgs& args, const std::string& verb) {
  auto token = ReadApproverToken(args);
  if (!token.ok()) return ctx.Fail(token.status());
  if (!token->has_value()) {
    *ctx.err << "warden: no approver token: pass --approver-token-file FILE or set "
             << kApproverTokenEnv
             << " (the token is never accepted as a command-line value, and the admin token "
                "cannot decide approvals)\n";
    return kExitUsage;
  }
  HttpClientOptions options;
  options.cacert_file = ctx.global.cacert;
  auto http = HttpClient::Create(ctx.global.server, options);
  if (!http.ok()) return ctx.Fail(http.status());
  // The approver's token is the credential: the server records its holder
  // as the decider.
  ApiClient api(std::move(*http), std::move(**token));
  json::value request(json::object{{"reason", args.reason}});
  auto decided =
      api.Call("POST", "/v1/approvals/" + UrlEscape(args.id) + "/" + verb, &request);
  if (!decided.ok()) return ctx.Fail(decided.status());
  if (!ctx.global.json) {
    const json::object& a = AsObject(*decided);
    *ctx.out << "approval " << SanitizeForTerminal(args.id) << " "
             << SanitizeForTerminal(JsonText(a, "status")) << " by "
             << SanitizeForTerminal(JsonText(a, "decided_by")) << "\n";
  }
  PrintApproval(ctx, *decided);
  return kExitOk;
}

}  // namespace

void AddApprovalCommands(CLI::App& app, Context& ctx, std::function<int()>& action) {
  // Owned by the closures: parsing fills it after this function returns.
  auto args = std::make_shared<ApprovalArgs>();
  // The callbacks run during parsing, after this function has returned.
  std::function<int()>* act = &action;
  Context* c = &ctx;
  auto add_json = [&](CLI::App* sub) { AddJsonFlag(sub, ctx.global); };

  CLI::App* approver = app.add_subcommand("approver", "Manage the humans who decide approvals");
  approver->require_subcommand(1);
  auto add_name = [&](CLI::App* sub) {
    sub->add_option("NAME", args->name, "Approver name")->required()->check(NonEmpty());
  };

  CLI::App* add = approver->add_subcommand(
      "add", "Register an approver and print its token (shown only once) on stdout");
  add_name(add);
  add_json(add);
  add->callback([act, c, args] { *act = [c, args] { return ApproverAdd(*c, *args); }; });

  CLI::App* alist = approver->add_subcommand("list", "List approvers");
  add_json(alist);
  alist->callback([act, c] { *act = [c] { return ApproverList(*c); }; });

  CLI::App* disable =
      approver->add_subcommand("disable", "Disable an approver for good (its token stops working)");
  add_name(disable);
  add_json(disable);
  disable->callback([act, c, args] { *act = [c, args] { return ApproverDisable(*c, *args); }; });

  CLI::App* approval = app.add_subcommand("approval", "Review and decide human approvals");
  approval->require_subcommand(1);
  auto add_id = [&](CLI::App* sub) {
    sub->add_option("ID", args->id, "Approval id (apr_...)")->required()->check(NonEmpty());
  };

  CLI::App* list = approval->add_subcommand("list", "List approvals (pending ones by default)");
  list->add_option("--status", args->status, "Only approvals with this status")
      ->check(CLI::IsMember({"pending", "approved", "denied", "expired", "used", "all"}));
  list->add_option("--agent", args->agent, "Only approvals requested by this agent")
      ->type_name("AGENT");
  list->add_option("--limit", args->limit, "At most this many (1-1000, default 100)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  add_json(list);
  list->callback([act, c, args] { *act = [c, args] { return ApprovalList(*c, *args); }; });

  CLI::App* show = approval->add_subcommand("show", "Show one approval");
  add_id(show);
  show->add_option("--wait", args->wait,
                   "While it is pending, wait up to this long for a decision (e.g. 30s)")
      ->type_name("DURATION")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            return ParseDuration(value).ok() ? std::string()
                                             : "\"" + SanitizeForTerminal(value) +
                                                   "\" is not a duration (30s, 5m)";
          },
          "", "DURATION"));
  add_json(show);
  show->callback([act, c, args] { *act = [c, args] { return ApprovalShow(*c, *args); }; });

  for (const char* verb : {"approve", "deny"}) {
    std::string verb_name = verb;
    CLI::App* sub = approval->add_subcommand(
        verb, verb_name == "approve" ? "Approve a pending approval with your approver token"
                                     : "Deny a pending approval with your approver token");
    add_id(sub);
    sub->add_option("--reason", args->reason, "Why (recorded with the decision)")
        ->required()
        ->type_name("TEXT")
        ->check(NonEmpty());
    sub->add_option("--approver-token-file", args->approver_token_file,
                    std::string("File holding your approver token (default: ") +
                        kApproverTokenEnv + ")")
        ->type_name("FILE");
    add_json(sub);
    sub->callback([act, c, args, verb_name] {
      *act = [c, args, verb_name] { return ApprovalDecide(*c, *args, verb_name); };
    });
  }
}

}  // namespace warden::cli
