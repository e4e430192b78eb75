// `warden workload mcp`: a stdio MCP server for any MCP client, which carries
// each JSON-RPC message to the Warden gateway (/mcp/NAME, Streamable HTTP)
// under a grant obtained for the declared intent. The agent proves its
// identity on the Workload API socket, receives the grant, and presents it
// with a fresh DPoP proof on every request; the gateway decides each call.
// stdout carries JSON-RPC only (one message per line); diagnostics go to
// stderr. One thread reads stdin and forwards notifications and responses in
// order; each request is forwarded on its own thread, so a call waiting for a
// human does not hold up the others.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/workload_agent.h"
#include "warden/core/clock.h"
#include "warden/core/time_format.h"
#include "warden/crypto/dpop.h"
#include "warden/crypto/signing_key.h"

namespace warden::cli {
namespace {

// Largest JSON-RPC message read from stdin (the gateway's default limit).
constexpr size_t kMaxMessageBytes = size_t{4} << 20;
// Messages forwarded at once; more are answered with an error at once.
constexpr int kMaxInFlight = 32;
// The proxy stops this long before the grant expires, so no call is sent with
// a token the gateway will refuse halfway.
constexpr std::chrono::seconds kExpiryMargin{15};
// After stdin closes, answers still on their way get this long to arrive.
constexpr std::chrono::seconds kDrainTimeout{10};
// Ending the MCP session and completing the grant, each.
constexpr std::chrono::seconds kCleanupTimeout{10};
// Longest wait for one request's answer; the grant's expiry ends it sooner.
constexpr std::chrono::hours kMaxRequestTimeout{1};
// Notifications and client responses (answered at once with 202).
constexpr std::chrono::seconds kNotificationTimeout{10};

constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kInternalError = -32603;

constexpr char kWakeSignal = 's';
constexpr char kWakeGrantEnded = 'g';

struct McpArgs {
  std::string gateway;
  std::string server_name;
  WorkloadArgs workload;  // intent_file, wait, key_file, socket
};

// Why the proxy stopped.
enum class StopReason { kEndOfInput, kSignal, kGrantEnded, kGrantExpiring, kInputError };

// The write end of the wake pipe for the signal handler; -1 when none.
std::atomic<int> g_wake_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free);

void OnStopSignal(int) {
  const int saved = errno;
  const int fd = g_wake_fd.load();
  if (fd >= 0) {
    const char c = kWakeSignal;
    [[maybe_unused]] ssize_t n = write(fd, &c, 1);
  }
  errno = saved;
}

// The MCP server name rule of the gateway config: [a-z0-9][a-z0-9-_]{0,62}.
bool ValidServerName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_'))) return false;
  }
  return true;
}

json::object RpcError(const json::value& id, int code, std::string message,
                      json::object data = {}) {
  json::object error{{"code", code}, {"message", std::move(message)}};
  if (!data.empty()) error["data"] = std::move(data);
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

// The ids of the requests (not notifications or responses) in a message or batch.
std::vector<json::value> RequestIds(const json::value& message) {
  std::vector<json::value> ids;
  auto one = [&](const json::value& m) {
    if (!m.is_object()) return;
    const json::object& o = m.get_object();
    const json::value* id = o.if_contains("id");
    if (o.contains("method") && id != nullptr && (id->is_string() || id->is_number())) {
      ids.push_back(*id);
    }
  };
  if (message.is_array()) {
    for (const auto& m : message.get_array()) one(m);
  } else {
    one(message);
  }
  return ids;
}

bool IsInitialize(const json::value& message) {
  return message.is_object() && JsonText(message.get_object(), "method") == "initialize";
}

// The JSON-RPC messages in a JSON body (one message or a batch array).
void MessagesFromJson(const json::value& body, std::vector<json::value>& out) {
  if (body.is_array()) {
    for (const auto& m : body.get_array()) {
      if (m.is_object()) out.push_back(m);
    }
  } else if (body.is_object()) {
    out.push_back(body);
  }
}

// The JSON-RPC messages of an SSE body: the data of each event (its "data:"
// lines joined by newlines) is one message or batch. Events without data
// (keep-alive, priming ids) and data that is not JSON are skipped.
void MessagesFromSse(std::string_view body, std::vector<json::value>& out) {
  std::string data;
  bool has_data = false;
  auto dispatch = [&] {
    if (has_data) {
      auto parsed =
          ParseJson(data, JsonParseOptions{.max_depth = 64, .max_bytes = kMaxMessageBytes});
      if (parsed.ok()) MessagesFromJson(*parsed, out);
    }
    data.clear();
    has_data = false;
  };
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (line.empty()) {
      dispatch();
      continue;
    }
    if (line.substr(0, 5) != "data:") continue;  // comments, event, id, retry
    std::string_view value = line.substr(5);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (has_data) data += '\n';
    data.append(value);
    has_data = true;
  }
  dispatch();
}

