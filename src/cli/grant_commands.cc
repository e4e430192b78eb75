// `warden grant list|show|revoke`: the administrator's view of intent-bound
// grants over /v1/grants (admin token). Grants are requested by agents
// themselves (POST /v1/grants with a key-bound SVID and a DPoP proof).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/workload_agent.h"
#include "warden/core/time_format.h"
#include "warden/crypto/dpop.h"
#include "warden/crypto/signing_key.h"

namespace warden::cli {
namespace {

struct GrantArgs {
  std::string id;      // show/revoke ID
  std::string agent;   // list --agent
  bool active = false; // list --active
  std::string reason;  // revoke --reason
};

std::string GrantPath(const std::string& id) { return "/v1/grants/" + UrlEscape(id); }

// "a, b" for a JSON array of strings under `key` of `scope`.
std::string Joined(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr || !v->is_array()) return "";
  std::string out;
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) continue;
    if (!out.empty()) out += ", ";
    out += std::string(item.get_string());
  }
  return out;
}

const json::object& Scope(const json::object& grant) {
  const json::value* scope = grant.if_contains("scope");
  return scope != nullptr ? AsObject(*scope) : AsObject(json::value());
}

void PrintGrant(const Context& ctx, const json::value& v) {
  if (ctx.global.json || !v.is_object()) {
    *ctx.out << PrettyJson(v);
    return;
  }
  const json::object& g = v.get_object();
  std::string chain = JsonText(g, "root_id");
  if (g.contains("parent_id")) {
    chain = "parent " + JsonText(g, "parent_id") + ", root " + chain + ", depth " +
            JsonText(g, "depth");
  } else {
    chain = "root (depth 0)";
  }
  std::vector<std::pair<std::string, std::string>> fields{
      {"id", JsonText(g, "id")},
      {"status", JsonText(g, "status")},
      {"agent", JsonText(g, "agent")},
      {"task", JsonText(g, "task")},
      {"description", JsonText(g, "description")},
      {"environment", JsonText(g, "environment")},
      {"sensitivity", JsonText(g, "sensitivity")},
      {"actions", Joined(Scope(g), "actions")},
      {"resources", Joined(Scope(g), "resources")},
      {"chain", chain},
      {"approval", JsonText(g, "approval_id")},
      {"on_behalf_of", JsonText(g, "on_behalf_of")},
      {"calls", JsonText(g, "calls")},
      {"limits", JsonText(g, "limits")},
      {"created_at", JsonText(g, "created_at")},
      {"expires_at", JsonText(g, "expires_at")},
      {"ended_at", JsonText(g, "ended_at")},
      {"end_reason", JsonText(g, "end_reason")},
      {"policy_set_hash", JsonText(g, "policy_set_hash")},
  };
  std::vector<std::pair<std::string, std::string>> shown;
  for (auto& f : fields) {
    if (!f.second.empty()) shown.push_back(std::move(f));
  }
  *ctx.out << FormatKeyValues(shown);
}

int GrantList(const Context& ctx, const GrantArgs& args) {
  std::string target = "/v1/grants";
  std::string sep = "?";
  if (!args.agent.empty()) {
    target += sep + "agent=" + UrlEscape(args.agent);
    sep = "&";
  }
  if (args.active) target += sep + "active=true";
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  auto listed = api->Call("GET", target);
  if (!listed.ok()) return ctx.Fail(listed.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*listed);
    return kExitOk;
  }
  const json::value* grants = AsObject(*listed).if_contains("grants");
  if (grants == nullptr || !grants->is_array()) {
    return ctx.Fail(Internal("server sent an unexpected grant list"));
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : grants->get_array()) {
    const json::object& g = AsObject(item);
    rows.push_back({JsonText(g, "id"), JsonText(g, "agent"), JsonText(g, "task"),
                    JsonText(g, "status"), Joined(Scope(g), "actions"),
                    JsonText(g, "expires_at")});
  }
  *ctx.out << FormatTable({"ID", "AGENT", "TASK", "STATUS", "ACTIONS", "EXPIRES"}, rows);
  return kExitOk;
}

int GrantShow(const Context& ctx, const GrantArgs& args) {
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  auto grant = api->Call("GET", GrantPath(args.id));
  if (!grant.ok()) return ctx.Fail(grant.status());
  PrintGrant(ctx, *grant);
  return kExitOk;
}

int GrantRevoke(const Context& ctx, const GrantArgs& args) {
  json::object body;
  if (!args.reason.empty()) body["reason"] = args.reason;
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  json::value request(std::move(body));
  auto grant = api->Call("POST", GrantPath(args.id) + "/revoke", &request);
  if (!grant.ok()) return ctx.Fail(grant.status());
  if (!ctx.global.json) {
    *ctx.out << "grant " << SanitizeForTerminal(args.id)
             << " revoked (with every grant delegated from it)\n";
  }
  PrintGrant(ctx, *grant);
  return kExitOk;
}

