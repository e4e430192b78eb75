#include "warden/cedar/entity_json.h"

#include <charconv>
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

Status ErrorAt(std::string_view path, const std::string& message) {
  std::string p = path.empty() ? std::string("value") : std::string(path);
  return InvalidArgument(p + ": " + message, p);
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

Result<EntityUid> MakeUid(std::string_view type, std::string_view id, std::string_view path) {
  if (!IsValidEntityTypeName(type)) {
    return ErrorAt(path, "invalid entity type name \"" + EscapeCedarString(type) +
                             "\" (expected identifiers separated by `::`, no whitespace, "
                             "no reserved words)");
  }
  return EntityUid(EntityType(type), id);
}

Result<Value> ParseValue(const json::value& v, std::string_view path, size_t depth);

// A number as a reader would write it (Boost prints doubles as "1.5E0").
std::string NumberText(const json::value& v) {
  if (!v.is_double()) return json::serialize(v);
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v.get_double());
  return res.ec == std::errc() ? std::string(buf, res.ptr) : json::serialize(v);
}

Result<Value> ParseExtn(const json::object& call, std::string_view fn, std::string_view path,
                        size_t depth) {
  std::vector<Value> args;
  std::string call_path = JoinKey(JoinKey(path, "__extn"), "arg");
  if (auto it = call.find("arg"); it != call.end()) {
    WARDEN_ASSIGN_OR_RETURN(Value a, ParseValue(it->value(), call_path, depth + 1));
    args.push_back(std::move(a));
  } else {
    const json::array& arr = call.at("args").get_array();
    std::string args_path = JoinKey(JoinKey(path, "__extn"), "args");
    for (size_t i = 0; i < arr.size(); ++i) {
      WARDEN_ASSIGN_OR_RETURN(Value a, ParseValue(arr[i], JoinIndex(args_path, i), depth + 1));
      args.push_back(std::move(a));
    }
  }
  auto result = CallExtensionFunction(fn, args);
  if (!result.ok()) return ErrorAt(path, result.status().message());
  return result;
}

