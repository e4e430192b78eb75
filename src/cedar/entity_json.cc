#include "warden/cedar/entity_json.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "warden/cedar/extensions.h"

namespace warden::cedar {
namespace {

// JSON built in memory (by schema-based rewriting, say) has no parse-depth
// limit, so the recursive walk carries its own bound.
constexpr size_t kMaxValueDepth = 128;

std::string JoinKey(std::string_view path, std::string_view key) {
  std::string out(path);
  if (IsIdentifierText(key)) {
    if (!out.empty()) out += '.';
    out += key;
  } else {
    out += "[\"" + EscapeCedarString(key) + "\"]";
  }
  return out;
}

std::string JoinIndex(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

// Where a value sits in the input ("attrs.addr[2]"), kept as a chain of stack
// frames and rendered to text only when an error is reported: building the
// text for every value would cost more than parsing it.
struct Path {
  enum class Kind : uint8_t { kRoot, kKey, kIndex };
  const Path* parent = nullptr;
  Kind kind = Kind::kRoot;
  std::string_view text;  // kRoot: the whole prefix; kKey: the member name
  size_t index = 0;       // kIndex

  static Path Root(std::string_view text) { return Path{nullptr, Kind::kRoot, text, 0}; }
  Path Key(std::string_view key) const { return Path{this, Kind::kKey, key, 0}; }
  Path Index(size_t i) const { return Path{this, Kind::kIndex, {}, i}; }

  std::string Render() const {
    std::string prefix = parent == nullptr ? std::string() : parent->Render();
    switch (kind) {
      case Kind::kRoot:
        return prefix + std::string(text);
      case Kind::kKey:
        return JoinKey(prefix, text);
      case Kind::kIndex:
        return JoinIndex(prefix, index);
    }
    return prefix;
  }
};

Status ErrorAt(std::string_view path, const std::string& message) {
  std::string p = path.empty() ? std::string("value") : std::string(path);
  return InvalidArgument(p + ": " + message, p);
}

Status ErrorAt(const Path& path, const std::string& message) {
  return ErrorAt(path.Render(), message);
}

const json::string* StringMember(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return nullptr;
  return &it->value().get_string();
}

// {"type": T, "id": I} with both strings (other members ignored), or nullptr-like.
bool TypeAndId(const json::value& v, std::string_view* type, std::string_view* id) {
  if (!v.is_object()) return false;
  const json::object& o = v.get_object();
  const json::string* t = StringMember(o, "type");
  const json::string* i = StringMember(o, "id");
  if (t == nullptr || i == nullptr) return false;
  *type = std::string_view(t->data(), t->size());
  *id = std::string_view(i->data(), i->size());
  return true;
}

// A number as a reader would write it (Boost prints doubles as "1.5E0").
std::string NumberText(const json::value& v) {
  if (!v.is_double()) return json::serialize(v);
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v.get_double());
  return res.ec == std::errc() ? std::string(buf, res.ptr) : json::serialize(v);
}

// Converts JSON to Cedar values for one document. Entity type names repeat
// throughout a document, so the last few validated names are remembered and
// each further occurrence costs a string comparison instead of validation
// plus a lookup in the process-wide intern table.
class Converter {
 public:
  // Lets repeated strings and entity uids of one document share a single
  // immutable instance (a direct-mapped cache of about 2 * `expected_values`
  // slots, at most kMaxShareSlots): entity files repeat parents, references and
  // enumeration-like strings, and a shared value costs no allocation and
  // compares by pointer later on.
  void EnableSharing(size_t expected_values) {
    size_t slots = 16;
    while (slots < expected_values * 2 && slots < kMaxShareSlots) slots <<= 1;
    strings_.assign(slots, Value());
    uids_.assign(slots, std::nullopt);
  }

  Result<Value> ParseValue(const json::value& v, const Path& path, size_t depth);
  Result<Record> ParseRecordMembers(const json::object& o, const Path& path);
  Result<EntityUid> MakeUid(std::string_view type, std::string_view id, const Path& path);
  Result<EntityUid> UidFromJson(const json::value& v, const Path& path);
  Result<Entity> EntityFromJson(const json::value& v, const Path& path);

