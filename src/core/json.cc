#include "warden/core/json.h"

#include <algorithm>
#include <cmath>
#include <boost/json/basic_parser_impl.hpp>
#include <charconv>

namespace warden {
namespace {

std::string LineColumn(std::string_view text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + " column " + std::to_string(col);
}

// A second pass over the text with boost::json::basic_parser, for what the
// value builder gets wrong: it silently keeps the last of duplicate keys (a
// hostile body must not mean two things to two readers), and Boost 1.81 does
// not round every decimal number correctly, so each double's text is read
// again here with std::from_chars (correctly rounded) in document order.
struct DuplicateKeyHandler {
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  std::vector<std::set<std::string, std::less<>>> keys;
  std::string partial;
  std::string duplicate;
  bool has_duplicate = false;    // `duplicate` may be the empty key
  std::string number;            // parts of the number being read
  std::vector<double> doubles;   // every double, correctly rounded, in order
  std::string out_of_range;      // a number too large for a double

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    keys.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    keys.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    partial.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
    partial.append(s.data(), s.size());
    if (!keys.back().insert(partial).second) {
      duplicate = partial;
      has_duplicate = true;
      ec = json::error::syntax;
      return false;
    }
    partial.clear();
    return true;
  }
  bool on_number_part(json::string_view s, boost::system::error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t, json::string_view, boost::system::error_code&) {
    number.clear();
    return true;
  }
  bool on_uint64(uint64_t, json::string_view, boost::system::error_code&) {
    number.clear();
    return true;
  }
  bool on_double(double d, json::string_view s, boost::system::error_code& error) {
    number.append(s.data(), s.size());
    double precise = d;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), precise);
    if (std::isinf(d) || (ec == std::errc::result_out_of_range && std::abs(d) > 1.0)) {
      // Beyond the range of a double: there is no value to give it.
      out_of_range = number;
      error = json::error::exponent_overflow;
      return false;
    }
    doubles.push_back(ec == std::errc() && end == number.data() + number.size() ? precise : d);
    number.clear();
    return true;
  }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }
};

void WriteCanonical(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object: {
      const auto& obj = v.get_object();
      std::vector<const json::key_value_pair*> members;
      members.reserve(obj.size());
      for (const auto& kv : obj) members.push_back(&kv);
      std::sort(members.begin(), members.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (const auto* kv : members) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(json::string_view(kv->key()));
        out += ':';
        WriteCanonical(kv->value(), out);
      }
      out += '}';
      break;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        WriteCanonical(e, out);
      }
      out += ']';
      break;
    }
    case json::kind::double_: {
      // Shortest form that reads back as the same double (std::to_chars), so
      // canonical text is a fixed point: parse(canonical) re-encodes to itself.
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
      if (ec == std::errc()) {
        std::string_view text(buf, static_cast<size_t>(end - buf));
        out += text;
        // "-0" or "3" would read back as integers: keep them doubles.
        if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
      } else {
        out += json::serialize(v);
      }
      break;
    }
    default:
      out += json::serialize(v);
  }
}

// Replaces the doubles of `v`, in document order, with `doubles`.
void PatchDoubles(json::value& v, const std::vector<double>& doubles, size_t* next) {
  switch (v.kind()) {
    case json::kind::double_:
      if (*next < doubles.size()) v.as_double() = doubles[(*next)++];
      break;
    case json::kind::array:
      for (auto& e : v.as_array()) PatchDoubles(e, doubles, next);
      break;
    case json::kind::object:
      for (auto& kv : v.as_object()) PatchDoubles(kv.value(), doubles, next);
      break;
    default:
      break;
  }
}

}  // namespace