// The message of a Warden API error body ({"error":{"message":...}}), else "".
std::string ApiErrorMessage(const json::value& body) {
  if (!body.is_object()) return "";
  const json::value* error = body.get_object().if_contains("error");
  if (error == nullptr || !error->is_object()) return "";
  return JsonText(error->get_object(), "message");
}

// What every forwarding thread shares with the main thread. The fields above
// `mu` are fixed before the first thread starts.
struct Shared {
  std::string gateway_base;  // "http://host:port"
  std::string path;          // "/mcp/NAME"
  std::string cacert;
  std::string grant_token;   // a credential: never printed
  std::shared_ptr<const crypto::SigningKey> key;
  TimePoint expires_at;
  int wake_read = -1;
  int wake_write = -1;

  std::mutex mu;
  std::condition_variable idle;
  // Borrowed from the caller of the command; written only under mu and only
  // while !closed (the command returns only after setting closed).
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool closed = false;
  std::string session_id;
  std::string protocol_version;
  std::map<std::string, int> pending;  // ToJson(id) -> requests in flight with that id
  int in_flight = 0;
  std::string grant_end;  // set when the gateway said the grant has ended

  Shared() = default;
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  ~Shared() {
    if (wake_read >= 0) close(wake_read);
    if (wake_write >= 0) close(wake_write);
  }

  void Wake(char why) const {
    [[maybe_unused]] ssize_t n = write(wake_write, &why, 1);
  }

  // Writes one message as one line of stdout. Requires mu held.
  void EmitLocked(const json::value& message) {
    if (closed) return;
    *out << ToJson(message) << '\n';
    out->flush();
  }
  void Note(const std::string& text) {
    std::lock_guard lock(mu);
    if (!closed) *err << "warden: " << SanitizeForTerminal(text) << "\n";
  }
};

// One HTTP request to the gateway with the grant token and a fresh DPoP proof
// for exactly this method and URL (without query).
Result<HttpResponse> SendToGateway(Shared& s, std::string method, std::string body,
                                   std::chrono::milliseconds timeout) {
  HttpClientOptions options;
  options.cacert_file = s.cacert;
  options.max_response_bytes = size_t{64} << 20;
  WARDEN_ASSIGN_OR_RETURN(auto http, HttpClient::Create(s.gateway_base, options));
  WARDEN_ASSIGN_OR_RETURN(std::string proof,
                          crypto::CreateDpopProof(*s.key, method, s.gateway_base + s.path,
                                                  SystemClock::Instance().Now(), s.grant_token));
  HttpRequest request;
  request.method = std::move(method);
  request.target = s.path;
  request.body = std::move(body);
  request.headers = {{"Authorization", "DPoP " + s.grant_token},
                     {"DPoP", proof},
                     {"Accept", "application/json, text/event-stream"}};
  {
    std::lock_guard lock(s.mu);
    if (!s.session_id.empty()) request.headers.emplace_back("Mcp-Session-Id", s.session_id);
    if (!s.protocol_version.empty()) {
      request.headers.emplace_back("MCP-Protocol-Version", s.protocol_version);
    }
  }
  return http->Send(request, timeout);
}

std::chrono::milliseconds RequestTimeout(const Shared& s) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      s.expires_at - SystemClock::Instance().Now());
  const std::chrono::milliseconds shortest = std::chrono::seconds(5);
  const std::chrono::milliseconds longest = kMaxRequestTimeout;
  return std::clamp(left, shortest, longest);
}

