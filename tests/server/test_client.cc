#include "server/test_client.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <memory>

namespace warden::server::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

tcp::endpoint Endpoint(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {asio::ip::make_address(host),
          static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1)))};
}

http::request<http::string_body> MakeRequest(
    const std::string& method, const std::string& target, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers, bool keep_alive) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PATCH") req.prepare_payload();
  req.keep_alive(keep_alive);
  return req;
}

HttpResult ToResult(http::response<http::string_body>& res) {
  HttpResult out;
  out.status = res.result_int();
  out.body = res.body();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  return out;
}

template <class Stream>
HttpResult Exchange(Stream& stream, http::request<http::string_body>& req) {
  beast::error_code ec;
  http::write(stream, req, ec);
  HttpResult failed;
  // A server that answers before reading the whole body (413) may reset the
  // write; the response can still be read.
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  // A response to HEAD has no content whatever its Content-Length says.
  parser.skip(req.method() == http::verb::head);
  beast::error_code read_ec;
  http::read(stream, buffer, parser, read_ec);
  if (read_ec) {
    failed.error = "write: " + ec.message() + "; read: " + read_ec.message();
    return failed;
  }
  auto res = parser.release();
  return ToResult(res);
}

}  // namespace

boost::json::value HttpResult::Json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

std::string HttpResult::ErrorCode() const {
  auto v = Json();
  if (!v.is_object()) return "";
  auto* e = v.as_object().if_contains("error");
  if (e == nullptr || !e->is_object()) return "";
  auto* c = e->as_object().if_contains("code");
  return c != nullptr && c->is_string() ? std::string(c->as_string()) : "";
}

std::string HttpResult::ErrorField() const {
  auto v = Json();
  if (!v.is_object()) return "";
  auto* e = v.as_object().if_contains("error");
  if (e == nullptr || !e->is_object()) return "";
  auto* f = e->as_object().if_contains("field");
  return f != nullptr && f->is_string() ? std::string(f->as_string()) : "";
}

HttpResult Send(const std::string& host_port, const std::string& method, const std::string& target,
                const std::string& body,
                const std::vector<std::pair<std::string, std::string>>& headers,
                const ClientOptions& options) {
  HttpResult out;
  try {
    asio::io_context ioc;
    auto req = MakeRequest(method, target, body, headers, false);
    if (options.tls) {
      ssl::context ctx(ssl::context::tls_client);
      ctx.set_verify_mode(ssl::verify_none);
      if (options.tls_max_version != 0) {
        SSL_CTX_set_max_proto_version(ctx.native_handle(), options.tls_max_version);
      }
      beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(20));
      beast::get_lowest_layer(stream).connect(Endpoint(host_port));
      stream.handshake(ssl::stream_base::client);
      out = Exchange(stream, req);
    } else {
      beast::tcp_stream stream(ioc);
      stream.expires_after(std::chrono::seconds(40));
      stream.connect(Endpoint(host_port));
      out = Exchange(stream, req);
    }
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

HttpResult SendUnix(const std::string& socket_path, const std::string& method,
                    const std::string& target, const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpResult out;
  try {
    asio::io_context ioc;
    auto req = MakeRequest(method, target, body, headers, false);
    beast::basic_stream<asio::local::stream_protocol> stream(ioc);
    stream.expires_after(std::chrono::seconds(40));
    stream.connect(asio::local::stream_protocol::endpoint(socket_path));
    out = Exchange(stream, req);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

std::vector<HttpResult> SendKeepAlive(
    const std::string& host_port,
    const std::vector<std::pair<std::string, std::string>>& method_targets) {
  std::vector<HttpResult> out;
  try {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(20));
    stream.connect(Endpoint(host_port));
    beast::flat_buffer buffer;
    for (const auto& [method, target] : method_targets) {
      auto req = MakeRequest(method, target, "", {}, true);
      http::write(stream, req);
      http::response_parser<http::string_body> parser;
      parser.skip(method == "HEAD");
      http::read(stream, buffer, parser);
      auto res = parser.release();
      out.push_back(ToResult(res));
    }
  } catch (const std::exception& e) {
    HttpResult failed;
    failed.error = e.what();
    out.push_back(failed);
  }
  return out;
}

int TlsHandshakeVersion(const std::string& host_port, int max_version) {
  try {
    asio::io_context ioc;
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_verify_mode(ssl::verify_none);
    if (max_version != 0) {
      SSL_CTX_set_security_level(ctx.native_handle(), 0);
      SSL_CTX_set_min_proto_version(ctx.native_handle(), 0);
      SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(20));
    beast::get_lowest_layer(stream).connect(Endpoint(host_port));
    beast::error_code ec;
    stream.handshake(ssl::stream_base::client, ec);
    if (ec) return -1;
    return SSL_version(stream.native_handle());
  } catch (const std::exception&) {
    return -2;
  }
}

bool WriteSelfSignedCert(const std::string& cert_path, const std::string& key_path) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return false;
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!cert) return false;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return false;
  std::unique_ptr<FILE, decltype(&fclose)> cf(std::fopen(cert_path.c_str(), "w"), fclose);
  std::unique_ptr<FILE, decltype(&fclose)> kf(std::fopen(key_path.c_str(), "w"), fclose);
  if (!cf || !kf) return false;
  return PEM_write_X509(cf.get(), cert.get()) == 1 &&
         PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
}

}  // namespace warden::server::testing
