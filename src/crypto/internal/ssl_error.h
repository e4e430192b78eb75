// Turns OpenSSL's thread-local error queue into text for Status messages.
// Internal to crypto; thread-safe (the queue is per thread).
#pragma once

#include <string>
#include <string_view>

namespace warden::crypto::internal {

// "<what>: <first OpenSSL reason>" and clears the queue, so one failure's
// errors never leak into the next call's message.
std::string SslErrorMessage(std::string_view what);

// Clears the queue without reading it (after an expected failure).
void ClearSslErrors();

}  // namespace warden::crypto::internal