// Forwards one message (or batch) and writes every JSON-RPC message of the
// answer; each request of `message` gets exactly one answer, an error when
// the gateway gave none. Runs on its own thread for requests. Requires
// s->in_flight counted for it (it is uncounted here).
void Forward(const std::shared_ptr<Shared>& s, const json::value& message,
             std::chrono::milliseconds timeout) {
  const std::vector<json::value> ids = RequestIds(message);
  std::vector<json::value> replies;
  std::string failure;  // why requests without an answer failed
  json::object failure_data;
  auto sent = SendToGateway(*s, "POST", ToJson(message), timeout);
  if (!sent.ok()) {
    failure = "Warden gateway unreachable at " + s->gateway_base + s->path + ": " +
              sent.status().message();
    s->Note(failure);
  } else {
    const HttpResponse& r = *sent;
    const bool sse = r.content_type.find("text/event-stream") != std::string::npos;
    std::optional<json::value> body;
    if (sse) {
      MessagesFromSse(r.body, replies);
    } else if (!r.body.empty()) {
      auto parsed =
          ParseJson(r.body, JsonParseOptions{.max_depth = 64, .max_bytes = kMaxMessageBytes});
      if (parsed.ok()) body = std::move(*parsed);
    }
    const bool json_rpc_body =
        body && (body->is_array() ||
                 (body->is_object() && body->get_object().contains("jsonrpc")));
    if (json_rpc_body) MessagesFromJson(*body, replies);
    if (r.status == 401) {
      std::string why = body ? ApiErrorMessage(*body) : "";
      failure = "the grant has ended (revoked, completed or expired)" +
                (why.empty() ? std::string() : ": " + why);
      std::lock_guard lock(s->mu);
      if (s->grant_end.empty()) s->grant_end = failure;
      s->Wake(kWakeGrantEnded);
    } else if (r.status < 200 || r.status >= 300) {
      std::string why = body ? ApiErrorMessage(*body) : "";
      failure = "the Warden gateway refused the request (HTTP " + std::to_string(r.status) + ")" +
                (why.empty() ? std::string() : ": " + why);
      failure_data["http_status"] = r.status;
    } else if (r.status != 202 && replies.empty() && !ids.empty()) {
      failure = "the Warden gateway answered without a JSON-RPC response (HTTP " +
                std::to_string(r.status) + ", " +
                (r.content_type.empty() ? "no content type" : r.content_type) + ")";
    }
    if (!failure.empty() && r.status != 401) s->Note(failure);
    if (IsInitialize(message) && r.status >= 200 && r.status < 300) {
      std::string session = r.Header("Mcp-Session-Id").value_or("");
      std::lock_guard lock(s->mu);
      if (!session.empty()) s->session_id = std::move(session);
      for (const auto& reply : replies) {
        const json::value* result = reply.get_object().if_contains("result");
        if (result != nullptr && result->is_object()) {
          s->protocol_version = JsonText(result->get_object(), "protocolVersion");
        }
      }
    }
  }
  if (failure.empty()) failure = "the Warden gateway gave no answer to this request";

  std::lock_guard lock(s->mu);
  std::vector<std::string> answered;
  int failure_code = kInternalError;
  for (const auto& reply : replies) {
    const json::object& o = reply.get_object();
    const json::value* id = o.if_contains("id");
    const json::value* error = o.if_contains("error");
    // An error the gateway could not tie to a request (id null) is about
    // this message: it becomes the answer to the requests in it.
    if (!ids.empty() && (id == nullptr || id->is_null()) && error != nullptr &&
        error->is_object()) {
      const json::object& e = error->get_object();
      if (const json::value* code = e.if_contains("code"); code != nullptr && code->is_int64()) {
        failure_code = static_cast<int>(code->get_int64());
      }
      if (std::string text = JsonText(e, "message"); !text.empty()) failure = std::move(text);
      if (const json::value* data = e.if_contains("data"); data != nullptr && data->is_object()) {
        failure_data = data->get_object();
      }
      continue;
    }
    if (id != nullptr && !o.contains("method") && (o.contains("result") || error != nullptr)) {
      answered.push_back(ToJson(*id));
    }
    s->EmitLocked(reply);
  }
  for (const auto& id : ids) {
    std::string key = ToJson(id);
    auto it = std::find(answered.begin(), answered.end(), key);
    if (it != answered.end()) {
      answered.erase(it);
    } else {
      s->EmitLocked(RpcError(id, failure_code, failure, failure_data));
    }
    auto p = s->pending.find(key);
    if (p != s->pending.end() && --p->second == 0) s->pending.erase(p);
  }
  --s->in_flight;
  s->idle.notify_all();
}

// Installs the SIGINT/SIGTERM handlers that wake the main loop, and ignores
// SIGPIPE (a client that went away must not kill the cleanup); restores the
// previous dispositions when destroyed.
class SignalScope {
 public:
  explicit SignalScope(int wake_fd) {
    g_wake_fd.store(wake_fd);
    struct sigaction sa {};
    sa.sa_handler = OnStopSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &old_pipe_);
  }
  ~SignalScope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGPIPE, &old_pipe_, nullptr);
    g_wake_fd.store(-1);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  struct sigaction old_pipe_ {};
};

