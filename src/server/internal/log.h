// Structured JSON logging for the server: one JSON object per line on stderr
// ({"time","level","msg",...fields}). Never pass secrets or raw headers.
// Thread-safe (spdlog's multi-threaded sink).
#pragma once

#include <boost/json/object.hpp>
#include <spdlog/common.h>
#include <string_view>

#include "warden/core/status.h"

namespace warden::server::internal {

// Sets the minimum level ("trace".."off"); InvalidArgument for other names.
Status SetLogLevel(std::string_view level);

bool LogEnabled(spdlog::level::level_enum level);

// Emits {"time":RFC 3339 UTC,"level":..,"msg":msg, ...fields}.
void LogJson(spdlog::level::level_enum level, std::string_view msg,
             boost::json::object fields = {});

}  // namespace warden::server::internal
