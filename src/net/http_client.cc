#include "warden/net/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/un.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <functional>
#include <utility>

#include "warden/core/text.h"

namespace warden::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::string_view kUserAgent = "warden/" WARDEN_VERSION;

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

Result<std::string> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return InvalidArgument("port must be 1-65535", "server");
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return InvalidArgument("port must be a number", "server");
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return InvalidArgument("port must be 1-65535", "server");
  return std::to_string(value);
}

std::string SecondsText(std::chrono::milliseconds d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return std::to_string(s < 1 ? 1 : s) + "s";
}

// The part after "unix:" as an absolute, normalised socket path.
Result<std::string> ParseUnixPath(std::string_view text, std::string_view rest) {
  if (rest.starts_with("//")) {
    // unix:///abs/path: an empty authority, then the absolute path.
    rest.remove_prefix(2);
    if (!rest.starts_with('/')) {
      return InvalidArgument("unix socket URL \"" + std::string(text) +
                                 "\" must be unix:/absolute/path or unix:relative/path",
                             "server");
    }
  }
  if (rest.empty()) return InvalidArgument("unix: server URL has no socket path", "server");
  for (char c : rest) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgument("control character in unix socket path", "server");
    }
  }
  if (rest.ends_with('/')) {
    return InvalidArgument("unix socket path \"" + std::string(rest) + "\" names a directory",
                           "server");
  }
  std::filesystem::path path(rest);
  if (path.is_relative()) {
    std::error_code ec;
    auto cwd = std::filesystem::current_path(ec);
    if (ec) {
      return InvalidArgument("cannot resolve the relative socket path \"" + std::string(rest) +
                                 "\": " + ec.message(),
                             "server");
    }
    path = cwd / path;
  }
  std::string out = path.lexically_normal().string();
  if (out.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return InvalidArgument("unix socket path " + out + " is longer than " +
                               std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes",
                           "server");
  }
  return out;
}

}  // namespace

// One open connection: exactly one of the streams is set.
struct HttpClient::Connection {
  std::optional<local::socket> unix_socket;
  std::optional<tcp::socket> plain;
  std::optional<ssl::stream<tcp::socket>> tls;
  beast::flat_buffer buffer;
  SteadyTime idle_since;

  int NativeHandle() {
    if (unix_socket) return unix_socket->native_handle();
    if (plain) return plain->native_handle();
    return tls->next_layer().native_handle();
  }
  void Close() {
    boost::system::error_code ignored;
    if (unix_socket) unix_socket->close(ignored);
    if (plain) plain->close(ignored);
    if (tls) tls->next_layer().close(ignored);
  }
};


std::string ServerUrl::ToString() const {
  if (!unix_path.empty()) return "unix:" + unix_path;
  std::string out = tls ? "https://" : "http://";
  if (host.find(':') != std::string::npos) {
    out += "[" + host + "]";
  } else {
    out += host;
  }
  out += ":" + port;
  return out;
}

Result<ServerUrl> ParseServerUrl(std::string_view text) {
  ServerUrl url;
  std::string_view rest = text;
  if (rest.starts_with("unix:")) {
    WARDEN_ASSIGN_OR_RETURN(url.unix_path, ParseUnixPath(text, rest.substr(5)));
    return url;
  }
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    url.tls = true;
    rest.remove_prefix(8);
  } else if (rest.find("://") != std::string_view::npos) {
    return InvalidArgument("unsupported scheme in \"" + std::string(text) +
                               "\" (use http://, https:// or unix:)",
                           "server");
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#@ \t\r\n") != std::string_view::npos) {
    return InvalidArgument("server URL \"" + std::string(text) +
                               "\" must be scheme://host:port without a path, query or user",
                           "server");
  }
  std::string_view host;
  std::string_view port;
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgument("unterminated [ in server URL", "server");
    }
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return InvalidArgument("junk after ] in server URL", "server");
      port = after.substr(1);
      if (port.empty()) return InvalidArgument("empty port in server URL", "server");
    }
    boost::system::error_code ec;
    asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return InvalidArgument("bad IPv6 address in server URL", "server");
  } else {
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos && rest.find(':', colon + 1) != std::string_view::npos) {
      return InvalidArgument("IPv6 addresses in a server URL must be in brackets", "server");
    }
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return InvalidArgument("empty port in server URL", "server");
    }
    for (char c : host) {
      if (!IsHostChar(c)) return InvalidArgument("bad character in server host", "server");
    }
  }
  if (host.empty()) return InvalidArgument("server URL has no host", "server");
  url.host = std::string(host);
  if (port.empty()) {
    url.port = url.tls ? "443" : "80";
  } else {
    WARDEN_ASSIGN_OR_RETURN(url.port, ParsePort(port));
  }
  return url;
}

