#include "server/internal/http_server.h"

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "server/internal/handler_pool.h"
#include "server/internal/log.h"
#include "warden/core/posix.h"
#include "warden/identity/attestation.h"
#include "warden/server/errors.h"

namespace warden::server::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::milliseconds(200);
constexpr auto kCloseTimeout = std::chrono::seconds(2);
// Bytes of an over-limit body read and discarded after the 413 so the client
// receives the response instead of a connection reset.
constexpr size_t kMaxDrainBytes = 8 << 20;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Asks the session to finish: idle connections close now, requests in
  // progress complete first. Any thread.
  virtual void Stop() = 0;
};

struct Shared {
  HttpServerOptions options;
  Handler handler;
  RequestObserver observer;
  std::shared_ptr<ssl::context> tls;
  // Runs handlers and long-poll steps off the I/O threads; null when
  // options.handler_threads is 0 (they run on the I/O threads).
  std::unique_ptr<HandlerPool> pool;
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;

  void Add(SessionBase* s, std::weak_ptr<SessionBase> w) {
    std::lock_guard lock(mu);
    sessions.emplace(s, std::move(w));
  }
  void Remove(SessionBase* s) {
    std::lock_guard lock(mu);
    sessions.erase(s);
    cv.notify_all();
  }
};

using TcpStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using UnixStream = beast::basic_stream<local>;

