// Output formatting for the `warden` command: aligned tables, key: value
// blocks, pretty-printed JSON and error lines. Text that came from the server
// is escaped before it reaches a terminal, so a hostile agent name or audit
// detail cannot move the cursor or rewrite earlier lines.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "warden/core/json.h"
#include "warden/core/status.h"

namespace warden::cli {

// Replaces C0 and C1 control characters, DEL and invalid UTF-8 with visible
// escapes ("\x1b", "\u009b"); tabs and newlines too, so one value stays on
// one line.
std::string SanitizeForTerminal(std::string_view text);

// Columns separated by two spaces, padded to the widest cell (by code
// points); the last column is not padded. Cells are sanitized.
std::string FormatTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows);

// "key:   value" lines with values aligned after the longest key.
std::string FormatKeyValues(const std::vector<std::pair<std::string, std::string>>& fields);

// Two-space indented JSON, members in their received order, ending in "\n".
std::string PrettyJson(const json::value& v);

// "warden: <message> (field: <field>)" without a trailing newline.
std::string FormatError(const Status& status);

// Display helpers for values read from server JSON: a string member as is,
// numbers in decimal, arrays of strings joined with ", ", absent as "-".
std::string JsonText(const json::object& obj, std::string_view key);

// `v` as an object, or an empty object when it is not one (so JsonText then
// shows "-" for every member of an unexpected answer).
const json::object& AsObject(const json::value& v);

}  // namespace warden::cli