HttpClient::HttpClient(ServerUrl url, HttpClientOptions options)
    : url_(std::move(url)), options_(std::move(options)) {}

HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(std::string_view server_url,
                                                       const HttpClientOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(ServerUrl url, ParseServerUrl(server_url));
  std::unique_ptr<HttpClient> client(new HttpClient(std::move(url), options));
  WARDEN_RETURN_IF_ERROR(client->Init());
  return client;
}

Status HttpClient::Init() {
  if (!options_.cacert_file.empty() && !url_.tls) {
    return InvalidArgument("--cacert is only used with an https:// server", "cacert");
  }
  if (url_.tls) {
    ssl_.emplace(ssl::context::tls_client);
    // TLS 1.2 is the oldest version still considered safe; the server offers 1.2+.
    SSL_CTX_set_min_proto_version(ssl_->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    if (options_.cacert_file.empty()) {
      ssl_->set_default_verify_paths(ec);
    } else {
      std::error_code fs_ec;
      if (!std::filesystem::is_regular_file(options_.cacert_file, fs_ec)) {
        return InvalidArgument("cannot read --cacert file " + options_.cacert_file +
                                   ": not a regular file",
                               "cacert");
      }
      ssl_->load_verify_file(options_.cacert_file, ec);
    }
    if (ec) {
      return InvalidArgument("cannot load CA certificates from " +
                                 (options_.cacert_file.empty() ? std::string("the system store")
                                                               : options_.cacert_file) +
                                 ": " + ec.message(),
                             "cacert");
    }
    ssl_->set_verify_mode(ssl::verify_peer);
  }
  if (options_.stop_on_interrupt) {
    signals_.emplace(io_, SIGINT, SIGTERM);
    signals_->async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) interrupted_ = true;
    });
  }
  return OkStatus();
}

namespace {

// Drives `io` until `done`. At the deadline, or once `interrupted` turns true,
// `abort` closes the connection so the pending operation completes promptly.
// Returns false only when the operation was lost (a broken invariant).
bool Drive(asio::io_context& io, const bool& done, SteadyTime deadline, const bool& interrupted,
           const std::function<void()>& abort, bool& timed_out) {
  // A previous step may have run out of work, which stops the io_context.
  io.restart();
  bool aborted = false;
  while (!done) {
    if (!aborted && (interrupted || std::chrono::steady_clock::now() >= deadline)) {
      timed_out = !interrupted;
      aborted = true;
      abort();
    }
    size_t ran = aborted ? io.run_one() : io.run_one_until(deadline);
    if (ran == 0 && io.stopped()) break;  // no work left: cannot happen while an op is pending
  }
  return done;
}

std::string TlsFailure(const boost::system::error_code& ec, SSL* ssl, const std::string& host) {
  long verify = SSL_get_verify_result(ssl);
  if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    return "certificate verification failed: the server's certificate is not valid for \"" +
           host + "\"";
  }
  if (verify != X509_V_OK) {
    return std::string("certificate verification failed: ") +
           X509_verify_cert_error_string(verify) +
           " (pass the CA that signed the server's certificate with --cacert)";
  }
  return ec.message();
}

