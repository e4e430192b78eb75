#include "warden/gateway/config.h"

#include <cstdlib>
#include <fstream>
#include <set>

#include "warden/core/json.h"
#include "warden/core/text.h"
#include "warden/core/time_format.h"
#include "warden/net/http_client.h"

namespace warden::gateway {
namespace {

constexpr size_t kMaxHeaderValueBytes = 8192;
constexpr size_t kMaxUpstreams = 256;

bool IsNameChar(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return !first && (c == '-' || c == '_');
}

Status CheckUpstreamName(std::string_view name, const std::string& field) {
  if (name.empty() || name.size() > 63) {
    return InvalidArgument("upstream name must be 1 to 63 characters", field);
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0)) {
      return InvalidArgument("upstream name \"" + std::string(name) +
                                 "\" must match [a-z0-9][a-z0-9-_]{0,62}",
                             field);
    }
  }
  return OkStatus();
}

// Headers the gateway itself sets or that describe the connection; letting a
// config override them would break framing or session binding.
bool IsReservedHeader(std::string_view lower_name) {
  static const std::set<std::string, std::less<>> kReserved = {
      "host",          "content-length", "transfer-encoding", "connection", "keep-alive",
      "upgrade",       "te",             "trailer",           "content-type", "accept",
      "mcp-session-id", "mcp-protocol-version", "dpop",       "proxy-connection"};
  return kReserved.contains(lower_name);
}

// Resolves "env:NAME", "file:/path" or a literal. Error messages name the
// reference, never a value.
Result<std::string> ResolveHeaderValue(const std::string& raw, const std::string& field) {
  std::string value;
  if (raw.starts_with("env:")) {
    std::string name = raw.substr(4);
    if (name.empty()) return InvalidArgument("env: reference without a variable name", field);
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) {
      return InvalidArgument("environment variable " + name + " is not set", field);
    }
    value = v;
  } else if (raw.starts_with("file:")) {
    std::string path = raw.substr(5);
    if (path.empty()) return InvalidArgument("file: reference without a path", field);
    std::ifstream in(path, std::ios::binary);
    if (!in) return InvalidArgument("file " + path + " cannot be read", field);
    std::getline(in, value);
    if (in.bad()) return InvalidArgument("file " + path + " cannot be read", field);
    if (!value.empty() && value.back() == '\r') value.pop_back();
  } else {
    value = raw;
  }
  if (value.empty()) return InvalidArgument("header value is empty", field);
  if (value.size() > kMaxHeaderValueBytes) {
    return InvalidArgument("header value is longer than " + std::to_string(kMaxHeaderValueBytes) +
                               " bytes",
                           field);
  }
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return InvalidArgument("header value contains a control character", field);
    }
  }
  return value;
}

Result<Upstream> ParseUpstream(const std::string& name, const json::value& v,
                               const std::string& path) {
  WARDEN_RETURN_IF_ERROR(CheckUpstreamName(name, path));
  WARDEN_ASSIGN_OR_RETURN(auto obj, StrictObject::From(v, path));
  Upstream up;
  up.name = name;
  WARDEN_ASSIGN_OR_RETURN(up.url, obj.RequiredString("url"));
  if (auto parsed = ParseUpstreamUrl(up.url); !parsed.ok()) {
    return InvalidArgument(parsed.status().message(), obj.FieldPath("url"));
  }
  if (const json::value* headers = obj.Optional("headers")) {
    WARDEN_ASSIGN_OR_RETURN(auto hobj, StrictObject::From(*headers, obj.FieldPath("headers")));
    std::set<std::string, std::less<>> seen;
    for (const auto& member : headers->as_object()) {
      std::string hname(member.key());
      std::string field = hobj.FieldPath(hname);
      if (hname.empty() || hname.size() > 256) {
        return InvalidArgument("header name must be 1 to 256 characters", field);
      }
      for (char c : hname) {
        if (!IsHttpTokenChar(c)) return InvalidArgument("invalid character in header name", field);
      }
      std::string lower = AsciiLower(hname);
      if (IsReservedHeader(lower)) {
        return InvalidArgument("header " + hname + " is set by the gateway and cannot be configured",
                               field);
      }
      if (!seen.insert(lower).second) {
        return InvalidArgument("header " + hname + " given twice", field);
      }
      WARDEN_ASSIGN_OR_RETURN(auto raw, hobj.RequiredString(hname));
      WARDEN_ASSIGN_OR_RETURN(auto value, ResolveHeaderValue(raw, field));
      up.headers.emplace_back(hname, std::move(value));
    }
    WARDEN_RETURN_IF_ERROR(hobj.Finish());
  }
  WARDEN_ASSIGN_OR_RETURN(auto cacert, obj.OptionalString("cacert_file"));
  if (cacert) {
    if (!up.url.starts_with("https://")) {
      return InvalidArgument("cacert_file is only meaningful for an https url",
                             obj.FieldPath("cacert_file"));
    }
    std::ifstream in(*cacert);
    if (!in) return InvalidArgument("file " + *cacert + " cannot be read", obj.FieldPath("cacert_file"));
    up.cacert_file = std::move(*cacert);
  }
  WARDEN_ASSIGN_OR_RETURN(auto timeout, obj.OptionalString("timeout"));
  if (timeout) {
    auto d = ParseDuration(*timeout);
    if (!d.ok()) return InvalidArgument(d.status().message(), obj.FieldPath("timeout"));
    if (*d < std::chrono::seconds(1) || *d > std::chrono::minutes(10)) {
      return InvalidArgument("must be between 1s and 10m", obj.FieldPath("timeout"));
    }
    up.timeout = *d;
  }
  WARDEN_ASSIGN_OR_RETURN(auto keep_args, obj.OptionalBool("audit_arguments"));
  if (keep_args) up.audit_arguments = *keep_args;
  WARDEN_RETURN_IF_ERROR(obj.Finish());
  return up;
}