// Prints a grant answer: the token alone, or the JSON with --json.
int PrintIssued(const Context& ctx, const json::value& answer) {
  const json::object& g = AsObject(answer);
  if (ctx.global.json) {
    *ctx.out << PrettyJson(answer);
    return kExitOk;
  }
  *ctx.out << JsonText(g, "token") << "\n";
  *ctx.err << "warden: grant " << SanitizeForTerminal(JsonText(g, "id")) << " active until "
           << SanitizeForTerminal(JsonText(g, "expires_at")) << "\n";
  return kExitOk;
}

int WorkloadGrant(const Context& ctx, const WorkloadArgs& args) {
  auto intent = ReadIntentFile(args.intent_file);
  if (!intent.ok()) return ctx.Fail(intent.status());
  std::chrono::seconds wait = kDefaultGrantWait;
  if (!args.wait.empty()) {
    auto parsed = ParseDuration(args.wait);
    if (!parsed.ok()) return ctx.Fail(InvalidArgument(parsed.status().message(), "wait"));
    wait = *parsed;
  }
  auto caller = AgentCaller::Create(ctx, args);
  if (!caller.ok()) return ctx.Fail(caller.status());
  json::value pending;
  auto answer = ObtainGrant(ctx, *caller, *intent, wait, &pending);
  if (!answer.ok()) {
    if (ctx.global.json && !pending.is_null()) *ctx.out << PrettyJson(pending);
    return ctx.Fail(answer.status());
  }
  return PrintIssued(ctx, *answer);
}

int WorkloadComplete(const Context& ctx, const WorkloadArgs& args) {
  auto caller = AgentCaller::Create(ctx, args);
  if (!caller.ok()) return ctx.Fail(caller.status());
  auto done = caller->Call("POST", GrantPath(args.grant_id) + "/complete", nullptr);
  if (!done.ok()) return ctx.Fail(done.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*done);
  } else {
    *ctx.out << "grant " << SanitizeForTerminal(args.grant_id) << " completed\n";
  }
  return kExitOk;
}

}  // namespace

void AddGrantCommands(CLI::App& app, Context& ctx, std::function<int()>& action) {
  // Owned by the closures: parsing fills it after this function returns.
  auto args = std::make_shared<GrantArgs>();
  std::function<int()>* act = &action;
  Context* c = &ctx;
  auto add_json = [&](CLI::App* sub) { AddJsonFlag(sub, ctx.global); };
  auto add_id = [&](CLI::App* sub) {
    sub->add_option("ID", args->id, "Grant id (grt_...)")->required()->check(NonEmpty());
  };

  CLI::App* grant = app.add_subcommand("grant", "Inspect and revoke agents' grants");
  grant->require_subcommand(1);

  CLI::App* list = grant->add_subcommand("list", "List grants, newest first");
  list->add_option("--agent", args->agent, "Only this agent's grants")->type_name("NAME");
  list->add_flag("--active", args->active, "Only grants in force now");
  add_json(list);
  list->callback([act, c, args] { *act = [c, args] { return GrantList(*c, *args); }; });

  CLI::App* show = grant->add_subcommand("show", "Show a grant: scope, chain, approval, status");
  add_id(show);
  add_json(show);
  show->callback([act, c, args] { *act = [c, args] { return GrantShow(*c, *args); }; });

  CLI::App* revoke = grant->add_subcommand(
      "revoke", "Revoke a grant and every grant delegated from it, effective at once");
  add_id(revoke);
  revoke->add_option("--reason", args->reason, "Why (recorded in the audit log)")
      ->type_name("TEXT");
  add_json(revoke);
  revoke->callback([act, c, args] { *act = [c, args] { return GrantRevoke(*c, *args); }; });

  // Agent side, under `warden workload`.
  CLI::App* workload = app.get_subcommand("workload");
  auto wargs = std::make_shared<WorkloadArgs>();
  auto add_agent = [&](CLI::App* sub) {
    sub->add_option("--key", wargs->key_file, "This workload's key (warden workload keygen)")
        ->required()
        ->type_name("FILE");
    sub->add_option("--socket", wargs->socket,
                    "Workload API socket (default: $WARDEN_WORKLOAD_SOCKET or "
                    "DATA/public/workload.sock)")
        ->type_name("PATH");
    add_json(sub);
  };
  CLI::App* wgrant = workload->add_subcommand(
      "grant", "Declare an intent and receive a grant for it (waits while a human decides)");
  wgrant->add_option("--intent", wargs->intent_file, "Intent JSON file (task, actions, ...)")
      ->required()
      ->check(CLI::ExistingFile);
  wgrant->add_option("--wait", wargs->wait, "How long to wait for an approval (default 5m)")
      ->type_name("DURATION");
  add_agent(wgrant);
  wgrant->callback([act, c, wargs] { *act = [c, wargs] { return WorkloadGrant(*c, *wargs); }; });
  CLI::App* complete =
      workload->add_subcommand("complete", "End a grant: the task is done");
  complete->add_option("GRANT_ID", wargs->grant_id, "Grant id (grt_...)")
      ->required()
      ->check(NonEmpty());
  add_agent(complete);
  complete->callback(
      [act, c, wargs] { *act = [c, wargs] { return WorkloadComplete(*c, *wargs); }; });
}

}  // namespace warden::cli