// One Send: at most one operation is pending at a time; the handler from
// Handler() records its result, and Wait() runs the loop until it arrives.
class Exchange {
 public:
  Exchange(asio::io_context& io, std::chrono::milliseconds timeout, const bool& interrupted,
           std::string where)
      : io_(io),
        timeout_(timeout),
        deadline_(std::chrono::steady_clock::now() + timeout),
        interrupted_(interrupted),
        where_(std::move(where)) {}

  // The completion handler for the next operation (any signature starting
  // with an error code).
  auto Handler() {
    done_ = false;
    return [this](const boost::system::error_code& e, auto&&...) {
      ec_ = e;
      done_ = true;
    };
  }

  // Runs the pending operation to completion. `abort` closes the connection
  // at the deadline or on a signal. DeadlineExceeded, Aborted("interrupted").
  Status Wait(const std::function<void()>& abort) {
    if (!Drive(io_, done_, deadline_, interrupted_, abort, timed_out_)) {
      return Internal("HTTP client lost a pending operation");
    }
    if (interrupted_) return Aborted("interrupted");
    if (timed_out_) {
      return DeadlineExceeded("no answer from " + where_ + " within " + SecondsText(timeout_));
    }
    return OkStatus();
  }

  const boost::system::error_code& ec() const { return ec_; }
  const std::string& where() const { return where_; }

 private:
  asio::io_context& io_;
  std::chrono::milliseconds timeout_;
  SteadyTime deadline_;
  const bool& interrupted_;
  std::string where_;
  bool done_ = false;
  bool timed_out_ = false;
  boost::system::error_code ec_;
};

// What one exchange on a connection gave besides the response.
struct RoundTripInfo {
  bool keep_alive = false;      // the server lets the connection be used again
  bool nothing_received = true; // no byte of a response arrived
};

// Writes `req` and reads the whole response on a connected stream (TCP, TLS
// or Unix). The connection is left open; the caller closes or keeps it.
template <class Stream>
Result<HttpResponse> RoundTrip(Exchange& ex, Stream& stream, beast::flat_buffer& buffer,
                               const http::request<http::string_body>& req,
                               size_t max_response_bytes, const std::function<void()>& abort,
                               RoundTripInfo* info) {
  const std::string& where = ex.where();
  http::async_write(stream, req, ex.Handler());
  WARDEN_RETURN_IF_ERROR(ex.Wait(abort));
  if (ex.ec()) {
    return Unavailable("sending the request to " + where + " failed: " + ex.ec().message());
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_bytes);
  http::async_read(stream, buffer, parser, ex.Handler());
  WARDEN_RETURN_IF_ERROR(ex.Wait(abort));
  info->nothing_received = !parser.got_some();
  if (ex.ec() == http::error::body_limit) {
    return ResourceExhausted("response from " + where + " is larger than " +
                             std::to_string(max_response_bytes) + " bytes");
  }
  if (ex.ec() == http::error::end_of_stream) {
    return Unavailable(where + " closed the connection without answering");
  }
  if (ex.ec()) {
    return Unavailable("reading the response from " + where + " failed: " + ex.ec().message());
  }

  HttpResponse out;
  auto& res = parser.get();
  info->keep_alive = res.keep_alive();
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  for (const auto& field : res) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

// True when a kept connection can no longer be used: the peer closed it
// (or sent something unasked) while it was idle.
bool PeerClosedOrSent(int fd) {
  pollfd p{};
  p.fd = fd;
  p.events = POLLIN;
  int rc = ::poll(&p, 1, 0);
  return rc != 0;  // readable (EOF, data, error) or poll failed: do not reuse
}

bool IsIdempotent(http::verb verb) {
  switch (verb) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::put:
    case http::verb::delete_:
      return true;
    default:
      return false;
  }
}

