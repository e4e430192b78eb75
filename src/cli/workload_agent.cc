// The agent's side of the grant API (workload_agent.h).
#include "cli/workload_agent.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cli/output.h"
#include "warden/core/clock.h"
#include "warden/core/time_format.h"
#include "warden/crypto/dpop.h"

namespace warden::cli {
namespace {

constexpr std::chrono::seconds kLongPollStep{30};

}  // namespace

Result<AgentCaller> AgentCaller::Create(const Context& ctx, const WorkloadArgs& args) {
  WARDEN_ASSIGN_OR_RETURN(auto key, crypto::SigningKey::LoadPem(args.key_file));
  return Create(ctx, args, std::make_shared<const crypto::SigningKey>(std::move(key)));
}

Result<AgentCaller> AgentCaller::Create(const Context& ctx, const WorkloadArgs& args,
                                        std::shared_ptr<const crypto::SigningKey> key,
                                        bool stop_on_interrupt) {
  if (key == nullptr) return InvalidArgument("no workload key");
  HttpClientOptions options;
  options.cacert_file = ctx.global.cacert;
  options.stop_on_interrupt = stop_on_interrupt;
  WARDEN_ASSIGN_OR_RETURN(auto http, HttpClient::Create(ctx.global.server, options));
  std::string base = http->url().ToString();
  return AgentCaller(ctx, args, std::move(key), ApiClient(std::move(http), ""), std::move(base));
}

Result<json::value> AgentCaller::Call(std::string_view method, const std::string& target,
                                      const json::value* body,
                                      std::chrono::milliseconds timeout) {
  WARDEN_ASSIGN_OR_RETURN(json::value svid_answer, RequestSvid(ctx_, args_, key_.get()));
  const json::value* svid =
      svid_answer.is_object() ? svid_answer.get_object().if_contains("svid") : nullptr;
  if (svid == nullptr || !svid->is_string()) {
    return Internal("the Workload API answered without an SVID");
  }
  std::string token(svid->get_string());
  std::string path = target.substr(0, target.find('?'));
  WARDEN_ASSIGN_OR_RETURN(std::string proof,
                          crypto::CreateDpopProof(*key_, method, base_ + path,
                                                  SystemClock::Instance().Now(), token));
  return api_.CallWithHeaders(method, target, body,
                              {{"Authorization", "DPoP " + token}, {"DPoP", proof}}, timeout);
}

Result<json::value> ReadIntentFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read intent file " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto intent = ParseJson(text.str());
  if (!intent.ok()) return intent.status().WithContext(path);
  return std::move(*intent);
}

Result<json::value> ObtainGrant(const Context& ctx, AgentCaller& caller, const json::value& intent,
                                std::chrono::seconds wait, json::value* pending) {
  WARDEN_ASSIGN_OR_RETURN(json::value answer, caller.Call("POST", "/v1/grants", &intent));
  // Pending approval: long-poll the grant until a human decides or `wait` ends.
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::string id = JsonText(AsObject(answer), "id");
  while (JsonText(AsObject(answer), "status") == "pending_approval") {
    std::string approval = JsonText(AsObject(answer), "approval_id");
    if (std::chrono::steady_clock::now() >= deadline) {
      if (pending != nullptr) *pending = answer;
      return DeadlineExceeded("grant " + id + " is still waiting for approval " + approval +
                              "; run the command again to keep waiting");
    }
    *ctx.err << "warden: grant " << SanitizeForTerminal(id) << " waits for approval "
             << SanitizeForTerminal(approval) << "\n";
    auto left = std::chrono::duration_cast<std::chrono::seconds>(
        deadline - std::chrono::steady_clock::now());
    auto step = std::clamp(left, std::chrono::seconds(1), kLongPollStep);
    WARDEN_ASSIGN_OR_RETURN(
        answer, caller.Call("GET", "/v1/grants/" + UrlEscape(id) + "?wait=" + FormatDuration(step),
                            nullptr, step + std::chrono::seconds(15)));
  }
  return answer;
}

}  // namespace warden::cli