class McpProxy {
 public:
  explicit McpProxy(std::shared_ptr<Shared> shared) : s_(std::move(shared)) {}

  // Reads stdin until it ends, a signal arrives, or the grant ends.
  StopReason Serve() {
    std::string buffer;
    bool discarding = false;  // inside a line longer than kMaxMessageBytes
    char chunk[65536];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          s_->expires_at - kExpiryMargin - SystemClock::Instance().Now());
      if (left.count() <= 0) return StopReason::kGrantExpiring;
      pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {s_->wake_read, POLLIN, 0}};
      int timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), 60'000));
      int n = poll(fds, 2, timeout_ms);
      if (n < 0) {
        if (errno == EINTR) continue;
        s_->Note(std::string("cannot wait for input: ") + std::strerror(errno));
        return StopReason::kInputError;
      }
      if (fds[1].revents != 0) {
        char why[64];
        ssize_t got = read(s_->wake_read, why, sizeof why);
        bool grant_ended = false;
        for (ssize_t i = 0; i < got; ++i) grant_ended = grant_ended || why[i] == kWakeGrantEnded;
        if (grant_ended) return StopReason::kGrantEnded;
        if (got > 0) return StopReason::kSignal;
      }
      if (fds[0].revents == 0) continue;
      ssize_t got = read(STDIN_FILENO, chunk, sizeof chunk);
      if (got < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        s_->Note(std::string("cannot read stdin: ") + std::strerror(errno));
        return StopReason::kInputError;
      }
      if (got == 0) {
        if (!discarding) Dispatch(buffer);  // a last message without a newline
        return StopReason::kEndOfInput;
      }
      std::string_view data(chunk, static_cast<size_t>(got));
      while (!data.empty()) {
        size_t nl = data.find('\n');
        if (nl == std::string_view::npos) {
          if (!discarding) buffer.append(data);
          if (buffer.size() > kMaxMessageBytes) TooLong(buffer, discarding);
          break;
        }
        if (!discarding) {
          buffer.append(data.substr(0, nl));
          if (buffer.size() > kMaxMessageBytes) {
            TooLong(buffer, discarding);
          } else {
            Dispatch(buffer);
          }
        }
        buffer.clear();
        discarding = false;
        data.remove_prefix(nl + 1);
      }
    }
  }

 private:
  void TooLong(std::string& buffer, bool& discarding) {
    buffer.clear();
    discarding = true;
    std::lock_guard lock(s_->mu);
    s_->EmitLocked(RpcError(nullptr, kInvalidRequest,
                            "message longer than " + std::to_string(kMaxMessageBytes) + " bytes"));
  }

  void Dispatch(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    auto parsed =
        ParseJson(line, JsonParseOptions{.max_depth = 64, .max_bytes = kMaxMessageBytes});
    std::unique_lock lock(s_->mu);
    if (!parsed.ok()) {
      s_->EmitLocked(RpcError(nullptr, kParseError, "Parse error: " + parsed.status().message()));
      return;
    }
    const bool batch = parsed->is_array() && !parsed->get_array().empty();
    if (!parsed->is_object() && !batch) {
      s_->EmitLocked(RpcError(nullptr, kInvalidRequest,
                              "a JSON-RPC message is an object (or a non-empty batch array)"));
      return;
    }
    std::vector<json::value> ids = RequestIds(*parsed);
    if (ids.empty()) {
      // Notifications and responses are answered at once (202) and carry
      // order the server relies on (notifications/initialized before the
      // first request): forward them in line, with a short deadline.
      ++s_->in_flight;
      lock.unlock();
      Forward(s_, *parsed, kNotificationTimeout);
      return;
    }
    if (s_->in_flight >= kMaxInFlight) {
      for (const auto& id : ids) {
        s_->EmitLocked(RpcError(id, kInternalError,
                                "too many requests in flight (" + std::to_string(kMaxInFlight) +
                                    "); retry when one has been answered"));
      }
      return;
    }
    // Detached: a call waiting for a human cannot be interrupted, and must
    // not keep the command from ending. The thread owns what it uses
    // (`shared`, `message`) and writes only while the command runs.
    try {
      std::thread([shared = s_, message = *parsed] {
        Forward(shared, message, RequestTimeout(*shared));
      }).detach();
    } catch (const std::system_error& e) {
      for (const auto& id : ids) {
        s_->EmitLocked(RpcError(id, kInternalError,
                                std::string("cannot forward the request: ") + e.what()));
      }
      return;
    }
    for (const auto& id : ids) ++s_->pending[ToJson(id)];
    ++s_->in_flight;
  }

  std::shared_ptr<Shared> s_;
};

