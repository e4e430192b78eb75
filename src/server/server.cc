#include "warden/server/server.h"

#include <condition_variable>
#include <csignal>
#include <functional>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>

#include "server/internal/admin_auth.h"
#include "server/internal/api.h"
#include "server/internal/policy_api.h"
#include "server/internal/approvals_api.h"
#include "server/internal/grants_api.h"
#include "server/internal/workload_api.h"
#include "warden/policy/engine.h"
#include "server/internal/data_dir.h"
#include "server/internal/http_server.h"
#include "server/internal/listen_address.h"
#include "server/internal/log.h"
#include "server/internal/metrics.h"
#include "warden/identity/registry.h"
#include "warden/server/router.h"

namespace warden::server {

namespace fs = std::filesystem;
using internal::LogJson;

class Server::Impl {
 public:
  Impl(const ServeOptions& options, const Clock& clock) : options_(options), clock_(clock) {}

  ~Impl() { Shutdown(); }

  Status Start() {
    WARDEN_RETURN_IF_ERROR(ValidateServeOptions(options_));
    WARDEN_RETURN_IF_ERROR(internal::SetLogLevel(options_.log_level));
    WARDEN_ASSIGN_OR_RETURN(auto address, internal::ParseListenAddress(options_.listen));
    bool tls = !options_.tls_cert.empty();
    if (!address.loopback && !tls) {
      if (!options_.insecure_listen) {
        return FailedPrecondition(
            "listen address " + options_.listen +
            " is not a loopback address: serving the admin API on the network needs TLS "
            "(tls_cert and tls_key); set insecure_listen only if something else encrypts the "
            "traffic");
      }
      LogJson(spdlog::level::warn,
              "INSECURE: serving plain HTTP on a non-loopback address; admin tokens and agent "
              "data cross the network unencrypted",
              {{"listen", options_.listen}});
    }
    std::shared_ptr<boost::asio::ssl::context> tls_ctx;
    if (tls) {
      WARDEN_ASSIGN_OR_RETURN(tls_ctx, internal::MakeTlsContext(options_.tls_cert, options_.tls_key));
    }

    data_dir_ = fs::path(options_.data_dir);
    WARDEN_RETURN_IF_ERROR(internal::PrepareDataDir(data_dir_));
    std::string url = EffectiveStoreUrl(options_);
    WARDEN_RETURN_IF_ERROR(internal::PrepareSqliteFiles(url));
    auto store = store::OpenStore(url);
    if (!store.ok()) return store.status().WithContext("opening store " + url);
    store_ = std::move(*store);
    WARDEN_ASSIGN_OR_RETURN(state_,
                            internal::InitializeDataDir(data_dir_, options_, *store_, clock_));
    WARDEN_RETURN_IF_ERROR(internal::PrepareSqliteFiles(url));  // -wal/-shm now exist

    WARDEN_ASSIGN_OR_RETURN(auto alg, crypto::ParseAlgorithm(options_.signing_algorithm));
    auto keys = identity::KeyRing::Open(*store_, data_dir_ / internal::kKeysDir, alg, clock_,
                                        MaxTokenLifetime());
    if (!keys.ok()) return keys.status().WithContext("signing keys");
    keys_ = std::move(*keys);

    identity::RegistryOptions reg;
    reg.trust_domain = state_.trust_domain;
    reg.environments = options_.environments;
    reg.max_lifetime = options_.agent_max_lifetime;
    WARDEN_RETURN_IF_ERROR(identity::ValidateRegistryOptions(reg));
    registry_ = std::make_unique<identity::AgentRegistry>(*store_, clock_, std::move(reg));
    auth_ = std::make_unique<internal::AdminAuth>(*store_, clock_, metrics_,
                                                  state_.admin_token_sha256,
                                                  options_.auth_failure_events_per_minute);
    // Policies are validated before anything is served: a server whose
    // policies do not load refuses to start rather than decide without them.
    fs::path policy_dir = data_dir_ / "policies";
    WARDEN_RETURN_IF_ERROR(policy::InitPolicyDirectory(policy_dir));
    auto engine = policy::PolicyEngine::Create(policy_dir, clock_);
    if (!engine.ok()) return engine.status().WithContext("loading policies from " + policy_dir.string());
    policies_ = std::move(*engine);
    grants::GrantServiceOptions grant_options;
    grant_options.trust_domain = state_.trust_domain;
    grant_options.max_ttl = options_.grant_max_ttl;
    grant_options.max_depth = options_.max_delegation_depth;
    auto grant_service = grants::GrantService::Open(*store_, *keys_, clock_, grant_options);
    if (!grant_service.ok()) return grant_service.status().WithContext("grants");
    grants_ = std::move(*grant_service);
    approvals::ApprovalOptions approval_options;
    approval_options.default_ttl = options_.approval_ttl;
    approvals_ = std::make_unique<approvals::ApprovalQueue>(*store_, clock_, approval_options);
    approvers_ = std::make_unique<approvals::ApproverRegistry>(*store_, clock_);
    gateway::EnforcerOptions enforcer_options;
    enforcer_options.approval_ttl = options_.approval_ttl;
    enforcer_ = std::make_unique<gateway::Enforcer>(*policies_, *grants_, *approvals_, *registry_,
                                                    *store_, clock_, enforcer_options);
    auto mcp = gateway::McpProxy::Create(options_.gateway, *enforcer_, clock_);
    if (!mcp.ok()) return mcp.status().WithContext("gateway");
    mcp_ = std::move(*mcp);
    agent_auth_failures_ =
        std::make_unique<internal::EventBudget>(options_.auth_failure_events_per_minute);
    api_ = std::make_unique<internal::ApiContext>(internal::ApiContext{
        *store_, *registry_, *policies_, *keys_, *grants_, *approvals_, *approvers_,
        dpop_replay_, clock_, metrics_, *auth_, options_, stopping_, *enforcer_, *mcp_,
        *agent_auth_failures_});
    WARDEN_RETURN_IF_ERROR(internal::RegisterRoutes(router_, *api_));
    workload_ = std::make_unique<internal::WorkloadApi>(*api_);
    WARDEN_RETURN_IF_ERROR(workload_->RegisterHttpRoutes(router_));
    WARDEN_RETURN_IF_ERROR(workload_->RegisterSocketRoutes(workload_router_));
    WARDEN_RETURN_IF_ERROR(internal::RegisterGrantRoutes(router_, *api_));
    WARDEN_RETURN_IF_ERROR(internal::RegisterApprovalRoutes(router_, *api_));
    WARDEN_RETURN_IF_ERROR(internal::RegisterPolicyRoutes(router_, *api_));
    WARDEN_RETURN_IF_ERROR(internal::AuditPoliciesLoaded(*api_));

    internal::HttpServerOptions http;
    http.max_body_bytes = options_.max_body_bytes;
    http.read_timeout = options_.read_timeout;
    http.shutdown_timeout = options_.shutdown_timeout;
    http.threads = options_.threads;
    http.handler_threads = options_.handler_threads;
    WARDEN_ASSIGN_OR_RETURN(
        http_, internal::HttpServer::Start(
                   address, std::move(tls_ctx), http,
                   [this](Request& r) { return Handle(router_, r); },
                   [this](const Request& r, unsigned status, double seconds) {
                     Observe(router_, r, status, seconds);
                   }));
    listen_address_ = http_->address();
    WARDEN_RETURN_IF_ERROR(StartWorkloadSocket(http));
    base_url_ = std::string(tls ? "https://" : "http://") + listen_address_;
    Status written = internal::WritePublicFile(data_dir_ / internal::kServeAddrFile,
                                               base_url_ + "\n");
    if (!written.ok()) {
      LogJson(spdlog::level::warn, "cannot write serve.addr", {{"error", written.ToString()}});
    }
    LogJson(spdlog::level::info, "serving",
            {{"url", base_url_},
             {"data_dir", data_dir_.string()},
             {"trust_domain", state_.trust_domain},
             {"store", store_->Backend()},
             {"signing_kid", keys_->Current()->kid()},
             {"workload_socket", workload_socket_}});
    housekeeper_ = std::thread([this] { Housekeep(); });
    return OkStatus();
  }