 private:
  Result<Value> ParseObject(const json::object& o, const Path& path, size_t depth);
  Result<Value> ParseExtn(const json::object& call, std::string_view fn, const Path& path,
                          size_t depth);

  Value MakeString(std::string_view s);
  EntityUid ShareUid(const EntityType& type, std::string_view id);

  static constexpr size_t kMaxShareSlots = 4096;
  std::vector<Value> strings_;  // empty: no sharing; slots hold strings or Bool
  std::vector<std::optional<EntityUid>> uids_;
  static constexpr size_t kTypeCacheSize = 8;
  // Optional so that a converter for a single value costs nothing to set up.
  std::array<std::optional<EntityType>, kTypeCacheSize> types_;
  size_t type_count_ = 0;
  size_t type_next_ = 0;  // replacement cursor once the cache is full
};

Value Converter::MakeString(std::string_view s) {
  if (strings_.empty()) return Value::String(s);
  Value& slot = strings_[std::hash<std::string_view>{}(s) & (strings_.size() - 1)];
  if (!slot.is_string() || slot.AsString() != s) slot = Value::String(s);
  return slot;
}

EntityUid Converter::ShareUid(const EntityType& type, std::string_view id) {
  if (uids_.empty()) return EntityUid(type, id);
  size_t h = std::hash<std::string_view>{}(id) ^ type.hash();
  std::optional<EntityUid>& slot = uids_[h & (uids_.size() - 1)];
  if (!slot.has_value() || slot->type() != type || slot->id() != id) slot = EntityUid(type, id);
  return *slot;
}

Result<EntityUid> Converter::MakeUid(std::string_view type, std::string_view id,
                                     const Path& path) {
  for (size_t i = 0; i < type_count_; ++i) {
    if (types_[i]->name() == type) return ShareUid(*types_[i], id);
  }
  // Names validated by earlier documents on this thread: callers that parse
  // small documents per request would otherwise validate and intern the same
  // few names every time. Direct-mapped and bounded; EntityType is immutable.
  thread_local std::array<std::optional<EntityType>, 16> recent;
  std::optional<EntityType>& seen = recent[std::hash<std::string_view>{}(type) & 15];
  if (!seen.has_value() || seen->name() != type) {
    if (!IsValidEntityTypeName(type)) {
      return ErrorAt(path, "invalid entity type name \"" + EscapeCedarString(type) +
                               "\" (expected identifiers separated by `::`, no whitespace, "
                               "no reserved words)");
    }
    seen = EntityType(type);
  }
  EntityType t = *seen;
  if (type_count_ < kTypeCacheSize) {
    types_[type_count_++] = t;
  } else {
    types_[type_next_] = t;
    type_next_ = (type_next_ + 1) % kTypeCacheSize;
  }
  return ShareUid(t, id);
}

Result<Value> Converter::ParseExtn(const json::object& call, std::string_view fn,
                                   const Path& path, size_t depth) {
  std::vector<Value> args;
  const Path extn = path.Key("__extn");
  if (auto it = call.find("arg"); it != call.end()) {
    WARDEN_ASSIGN_OR_RETURN(Value a, ParseValue(it->value(), extn.Key("arg"), depth + 1));
    args.push_back(std::move(a));
  } else {
    const json::array& arr = call.at("args").get_array();
    const Path args_path = extn.Key("args");
    args.reserve(arr.size());
    for (size_t i = 0; i < arr.size(); ++i) {
      WARDEN_ASSIGN_OR_RETURN(Value a, ParseValue(arr[i], args_path.Index(i), depth + 1));
      args.push_back(std::move(a));
    }
  }
  auto result = CallExtensionFunction(fn, args);
  if (!result.ok()) return ErrorAt(path, result.status().message());
  return result;
}

// Cedar reads an object as an escape only when the escape is its sole member
// and is well formed; otherwise the object is an ordinary record.
Result<Value> Converter::ParseObject(const json::object& o, const Path& path, size_t depth) {
  if (o.size() == 1) {
    const auto& [key, inner] = *o.begin();
    if (key == "__expr" && inner.is_string()) {
      return ErrorAt(path, "the `__expr` escape is no longer supported");
    }
    std::string_view type, id;
    if (key == "__entity" && TypeAndId(inner, &type, &id)) {
      WARDEN_ASSIGN_OR_RETURN(EntityUid uid, MakeUid(type, id, path.Key("__entity")));
      return Value::Entity(std::move(uid));
    }
    if (key == "__extn" && inner.is_object()) {
      const json::object& call = inner.get_object();
      const json::string* fn = StringMember(call, "fn");
      bool has_arg = call.contains("arg");
      auto args_it = call.find("args");
      bool has_args = args_it != call.end() && args_it->value().is_array();
      if (fn != nullptr && (has_arg || has_args)) {
        return ParseExtn(call, std::string_view(fn->data(), fn->size()), path, depth);
      }
    }
  }
  std::vector<Record::Entry> entries;
  entries.reserve(o.size());
  for (const auto& kv : o) {
    std::string_view key(kv.key().data(), kv.key().size());
    WARDEN_ASSIGN_OR_RETURN(Value member, ParseValue(kv.value(), path.Key(key), depth + 1));
    entries.emplace_back(std::string(key), std::move(member));
  }
  auto record = Record::FromEntries(std::move(entries));
  if (!record.ok()) return ErrorAt(path, record.status().message());
  return Value::FromRecord(std::move(record).value());
}

Result<Value> Converter::ParseValue(const json::value& v, const Path& path, size_t depth) {
  if (depth > kMaxValueDepth) {
    return ErrorAt(path, "value nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
  }
  switch (v.kind()) {
    case json::kind::bool_:
      return Value::Bool(v.get_bool());
    case json::kind::int64:
      return Value::Long(v.get_int64());
    case json::kind::uint64:
    case json::kind::double_:
      // Boost.JSON yields uint64 above INT64_MAX and double for fractions,
      // exponents and values below INT64_MIN; Cedar longs are exact i64.
      return ErrorAt(path, "number " + NumberText(v) +
                               " is not a 64-bit integer (Cedar numbers are integers from "
                               "-9223372036854775808 to 9223372036854775807)");
    case json::kind::string: {
      const json::string& s = v.get_string();
      return MakeString(std::string_view(s.data(), s.size()));
    }
    case json::kind::array: {
      const json::array& arr = v.get_array();
      std::vector<Value> elems;
      elems.reserve(arr.size());
      for (size_t i = 0; i < arr.size(); ++i) {
        WARDEN_ASSIGN_OR_RETURN(Value e, ParseValue(arr[i], path.Index(i), depth + 1));
        elems.push_back(std::move(e));
      }
      return Value::FromSet(Set::FromValues(std::move(elems)));
    }
    case json::kind::object:
      return ParseObject(v.get_object(), path, depth);
    case json::kind::null:
      return ErrorAt(path, "found a `null`; JSON nulls are not allowed in Cedar");
  }
  return ErrorAt(path, "unsupported JSON value");
}

Result<Record> Converter::ParseRecordMembers(const json::object& o, const Path& path) {
  std::vector<Record::Entry> entries;
  entries.reserve(o.size());
  for (const auto& kv : o) {
    std::string_view key(kv.key().data(), kv.key().size());
    WARDEN_ASSIGN_OR_RETURN(Value member, ParseValue(kv.value(), path.Key(key), 1));
    entries.emplace_back(std::string(key), std::move(member));
  }
  return Record::FromEntries(std::move(entries));
}

std::string Describe(const json::value& v) {
  std::string text = json::serialize(v);
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return text;
}

Result<EntityUid> Converter::UidFromJson(const json::value& v, const Path& path) {
  std::string_view type, id;
  if (v.is_object()) {
    const json::object& o = v.get_object();
    if (auto it = o.find("__entity"); it != o.end() && TypeAndId(it->value(), &type, &id)) {
      return MakeUid(type, id, path);
    }
    if (TypeAndId(v, &type, &id)) return MakeUid(type, id, path);
  }
  return ErrorAt(path,
                 "expected an entity reference {\"type\": string, \"id\": string} or "
                 "{\"__entity\": {...}}, got " +
                     Describe(v));
}

Result<Entity> Converter::EntityFromJson(const json::value& v, const Path& path) {
  if (!v.is_object()) {
    return ErrorAt(path, "expected an entity object, got " + std::string(JsonKindName(v)));
  }
  const json::object& o = v.get_object();
  auto uid_it = o.find("uid");
  if (uid_it == o.end()) return ErrorAt(path, "missing field `uid`");
  Entity e;
  WARDEN_ASSIGN_OR_RETURN(e.uid, UidFromJson(uid_it->value(), path.Key("uid")));
  // From here on errors name the entity itself ("entity User::\"a\": attrs.x:
  // ..."), which is what a reader of a large entity file needs.
  auto in_entity = [&e](const Status& s) { return s.WithContext("entity " + e.uid.ToString()); };
  auto attrs_it = o.find("attrs");
  if (attrs_it == o.end()) return in_entity(InvalidArgument("missing field `attrs`"));
  if (!attrs_it->value().is_object()) {
    return in_entity(ErrorAt(
        "attrs", "expected an object, got " + std::string(JsonKindName(attrs_it->value()))));
  }
  auto parents_it = o.find("parents");
  if (parents_it == o.end()) return in_entity(InvalidArgument("missing field `parents`"));
  if (!parents_it->value().is_array()) {
    return in_entity(ErrorAt(
        "parents", "expected an array, got " + std::string(JsonKindName(parents_it->value()))));
  }
  auto attrs = ParseRecordMembers(attrs_it->value().get_object(), Path::Root("attrs"));
  if (!attrs.ok()) return in_entity(attrs.status());
  e.attrs = std::move(attrs).value();
  const json::array& parents = parents_it->value().get_array();
  e.parents.reserve(parents.size());
  const Path parents_path = Path::Root("parents");
  for (size_t i = 0; i < parents.size(); ++i) {
    auto parent = UidFromJson(parents[i], parents_path.Index(i));
    if (!parent.ok()) return in_entity(parent.status());
    e.parents.push_back(std::move(parent).value());
  }
  if (auto tags_it = o.find("tags"); tags_it != o.end()) {
    if (!tags_it->value().is_object()) {
      return in_entity(ErrorAt(
          "tags", "expected an object, got " + std::string(JsonKindName(tags_it->value()))));
    }
    auto tags = ParseRecordMembers(tags_it->value().get_object(), Path::Root("tags"));
    if (!tags.ok()) return in_entity(tags.status());
    e.tags = std::move(tags).value();
  }
  return e;
}

// Builds a json::value through Boost.JSON's SAX parser in one pass, counting
// object members as they are read. Boost's value builder keeps only the last
// of duplicate keys, so a document whose built objects hold fewer members in
// total than were read had a duplicate key. Doubles stop the fast path
// (ParseJson rounds them more carefully, and Cedar rejects them anyway).
class FastJsonHandler {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  explicit FastJsonHandler(json::storage_ptr sp) { st_.reset(std::move(sp)); }

  json::value Release() { return st_.release(); }
  size_t members_read() const { return members_; }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t n, boost::system::error_code&) {
    st_.push_array(n);
    return true;
  }
  bool on_object_begin(boost::system::error_code&) { return true; }
  bool on_object_end(std::size_t n, boost::system::error_code&) {
    members_ += n;
    st_.push_object(n);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, boost::system::error_code&) {
    st_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, boost::system::error_code&) {
    st_.push_string(s);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    st_.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code&) {
    st_.push_key(s);
    return true;
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(int64_t i, json::string_view, boost::system::error_code&) {
    st_.push_int64(i);
    return true;
  }
  bool on_uint64(uint64_t u, json::string_view, boost::system::error_code&) {
    st_.push_uint64(u);
    return true;
  }
  bool on_double(double, json::string_view, boost::system::error_code& ec) {
    ec = json::error::syntax;  // leave it to ParseJson
    return false;
  }
  bool on_bool(bool b, boost::system::error_code&) {
    st_.push_bool(b);
    return true;
  }
  bool on_null(boost::system::error_code&) {
    st_.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  json::value_stack st_;
  size_t members_ = 0;
};

size_t CountMembers(const json::value& v) {
  size_t n = 0;
  if (const json::object* o = v.if_object()) {
    n += o->size();
    for (const auto& kv : *o) n += CountMembers(kv.value());
  } else if (const json::array* a = v.if_array()) {
    for (const json::value& e : *a) n += CountMembers(e);
  }
  return n;
}

// Parses `text` into a value allocated from `sp`. Documents the one-pass
// parser cannot accept with certainty (any error, a duplicate key, a double)
// go through ParseJson, so results and error messages are exactly ParseJson's.
Result<json::value> ParseDocument(std::string_view text, const JsonParseOptions& options,
                                  json::storage_ptr sp) {
  if (text.size() <= options.max_bytes) {
    json::parse_options po;
    po.max_depth = options.max_depth;
    json::basic_parser<FastJsonHandler> parser(po, sp);
    boost::system::error_code ec;
    size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && consumed == text.size() && parser.done()) {
      json::value v = parser.handler().Release();
      if (CountMembers(v) == parser.handler().members_read()) return v;
    }
  }
  return ParseJson(text, options);
}

// Arena for one parsed document: the DOM lives only while it is converted, so
// allocation is a pointer bump and release is free. Small documents (request
// bodies) fit in the inline buffer and allocate nothing.
class DocumentArena {
 public:
  DocumentArena() : mr_(buffer_, sizeof(buffer_)) {}
  DocumentArena(const DocumentArena&) = delete;
  DocumentArena& operator=(const DocumentArena&) = delete;
  json::storage_ptr storage() { return json::storage_ptr(&mr_); }

 private:
  alignas(std::max_align_t) unsigned char buffer_[2048];
  json::monotonic_resource mr_;
};

json::value Extn(std::string_view fn, std::string_view arg) {
  json::object call;
  call["fn"] = fn;
  call["arg"] = arg;
  json::object out;
  out["__extn"] = std::move(call);
  return out;
}

Result<std::vector<Entity>> EntityList(Converter& conv, const json::value& v) {
  if (!v.is_array()) {
    return ErrorAt("entities",
                   "expected an array of entities, got " + std::string(JsonKindName(v)));
  }
  const json::array& arr = v.get_array();
  std::vector<Entity> out;
  out.reserve(arr.size());
  // Tiny documents would spend more on the cache than it saves.
  if (arr.size() >= 8) conv.EnableSharing(arr.size() * 4);
  const Path root = Path::Root("entities");
  for (size_t i = 0; i < arr.size(); ++i) {
    WARDEN_ASSIGN_OR_RETURN(Entity e, conv.EntityFromJson(arr[i], root.Index(i)));
    out.push_back(std::move(e));
  }
  return out;
}

Result<Record> Context(Converter& conv, const json::value& v) {
  if (!v.is_object()) {
    return ErrorAt("context", "expected an object, got " + std::string(JsonKindName(v)));
  }
  return conv.ParseRecordMembers(v.get_object(), Path::Root("context"));
}

}  // namespace

Result<Value> ValueFromJson(const json::value& v, std::string_view path) {
  Converter conv;
  return conv.ParseValue(v, Path::Root(path), 0);
}

Result<EntityUid> EntityUidFromJson(const json::value& v, std::string_view path) {
  Converter conv;
  return conv.UidFromJson(v, Path::Root(path.empty() ? std::string_view("uid") : path));
}

Result<EntityUid> ParseEntityUidJson(std::string_view text, const EntityJsonOptions& options) {
  DocumentArena arena;
  WARDEN_ASSIGN_OR_RETURN(json::value v, ParseDocument(text, options.json, arena.storage()));
  return EntityUidFromJson(v);
}

Result<Entity> EntityFromJson(const json::value& v, std::string_view path) {
  Converter conv;
  return conv.EntityFromJson(v, Path::Root(path.empty() ? std::string_view("entity") : path));
}

Result<std::vector<Entity>> EntityListFromJson(const json::value& v) {
  Converter conv;
  return EntityList(conv, v);
}

Result<Entities> EntitiesFromJson(const json::value& v) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<Entity> list, EntityListFromJson(v));
  return Entities::Create(std::move(list));
}