template <class Stream>
inline constexpr bool kIsTls = false;
template <class Next>
inline constexpr bool kIsTls<beast::ssl_stream<Next>> = true;

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// One connection. The HTTP logic is the same for every transport; `Stream`
// is TcpStream, TlsStream or UnixStream, and only the TLS handshake and
// close differ.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = kIsTls<Stream>;
  using LowestLayer = beast::lowest_layer_type<Stream>;
  using Socket = typename LowestLayer::socket_type;
  enum class Phase { kStart, kHandshake, kIdle, kReading, kHandling, kDeferred, kWriting, kClosing };

 public:
  // `peer` is set for Unix-socket connections and copied into every request.
  Session(Socket&& socket, std::shared_ptr<Shared> shared, std::string remote,
          std::optional<UnixPeer> peer = std::nullopt)
    requires(!kTls)
      : shared_(std::move(shared)),
        stream_(std::move(socket)),
        poll_timer_(stream_.get_executor()),
        remote_(std::move(remote)),
        peer_(peer) {}
  Session(Socket&& socket, std::shared_ptr<Shared> shared, std::string remote)
    requires(kTls)
      : shared_(std::move(shared)),
        stream_(std::move(socket), *shared_->tls),
        poll_timer_(stream_.get_executor()),
        remote_(std::move(remote)) {}

  ~Session() override { shared_->Remove(this); }

  void Run() {
    shared_->Add(this, this->weak_from_this());
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::OnRun, this->shared_from_this()));
  }

  void Stop() override {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::OnStop, this->shared_from_this()));
  }

 private:
  LowestLayer& Lowest() { return beast::get_lowest_layer(stream_); }

  void OnRun() {
    if (shared_->stopping) return;
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      Lowest().expires_after(shared_->options.read_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&Session::OnHandshake,
                                                        this->shared_from_this()));
    } else {
      DoRead();
    }
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) {
      LogJson(spdlog::level::debug, "tls handshake failed",
              {{"remote", remote_}, {"error", ec.message()}});
      return;
    }
    DoRead();
  }

  void OnStop() {
    switch (phase_) {
      case Phase::kStart:
      case Phase::kHandshake:
      case Phase::kIdle:
        Lowest().cancel();  // the pending read completes with operation_aborted
        break;
      case Phase::kDeferred:
        poll_timer_.cancel();  // the long-poll answers now
        break;
      default:
        break;  // a request in progress completes, then the connection closes
    }
  }

  void DoRead() {
    if (shared_->stopping) return DoClose();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header_bytes));
    parser_->body_limit(shared_->options.max_body_bytes);
    request_ = Request{};
    request_.remote_address = remote_;
    request_.unix_peer = peer_;
    phase_ = Phase::kIdle;
    Lowest().expires_after(shared_->options.read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::OnReadHeader, this->shared_from_this()));
  }

  void FillRequestHead() {
    const auto& req = parser_->get();
    request_.method = std::string(req.method_string());
    request_.target = std::string(req.target());
    request_.path = request_.target.substr(0, request_.target.find('?'));
    request_.headers.clear();
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      request_.headers.emplace_back(std::move(name), std::string(field.value()));
    }
  }

  // Answers an error the transport detected itself and closes the connection.
  void SendTransportError(unsigned http_status, const Status& status, bool drain) {
    drain_after_write_ = drain;
    Response r = Response::Error(status, http_status);
    r.close = true;
    Send(std::move(r));
  }

  void OnReadHeader(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout) {
      return DoClose();
    }
    started_ = SteadyClock::now();
    FillRequestHead();
    const auto& limits = shared_->options;
    if (ec == http::error::header_limit) {
      return SendTransportError(
          kHttpHeadersTooLarge,
          ResourceExhausted("request headers exceed " + std::to_string(limits.max_header_bytes) +
                            " bytes"),
          true);
    }
    if (ec == http::error::body_limit) return SendBodyTooLarge();
    if (ec) {
      if (IsHttpParseError(ec)) {
        return SendTransportError(400, InvalidArgument("malformed HTTP request: " + ec.message()),
                                  false);
      }
      return DoClose();
    }
    phase_ = Phase::kReading;
    const auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, req.version());
      http::async_write(stream_, *continue_,
                        beast::bind_front_handler(&Session::OnContinueWritten,
                                                  this->shared_from_this()));
      return;
    }
    ReadBody();
  }

  void OnContinueWritten(beast::error_code ec, std::size_t) {
    if (ec) return DoClose();
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnReadBody, this->shared_from_this()));
  }

  void SendBodyTooLarge() {
    SendTransportError(kHttpPayloadTooLarge,
                       ResourceExhausted("request body exceeds the limit of " +
                                         std::to_string(shared_->options.max_body_bytes) +
                                         " bytes"),
                       true);
  }

  void OnReadBody(beast::error_code ec, std::size_t) {
    if (ec == http::error::body_limit) return SendBodyTooLarge();
    if (ec) {
      if (IsHttpParseError(ec) && ec != http::error::end_of_stream &&
          ec != http::error::partial_message) {
        return SendTransportError(400, InvalidArgument("malformed HTTP request: " + ec.message()),
                                  false);
      }
      return DoClose();
    }
    Handle();
  }

  void Handle() {
    phase_ = Phase::kHandling;
    Lowest().expires_never();
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    request_.body = std::move(msg.body());
    if (shared_->pool) {
      // The handler may wait for a durable write or an upstream: never on
      // an I/O thread. request_ is left alone by this session until the
      // answer is posted back.
      if (Offload([this] { return RunHandler(); },
                  [this](Response r) { AfterHandle(std::move(r)); })) {
        return;
      }
      Response busy = Response::Error(Unavailable("the server is busy; retry shortly"));
      busy.headers.emplace_back("Retry-After", "1");
      return Send(std::move(busy));
    }
    AfterHandle(RunHandler());
  }

  // Runs `work` on a handler thread, then `then(result)` on this session's
  // executor; the session lives until then. False (nothing runs) when the
  // pool is full or stopping.
  template <class Work, class Then>
  bool Offload(Work work, Then then) {
    auto self = this->shared_from_this();
    return shared_->pool->Submit([self, work, then] {
      auto result = work();
      asio::post(self->stream_.get_executor(),
                 [self, then, result = std::move(result)]() mutable { then(std::move(result)); });
    });
  }

  // Any thread.
  Response RunHandler() {
    try {
      return shared_->handler(request_);
    } catch (const std::exception& e) {
      LogJson(spdlog::level::err, "handler threw", {{"route", request_.route}, {"error", e.what()}});
      return Response::Error(Internal("internal error"));
    }
  }

  void AfterHandle(Response r) {
    if (r.deferred) {
      deferred_ = std::move(r.deferred);
      phase_ = Phase::kDeferred;
      ArmPoll();
      return;
    }
    Send(std::move(r));
  }

  void ArmPoll() {
    auto left = deferred_->deadline - SteadyClock::now();
    if (left < SteadyClock::duration::zero()) left = SteadyClock::duration::zero();
    poll_timer_.expires_after(std::min<SteadyClock::duration>(kPollInterval, left));
    poll_timer_.async_wait(
        beast::bind_front_handler(&Session::OnPoll, this->shared_from_this()));
  }

  void OnPoll(beast::error_code ec) {
    bool final = ec == asio::error::operation_aborted || shared_->stopping ||
                 SteadyClock::now() >= deferred_->deadline;
    if (shared_->pool) {
      // A poll step may decide and forward the call: off the I/O thread too.
      if (Offload([this, final] { return RunPoll(final); },
                  [this, final](std::optional<Response> r) { AfterPoll(std::move(r), final); })) {
        return;
      }
      if (!final) return ArmPoll();  // busy: look again at the next interval
    }
    AfterPoll(RunPoll(final), final);
  }

  // Any thread.
  std::optional<Response> RunPoll(bool final) {
    try {
      return deferred_->poll(final);
    } catch (const std::exception& e) {
      LogJson(spdlog::level::err, "long-poll threw", {{"route", request_.route}, {"error", e.what()}});
      return Response::Error(Internal("internal error"));
    }
  }

  void AfterPoll(std::optional<Response> r, bool final) {
    if (!r && final) r = Response::Error(Internal("long-poll ended without a response"));
    if (!r) return ArmPoll();
    deferred_.reset();
    Send(std::move(*r));
  }

  void Send(Response r) {
    phase_ = Phase::kWriting;
    unsigned status = r.status;
    res_ = {};
    res_.version(11);
    res_.result(status);
    res_.set(http::field::server, "warden");
    res_.set(http::field::content_type, r.content_type);
    res_.set(http::field::cache_control, "no-store");
    res_.set("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : r.headers) res_.set(name, value);
    res_.body() = std::move(r.body);
    bool keep = keep_alive_ && !r.close && !shared_->stopping;
    close_after_write_ = !keep;
    res_.keep_alive(keep);
    res_.prepare_payload();
    // A response to HEAD carries the length the GET would have and no content
    // (RFC 9110 9.3.2): a body here would be read as the next response.
    if (request_.method == "HEAD") res_.body().clear();
    if (shared_->observer) {
      double seconds = std::chrono::duration<double>(SteadyClock::now() - started_).count();
      shared_->observer(request_, status, seconds);
    }
    Lowest().expires_after(shared_->options.read_timeout);
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&Session::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    if (ec) return;  // peer gone; dropping the session closes the socket
    if (close_after_write_ || shared_->stopping) {
      return drain_after_write_ ? DoDrain() : DoClose();
    }
    DoRead();
  }

  void DoDrain() {
    phase_ = Phase::kClosing;
    if constexpr (!kTls) {
      beast::error_code ignored;
      Lowest().socket().shutdown(asio::socket_base::shutdown_send, ignored);
    }
    Lowest().expires_after(kCloseTimeout);
    stream_.async_read_some(asio::buffer(drain_buf_),
                            beast::bind_front_handler(&Session::OnDrain, this->shared_from_this()));
  }

  void OnDrain(beast::error_code ec, std::size_t n) {
    drained_ += n;
    if (ec || drained_ > kMaxDrainBytes) return;
    stream_.async_read_some(asio::buffer(drain_buf_),
                            beast::bind_front_handler(&Session::OnDrain, this->shared_from_this()));
  }

  void DoClose() {
    phase_ = Phase::kClosing;
    if constexpr (kTls) {
      Lowest().expires_after(kCloseTimeout);
      stream_.async_shutdown(
          beast::bind_front_handler(&Session::OnTlsShutdown, this->shared_from_this()));
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(asio::socket_base::shutdown_send, ignored);
    }
  }

  void OnTlsShutdown(beast::error_code) {
    beast::error_code ignored;
    Lowest().socket().close(ignored);
  }

  std::shared_ptr<Shared> shared_;
  Stream stream_;
  asio::steady_timer poll_timer_;
  std::string remote_;
  std::optional<UnixPeer> peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::response<http::string_body> res_;
  Request request_;
  std::shared_ptr<Deferred> deferred_;
  SteadyClock::time_point started_;
  Phase phase_ = Phase::kStart;
  bool keep_alive_ = false;
  bool close_after_write_ = false;
  bool drain_after_write_ = false;
  size_t drained_ = 0;
  std::array<char, 16384> drain_buf_{};
};