// Header names must be RFC 9110 tokens and values free of CR, LF and NUL:
// a value taken from a caller must never start a header or a request of its own.
Status CheckHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return InvalidArgument("empty header name");
  for (char c : name) {
    if (!IsHttpTokenChar(c)) return InvalidArgument("invalid character in header name");
  }
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    return InvalidArgument("header " + std::string(name) + " has a CR, LF or NUL in its value");
  }
  return OkStatus();
}

// What a failed connect to a Unix socket means for the user.
Status UnixConnectError(const std::string& path, const boost::system::error_code& ec) {
  namespace errc = boost::system::errc;
  if (ec == errc::no_such_file_or_directory || ec == errc::not_a_directory) {
    return Unavailable("no Warden workload socket at " + path + ": is warden serve running?");
  }
  if (ec == errc::connection_refused) {
    return Unavailable("nothing accepts connections on the socket at " + path +
                       " (left by a stopped server?): is warden serve running?");
  }
  if (ec == errc::permission_denied || ec == errc::operation_not_permitted) {
    return PermissionDenied("permission denied connecting to the Warden socket at " + path +
                            ": check the permissions of the socket and its directories");
  }
  return Unavailable("cannot connect to unix:" + path + ": " + ec.message());
}

// Opens a connection to `url` (connect, TLS handshake with `tls_ctx` for
// https) within the exchange's deadline.
Status Connect(asio::io_context& io, const ServerUrl& url, ssl::context* tls_ctx, Exchange& ex,
               std::unique_ptr<HttpClient::Connection>* out) {
  const std::string& where = ex.where();
  auto conn = std::make_unique<HttpClient::Connection>();
  if (!url.unix_path.empty()) {
    local::socket& socket = conn->unix_socket.emplace(io);
    auto abort = [&] {
      boost::system::error_code ignored;
      socket.close(ignored);
    };
    socket.async_connect(local::endpoint(url.unix_path), ex.Handler());
    WARDEN_RETURN_IF_ERROR(ex.Wait(abort));
    if (ex.ec()) return UnixConnectError(url.unix_path, ex.ec());
    *out = std::move(conn);
    return OkStatus();
  }

  // Name resolution.
  tcp::resolver resolver(io);
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(url.host, url.port,
                         [&endpoints, on_done = ex.Handler()](const boost::system::error_code& e,
                                                              tcp::resolver::results_type r) {
                           endpoints = std::move(r);
                           on_done(e);
                         });
  WARDEN_RETURN_IF_ERROR(ex.Wait([&] { resolver.cancel(); }));
  if (ex.ec()) {
    return Unavailable("cannot resolve " + url.host + " (" + where + "): " + ex.ec().message());
  }

  // The socket lives inside the TLS stream for https, alone for http.
  if (url.tls) {
    conn->tls.emplace(io, *tls_ctx);
  } else {
    conn->plain.emplace(io);
  }
  tcp::socket& socket = conn->tls ? conn->tls->next_layer() : *conn->plain;
  auto abort = [&] {
    boost::system::error_code ignored;
    socket.close(ignored);
  };

  asio::async_connect(socket, endpoints, ex.Handler());
  WARDEN_RETURN_IF_ERROR(ex.Wait(abort));
  if (ex.ec() == asio::error::connection_refused) {
    return Unavailable("cannot connect to " + where +
                       ": connection refused \u2014 is `warden serve` running?");
  }
  if (ex.ec()) return Unavailable("cannot connect to " + where + ": " + ex.ec().message());
  if (conn->plain) {
    boost::system::error_code ignored;
    conn->plain->set_option(tcp::no_delay(true), ignored);
    *out = std::move(conn);
    return OkStatus();
  }

  boost::system::error_code addr_ec;
  asio::ip::make_address(url.host, addr_ec);
  const bool is_ip = !addr_ec;
  // OpenSSL checks the name during chain verification, so a mismatch is
  // reported as such (X509_V_ERR_HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH).
  // SNI carries host names only.
  SSL* ssl_handle = conn->tls->native_handle();
  bool configured =
      is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), url.host.c_str()) == 1
            : SSL_set1_host(ssl_handle, url.host.c_str()) == 1 &&
                  SSL_set_tlsext_host_name(ssl_handle, url.host.c_str()) == 1;
  if (!configured) return Internal("cannot configure TLS server name verification");
  conn->tls->async_handshake(ssl::stream_base::client, ex.Handler());
  WARDEN_RETURN_IF_ERROR(ex.Wait(abort));
  if (ex.ec()) {
    return Unavailable("TLS handshake with " + where + " failed: " +
                       TlsFailure(ex.ec(), conn->tls->native_handle(), url.host));
  }
  *out = std::move(conn);
  return OkStatus();
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) return v;
  }
  return std::nullopt;
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request,
                                      std::chrono::milliseconds timeout) {
  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) return InvalidArgument("unknown HTTP method " + request.method);
  if (request.target.empty() || request.target[0] != '/' ||
      request.target.find_first_of(" \r\n") != std::string::npos) {
    return InvalidArgument("bad request target");
  }
  if (interrupted_) return Aborted("interrupted");
  Exchange ex(io_, timeout, interrupted_, url_.ToString());

  http::request<http::string_body> req{verb, request.target, 11};
  if (!url_.unix_path.empty()) {
    // A Unix socket has no host name; the server ignores Host there.
    req.set(http::field::host, "localhost");
  } else {
    std::string host_header =
        url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    req.set(http::field::host, host_header + ":" + url_.port);
  }
  req.set(http::field::user_agent, kUserAgent);
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, options_.keep_alive ? "keep-alive" : "close");
  if (!request.bearer_token.empty()) {
    req.set(http::field::authorization, "Bearer " + request.bearer_token);
  }
  if (!request.body.empty() || verb == http::verb::post || verb == http::verb::patch) {
    req.set(http::field::content_type, "application/json");
    req.body() = request.body;
  }
  for (const auto& [name, value] : request.headers) {
    WARDEN_RETURN_IF_ERROR(CheckHeader(name, value));
    req.set(name, value);
  }
  req.prepare_payload();

  // A kept connection is used again only while fresh (servers close idle
  // ones after a few seconds) and still quiet; otherwise a new one.
  if (conn_ && (std::chrono::steady_clock::now() - conn_->idle_since > options_.max_idle ||
                PeerClosedOrSent(conn_->NativeHandle()))) {
    conn_->Close();
    conn_.reset();
  }
  bool reused = conn_ != nullptr;
  for (int attempt = 0;; ++attempt) {
    if (!conn_) {
      WARDEN_RETURN_IF_ERROR(Connect(io_, url_, ssl_ ? &*ssl_ : nullptr, ex, &conn_));
    }
    Connection& conn = *conn_;
    auto abort = [&conn] { conn.Close(); };
    RoundTripInfo info;
    Result<HttpResponse> out =
        conn.unix_socket ? RoundTrip(ex, *conn.unix_socket, conn.buffer, req,
                                     options_.max_response_bytes, abort, &info)
        : conn.plain     ? RoundTrip(ex, *conn.plain, conn.buffer, req,
                                     options_.max_response_bytes, abort, &info)
                         : RoundTrip(ex, *conn.tls, conn.buffer, req,
                                     options_.max_response_bytes, abort, &info);
    if (out.ok() && options_.keep_alive && info.keep_alive) {
      conn.idle_since = std::chrono::steady_clock::now();
      return out;
    }
    // Connection: close; a TLS close_notify adds nothing for a finished exchange.
    conn.Close();
    conn_.reset();
    // A kept connection the server closed just as it was reused: nothing of
    // the request was answered, so an idempotent request may go again on a
    // new one. Other requests are not repeated (the server may have acted).
    if (!out.ok() && reused && attempt == 0 && info.nothing_received && IsIdempotent(verb) &&
        out.status().code() == StatusCode::kUnavailable) {
      continue;
    }
    return out;
  }
}

}  // namespace warden::net
