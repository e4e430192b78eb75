#include "warden/policy/tools.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "warden/cedar/entity_json.h"
#include "warden/cedar/formatter.h"
#include "warden/cedar/parser.h"
#include "warden/cedar/schema_json.h"
#include "warden/cedar/validator.h"
#include "warden/core/json.h"
#include "warden/policy/engine.h"

namespace warden::policy {
namespace {

namespace json = boost::json;

constexpr size_t kMaxInputFile = 256u << 20;

Result<json::value> ReadJsonFile(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  JsonParseOptions options;
  options.max_bytes = kMaxInputFile;
  options.max_depth = 256;
  auto v = ParseJson(text, options);
  if (!v.ok()) return v.status().WithContext(path);
  return v;
}

Result<cedar::Schema> LoadSchema(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  cedar::SchemaSource source;
  source.name = path;
  // The JSON schema form is recognised by its extension.
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    return cedar::Schema::ParseJsonText(text, source);
  }
  return cedar::Schema::ParseText(text, source);
}


}  // namespace

Result<std::string> ReadTextFile(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return NotFound("cannot read " + path + ": " + ec.message());
  if (size > kMaxInputFile) return ResourceExhausted(path + " is larger than 256 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<OfflineAuthorizer> OfflineAuthorizer::Load(const std::string& policies_path,
                                                  const std::string& entities_path,
                                                  const std::optional<std::string>& schema_path) {
  OfflineAuthorizer out;
  WARDEN_ASSIGN_OR_RETURN(std::string policy_text, ReadTextFile(policies_path));
  auto ast = cedar::ParsePolicies(policy_text, policies_path);
  if (!ast.ok()) return ast.status();
  WARDEN_ASSIGN_OR_RETURN(out.policies_, cedar::PolicySet::Create(std::move(*ast)));

  WARDEN_ASSIGN_OR_RETURN(json::value entities_json, ReadJsonFile(entities_path));
  if (schema_path) {
    auto schema = LoadSchema(*schema_path);
    if (!schema.ok()) return schema.status();
    out.schema_ = std::make_shared<const cedar::Schema>(std::move(*schema));
    auto explicit_json = cedar::ExplicitEntitiesJson(entities_json, *out.schema_);
    if (!explicit_json.ok()) return explicit_json.status().WithContext(entities_path);
    entities_json = std::move(*explicit_json);
  }
  auto entities = cedar::EntitiesFromJson(entities_json);
  if (!entities.ok()) return entities.status().WithContext(entities_path);
  out.entities_ = std::make_shared<const cedar::Entities>(std::move(*entities));
  return out;
}

Result<cedar::Response> OfflineAuthorizer::Authorize(const json::value& request_json) const {
  WARDEN_ASSIGN_OR_RETURN(auto body, StrictObject::From(request_json, ""));
  cedar::Request request;
  body.Optional("principal");
  body.Optional("action");
  body.Optional("resource");
  const json::value* context = body.Optional("context");
  WARDEN_RETURN_IF_ERROR(body.Finish());
  WARDEN_ASSIGN_OR_RETURN(request.principal, RequestUid(request_json, "principal"));
  WARDEN_ASSIGN_OR_RETURN(request.action, RequestUid(request_json, "action"));
  WARDEN_ASSIGN_OR_RETURN(request.resource, RequestUid(request_json, "resource"));
  WARDEN_ASSIGN_OR_RETURN(
      request.context,
      ParseRequestContext(context != nullptr ? *context : json::value(json::object()),
                          schema_.get(), request.action));
  if (schema_) {
    Status valid = cedar::ValidateRequest(*schema_, request);
    if (!valid.ok()) return Status(StatusCode::kInvalidArgument, valid.message(), "request");
  }
  return cedar::IsAuthorized(*policies_, request, *entities_);
}

Result<size_t> ValidateFiles(const std::string& policies_path, const std::string& schema_path) {
  WARDEN_ASSIGN_OR_RETURN(std::string policy_text, ReadTextFile(policies_path));
  auto ast = cedar::ParsePolicies(policy_text, policies_path);
  if (!ast.ok()) return ast.status();
  auto schema = LoadSchema(schema_path);
  if (!schema.ok()) return schema.status();
  cedar::ValidationResult result = cedar::ValidatePolicies(*schema, *ast);
  if (!result.ok()) return InvalidArgument(result.ErrorText());
  return ast->policies.size();
}

Result<std::string> FormatFile(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return cedar::FormatPolicyText(text, path);
}

Result<std::vector<PolicyTestCase>> RunPolicyTests(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(json::value doc, ReadJsonFile(path));
  WARDEN_ASSIGN_OR_RETURN(auto top, StrictObject::From(doc, ""));
  WARDEN_ASSIGN_OR_RETURN(std::string policies, top.RequiredString("policies"));
  WARDEN_ASSIGN_OR_RETURN(std::string entities, top.RequiredString("entities"));
  WARDEN_ASSIGN_OR_RETURN(std::optional<std::string> schema, top.OptionalString("schema"));
  const json::value* cases = top.Optional("cases");
  WARDEN_RETURN_IF_ERROR(top.Finish());
  if (cases == nullptr || !cases->is_array()) {
    return InvalidArgument("must be an array of test cases", "cases");
  }
  auto base = std::filesystem::path(path).parent_path();
  auto resolve = [&](const std::string& p) { return (base / p).lexically_normal().string(); };
  std::optional<std::string> schema_path;
  if (schema) schema_path = resolve(*schema);
  WARDEN_ASSIGN_OR_RETURN(auto authorizer,
                          OfflineAuthorizer::Load(resolve(policies), resolve(entities), schema_path));

  std::vector<PolicyTestCase> out;
  std::set<std::string> names;
  size_t index = 0;
  for (const auto& c : cases->as_array()) {
    std::string where = "cases[" + std::to_string(index++) + "]";
    WARDEN_ASSIGN_OR_RETURN(auto obj, StrictObject::From(c, where));
    PolicyTestCase result;
    WARDEN_ASSIGN_OR_RETURN(result.name, obj.RequiredString("name"));
    WARDEN_ASSIGN_OR_RETURN(result.expected, obj.RequiredString("decision"));
    WARDEN_ASSIGN_OR_RETURN(auto reasons, obj.OptionalStringArray("reasons"));
    const json::value* request = obj.Optional("request");
    obj.Optional("description");
    WARDEN_RETURN_IF_ERROR(obj.Finish());
    if (result.expected != "allow" && result.expected != "deny") {
      return InvalidArgument("must be \"allow\" or \"deny\"", obj.FieldPath("decision"));
    }
    if (request == nullptr) return InvalidArgument("is required", obj.FieldPath("request"));
    if (!names.insert(result.name).second) {
      return InvalidArgument("duplicate case name \"" + result.name + "\"", obj.FieldPath("name"));
    }
    auto response = authorizer.Authorize(*request);
    if (!response.ok()) {
      result.actual = "error";
      result.detail = "request rejected: " + response.status().ToString();
    } else {
      result.actual = std::string(cedar::DecisionName(response->decision));
      const auto& got = response->diagnostics.reasons;
      std::string got_text;
      for (const auto& r : got) got_text += (got_text.empty() ? "" : ", ") + r;
      result.passed = result.actual == result.expected;
      if (result.passed && reasons) {
        std::set<std::string> want(reasons->begin(), reasons->end());
        std::set<std::string> have(got.begin(), got.end());
        if (want != have) {
          result.passed = false;
          result.detail = "expected reasons [" + [&] {
            std::string t;
            for (const auto& r : want) t += (t.empty() ? "" : ", ") + r;
            return t;
          }() + "], got [" + got_text + "]";
        }
      }
      if (result.detail.empty()) {
        result.detail = got_text.empty() ? "no policy applied" : "reasons: " + got_text;
        for (const auto& e : response->diagnostics.errors) {
          result.detail += "; error in " + e.policy_id + ": " + e.message;
        }
      }
    }
    out.push_back(std::move(result));
  }
  return out;
}

}  // namespace warden::policy
