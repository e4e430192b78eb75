// `warden audit ...`: reading and verifying the hash-chained audit log over
// /v1/audit, or verifying a database file directly (`verify --db`).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"

#include "warden/audit/audit_log.h"
#include "warden/store/store.h"

namespace warden::cli {
namespace {

// Events per request while paging through the log.
constexpr int64_t kPageSize = 500;
// The long-poll wait asked of the server, and the client's patience beyond it.
constexpr const char* kFollowWait = "30s";
constexpr std::chrono::milliseconds kFollowTimeout{45'000};

// The events array of a list response ({"events":[...]} or a bare array).
const json::array* EventsOf(const json::value& v) {
  if (v.is_array()) return &v.get_array();
  if (v.is_object()) {
    const json::value* events = v.get_object().if_contains("events");
    if (events != nullptr && events->is_array()) return &events->get_array();
  }
  return nullptr;
}

int64_t SeqOf(const json::value& event) {
  if (!event.is_object()) return 0;
  const json::value* seq = event.get_object().if_contains("seq");
  return seq != nullptr && seq->is_int64() ? seq->get_int64() : 0;
}

std::vector<std::string> EventRow(const json::value& event) {
  if (!event.is_object()) return {"?", "", "", "", "", json::serialize(event)};
  const auto& e = event.get_object();
  const json::value* details = e.if_contains("details");
  return {JsonText(e, "seq"),     JsonText(e, "time"),    JsonText(e, "actor"),
          JsonText(e, "kind"),    JsonText(e, "subject"),
          details != nullptr ? json::serialize(*details) : "-"};
}

const std::vector<std::string> kEventHeaders = {"SEQ",  "TIME",    "ACTOR",
                                                "KIND", "SUBJECT", "DETAILS"};

// One line per event for --follow, where columns cannot be aligned ahead.
void PrintEventLine(const Context& ctx, const json::value& event) {
  if (ctx.global.json) {
    *ctx.out << json::serialize(event) << "\n";
    return;
  }
  std::string line;
  for (const auto& cell : EventRow(event)) {
    if (!line.empty()) line += "  ";
    line += SanitizeForTerminal(cell);
  }
  *ctx.out << line << "\n";
}

std::string ListTarget(int64_t after, int64_t limit) {
  return "/v1/audit?after=" + std::to_string(after) + "&limit=" + std::to_string(limit);
}

// Whether any event has a sequence number above `after`.
Result<bool> HasEventsAfter(ApiClient& api, int64_t after) {
  WARDEN_ASSIGN_OR_RETURN(json::value page, api.Call("GET", ListTarget(after, 1)));
  const json::array* events = EventsOf(page);
  if (events == nullptr) return Internal("server sent an unexpected event list");
  return !events->empty();
}

// The highest sequence number in the log (0 when empty), found with
// O(log n) one-event requests: the API has no "last N" query.
Result<int64_t> FindHead(ApiClient& api) {
  int64_t below = 0;
  WARDEN_ASSIGN_OR_RETURN(bool any, HasEventsAfter(api, 0));
  if (!any) return int64_t{0};
  int64_t above = 1024;  // doubled until no event follows it
  while (true) {
    WARDEN_ASSIGN_OR_RETURN(bool more, HasEventsAfter(api, above));
    if (!more) break;
    below = above;
    if (above > INT64_MAX / 2) return Internal("audit log head out of range");
    above *= 2;
  }
  // Invariant: events exist after `below`, none after `above`.
  while (above - below > 1) {
    int64_t mid = below + (above - below) / 2;
    WARDEN_ASSIGN_OR_RETURN(bool more, HasEventsAfter(api, mid));
    if (more) {
      below = mid;
    } else {
      above = mid;
    }
  }
  return above;
}

int PrintVerifyResult(const Context& ctx, bool ok, int64_t checked, int64_t bad_seq,
                      const std::string& problem) {
  if (ok) {
    *ctx.out << "audit chain OK: " << checked << " events\n";
    return kExitOk;
  }
  *ctx.out << "audit chain BROKEN at seq " << bad_seq << ": " << SanitizeForTerminal(problem)
           << "\n";
  return kExitFailed;
}

int VerifyFile(const Context& ctx, const AuditArgs& args) {
  std::error_code ec;
  // OpenStore creates a missing database; verifying must never do that.
  if (!std::filesystem::is_regular_file(args.db_file, ec)) {
    return ctx.Fail(NotFound("no database file at " + args.db_file));
  }
  auto store = store::OpenStore("sqlite:" + args.db_file);
  if (!store.ok()) return ctx.Fail(store.status().WithContext("cannot open " + args.db_file));
  auto report = audit::Verify(**store);
  if (!report.ok()) return ctx.Fail(report.status());
  if (ctx.global.json) {
    // The shape of GET /v1/audit/verify.
    json::object out;
    out["ok"] = report->ok;
    out["events_checked"] = report->events_checked;
    if (!report->ok) {
      out["first_bad_seq"] = report->first_bad_seq;
      out["problem"] = report->problem;
    }
    *ctx.out << PrettyJson(out);
    return report->ok ? kExitOk : kExitFailed;
  }
  return PrintVerifyResult(ctx, report->ok, report->events_checked, report->first_bad_seq,
                           report->problem);
}

}  // namespace

int AuditTail(const Context& ctx, const AuditArgs& args) {
  auto api = Connect(ctx.global, /*stop_on_interrupt=*/args.follow);
  if (!api.ok()) return ctx.Fail(api.status());

  // First the backlog: the first --limit events after --after, or the last
  // --limit events. The API lists forward from a sequence number in pages.
  int64_t start = args.after.value_or(0);
  if (!args.after.has_value()) {
    auto head = FindHead(*api);
    if (!head.ok()) return api->interrupted() ? kExitOk : ctx.Fail(head.status());
    // Sequence numbers have no gaps, so the last N events follow head - N.
    start = std::max<int64_t>(0, *head - args.limit);
  }
  std::vector<json::value> backlog;
  int64_t last_seq = start;
  while (static_cast<int64_t>(backlog.size()) < args.limit) {
    int64_t page_size = std::min(kPageSize, args.limit - static_cast<int64_t>(backlog.size()));
    auto page = api->Call("GET", ListTarget(last_seq, page_size));
    if (!page.ok()) return api->interrupted() ? kExitOk : ctx.Fail(page.status());
    const json::array* events = EventsOf(*page);
    if (events == nullptr) return ctx.Fail(Internal("server sent an unexpected event list"));
    if (events->empty()) break;
    for (const auto& e : *events) {
      int64_t seq = SeqOf(e);
      if (seq <= last_seq) return ctx.Fail(Internal("server sent events out of order"));
      last_seq = seq;
      backlog.push_back(e);
    }
  }

  if (!args.follow) {
    if (ctx.global.json) {
      // The shape of one GET /v1/audit page, covering every page read.
      json::object out;
      out["events"] = json::array(backlog.begin(), backlog.end());
      out["next_after"] = last_seq;
      *ctx.out << PrettyJson(out);
      return kExitOk;
    }
    if (backlog.empty()) {
      *ctx.out << "no audit events\n";
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    rows.reserve(backlog.size());
    for (const auto& e : backlog) rows.push_back(EventRow(e));
    *ctx.out << FormatTable(kEventHeaders, rows);
    return kExitOk;
  }

  for (const auto& e : backlog) PrintEventLine(ctx, e);
  ctx.out->flush();
  // Long-poll: the server holds each request until an event after last_seq
  // exists or the wait ends; SIGINT/SIGTERM end the loop cleanly.
  while (true) {
    auto page = api->Call("GET",
                          ListTarget(last_seq, kPageSize) + "&wait=" + kFollowWait, nullptr,
                          kFollowTimeout);
    if (!page.ok()) return api->interrupted() ? kExitOk : ctx.Fail(page.status());
    const json::array* events = EventsOf(*page);
    if (events == nullptr) return ctx.Fail(Internal("server sent an unexpected event list"));
    for (const auto& e : *events) {
      int64_t seq = SeqOf(e);
      if (seq <= last_seq) continue;
      last_seq = seq;
      PrintEventLine(ctx, e);
    }
    ctx.out->flush();
  }
}

int AuditVerify(const Context& ctx, const AuditArgs& args) {
  if (!args.db_file.empty()) return VerifyFile(ctx, args);
  auto api = Connect(ctx.global);
  if (!api.ok()) return ctx.Fail(api.status());
  // Verification walks the whole chain; give large logs time.
  auto report = api->Call("GET", "/v1/audit/verify", nullptr, std::chrono::minutes(10));
  if (!report.ok()) return ctx.Fail(report.status());
  if (!report->is_object()) return ctx.Fail(Internal("server sent an unexpected verify report"));
  const auto& r = report->get_object();
  const json::value* ok = r.if_contains("ok");
  if (ok == nullptr || !ok->is_bool()) {
    return ctx.Fail(Internal("server sent a verify report without \"ok\""));
  }
  auto int_of = [&](std::string_view key) -> int64_t {
    const json::value* v = r.if_contains(key);
    return v != nullptr && v->is_int64() ? v->get_int64() : 0;
  };
  if (ctx.global.json) {
    *ctx.out << PrettyJson(*report);
    return ok->get_bool() ? kExitOk : kExitFailed;
  }
  const json::value* problem = r.if_contains("problem");
  return PrintVerifyResult(ctx, ok->get_bool(), int_of("events_checked"), int_of("first_bad_seq"),
                           problem != nullptr && problem->is_string()
                               ? std::string(problem->get_string())
                               : std::string());
}

}  // namespace warden::cli
