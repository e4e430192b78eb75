#include "cli/api_client.h"

#include <cctype>
#include <cstdio>

namespace warden::cli {

StatusCode StatusCodeFromName(std::string_view name) {
  for (int c = static_cast<int>(StatusCode::kInvalidArgument);
       c <= static_cast<int>(StatusCode::kInternal); ++c) {
    auto code = static_cast<StatusCode>(c);
    if (StatusCodeName(code) == name) return code;
  }
  return StatusCode::kInternal;
}

namespace {

StatusCode CodeForHttpStatus(int status) {
  switch (status) {
    case 400: return StatusCode::kInvalidArgument;
    case 401: return StatusCode::kUnauthenticated;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 409: return StatusCode::kFailedPrecondition;
    case 413:
    case 429: return StatusCode::kResourceExhausted;
    case 501: return StatusCode::kUnimplemented;
    case 503: return StatusCode::kUnavailable;
    case 504: return StatusCode::kDeadlineExceeded;
    default: return StatusCode::kInternal;
  }
}

}  // namespace

Status StatusFromErrorResponse(int http_status, std::string_view body) {
  auto parsed = ParseJson(body);
  if (parsed.ok() && parsed->is_object()) {
    const json::value* error = parsed->get_object().if_contains("error");
    if (error != nullptr && error->is_object()) {
      const auto& e = error->get_object();
      auto text = [&](std::string_view key) -> std::string {
        const json::value* v = e.if_contains(key);
        return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
      };
      std::string code_name = text("code");
      StatusCode code = code_name.empty() ? CodeForHttpStatus(http_status)
                                          : StatusCodeFromName(code_name);
      std::string message = text("message");
      if (message.empty()) message = "server refused the request (HTTP " +
                                     std::to_string(http_status) + ")";
      return Status(code, std::move(message), text("field"));
    }
  }
  return Status(CodeForHttpStatus(http_status),
                "server answered HTTP " + std::to_string(http_status) + " without an error body");
}

std::string UrlEscape(std::string_view text) {
  std::string out;
  char buf[4];
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned>(c));
      out += buf;
    }
  }
  return out;
}

Result<json::value> ApiClient::Call(std::string_view method, std::string target,
                                    const json::value* body,
                                    std::chrono::milliseconds timeout) {
  return CallWithHeaders(method, std::move(target), body, {}, timeout);
}

Result<json::value> ApiClient::CallWithHeaders(
    std::string_view method, std::string target, const json::value* body,
    std::vector<std::pair<std::string, std::string>> headers, std::chrono::milliseconds timeout) {
  HttpRequest request;
  request.headers = std::move(headers);
  request.method = std::string(method);
  request.target = std::move(target);
  request.bearer_token = token_;
  if (body != nullptr) request.body = json::serialize(*body);
  WARDEN_ASSIGN_OR_RETURN(HttpResponse response, http_->Send(request, timeout));
  if (response.status < 200 || response.status > 299) {
    return StatusFromErrorResponse(response.status, response.body);
  }
  if (response.body.empty()) return json::value(nullptr);
  JsonParseOptions limits;
  limits.max_bytes = response.body.size();
  auto parsed = ParseJson(response.body, limits);
  if (!parsed.ok()) {
    return Internal("server sent invalid JSON: " + parsed.status().message());
  }
  return std::move(parsed).value();
}

}  // namespace warden::cli