// The Warden API the grant is asked of: --server given before the subcommand
// or WARDEN_SERVER, else the gateway itself (one `warden serve` does both).
std::string ApiServer(const Context& ctx, const McpArgs& args) {
  const char* env = std::getenv("WARDEN_SERVER");
  if (ctx.global.server == kDefaultServer && (env == nullptr || *env == '\0')) return args.gateway;
  return ctx.global.server;
}

int WorkloadMcp(const Context& ctx, const McpArgs& args) {
  if (!ValidServerName(args.server_name)) {
    return ctx.Fail(InvalidArgument(
        "MCP server name must match [a-z0-9][a-z0-9-_]{0,62}", "server"));
  }
  auto gateway = ParseServerUrl(args.gateway);
  if (!gateway.ok()) return ctx.Fail(InvalidArgument(gateway.status().message(), "gateway"));
  if (!gateway->unix_path.empty()) {
    return ctx.Fail(InvalidArgument("the gateway is reached over http(s), not a unix socket",
                                    "gateway"));
  }
  std::chrono::seconds wait = kDefaultGrantWait;
  if (!args.workload.wait.empty()) {
    auto parsed = ParseDuration(args.workload.wait);
    if (!parsed.ok()) return ctx.Fail(InvalidArgument(parsed.status().message(), "wait"));
    wait = *parsed;
  }
  auto intent = ReadIntentFile(args.workload.intent_file);
  if (!intent.ok()) return ctx.Fail(intent.status());

  // Without --key the key lives only in this process: the grant is bound to
  // it, so the grant dies with the process.
  std::shared_ptr<const crypto::SigningKey> key;
  if (!args.workload.key_file.empty()) {
    auto loaded = crypto::SigningKey::LoadPem(args.workload.key_file);
    if (!loaded.ok()) return ctx.Fail(loaded.status());
    key = std::make_shared<const crypto::SigningKey>(std::move(*loaded));
  } else {
    auto generated = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
    if (!generated.ok()) return ctx.Fail(generated.status());
    key = std::make_shared<const crypto::SigningKey>(std::move(*generated));
  }

  Context api_ctx = ctx;
  api_ctx.global.server = ApiServer(ctx, args);
  json::value grant;
  {
    // Interruptible: Ctrl-C while a human decides ends the command.
    auto caller = AgentCaller::Create(api_ctx, args.workload, key, /*stop_on_interrupt=*/true);
    if (!caller.ok()) return ctx.Fail(caller.status());
    auto obtained = ObtainGrant(api_ctx, *caller, *intent, wait);
    if (!obtained.ok()) return ctx.Fail(obtained.status());
    grant = std::move(*obtained);
  }
  const json::object& g = AsObject(grant);
  const std::string grant_id = JsonText(g, "id");
  auto expires_at = ParseRfc3339(JsonText(g, "expires_at"));
  const json::value* token = g.if_contains("token");
  if (grant_id.empty() || !expires_at.ok() || token == nullptr || !token->is_string() ||
      token->get_string().empty()) {
    return ctx.Fail(Internal("the server answered the grant request without id, token or expiry"));
  }

  auto shared = std::make_shared<Shared>();
  shared->gateway_base = gateway->ToString();
  shared->path = "/mcp/" + args.server_name;
  shared->cacert = ctx.global.cacert;
  shared->grant_token = std::string(token->get_string());
  shared->key = key;
  shared->expires_at = *expires_at;
  shared->out = ctx.out;
  shared->err = ctx.err;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return ctx.Fail(Internal(std::string("cannot create a pipe: ") + std::strerror(errno)));
  }
  shared->wake_read = fds[0];
  shared->wake_write = fds[1];

  *ctx.err << "warden: grant " << SanitizeForTerminal(grant_id) << " active until "
           << SanitizeForTerminal(JsonText(g, "expires_at")) << "; serving MCP on stdio for "
           << SanitizeForTerminal(shared->gateway_base + shared->path) << "\n";
  ctx.err->flush();

  StopReason reason;
  std::string session;
  {
    SignalScope signals(shared->wake_write);
    reason = McpProxy(shared).Serve();

    std::string why;
    switch (reason) {
      case StopReason::kEndOfInput:
      case StopReason::kInputError:
        why = "the MCP client closed the connection";
        break;
      case StopReason::kSignal:
        why = "warden workload mcp is shutting down";
        break;
      case StopReason::kGrantEnded:
        why = "";
        break;
      case StopReason::kGrantExpiring:
        why = "the grant expires at " + JsonText(g, "expires_at") +
              "; start warden workload mcp again for a new grant";
        break;
    }
    std::unique_lock lock(shared->mu);
    if (reason == StopReason::kEndOfInput) {
      shared->idle.wait_for(lock, kDrainTimeout, [&] { return shared->in_flight == 0; });
    }
    if (why.empty()) why = shared->grant_end.empty() ? "the grant has ended" : shared->grant_end;
    for (const auto& [id_text, count] : shared->pending) {
      auto id = ParseJson(id_text);
      for (int i = 0; i < count && id.ok(); ++i) {
        shared->EmitLocked(RpcError(*id, kInternalError, why));
      }
    }
    shared->pending.clear();
    if (reason == StopReason::kGrantEnded || reason == StopReason::kGrantExpiring) {
      *ctx.err << "warden: " << SanitizeForTerminal(why) << "\n";
    }
    shared->closed = true;  // from here on only this thread writes
    session = shared->session_id;
  }

  if (!session.empty() && reason != StopReason::kGrantEnded) {
    auto ended = SendToGateway(*shared, "DELETE", "", kCleanupTimeout);
    if (!ended.ok()) {
      *ctx.err << "warden: could not end the MCP session: "
               << SanitizeForTerminal(ended.status().ToString()) << "\n";
    }
  }
  if (reason != StopReason::kGrantEnded) {
    auto caller = AgentCaller::Create(api_ctx, args.workload, key, /*stop_on_interrupt=*/false);
    Result<json::value> done =
        caller.ok() ? caller->Call("POST", "/v1/grants/" + UrlEscape(grant_id) + "/complete",
                                   nullptr, kCleanupTimeout)
                    : Result<json::value>(caller.status());
    if (done.ok()) {
      *ctx.err << "warden: grant " << SanitizeForTerminal(grant_id) << " completed\n";
    } else {
      *ctx.err << "warden: could not complete grant " << SanitizeForTerminal(grant_id) << ": "
               << SanitizeForTerminal(done.status().ToString()) << "\n";
    }
  }
  const bool clean = reason == StopReason::kEndOfInput || reason == StopReason::kSignal;
  return clean ? kExitOk : kExitFailed;
}

}  // namespace

