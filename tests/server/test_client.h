// A small blocking HTTP/1.1 client for the server tests (plain or TLS), plus
// a self-signed certificate generator. Test-only; not thread-safe per object.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace warden::server::testing {

struct HttpResult {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;                           // transport error, empty on success

  boost::json::value Json() const;
  // error.code / error.field of a JSON error body ("" when absent).
  std::string ErrorCode() const;
  std::string ErrorField() const;
};

struct ClientOptions {
  bool tls = false;
  int tls_max_version = 0;  // 0: library default; e.g. TLS1_1_VERSION to test refusal
};

// One request on a fresh connection. `host_port` is "127.0.0.1:PORT".
HttpResult Send(const std::string& host_port, const std::string& method, const std::string& target,
                const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {},
                const ClientOptions& options = {});

// One request over a Unix domain socket (the Workload API).
HttpResult SendUnix(const std::string& socket_path, const std::string& method,
                    const std::string& target, const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {});

// Several requests on one keep-alive connection (plain HTTP).
std::vector<HttpResult> SendKeepAlive(
    const std::string& host_port,
    const std::vector<std::pair<std::string, std::string>>& method_targets);

// Writes a self-signed P-256 certificate for 127.0.0.1 and its key as PEM files.
// Returns false on failure.
bool WriteSelfSignedCert(const std::string& cert_path, const std::string& key_path);

// The negotiated TLS version (e.g. TLS1_3_VERSION) of a handshake with the
// server, or a negative number when the handshake failed.
int TlsHandshakeVersion(const std::string& host_port, int max_version);

}  // namespace warden::server::testing