Result<std::vector<Upstream>> ParseUpstreams(StrictObject& parent, std::string_view key) {
  std::vector<Upstream> out;
  const json::value* v = parent.Optional(key);
  if (v == nullptr) return out;
  std::string path = parent.FieldPath(key);
  if (!v->is_object()) {
    return InvalidArgument("must be an object mapping names to upstreams, not " +
                               std::string(JsonKindName(*v)),
                           path);
  }
  if (v->as_object().size() > kMaxUpstreams) {
    return InvalidArgument("at most " + std::to_string(kMaxUpstreams) + " upstreams", path);
  }
  for (const auto& member : v->as_object()) {
    std::string name(member.key());
    WARDEN_ASSIGN_OR_RETURN(auto up, ParseUpstream(name, member.value(), path + "." + name));
    out.push_back(std::move(up));
  }
  return out;
}

const Upstream* FindIn(const std::vector<Upstream>& list, std::string_view name) {
  for (const auto& up : list) {
    if (up.name == name) return &up;
  }
  return nullptr;
}

}  // namespace

Result<UpstreamUrl> ParseUpstreamUrl(std::string_view url) {
  std::string_view rest = url;
  size_t scheme_len;
  if (rest.starts_with("http://")) {
    scheme_len = 7;
  } else if (rest.starts_with("https://")) {
    scheme_len = 8;
  } else {
    return InvalidArgument("upstream URL must start with http:// or https://", "url");
  }
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return InvalidArgument("upstream URL contains whitespace, a control or a non-ASCII character",
                             "url");
    }
  }
  if (url.find('#') != std::string_view::npos) {
    return InvalidArgument("upstream URL must not have a fragment", "url");
  }
  size_t path_start = rest.find_first_of("/?", scheme_len);
  std::string_view authority = rest.substr(
      scheme_len, path_start == std::string_view::npos ? std::string_view::npos
                                                       : path_start - scheme_len);
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("upstream URL must not carry user info (configure headers instead)",
                           "url");
  }
  UpstreamUrl out;
  out.base = std::string(url.substr(0, scheme_len)) + std::string(authority);
  auto base = net::ParseServerUrl(out.base);
  if (!base.ok()) return InvalidArgument(base.status().message(), "url");
  out.base = base->ToString();
  if (path_start == std::string_view::npos) {
    out.path = "/";
  } else if (rest[path_start] == '?') {
    out.path = "/" + std::string(rest.substr(path_start));
  } else {
    out.path = std::string(rest.substr(path_start));
  }
  return out;
}

Result<UpstreamClient> MakeUpstreamClient(const Upstream& upstream, size_t max_response_bytes,
                                          const std::string& field) {
  auto url = ParseUpstreamUrl(upstream.url);
  if (!url.ok()) return InvalidArgument(url.status().message(), field + ".url");
  net::HttpClientOptions options;
  options.cacert_file = upstream.cacert_file;
  options.max_response_bytes = max_response_bytes;
  auto pool = net::HttpClientPool::Create(url->base, options);
  if (!pool.ok()) return InvalidArgument(pool.status().message(), field);
  return UpstreamClient{std::move(*url), std::move(*pool)};
}

Result<GatewayConfig> ParseGatewayConfig(const json::value& value) {
  GatewayConfig config;
  WARDEN_ASSIGN_OR_RETURN(auto obj, StrictObject::From(value, "gateway"));
  WARDEN_ASSIGN_OR_RETURN(config.mcp_servers, ParseUpstreams(obj, "mcp_servers"));
  WARDEN_ASSIGN_OR_RETURN(config.http_services, ParseUpstreams(obj, "http_services"));
  WARDEN_ASSIGN_OR_RETURN(auto wait, obj.OptionalString("approval_wait"));
  if (wait) {
    auto d = ParseDuration(*wait);
    if (!d.ok()) return InvalidArgument(d.status().message(), obj.FieldPath("approval_wait"));
    if (*d < std::chrono::seconds(1) || *d > std::chrono::minutes(10)) {
      return InvalidArgument("must be between 1s and 10m", obj.FieldPath("approval_wait"));
    }
    config.approval_wait = *d;
  }
  WARDEN_ASSIGN_OR_RETURN(auto keep_args, obj.OptionalBool("audit_arguments"));
  if (keep_args) config.audit_arguments = *keep_args;
  WARDEN_ASSIGN_OR_RETURN(auto max_bytes, obj.OptionalInt("max_message_bytes"));
  if (max_bytes) {
    if (*max_bytes < 1024 || *max_bytes > (int64_t{64} << 20)) {
      return InvalidArgument("must be between 1024 and 67108864",
                             obj.FieldPath("max_message_bytes"));
    }
    config.max_message_bytes = static_cast<size_t>(*max_bytes);
  }
  WARDEN_RETURN_IF_ERROR(obj.Finish());
  return config;
}

const Upstream* FindMcpServer(const GatewayConfig& config, std::string_view name) {
  return FindIn(config.mcp_servers, name);
}

const Upstream* FindHttpService(const GatewayConfig& config, std::string_view name) {
  return FindIn(config.http_services, name);
}

}  // namespace warden::gateway