Result<json::value> ParseJson(std::string_view text, const JsonParseOptions& options) {
  if (text.size() > options.max_bytes) {
    return ResourceExhausted("JSON document of " + std::to_string(text.size()) +
                             " bytes exceeds the limit of " + std::to_string(options.max_bytes));
  }
  json::parse_options po;
  po.max_depth = options.max_depth;
  json::stream_parser parser(json::storage_ptr(), po);
  boost::system::error_code ec;
  size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec) {
    parser.finish(ec);
    if (!ec && consumed != text.size()) {
      // Trailing content after the document (other than whitespace) is an error.
      return InvalidArgument("malformed JSON at " + LineColumn(text, consumed) +
                             ": unexpected content after the document");
    }
  }
  if (ec) {
    return InvalidArgument("malformed JSON at " + LineColumn(text, consumed) + ": " +
                           ec.message());
  }
  json::value v = parser.release();
  json::basic_parser<DuplicateKeyHandler> checker(po);
  boost::system::error_code dup_ec;
  size_t at = checker.write_some(false, text.data(), text.size(), dup_ec);
  if (checker.handler().has_duplicate) {
    return InvalidArgument("malformed JSON at " + LineColumn(text, at) + ": duplicate key \"" +
                           checker.handler().duplicate + "\"");
  }
  if (!checker.handler().out_of_range.empty()) {
    return InvalidArgument("malformed JSON at " + LineColumn(text, at) + ": number " +
                           checker.handler().out_of_range.substr(0, 40) +
                           " is too large for a 64-bit floating-point value");
  }
  if (!checker.handler().doubles.empty()) {
    size_t next = 0;
    PatchDoubles(v, checker.handler().doubles, &next);
  }
  return v;
}

std::string CanonicalJson(const json::value& v) {
  std::string out;
  WriteCanonical(v, out);
  return out;
}

std::string ToJson(const json::value& v) { return json::serialize(v); }

std::string_view JsonKindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64:
    case json::kind::uint64: return "integer";
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "unknown";
}

Result<StrictObject> StrictObject::From(const json::value& v, std::string path) {
  if (!v.is_object()) {
    return InvalidArgument("expected a JSON object, got " + std::string(JsonKindName(v)), path);
  }
  return StrictObject(&v.get_object(), std::move(path));
}

std::string StrictObject::FieldPath(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

const json::value* StrictObject::Optional(std::string_view key) {
  known_.emplace(key);
  return obj_->if_contains(key);
}

Result<std::string> StrictObject::RequiredString(std::string_view key) {
  WARDEN_ASSIGN_OR_RETURN(auto v, OptionalString(key));
  if (!v) return InvalidArgument("is required", FieldPath(key));
  return std::move(*v);
}

Result<std::optional<std::string>> StrictObject::OptionalString(std::string_view key) {
  const json::value* v = Optional(key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) {
    return InvalidArgument("must be a string, got " + std::string(JsonKindName(*v)),
                           FieldPath(key));
  }
  return std::optional<std::string>(std::string(v->get_string()));
}

Result<std::optional<int64_t>> StrictObject::OptionalInt(std::string_view key) {
  const json::value* v = Optional(key);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->get_int64());
  if (v->is_uint64()) return InvalidArgument("integer out of range", FieldPath(key));
  return InvalidArgument("must be an integer, got " + std::string(JsonKindName(*v)),
                         FieldPath(key));
}

Result<std::optional<bool>> StrictObject::OptionalBool(std::string_view key) {
  const json::value* v = Optional(key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool()) {
    return InvalidArgument("must be a boolean, got " + std::string(JsonKindName(*v)),
                           FieldPath(key));
  }
  return std::optional<bool>(v->get_bool());
}

Result<std::optional<std::vector<std::string>>> StrictObject::OptionalStringArray(
    std::string_view key) {
  const json::value* v = Optional(key);
  if (v == nullptr) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) {
    return InvalidArgument("must be an array of strings, got " + std::string(JsonKindName(*v)),
                           FieldPath(key));
  }
  std::vector<std::string> out;
  size_t i = 0;
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) {
      return InvalidArgument("must be a string, got " + std::string(JsonKindName(e)),
                             FieldPath(key) + "[" + std::to_string(i) + "]");
    }
    out.emplace_back(e.get_string());
    ++i;
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Status StrictObject::Finish() const {
  for (const auto& kv : *obj_) {
    if (known_.find(std::string_view(kv.key())) == known_.end()) {
      return InvalidArgument("unknown field", FieldPath(kv.key()));
    }
  }
  return OkStatus();
}

}  // namespace warden