// Cedar reads an object as an escape only when the escape is its sole member
// and is well formed; otherwise the object is an ordinary record.
Result<Value> ParseObject(const json::object& o, std::string_view path, size_t depth) {
  if (o.size() == 1) {
    const auto& [key, inner] = *o.begin();
    if (key == "__expr" && inner.is_string()) {
      return ErrorAt(path, "the `__expr` escape is no longer supported");
    }
    std::string_view type, id;
    if (key == "__entity" && TypeAndId(inner, &type, &id)) {
      WARDEN_ASSIGN_OR_RETURN(EntityUid uid, MakeUid(type, id, JoinKey(path, "__entity")));
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
    WARDEN_ASSIGN_OR_RETURN(Value member, ParseValue(kv.value(), JoinKey(path, key), depth + 1));
    entries.emplace_back(std::string(key), std::move(member));
  }
  auto record = Record::FromEntries(std::move(entries));
  if (!record.ok()) return ErrorAt(path, record.status().message());
  return Value::FromRecord(std::move(record).value());
}

Result<Value> ParseValue(const json::value& v, std::string_view path, size_t depth) {
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
    case json::kind::string:
      return Value::String(std::string(v.get_string()));
    case json::kind::array: {
      const json::array& arr = v.get_array();
      std::vector<Value> elems;
      elems.reserve(arr.size());
      for (size_t i = 0; i < arr.size(); ++i) {
        WARDEN_ASSIGN_OR_RETURN(Value e, ParseValue(arr[i], JoinIndex(path, i), depth + 1));
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

Result<Record> ParseRecordMembers(const json::object& o, std::string_view path) {
  std::vector<Record::Entry> entries;
  entries.reserve(o.size());
  for (const auto& kv : o) {
    std::string_view key(kv.key().data(), kv.key().size());
    WARDEN_ASSIGN_OR_RETURN(Value member, ParseValue(kv.value(), JoinKey(path, key), 1));
    entries.emplace_back(std::string(key), std::move(member));
  }
  return Record::FromEntries(std::move(entries));
}

std::string Describe(const json::value& v) {
  std::string text = json::serialize(v);
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return text;
}

json::value Extn(std::string_view fn, std::string_view arg) {
  json::object call;
  call["fn"] = fn;
  call["arg"] = arg;
  json::object out;
  out["__extn"] = std::move(call);
  return out;
}

}  // namespace

Result<Value> ValueFromJson(const json::value& v, std::string_view path) {
  return ParseValue(v, path, 0);
}

Result<EntityUid> EntityUidFromJson(const json::value& v, std::string_view path) {
  std::string p = path.empty() ? std::string("uid") : std::string(path);
  std::string_view type, id;
  if (v.is_object()) {
    const json::object& o = v.get_object();
    if (auto it = o.find("__entity"); it != o.end() && TypeAndId(it->value(), &type, &id)) {
      return MakeUid(type, id, p);
    }
    if (TypeAndId(v, &type, &id)) return MakeUid(type, id, p);
  }
  return ErrorAt(p,
                 "expected an entity reference {\"type\": string, \"id\": string} or "
                 "{\"__entity\": {...}}, got " +
                     Describe(v));
}

Result<EntityUid> ParseEntityUidJson(std::string_view text, const EntityJsonOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(json::value v, ParseJson(text, options.json));
  return EntityUidFromJson(v);
}

Result<Entity> EntityFromJson(const json::value& v, std::string_view path) {
  std::string p = path.empty() ? std::string("entity") : std::string(path);
  if (!v.is_object())
    return ErrorAt(p, "expected an entity object, got " + std::string(JsonKindName(v)));
  const json::object& o = v.get_object();
  auto uid_it = o.find("uid");
  if (uid_it == o.end()) return ErrorAt(p, "missing field `uid`");
  Entity e;
  WARDEN_ASSIGN_OR_RETURN(e.uid, EntityUidFromJson(uid_it->value(), JoinKey(p, "uid")));
  // From here on errors name the entity itself ("entity User::\"a\": attrs.x:
  // ..."), which is what a reader of a large entity file needs.
  const std::string who = "entity " + e.uid.ToString();
  auto in_entity = [&who](const Status& s) { return s.WithContext(who); };
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
  auto attrs = ParseRecordMembers(attrs_it->value().get_object(), "attrs");
  if (!attrs.ok()) return in_entity(attrs.status());
  e.attrs = std::move(attrs).value();
  const json::array& parents = parents_it->value().get_array();
  e.parents.reserve(parents.size());
  for (size_t i = 0; i < parents.size(); ++i) {
    auto parent = EntityUidFromJson(parents[i], JoinIndex("parents", i));
    if (!parent.ok()) return in_entity(parent.status());
    e.parents.push_back(std::move(parent).value());
  }
  if (auto tags_it = o.find("tags"); tags_it != o.end()) {
    if (!tags_it->value().is_object()) {
      return in_entity(ErrorAt(
          "tags", "expected an object, got " + std::string(JsonKindName(tags_it->value()))));
    }
    auto tags = ParseRecordMembers(tags_it->value().get_object(), "tags");
    if (!tags.ok()) return in_entity(tags.status());
    e.tags = std::move(tags).value();
  }
  return e;
}

Result<std::vector<Entity>> EntityListFromJson(const json::value& v) {
  if (!v.is_array()) {
    return ErrorAt("entities",
                   "expected an array of entities, got " + std::string(JsonKindName(v)));
  }
  const json::array& arr = v.get_array();
  std::vector<Entity> out;
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    WARDEN_ASSIGN_OR_RETURN(Entity e, EntityFromJson(arr[i], JoinIndex("entities", i)));
    out.push_back(std::move(e));
  }
  return out;
}

Result<Entities> EntitiesFromJson(const json::value& v) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<Entity> list, EntityListFromJson(v));
  return Entities::Create(std::move(list));
}

Result<Entities> ParseEntitiesJson(std::string_view text, const EntityJsonOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(json::value v, ParseJson(text, options.json));
  return EntitiesFromJson(v);
}

Result<Record> ContextFromJson(const json::value& v) {
  if (!v.is_object()) {
    return ErrorAt("context", "expected an object, got " + std::string(JsonKindName(v)));
  }
  return ParseRecordMembers(v.get_object(), "context");
}

Result<Record> ParseContextJson(std::string_view text, const EntityJsonOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(json::value v, ParseJson(text, options.json));
  return ContextFromJson(v);
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