Result<Entities> ParseEntitiesJson(std::string_view text, const EntityJsonOptions& options) {
  std::vector<Entity> list;
  {
    DocumentArena arena;
    WARDEN_ASSIGN_OR_RETURN(json::value v, ParseDocument(text, options.json, arena.storage()));
    Converter conv;
    WARDEN_ASSIGN_OR_RETURN(list, EntityList(conv, v));
  }
  return Entities::Create(std::move(list));
}

Result<Record> ContextFromJson(const json::value& v) {
  Converter conv;
  return Context(conv, v);
}

Result<Record> ParseContextJson(std::string_view text, const EntityJsonOptions& options) {
  DocumentArena arena;
  WARDEN_ASSIGN_OR_RETURN(json::value v, ParseDocument(text, options.json, arena.storage()));
  return ContextFromJson(v);
}

Result<Request> RequestFromJson(const json::value& v) {
  if (!v.is_object()) return InvalidArgument("request: not an object");
  const json::object& r = v.get_object();
  const json::value* p = r.if_contains("principal");
  const json::value* a = r.if_contains("action");
  const json::value* res = r.if_contains("resource");
  const json::value* ctx = r.if_contains("context");
  if (p == nullptr || a == nullptr || res == nullptr || ctx == nullptr) {
    return InvalidArgument("request: principal, action, resource and context are required");
  }
  Converter conv;
  Request req;
  WARDEN_ASSIGN_OR_RETURN(req.principal, conv.UidFromJson(*p, Path::Root("principal")));
  WARDEN_ASSIGN_OR_RETURN(req.action, conv.UidFromJson(*a, Path::Root("action")));
  WARDEN_ASSIGN_OR_RETURN(req.resource, conv.UidFromJson(*res, Path::Root("resource")));
  WARDEN_ASSIGN_OR_RETURN(req.context, Context(conv, *ctx));
  return req;
}

