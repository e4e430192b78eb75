#include "server/internal/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "warden/core/clock.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"

namespace warden::server::internal {
namespace {

std::shared_ptr<spdlog::logger> Logger() {
  // Built once; a private logger so the global default stays the caller's.
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto l = std::make_shared<spdlog::logger>("warden.server", sink);
    l->set_pattern("%v");
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return logger;
}

}  // namespace

Status SetLogLevel(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept "off" when asked for.
  if (parsed == spdlog::level::off && level != "off") {
    return InvalidArgument("unknown log level \"" + std::string(level) + "\"", "log_level");
  }
  Logger()->set_level(parsed);
  return OkStatus();
}

bool LogEnabled(spdlog::level::level_enum level) { return Logger()->should_log(level); }

void LogJson(spdlog::level::level_enum level, std::string_view msg, boost::json::object fields) {
  auto logger = Logger();
  if (!logger->should_log(level)) return;
  boost::json::object line;
  line["time"] = FormatRfc3339(SystemClock::Instance().Now(), true);
  auto level_name = spdlog::level::to_string_view(level);
  line["level"] = std::string_view(level_name.data(), level_name.size());
  line["msg"] = msg;
  for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
  logger->log(level, "{}", boost::json::serialize(line));
}

}  // namespace warden::server::internal
