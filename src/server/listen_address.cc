#include "server/internal/listen_address.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace warden::server::internal {

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&](std::string why) {
    return InvalidArgument("\"" + std::string(text) + "\": " + why, "listen");
  };
  std::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("expected [IPv6]:port");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("expected host:port");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("IPv6 hosts must be in brackets");
  }
  if (port_text.empty() || port_text.size() > 5) return bad("port must be 0-65535");
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return bad("port must be 0-65535");
  }
  ListenAddress out;
  out.port = static_cast<uint16_t>(port);
  // Only IP literals: resolving a name at startup would make the bound address,
  // and so the loopback/TLS decision, depend on DNS.
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code parse_ec;
  auto addr = boost::asio::ip::make_address(std::string(host), parse_ec);
  if (parse_ec) return bad("host must be an IP address or localhost");
  out.host = addr.to_string();
  out.loopback = addr.is_loopback();
  return out;
}

std::string FormatHostPort(std::string_view ip, uint16_t port) {
  if (ip.find(':') != std::string_view::npos) {
    return "[" + std::string(ip) + "]:" + std::to_string(port);
  }
  return std::string(ip) + ":" + std::to_string(port);
}

}  // namespace warden::server::internal
