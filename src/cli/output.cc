#include "cli/output.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace warden::cli {
namespace {

// Length of the UTF-8 sequence starting at text[i] and its code point, or 0
// when the bytes there are not well-formed UTF-8 (overlongs and surrogates
// included).
size_t DecodeUtf8(std::string_view text, size_t i, uint32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  uint8_t b0 = byte(i);
  size_t len = 0;
  uint32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

size_t DisplayWidth(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

void AppendJson(const json::value& v, int indent, std::string& out) {
  auto pad = [&](int n) { out.append(static_cast<size_t>(n) * 2, ' '); };
  switch (v.kind()) {
    case json::kind::object: {
      const auto& obj = v.get_object();
      if (obj.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (const auto& member : obj) {
        if (!first) out += ",\n";
        first = false;
        pad(indent + 1);
        out += json::serialize(json::string(member.key()));
        out += ": ";
        AppendJson(member.value(), indent + 1, out);
      }
      out += "\n";
      pad(indent);
      out += "}";
      return;
    }
    case json::kind::array: {
      const auto& arr = v.get_array();
      if (arr.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      bool first = true;
      for (const auto& item : arr) {
        if (!first) out += ",\n";
        first = false;
        pad(indent + 1);
        AppendJson(item, indent + 1, out);
      }
      out += "\n";
      pad(indent);
      out += "]";
      return;
    }
    default:
      out += json::serialize(v);
      return;
  }
}

}  // namespace

std::string SanitizeForTerminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char buf[16];
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(text, i, cp);
    if (len == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(static_cast<uint8_t>(text[i])));
      out += buf;
      ++i;
      continue;
    }
    if (cp < 0x20 || cp == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
      out += buf;
    } else if ((cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
               (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
      // C1 controls, line separators and bidirectional overrides can disguise
      // what a reviewer reads; show them as escapes.
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else if (cp == '\\') {
      out += "\\\\";
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string FormatTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows) {
  const size_t columns = headers.size();
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size() + 1);
  cells.push_back(headers);
  for (const auto& row : rows) {
    std::vector<std::string> clean;
    clean.reserve(columns);
    for (size_t c = 0; c < columns; ++c) {
      clean.push_back(c < row.size() ? SanitizeForTerminal(row[c]) : std::string());
    }
    cells.push_back(std::move(clean));
  }
  std::vector<size_t> width(columns, 0);
  for (const auto& row : cells) {
    for (size_t c = 0; c < columns; ++c) width[c] = std::max(width[c], DisplayWidth(row[c]));
  }
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (size_t c = 0; c < columns; ++c) {
      line += row[c];
      if (c + 1 < columns) line.append(width[c] - DisplayWidth(row[c]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

std::string FormatKeyValues(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t key_width = 0;
  for (const auto& [key, value] : fields) key_width = std::max(key_width, key.size());
  std::string out;
  for (const auto& [key, value] : fields) {
    out += key;
    out += ':';
    out.append(key_width - key.size() + 1, ' ');
    out += SanitizeForTerminal(value);
    out += '\n';
  }
  return out;
}

std::string PrettyJson(const json::value& v) {
  std::string out;
  AppendJson(v, 0, out);
  out += '\n';
  return out;
}

std::string FormatError(const Status& status) {
  std::string out = "warden: ";
  out += SanitizeForTerminal(status.message().empty() ? std::string(StatusCodeName(status.code()))
                                                      : status.message());
  if (!status.field().empty()) {
    out += " (field: " + SanitizeForTerminal(status.field()) + ")";
  }
  return out;
}

const json::object& AsObject(const json::value& v) {
  static const json::object kEmpty;
  return v.is_object() ? v.get_object() : kEmpty;
}

std::string JsonText(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_array()) {
    std::string out;
    for (const auto& item : v->get_array()) {
      if (!out.empty()) out += ", ";
      out += item.is_string() ? std::string(item.get_string()) : json::serialize(item);
    }
    return out.empty() ? "-" : out;
  }
  return json::serialize(*v);
}

}  // namespace warden::cli
