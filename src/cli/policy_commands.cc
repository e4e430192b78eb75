// `warden policy ...`: list and reload talk to the server; authorize,
// validate, format and test work offline on files through warden::policy.

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "warden/cedar/authorizer.h"
#include "warden/core/json.h"
#include "warden/policy/tools.h"

namespace warden::cli {
namespace {

std::string Str(const json::value* v) {
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// One answer line for --requests: the decision, or the error for that line.
std::string ErrorLine(const Status& status, size_t line) {
  json::object e{{"code", StatusCodeName(status.code())},
                 {"message", status.message()},
                 {"line", static_cast<int64_t>(line)}};
  if (!status.field().empty()) e["field"] = status.field();
  return ToJson(json::object{{"error", std::move(e)}});
}

}  // namespace

int PolicyList(const Context& ctx) {
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  auto listing = api->Call("GET", "/v1/policies");
  if (!listing.ok()) return ctx.Fail(listing.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*listing);
    return kExitOk;
  }
  const auto& obj = listing->as_object();
  *ctx.out << FormatKeyValues({{"hash", JsonText(obj, "hash")}, {"loaded at", JsonText(obj, "loaded_at")}});
  std::vector<std::vector<std::string>> rows;
  if (const auto* policies = obj.if_contains("policies"); policies && policies->is_array()) {
    for (const auto& p : policies->as_array()) {
      const auto& po = p.as_object();
      rows.push_back({Str(po.if_contains("id")), Str(po.if_contains("name")),
                      Str(po.if_contains("effect")), Str(po.if_contains("location"))});
    }
  }
  if (rows.empty()) {
    *ctx.out << "no policies loaded: every request is denied\n";
  } else {
    *ctx.out << "\n" << FormatTable({"ID", "NAME", "EFFECT", "LOCATION"}, rows);
  }
  if (const auto* warnings = obj.if_contains("warnings"); warnings && warnings->is_array()) {
    for (const auto& w : warnings->as_array()) *ctx.out << "warning: " << SanitizeForTerminal(Str(&w)) << "\n";
  }
  return kExitOk;
}

int PolicyReload(const Context& ctx) {
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  auto result = api->Call("POST", "/v1/policies/reload");
  if (!result.ok()) return ctx.Fail(result.status());
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*result);
    return kExitOk;
  }
  const auto& obj = result->as_object();
  size_t count = 0;
  if (const auto* p = obj.if_contains("policies"); p && p->is_array()) count = p->as_array().size();
  *ctx.out << "policies reloaded: " << count << " policies, hash " << JsonText(obj, "hash")
           << " (was " << JsonText(obj, "previous_hash") << ")\n";
  return kExitOk;
}

int PolicyAuthorize(const Context& ctx, const PolicyArgs& args) {
  std::optional<std::string> schema;
  if (!args.schema.empty()) schema = args.schema;
  auto authorizer = policy::OfflineAuthorizer::Load(args.policies, args.entities, schema);
  if (!authorizer.ok()) return ctx.Fail(authorizer.status());

  if (!args.request.empty()) {
    auto text = policy::ReadTextFile(args.request);
    if (!text.ok()) return ctx.Fail(text.status());
    auto request = ParseJson(*text);
    if (!request.ok()) return ctx.Fail(request.status().WithContext(args.request));
    auto response = authorizer->Authorize(*request);
    if (!response.ok()) return ctx.Fail(response.status().WithContext(args.request));
    *ctx.out << cedar::ResponseToJson(*response) << "\n";
    return kExitOk;
  }

  std::ifstream in(args.requests);
  if (!in) return ctx.Fail(NotFound("cannot open " + args.requests));
  std::string line;
  size_t number = 0;
  bool failed = false;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines
    auto request = ParseJson(line);
    Result<cedar::Response> response =
        request.ok() ? authorizer->Authorize(*request) : Result<cedar::Response>(request.status());
    if (!response.ok()) {
      failed = true;
      *ctx.out << ErrorLine(response.status(), number) << "\n";
    } else {
      *ctx.out << cedar::ResponseToJson(*response) << "\n";
    }
  }
  if (failed) {
    *ctx.err << "warden: some requests could not be decided (see the error lines)\n";
    return kExitFailed;
  }
  return kExitOk;
}

int PolicyValidate(const Context& ctx, const PolicyArgs& args) {
  auto result = policy::ValidateFiles(args.policies, args.schema);
  if (ctx.global.json) {
    json::object out{{"valid", result.ok()}};
    if (result.ok()) {
      out["policies"] = static_cast<int64_t>(*result);
    } else {
      json::array errors;
      std::istringstream lines(result.status().message());
      for (std::string l; std::getline(lines, l);) {
        if (!l.empty()) errors.emplace_back(l);
      }
      out["errors"] = std::move(errors);
    }
    *ctx.out << PrettyJson(out);
    return result.ok() ? kExitOk : kExitFailed;
  }
  if (!result.ok()) {
    *ctx.err << SanitizeForTerminal(result.status().message()) << "\n";
    return kExitFailed;
  }
  *ctx.out << "ok: " << *result << " policies validate against " << args.schema << "\n";
  return kExitOk;
}

int PolicyFormat(const Context& ctx, const PolicyArgs& args) {
  auto formatted = policy::FormatFile(args.file);
  if (!formatted.ok()) return ctx.Fail(formatted.status());
  if (args.check) {
    auto original = policy::ReadTextFile(args.file);
    if (!original.ok()) return ctx.Fail(original.status());
    if (*original != *formatted) {
      *ctx.err << args.file << " is not formatted\n";
      return kExitFailed;
    }
    return kExitOk;
  }
  if (args.write) {
    // Write next to the file and rename, so a crash never leaves half a policy.
    std::string tmp = args.file + ".warden-format.tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << *formatted;
      if (!out.flush()) return ctx.Fail(Unavailable("cannot write " + tmp));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, args.file, ec);
    if (ec) return ctx.Fail(Unavailable("cannot replace " + args.file + ": " + ec.message()));
    return kExitOk;
  }
  *ctx.out << *formatted;
  return kExitOk;
}

int PolicyTest(const Context& ctx, const PolicyArgs& args) {
  auto results = policy::RunPolicyTests(args.file);
  if (!results.ok()) return ctx.Fail(results.status().WithContext(args.file));
  size_t passed = 0;
  for (const auto& r : *results) passed += r.passed ? 1 : 0;
  size_t failed = results->size() - passed;
  if (ctx.global.json) {
    json::array cases;
    for (const auto& r : *results) {
      cases.push_back(json::object{{"name", r.name},
                                   {"passed", r.passed},
                                   {"expected", r.expected},
                                   {"actual", r.actual},
                                   {"detail", r.detail}});
    }
    *ctx.out << PrettyJson(json::object{{"passed", static_cast<int64_t>(passed)},
                                        {"failed", static_cast<int64_t>(failed)},
                                        {"cases", std::move(cases)}});
  } else {
    for (const auto& r : *results) {
      if (r.passed) {
        *ctx.out << "PASS " << SanitizeForTerminal(r.name) << "\n";
      } else {
        *ctx.out << "FAIL " << SanitizeForTerminal(r.name) << ": expected " << r.expected
                 << ", got " << r.actual << " (" << SanitizeForTerminal(r.detail) << ")\n";
      }
    }
    *ctx.out << passed << " passed, " << failed << " failed\n";
  }
  return failed == 0 ? kExitOk : kExitFailed;
}

}  // namespace warden::cli
