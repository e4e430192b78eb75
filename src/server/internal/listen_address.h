// Parsing of listen addresses ("127.0.0.1:8181", "[::1]:0", "localhost:8181").
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "warden/core/status.h"

namespace warden::server::internal {

struct ListenAddress {
  std::string host;  // IP literal without brackets
  uint16_t port = 0;
  bool loopback = false;
};

// InvalidArgument (field "listen") for anything but IP:port, [IPv6]:port or localhost:port.
Result<ListenAddress> ParseListenAddress(std::string_view text);

// "127.0.0.1:8181" or "[::1]:8181".
std::string FormatHostPort(std::string_view ip, uint16_t port);

}  // namespace warden::server::internal
