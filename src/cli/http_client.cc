#include "cli/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <functional>
#include <utility>

namespace warden::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::string_view kUserAgent = "warden-cli/" WARDEN_VERSION;

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

}  // namespace

std::string ServerUrl::ToString() const {
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
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    url.tls = true;
    rest.remove_prefix(8);
  } else if (rest.find("://") != std::string_view::npos) {
    return InvalidArgument("unsupported scheme in \"" + std::string(text) +
                               "\" (use http:// or https://)",
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

}  // namespace

Result<HttpResponse> HttpClient::Send(const HttpRequest& request,
                                      std::chrono::milliseconds timeout) {
  const std::string where = url_.ToString();
  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) return InvalidArgument("unknown HTTP method " + request.method);
  if (request.target.empty() || request.target[0] != '/' ||
      request.target.find_first_of(" \r\n") != std::string::npos) {
    return InvalidArgument("bad request target");
  }
  const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  bool done = false;  // set by the completion handler of the pending operation
  boost::system::error_code ec;
  auto interrupted_status = [] { return Aborted("interrupted"); };
  auto timeout_status = [&] {
    return DeadlineExceeded("no answer from " + where + " within " + SecondsText(timeout));
  };
  if (interrupted_) return interrupted_status();
  // Runs the pending operation to completion; an error when it was cut short.
  auto step = [&](const std::function<void()>& abort_op) -> Status {
    if (!Drive(io_, done, deadline, interrupted_, abort_op, timed_out)) {
      return Internal("HTTP client lost a pending operation");
    }
    if (interrupted_) return interrupted_status();
    if (timed_out) return timeout_status();
    return OkStatus();
  };

  // Name resolution.
  tcp::resolver resolver(io_);
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(url_.host, url_.port,
                         [&](const boost::system::error_code& e, tcp::resolver::results_type r) {
                           ec = e;
                           endpoints = std::move(r);
                           done = true;
                         });
  if (Status stop = step([&] { resolver.cancel(); }); !stop.ok()) return stop;
  if (ec) return Unavailable("cannot resolve " + url_.host + " (" + where + "): " + ec.message());

  // The socket lives inside the TLS stream for https, alone for http.
  std::optional<ssl::stream<tcp::socket>> tls;
  std::optional<tcp::socket> plain;
  if (url_.tls) {
    tls.emplace(io_, *ssl_);
  } else {
    plain.emplace(io_);
  }
  tcp::socket& socket = tls ? tls->next_layer() : *plain;
  auto abort = [&] {
    boost::system::error_code ignored;
    socket.close(ignored);
  };

  done = false;
  asio::async_connect(socket, endpoints,
                      [&](const boost::system::error_code& e, const tcp::endpoint&) {
                        ec = e;
                        done = true;
                      });
  if (Status stop = step(abort); !stop.ok()) return stop;
  if (ec == asio::error::connection_refused) {
    return Unavailable("cannot connect to " + where +
                       ": connection refused \u2014 is `warden serve` running?");
  }
  if (ec) return Unavailable("cannot connect to " + where + ": " + ec.message());

  if (tls) {
    boost::system::error_code addr_ec;
    asio::ip::make_address(url_.host, addr_ec);
    const bool is_ip = !addr_ec;
    // OpenSSL checks the name during chain verification, so a mismatch is
    // reported as such (X509_V_ERR_HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH).
    // SNI carries host names only.
    SSL* ssl_handle = tls->native_handle();
    bool configured =
        is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), url_.host.c_str()) == 1
              : SSL_set1_host(ssl_handle, url_.host.c_str()) == 1 &&
                    SSL_set_tlsext_host_name(ssl_handle, url_.host.c_str()) == 1;
    if (!configured) return Internal("cannot configure TLS server name verification");
    done = false;
    tls->async_handshake(ssl::stream_base::client, [&](const boost::system::error_code& e) {
      ec = e;
      done = true;
    });
    if (Status stop = step(abort); !stop.ok()) return stop;
    if (ec) {
      return Unavailable("TLS handshake with " + where + " failed: " +
                         TlsFailure(ec, tls->native_handle(), url_.host));
    }
  }

  http::request<http::string_body> req{verb, request.target, 11};
  std::string host_header = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]"
                                                                      : url_.host;
  host_header += ":" + url_.port;
  req.set(http::field::host, host_header);
  req.set(http::field::user_agent, kUserAgent);
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  if (!request.bearer_token.empty()) {
    req.set(http::field::authorization, "Bearer " + request.bearer_token);
  }
  if (!request.body.empty() || verb == http::verb::post || verb == http::verb::patch) {
    req.set(http::field::content_type, "application/json");
    req.body() = request.body;
  }
  req.prepare_payload();

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.max_response_bytes);
  auto on_done = [&](const boost::system::error_code& e, size_t) {
    ec = e;
    done = true;
  };
  done = false;
  if (tls) {
    http::async_write(*tls, req, on_done);
  } else {
    http::async_write(*plain, req, on_done);
  }
  if (Status stop = step(abort); !stop.ok()) return stop;
  if (ec) return Unavailable("sending the request to " + where + " failed: " + ec.message());

  done = false;
  if (tls) {
    http::async_read(*tls, buffer, parser, on_done);
  } else {
    http::async_read(*plain, buffer, parser, on_done);
  }
  if (Status stop = step(abort); !stop.ok()) return stop;
  if (ec == http::error::body_limit) {
    return ResourceExhausted("response from " + where + " is larger than " +
                             std::to_string(options_.max_response_bytes) + " bytes");
  }
  if (ec == http::error::end_of_stream) {
    return Unavailable(where + " closed the connection without answering");
  }
  if (ec) return Unavailable("reading the response from " + where + " failed: " + ec.message());
  abort();  // Connection: close; a TLS close_notify adds nothing for a finished exchange

  HttpResponse out;
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  return out;
}

}  // namespace warden::cli