Result<Request> ParseRequestJson(std::string_view text, const EntityJsonOptions& options) {
  DocumentArena arena;
  WARDEN_ASSIGN_OR_RETURN(json::value v, ParseDocument(text, options.json, arena.storage()));
  return RequestFromJson(v);
}

json::value EntityUidToJson(const EntityUid& uid) {
  json::object o;
  o["type"] = uid.type().name();
  o["id"] = uid.id();
  return o;
}

json::value ValueToJson(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kBool:
      return v.AsBool();
    case ValueKind::kLong:
      return v.AsLong();
    case ValueKind::kString:
      return json::string(v.AsString());
    case ValueKind::kEntity: {
      json::object o;
      o["__entity"] = EntityUidToJson(v.AsEntity());
      return o;
    }
    case ValueKind::kSet: {
      json::array a;
      for (const Value& e : v.AsSet()) a.push_back(ValueToJson(e));
      return a;
    }
    case ValueKind::kRecord: {
      json::object o;
      for (const auto& [k, e] : v.AsRecord()) o[k] = ValueToJson(e);
      return o;
    }
    case ValueKind::kIpAddr:
      return Extn("ip", FormatIp(v.AsIp()));
    case ValueKind::kDecimal:
      return Extn("decimal", FormatDecimal(v.AsDecimal()));
    case ValueKind::kDatetime: {
      if (auto text = FormatDatetime(v.AsDatetime())) return Extn("datetime", *text);
      json::array args;
      args.push_back(Extn("datetime", "1970-01-01"));
      args.push_back(Extn("duration", FormatDuration(Duration{v.AsDatetime().ms})));
      json::object call;
      call["fn"] = "offset";
      call["args"] = std::move(args);
      json::object out;
      out["__extn"] = std::move(call);
      return out;
    }
    case ValueKind::kDuration:
      return Extn("duration", FormatDuration(v.AsDuration()));
  }
  return nullptr;
}

json::value EntityToJson(const Entity& e) {
  json::object o;
  o["uid"] = EntityUidToJson(e.uid);
  json::object attrs;
  for (const auto& [k, v] : e.attrs) attrs[k] = ValueToJson(v);
  o["attrs"] = std::move(attrs);
  json::array parents;
  for (const EntityUid& p : e.parents) parents.push_back(EntityUidToJson(p));
  o["parents"] = std::move(parents);
  if (!e.tags.empty()) {
    json::object tags;
    for (const auto& [k, v] : e.tags) tags[k] = ValueToJson(v);
    o["tags"] = std::move(tags);
  }
  return o;
}

json::value EntitiesToJson(const Entities& entities) {
  json::array a;
  for (const Entity& e : entities.entities()) a.push_back(EntityToJson(e));
  return a;
}

}  // namespace warden::cedar