  void Shutdown() {
    std::lock_guard lock(shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
    stopping_ = true;
    {
      std::lock_guard hk(housekeeping_mu_);
      housekeeping_stop_ = true;
    }
    housekeeping_cv_.notify_all();
    if (housekeeper_.joinable()) housekeeper_.join();
    if (http_) {
      LogJson(spdlog::level::info, "shutting down", {{"url", base_url_}});
      http_->Shutdown();
      std::error_code ignored;
      fs::remove(data_dir_ / internal::kServeAddrFile, ignored);
    }
    if (workload_http_) workload_http_->Shutdown();
    http_.reset();
    workload_http_.reset();
    if (approvals_) approvals_->Shutdown();
    workload_.reset();
    api_.reset();
    approvers_.reset();
    approvals_.reset();
    grants_.reset();
    keys_.reset();
    auth_.reset();
    policies_.reset();
    registry_.reset();
    store_.reset();  // closes the database after the last request
  }

  // Every housekeeping_interval until shutdown: records grant expiries and
  // re-reads the signing keys (once a minute at most). Failures are logged
  // and tried again at the next round; nothing here decides a request.
  void Housekeep() {
    auto last_refresh = std::chrono::steady_clock::now();
    std::unique_lock lock(housekeeping_mu_);
    while (!housekeeping_cv_.wait_for(lock, options_.housekeeping_interval,
                                      [this] { return housekeeping_stop_; })) {
      lock.unlock();
      // A backlog is worked off in bounded batches, a few per round, until
      // one finds nothing left.
      for (int batch = 0; batch < 10; ++batch) {
        auto expired = grants_->ExpireDue();
        if (!expired.ok()) {
          metrics_.StoreError();
          LogJson(spdlog::level::err, "cannot record grant expiries",
                  {{"error", expired.status().ToString()}});
          break;
        }
        if (*expired == 0) break;
        LogJson(spdlog::level::info, "grants expired", {{"count", *expired}});
      }
      auto now = std::chrono::steady_clock::now();
      if (now - last_refresh >= std::chrono::minutes(1)) {
        last_refresh = now;
        if (Status refreshed = keys_->Refresh(); !refreshed.ok()) {
          LogJson(spdlog::level::err, "cannot refresh signing keys",
                  {{"error", refreshed.ToString()}});
        }
      }
      lock.lock();
    }
  }

  // Reloads DATA/policies (SIGHUP); audited; an invalid set leaves the running one.
  Status ReloadPolicies() {
    std::lock_guard lock(shutdown_mu_);
    if (shut_down_ || !api_) return FailedPrecondition("server is shutting down");
    // Keys too: another replica may have rotated, and retired keys past
    // their publication window lose their private files.
    if (Status refreshed = keys_->Refresh(); !refreshed.ok()) {
      LogJson(spdlog::level::err, "cannot refresh signing keys", {{"error", refreshed.ToString()}});
    }
    return internal::ReloadPolicies(*api_, "system:sighup").status();
  }

  // Both fixed once Start succeeds, so readable while another thread shuts down.
  const std::string& ListenAddress() const { return listen_address_; }
  const std::string& BaseUrl() const { return base_url_; }

 private:
  // The longest lifetime of any token signed with the trust domain's keys: a
  // retired key stays published this long.
  std::chrono::seconds MaxTokenLifetime() const {
    return std::max(options_.svid_max_ttl, options_.grant_max_ttl);
  }

  // The Workload API: HTTP over a Unix socket, mode 0666 in a 0755 folder,
  // where attestation (not file permissions) decides who gets an identity.
  Status StartWorkloadSocket(const internal::HttpServerOptions& http) {
    workload_socket_ = EffectiveWorkloadSocket(options_);
    if (workload_socket_.empty()) return OkStatus();
    if (options_.workload_socket.empty()) {
      // A Unix socket path holds at most 107 bytes. A data directory deep in
      // the file system must not stop the server: the default socket is then
      // left out, loudly, until workload_socket names a shorter path.
      if (workload_socket_.size() > internal::kMaxUnixSocketPath) {
        LogJson(spdlog::level::warn,
                "Workload API disabled: the default socket path is longer than a Unix socket "
                "path may be; set workload_socket (--workload-socket) to a shorter path",
                {{"path", workload_socket_}});
        workload_socket_.clear();
        return OkStatus();
      }
      WARDEN_RETURN_IF_ERROR(internal::PreparePublicDir(data_dir_ / internal::kPublicDir));
    }
    internal::UnixListenOptions unix_options;
    unix_options.path = workload_socket_;
    unix_options.socket_mode = 0666;
    auto started = internal::HttpServer::StartUnix(
        unix_options, http, [this](Request& r) { return Handle(workload_router_, r); },
        [this](const Request& r, unsigned status, double seconds) {
          Observe(workload_router_, r, status, seconds);
        });
    if (!started.ok()) return started.status().WithContext("workload socket");
    workload_http_ = std::move(*started);
    return OkStatus();
  }

  Response Handle(const Router& router, Request& r) {
    size_t q = r.target.find('?');
    if (q != std::string::npos) {
      auto query = ParseQuery(std::string_view(r.target).substr(q + 1));
      if (query.ok()) {
        r.query = std::move(*query);
      } else {
        r.query_status = query.status();
      }
    }
    return router.Dispatch(r);
  }

  void Observe(const Router& router, const Request& r, unsigned status, double seconds) {
    std::string route = r.route.empty() ? router.RouteFor(r.path) : r.route;
    metrics_.ObserveRequest(route, r.method, status, seconds);
    auto level = status >= 500 ? spdlog::level::warn : spdlog::level::info;
    if (!internal::LogEnabled(level)) return;
    // Only the method, route, path and outcome: headers (and so tokens) and
    // bodies never reach the log.
    LogJson(level, "http request",
            {{"method", std::string(internal::MetricMethod(r.method))},
             {"route", route},
             {"path", r.path.size() > 256 ? r.path.substr(0, 256) : r.path},
             {"status", status},
             {"latency_us", static_cast<int64_t>(seconds * 1e6)},
             {"remote", r.remote_address}});
  }

  ServeOptions options_;
  const Clock& clock_;
  fs::path data_dir_;
  internal::DataDirState state_;
  internal::Metrics metrics_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<identity::AgentRegistry> registry_;
  std::unique_ptr<policy::PolicyEngine> policies_;
  std::unique_ptr<internal::AdminAuth> auth_;
  std::unique_ptr<identity::KeyRing> keys_;
  std::unique_ptr<grants::GrantService> grants_;
  std::unique_ptr<approvals::ApprovalQueue> approvals_;
  std::unique_ptr<approvals::ApproverRegistry> approvers_;
  std::unique_ptr<gateway::Enforcer> enforcer_;
  std::unique_ptr<gateway::McpProxy> mcp_;
  crypto::DpopReplayCache dpop_replay_;
  std::unique_ptr<internal::EventBudget> agent_auth_failures_;
  std::unique_ptr<internal::ApiContext> api_;
  std::unique_ptr<internal::WorkloadApi> workload_;
  Router router_;
  Router workload_router_;
  std::unique_ptr<internal::HttpServer> http_;
  std::unique_ptr<internal::HttpServer> workload_http_;
  std::string workload_socket_;
  std::string listen_address_;
  std::string base_url_;
  std::mutex shutdown_mu_;
  std::mutex housekeeping_mu_;
  std::condition_variable housekeeping_cv_;
  bool housekeeping_stop_ = false;
  std::thread housekeeper_;
  bool shut_down_ = false;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Start(const ServeOptions& options, const Clock& clock) {
  auto impl = std::make_unique<Impl>(options, clock);
  WARDEN_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::string Server::ListenAddress() const { return impl_->ListenAddress(); }
std::string Server::BaseUrl() const { return impl_->BaseUrl(); }
void Server::Shutdown() { impl_->Shutdown(); }
Status Server::ReloadPolicies() { return impl_->ReloadPolicies(); }

int RunServe(const ServeOptions& options) {
  // Registered before startup: a signal arriving while the data directory is
  // initialised is kept by the signal_set and ends the wait at once.
  boost::asio::io_context signals_ctx(1);
  boost::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM, SIGHUP);
  auto server = Server::Start(options);
  if (!server.ok()) {
    std::cerr << "warden: " << server.status().ToString() << "\n";
    return 1;
  }
  std::cout << "warden: listening on " << (*server)->BaseUrl() << std::endl;
  int received = 0;
  // SIGHUP reloads the policies and keeps serving; SIGINT/SIGTERM stop.
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (signo == SIGHUP) {
          Status reloaded = (*server)->ReloadPolicies();
          if (!reloaded.ok()) std::cerr << "warden: " << reloaded.ToString() << "\n";
          signals.async_wait(on_signal);
          return;
        }
        received = signo;
      };
  signals.async_wait(on_signal);
  try {
    signals_ctx.run();
  } catch (const std::exception& e) {
    std::cerr << "warden: signal wait failed: " << e.what() << "\n";
  }
  LogJson(spdlog::level::info, "signal received", {{"signal", received}});
  (*server)->Shutdown();
  return 0;
}

}  // namespace warden::server