// The kernel's credentials of the connecting process (fixed at connect time,
// so they cannot be changed by the peer later).
Result<UnixPeer> ReadUnixPeer(int fd) {
  WARDEN_ASSIGN_OR_RETURN(identity::PeerCredentials cred, identity::ReadPeerCredentials(fd));
  UnixPeer peer;
  peer.pid = cred.pid;
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  peer.accepted_at_ticks = identity::BootTimeTicksNow();
  return peer;
}

Status CheckUnixPath(const std::string& path) {
  if (path.empty()) return InvalidArgument("the Unix socket path is empty", "listen");
  if (path.find('\0') != std::string::npos) {
    return InvalidArgument("the Unix socket path contains a NUL byte", "listen");
  }
  static_assert(kMaxUnixSocketPath + 1 == sizeof(sockaddr_un{}.sun_path));
  if (path.size() > kMaxUnixSocketPath) {
    return InvalidArgument("Unix socket path " + path + " is longer than " +
                               std::to_string(kMaxUnixSocketPath) + " bytes",
                           "listen");
  }
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) parent = ".";
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailedPrecondition("cannot create the Unix socket " + path + ": directory " +
                              parent.string() + " does not exist");
  }
  return OkStatus();
}

// Makes room for a new socket at `path`. Only a socket file that nobody
// accepts on is removed: a regular file (perhaps a misconfigured path pointing
// at data) or a live server's socket is never touched.
Status RemoveStaleSocket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return OkStatus();
    return FailedPrecondition("cannot inspect " + path + ": " + ErrnoText(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return FailedPrecondition(path + " exists and is not a socket; refusing to replace it");
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Unavailable("cannot create a probe socket: " + ErrnoText(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int err = rc == 0 ? 0 : errno;
  ::close(fd);
  // Non-blocking connect to a listener with a full backlog reports EAGAIN:
  // that server is alive too.
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) {
    return FailedPrecondition("another server is already listening on " + path);
  }
  if (err != ECONNREFUSED) {
    return FailedPrecondition("cannot tell whether the socket " + path +
                              " is still in use: " + ErrnoText(err));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return FailedPrecondition("cannot remove the stale socket " + path + ": " + ErrnoText(errno));
  }
  return OkStatus();
}

}  // namespace

class HttpServer::Impl {
 public:
  explicit Impl(std::shared_ptr<Shared> shared)
      : shared_(std::move(shared)),
        ioc_(std::make_unique<asio::io_context>(shared_->options.threads)),
        strand_(asio::make_strand(*ioc_)) {
    backoff_.emplace(*strand_);
  }

  ~Impl() { Shutdown(); }

  Status Listen(const ListenAddress& address) {
    beast::error_code ec;
    auto ip = asio::ip::make_address(address.host, ec);
    if (ec) return InvalidArgument("bad listen host " + address.host, "listen");
    tcp::endpoint ep(ip, address.port);
    std::string where = FormatHostPort(address.host, address.port);
    auto& acceptor = tcp_acceptor_.emplace(*strand_);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Unavailable("cannot listen on " + where + ": " + ec.message());
    auto local_ep = acceptor.local_endpoint(ec);
    if (ec) return Unavailable("cannot read the bound address: " + ec.message());
    port_ = local_ep.port();
    address_ = FormatHostPort(local_ep.address().to_string(), port_);
    return OkStatus();
  }

  Status ListenUnix(const UnixListenOptions& unix_options) {
    const std::string& path = unix_options.path;
    if ((unix_options.socket_mode & ~mode_t{0777}) != 0) {
      return InvalidArgument("Unix socket mode must be permission bits (0000-0777)", "listen");
    }
    WARDEN_RETURN_IF_ERROR(CheckUnixPath(path));
    WARDEN_RETURN_IF_ERROR(RemoveStaleSocket(path));
    beast::error_code ec;
    auto& acceptor = unix_acceptor_.emplace(*strand_);
    acceptor.open(local(), ec);
    if (!ec) acceptor.bind(local::endpoint(path), ec);
    if (ec == asio::error::address_in_use) {
      // Something appeared at the path since the check above.
      return FailedPrecondition("cannot bind the Unix socket " + path + ": the path is in use");
    }
    if (ec) return Unavailable("cannot bind the Unix socket " + path + ": " + ec.message());
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      return Unavailable("cannot inspect the new Unix socket " + path + ": " + ErrnoText(errno));
    }
    unix_path_ = path;
    unix_dev_ = st.st_dev;
    unix_ino_ = st.st_ino;
    // From here on a failure must remove the file we created.
    if (::chmod(path.c_str(), unix_options.socket_mode) != 0) {
      int err = errno;
      RemoveUnixSocketFile();
      return Unavailable("cannot set the mode of the Unix socket " + path + ": " + ErrnoText(err));
    }
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      RemoveUnixSocketFile();
      return Unavailable("cannot listen on the Unix socket " + path + ": " + ec.message());
    }
    address_ = "unix:" + path;
    return OkStatus();
  }

  void StartThreads() {
    work_.emplace(ioc_->get_executor());
    asio::dispatch(*strand_, [this] {
      if (tcp_acceptor_) DoAccept(*tcp_acceptor_);
      if (unix_acceptor_) DoAccept(*unix_acceptor_);
    });
    for (int i = 0; i < shared_->options.threads; ++i) {
      threads_.emplace_back([this] {
        while (true) {
          try {
            ioc_->run();
            return;
          } catch (const std::exception& e) {
            LogJson(spdlog::level::err, "I/O thread caught an exception", {{"error", e.what()}});
          }
        }
      });
    }
  }

  void Shutdown() {
    if (shut_down_.exchange(true)) return;
    shared_->stopping = true;
    if (!threads_.empty()) {
      // The acceptors belong to the strand; close them there.
      std::promise<void> closed;
      asio::dispatch(*strand_, [this, &closed] {
        beast::error_code ignored;
        if (tcp_acceptor_) tcp_acceptor_->close(ignored);
        if (unix_acceptor_) unix_acceptor_->close(ignored);
        backoff_->cancel();
        closed.set_value();
      });
      closed.get_future().wait();
    }
    // New clients now get "no such file" instead of a refused connection.
    RemoveUnixSocketFile();
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard lock(shared_->mu);
      for (auto& [ptr, weak] : shared_->sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) s->Stop();
    live.clear();  // a session must be able to go away while we wait
    {
      std::unique_lock lock(shared_->mu);
      shared_->cv.wait_for(lock, shared_->options.shutdown_timeout,
                           [&] { return shared_->sessions.empty(); });
      if (!shared_->sessions.empty()) {
        LogJson(spdlog::level::warn, "shutdown timeout: closing connections still in progress",
                {{"connections", shared_->sessions.size()}});
      }
    }
    // Handlers still running post their answers to the sessions; the
    // context must be running until they are done.
    if (shared_->pool) shared_->pool->Stop();
    work_.reset();
    ioc_->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    // Destroying the context destroys the handlers still queued, and with
    // them the remaining sessions and their sockets.
    backoff_.reset();
    tcp_acceptor_.reset();
    unix_acceptor_.reset();
    strand_.reset();  // it refers to a service of the context
    ioc_.reset();
  }

  uint16_t port() const { return port_; }
  const std::string& address() const { return address_; }

 private:
  // Removes the socket file bound here, unless it has since been replaced
  // (e.g. by another server after an operator deleted ours).
  void RemoveUnixSocketFile() {
    if (unix_path_.empty()) return;
    struct stat st {};
    if (::lstat(unix_path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == unix_dev_ &&
        st.st_ino == unix_ino_) {
      ::unlink(unix_path_.c_str());
    }
    unix_path_.clear();
  }

  template <class Acceptor>
  void DoAccept(Acceptor& acceptor) {
    using Socket = typename Acceptor::protocol_type::socket;
    acceptor.async_accept(asio::make_strand(*ioc_),
                          [this, &acceptor](beast::error_code ec, Socket socket) {
                            OnAccept(acceptor, ec, std::move(socket));
                          });
  }

  template <class Acceptor, class Socket>
  void OnAccept(Acceptor& acceptor, beast::error_code ec, Socket socket) {
    if (!acceptor.is_open() || shared_->stopping) return;
    if (ec) {
      // Out of descriptors and similar: back off briefly instead of spinning.
      LogJson(spdlog::level::warn, "accept failed", {{"error", ec.message()}});
      backoff_->expires_after(std::chrono::milliseconds(100));
      backoff_->async_wait([this, &acceptor](beast::error_code wait_ec) {
        if (!wait_ec && acceptor.is_open()) DoAccept(acceptor);
      });
      return;
    }
    StartSession(std::move(socket));
    DoAccept(acceptor);
  }

  void StartSession(tcp::socket socket) {
    beast::error_code remote_ec;
    auto remote = socket.remote_endpoint(remote_ec);
    std::string remote_ip = remote_ec ? "unknown" : remote.address().to_string();
    if (shared_->tls) {
      std::make_shared<Session<TlsStream>>(std::move(socket), shared_, std::move(remote_ip))->Run();
    } else {
      std::make_shared<Session<TcpStream>>(std::move(socket), shared_, std::move(remote_ip))
          ->Run();
    }
  }

  void StartSession(local::socket socket) {
    auto peer = ReadUnixPeer(socket.native_handle());
    if (!peer.ok()) {
      // Fail closed: a request whose sender is unknown is never handled.
      LogJson(spdlog::level::warn, "closing a Unix-socket connection with unknown peer",
              {{"error", peer.status().message()}});
      return;  // the socket closes as it goes out of scope
    }
    std::make_shared<Session<UnixStream>>(std::move(socket), shared_, "unix", *peer)->Run();
  }

  std::shared_ptr<Shared> shared_;
  std::unique_ptr<asio::io_context> ioc_;
  // Serialises accepting, the backoff timer and closing the acceptors.
  std::optional<asio::strand<asio::io_context::executor_type>> strand_;
  std::optional<tcp::acceptor> tcp_acceptor_;
  std::optional<local::acceptor> unix_acceptor_;
  std::optional<asio::steady_timer> backoff_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::atomic<bool> shut_down_{false};
  uint16_t port_ = 0;
  std::string address_;
  std::string unix_path_;  // the socket file to remove at shutdown; empty when none
  dev_t unix_dev_ = 0;
  ino_t unix_ino_ = 0;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

namespace {

std::shared_ptr<Shared> MakeShared(const HttpServerOptions& options, Handler handler,
                                   RequestObserver observer, std::shared_ptr<ssl::context> tls) {
  auto shared = std::make_shared<Shared>();
  shared->options = options;
  shared->handler = std::move(handler);
  shared->observer = std::move(observer);
  shared->tls = std::move(tls);
  if (options.handler_threads > 0) {
    shared->pool = std::make_unique<HandlerPool>(options.handler_threads,
                                                 options.max_queued_requests);
  }
  return shared;
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ListenAddress& address,
                                                      std::shared_ptr<ssl::context> tls,
                                                      const HttpServerOptions& options,
                                                      Handler handler, RequestObserver observer) {
  try {
    auto impl = std::make_unique<Impl>(
        MakeShared(options, std::move(handler), std::move(observer), std::move(tls)));
    WARDEN_RETURN_IF_ERROR(impl->Listen(address));
    impl->StartThreads();
    return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
  } catch (const std::exception& e) {
    return Unavailable(std::string("cannot start the HTTP listener: ") + e.what());
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::StartUnix(const UnixListenOptions& unix_options,
                                                          const HttpServerOptions& options,
                                                          Handler handler,
                                                          RequestObserver observer) {
  try {
    auto impl = std::make_unique<Impl>(
        MakeShared(options, std::move(handler), std::move(observer), nullptr));
    WARDEN_RETURN_IF_ERROR(impl->ListenUnix(unix_options));
    impl->StartThreads();
    return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
  } catch (const std::exception& e) {
    return Unavailable("cannot start the Unix-socket listener at " + unix_options.path + ": " +
                       e.what());
  }
}

uint16_t HttpServer::port() const { return impl_->port(); }
std::string HttpServer::address() const { return impl_->address(); }
void HttpServer::Shutdown() { impl_->Shutdown(); }

Result<std::shared_ptr<ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                     const std::string& key_file) {
  try {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    beast::error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                     ec);
    if (ec || SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
      return Internal("cannot restrict TLS to version 1.2 and later");
    }
    ctx->use_certificate_chain_file(cert_file, ec);
    if (ec) {
      return InvalidArgument("cannot load certificate chain " + cert_file + ": " + ec.message(),
                             "tls_cert");
    }
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
    if (ec) {
      return InvalidArgument("cannot load private key " + key_file + ": " + ec.message(),
                             "tls_key");
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return InvalidArgument("private key " + key_file + " does not match certificate " +
                                 cert_file,
                             "tls_key");
    }
    return ctx;
  } catch (const std::exception& e) {
    return Internal(std::string("cannot create the TLS context: ") + e.what());
  }
}

}  // namespace warden::server::internal