void AddWorkloadMcpCommand(CLI::App& app, Context& ctx, std::function<int()>& action) {
  // Owned by the closures: parsing fills it after this function returns.
  auto args = std::make_shared<McpArgs>();
  std::function<int()>* act = &action;
  Context* c = &ctx;
  CLI::App* workload = app.get_subcommand("workload");
  CLI::App* mcp = workload->add_subcommand(
      "mcp",
      "Serve MCP on stdio for an MCP client, through the Warden gateway, under a grant for "
      "--intent");
  mcp->add_option("--gateway", args->gateway, "Warden gateway base URL (http://host:port)")
      ->required()
      ->type_name("URL")
      ->check(NonEmpty());
  mcp->add_option("--server", args->server_name,
                  "MCP server name at the gateway (served at /mcp/NAME)")
      ->required()
      ->type_name("NAME")
      ->check(NonEmpty());
  mcp->add_option("--intent", args->workload.intent_file, "Intent JSON file (task, actions, ...)")
      ->required()
      ->check(CLI::ExistingFile);
  mcp->add_option("--key", args->workload.key_file,
                  "This workload's key (default: a fresh key held only in memory)")
      ->type_name("FILE");
  mcp->add_option("--socket", args->workload.socket,
                  "Workload API socket (default: $WARDEN_WORKLOAD_SOCKET or "
                  "DATA/public/workload.sock)")
      ->type_name("PATH");
  mcp->add_option("--wait", args->workload.wait,
                  "How long to wait for the grant's approval (default 5m)")
      ->type_name("DURATION");
  mcp->callback([act, c, args] { *act = [c, args] { return WorkloadMcp(*c, *args); }; });
}

}  // namespace warden::cli
