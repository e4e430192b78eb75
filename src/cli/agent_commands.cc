// `warden agent ...`: the agent registry over /v1/agents.
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "warden/core/time_format.h"

namespace warden::cli {
namespace {

std::string AgentPath(const std::string& name) { return "/v1/agents/" + UrlEscape(name); }

// Adds the --expires value to a create or update body.
void PutExpires(const std::string& text, json::object& body) {
  if (ParseDuration(text).ok()) {
    body["expires_in"] = text;
  } else if (auto t = ParseRfc3339(text); t.ok()) {
    // Normalised to UTC so the server sees one form whatever offset was typed.
    body["expires_at"] = FormatRfc3339(*t);
  }
}

// The effective status, with why it differs from the stored one:
// "suspended (expired; stored: active)".
std::string StatusText(const json::object& agent) {
  std::string status = JsonText(agent, "status");
  std::vector<std::string> notes;
  const json::value* expired = agent.if_contains("expired");
  if (expired != nullptr && expired->is_bool() && expired->get_bool()) notes.emplace_back("expired");
  const json::value* stored = agent.if_contains("stored_status");
  if (stored != nullptr && stored->is_string() && stored->get_string() != status) {
    notes.push_back("stored: " + std::string(stored->get_string()));
  }
  for (size_t i = 0; i < notes.size(); ++i) status += (i == 0 ? " (" : "; ") + notes[i];
  if (!notes.empty()) status += ")";
  return status;
}

void PrintAgent(const Context& ctx, const json::value& v) {
  if (ctx.global.json) {
    *ctx.out << PrettyJson(v);
    return;
  }
  if (!v.is_object()) {
    *ctx.out << PrettyJson(v);
    return;
  }
  const json::object& a = v.get_object();
  *ctx.out << FormatKeyValues({
      {"name", JsonText(a, "name")},
      {"spiffe_id", JsonText(a, "spiffe_id")},
      {"status", StatusText(a)},
      {"owner", JsonText(a, "owner")},
      {"purpose", JsonText(a, "purpose")},
      {"environment", JsonText(a, "environment")},
      {"expires_at", JsonText(a, "expires_at")},
      {"selectors", JsonText(a, "selectors")},
      {"created_at", JsonText(a, "created_at")},
      {"updated_at", JsonText(a, "updated_at")},
      {"version", JsonText(a, "version")},
  });
}

// The agents array of a list response ({"agents":[...]} or a bare array).
const json::array* AgentsOf(const json::value& v) {
  if (v.is_array()) return &v.get_array();
  if (v.is_object()) {
    const json::value* agents = v.get_object().if_contains("agents");
    if (agents != nullptr && agents->is_array()) return &agents->get_array();
  }
  return nullptr;
}

}  // namespace

std::string CheckExpires(const std::string& text) {
  if (ParseDuration(text).ok() || ParseRfc3339(text).ok()) return {};
  return "\"" + SanitizeForTerminal(text) +
         "\" is neither a duration (30d, 12h, 1h30m) nor an RFC 3339 time "
         "(2026-12-31T00:00:00Z)";
}

int AgentCreate(const Context& ctx, const AgentArgs& args) {
  json::object body;
  body["name"] = args.name;
  // Absent flags are left out rather than sent empty, so the server's answer
  // names the missing field.
  if (!args.owner.empty()) body["owner"] = args.owner;
  if (!args.purpose.empty()) body["purpose"] = args.purpose;
  if (!args.environment.empty()) body["environment"] = args.environment;
  if (!args.expires.empty()) PutExpires(args.expires, body);
  if (!args.selectors.empty()) {
    json::array selectors;
    for (const auto& s : args.selectors) selectors.emplace_back(s);
    body["selectors"] = std::move(selectors);
  }
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  json::value request(std::move(body));
  auto created = api->Call("POST", "/v1/agents", &request);
  if (!created.ok()) return ctx.Fail(created.status());
  if (!ctx.global.json) *ctx.out << "agent " << SanitizeForTerminal(args.name) << " created\n";
  PrintAgent(ctx, *created);
  return kExitOk;
}

int AgentList(const Context& ctx, const AgentArgs& args) {
  std::string target = "/v1/agents";
  std::string sep = "?";
  auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    target += sep + key + "=" + UrlEscape(value);
    sep = "&";
  };
  add("status", args.status_filter);
  add("owner", args.owner);
  add("environment", args.environment);
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  auto listed = api->Call("GET", target);
  if (!listed.ok()) return ctx.Fail(listed.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*listed);
    return kExitOk;
  }
  const json::array* agents = AgentsOf(*listed);
  if (agents == nullptr) return ctx.Fail(Internal("server sent an unexpected agent list"));
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : *agents) {
    if (!item.is_object()) continue;
    const auto& a = item.get_object();
    rows.push_back({JsonText(a, "name"), JsonText(a, "status"), JsonText(a, "environment"),
                    JsonText(a, "owner"), JsonText(a, "expires_at")});
  }
  if (rows.empty()) {
    *ctx.out << "no agents\n";
    return kExitOk;
  }
  *ctx.out << FormatTable({"NAME", "STATUS", "ENV", "OWNER", "EXPIRES"}, rows);
  return kExitOk;
}

int AgentShow(const Context& ctx, const AgentArgs& args) {
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  auto agent = api->Call("GET", AgentPath(args.name));
  if (!agent.ok()) return ctx.Fail(agent.status());
  PrintAgent(ctx, *agent);
  return kExitOk;
}

int AgentUpdate(const Context& ctx, const AgentArgs& args, bool selectors_given) {
  json::object body;
  if (!args.owner.empty()) body["owner"] = args.owner;
  if (!args.purpose.empty()) body["purpose"] = args.purpose;
  if (!args.environment.empty()) body["environment"] = args.environment;
  if (!args.expires.empty()) PutExpires(args.expires, body);
  if (selectors_given || args.clear_selectors) {
    json::array selectors;
    for (const auto& s : args.selectors) selectors.emplace_back(s);
    body["selectors"] = std::move(selectors);
  }
  if (body.empty()) {
    *ctx.err << "warden: nothing to update: pass at least one of --owner, --purpose, --env, "
                "--expires, --selector, --clear-selectors\n";
    return kExitUsage;
  }
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  json::value request(std::move(body));
  auto updated = api->Call("PATCH", AgentPath(args.name), &request);
  if (!updated.ok()) return ctx.Fail(updated.status());
  if (!ctx.global.json) *ctx.out << "agent " << SanitizeForTerminal(args.name) << " updated\n";
  PrintAgent(ctx, *updated);
  return kExitOk;
}

int AgentTransition(const Context& ctx, const AgentArgs& args, const std::string& verb) {
  json::object body;
  if (!args.reason.empty()) body["reason"] = args.reason;
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  json::value request(std::move(body));
  auto changed = api->Call("POST", AgentPath(args.name) + "/" + verb, &request);
  if (!changed.ok()) return ctx.Fail(changed.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*changed);
    return kExitOk;
  }
  std::string status = changed->is_object() ? StatusText(changed->get_object()) : "-";
  *ctx.out << "agent " << SanitizeForTerminal(args.name) << ": "
           << SanitizeForTerminal(status) << "\n";
  return kExitOk;
}

}  // namespace warden::cli
