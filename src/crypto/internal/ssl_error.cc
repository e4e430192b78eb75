#include "crypto/internal/ssl_error.h"

#include <openssl/err.h>

namespace warden::crypto::internal {

std::string SslErrorMessage(std::string_view what) {
  std::string out(what);
  unsigned long code = ERR_get_error();
  if (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    out += ": ";
    out += reason != nullptr ? reason : "OpenSSL error";
  }
  ERR_clear_error();
  return out;
}

void ClearSslErrors() { ERR_clear_error(); }

}  // namespace warden::crypto::internal
