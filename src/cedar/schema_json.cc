// Schema-guided rewriting of entity and context JSON into the explicit forms.
#include "warden/cedar/schema_json.h"

#include <limits>
#include <set>

#include "warden/cedar/entity_json.h"
#include "warden/core/json.h"

namespace warden::cedar {

namespace {

namespace bj = boost::json;

std::string_view KindName(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null:
      return "null";
    case bj::kind::bool_:
      return "a boolean";
    case bj::kind::int64:
    case bj::kind::uint64:
      return "an integer";
    case bj::kind::double_:
      return "a floating-point number";
    case bj::kind::string:
      return "a string";
    case bj::kind::array:
      return "an array";
    case bj::kind::object:
      return "an object";
  }
  return "?";
}

std::string_view ConstructorFor(std::string_view ext) {
  if (ext == "ipaddr") return "ip";
  return ext;  // decimal, datetime, duration construct themselves
}

Status Mismatch(std::string_view path, const SchemaType& type, const std::string& found) {
  return InvalidArgument(std::string(path) + ": expected " + type.ToString() + ", found " + found);
}

// Reads {"type": T, "id": I} or {"__entity": {...}}; nullopt when `v` has neither shape.
std::optional<SchemaUid> ReadUid(const bj::value& v) {
  const bj::object* obj = v.if_object();
  if (!obj) return std::nullopt;
  if (obj->size() == 1 && obj->contains("__entity")) return ReadUid(obj->at("__entity"));
  if (obj->size() != 2) return std::nullopt;
  const bj::value* t = obj->if_contains("type");
  const bj::value* i = obj->if_contains("id");
  if (!t || !i || !t->is_string() || !i->is_string()) return std::nullopt;
  return SchemaUid{std::string(t->as_string()), std::string(i->as_string())};
}

bj::value UidJson(const SchemaUid& uid) { return bj::object{{"type", uid.type}, {"id", uid.id}}; }

Status CheckEnumId(const Schema& schema, const SchemaUid& uid, std::string_view path) {
  const EntityTypeDef* def = schema.FindEntityType(uid.type);
  if (!def || !def->enum_ids) return OkStatus();
  for (const auto& id : *def->enum_ids) {
    if (id == uid.id) return OkStatus();
  }
  std::string allowed;
  for (const auto& id : *def->enum_ids)
    allowed += (allowed.empty() ? "" : ", ") + SchemaUid{"", id}.ToString().substr(2);
  return InvalidArgument(std::string(path) + ": entity " + uid.ToString() +
                         " is of an enumerated entity type, but \"" + uid.id +
                         "\" is not one of its ids [" + allowed + "]");
}

Result<bj::value> Rewrite(const bj::value& v, const SchemaType& type, const Schema& schema,
                          const std::string& path, int depth) {
  if (depth > 128) return InvalidArgument(path + ": value nested too deeply");
  switch (type.kind) {
    case SchemaTypeKind::kBool:
      if (!v.is_bool()) return Mismatch(path, type, std::string(KindName(v)));
      return v;
    case SchemaTypeKind::kLong:
      if (v.is_int64()) return v;
      if (v.is_uint64()) {
        if (v.as_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return InvalidArgument(path + ": integer out of range for Long");
        }
        return bj::value(static_cast<int64_t>(v.as_uint64()));
      }
      return Mismatch(path, type, std::string(KindName(v)));
    case SchemaTypeKind::kString:
      if (!v.is_string()) return Mismatch(path, type, std::string(KindName(v)));
      return v;
    case SchemaTypeKind::kEntity: {
      auto uid = ReadUid(v);
      if (!uid) {
        return Mismatch(
            path, type,
            std::string(KindName(v)) + " (an entity reference is {\"type\": .., \"id\": ..})");
      }
      if (uid->type != type.name) {
        return Mismatch(path, type, "an entity of type " + uid->type);
      }
      WARDEN_RETURN_IF_ERROR(CheckEnumId(schema, *uid, path));
      return bj::value(bj::object{{"__entity", UidJson(*uid)}});
    }
    case SchemaTypeKind::kExtension: {
      if (v.is_string()) {
        return bj::value(bj::object{
            {"__extn", bj::object{{"fn", ConstructorFor(type.name)}, {"arg", v.as_string()}}}});
      }
      if (const bj::object* obj = v.if_object()) {
        if (obj->size() == 1 && obj->contains("__extn")) return v;
        if (obj->contains("fn") && (obj->contains("arg") || obj->contains("args"))) {
          return bj::value(bj::object{{"__extn", v}});
        }
      }
      return Mismatch(path, type, std::string(KindName(v)));
    }
    case SchemaTypeKind::kSet: {
      if (!v.is_array()) return Mismatch(path, type, std::string(KindName(v)));
      bj::array out;
      size_t i = 0;
      for (const auto& el : v.as_array()) {
        WARDEN_ASSIGN_OR_RETURN(
            bj::value r,
            Rewrite(el, *type.element, schema, path + "[" + std::to_string(i++) + "]", depth + 1));
        out.push_back(std::move(r));
      }
      return bj::value(std::move(out));
    }
    case SchemaTypeKind::kRecord: {
      if (!v.is_object()) return Mismatch(path, type, std::string(KindName(v)));
      const bj::object& obj = v.as_object();
      bj::object out;
      for (const auto& [k, val] : obj) {
        const SchemaAttribute* attr = type.FindAttribute(std::string_view(k));
        std::string sub = path + "." + std::string(k);
        if (!attr) {
          return InvalidArgument(sub + ": attribute `" + std::string(k) +
                                 "` is not declared in the schema (expected one of " +
                                 type.ToString() + ")");
        }
        WARDEN_ASSIGN_OR_RETURN(bj::value r, Rewrite(val, attr->type, schema, sub, depth + 1));
        out[k] = std::move(r);
      }
      for (const auto& attr : type.attributes) {
        if (attr.required && !obj.contains(attr.name)) {
          return InvalidArgument(path + ": required attribute `" + attr.name + "` (" +
                                 attr.type.ToString() + ") is missing");
        }
      }
      return bj::value(std::move(out));
    }
  }
  return InvalidArgument(path + ": unsupported schema type");
}

Status CheckKeys(const bj::object& obj, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : obj) {
    bool ok = false;
    for (auto a : allowed) ok = ok || a == k;
    if (!ok) return InvalidArgument(path + ": unknown member `" + std::string(k) + "`");
  }
  return OkStatus();
}

Result<std::set<SchemaUid>> ReadParents(const bj::object& obj, const std::string& path) {
  std::set<SchemaUid> out;
  const bj::value* ps = obj.if_contains("parents");
  if (!ps) return out;
  if (!ps->is_array())
    return InvalidArgument(path + ".parents: expected an array of entity references");
  size_t i = 0;
  for (const auto& p : ps->as_array()) {
    auto uid = ReadUid(p);
    if (!uid) {
      return InvalidArgument(path + ".parents[" + std::to_string(i) +
                             "]: expected an entity reference {\"type\": .., \"id\": ..}");
    }
    out.insert(*uid);
    ++i;
  }
  return out;
}

Result<bj::value> RewriteEntity(const bj::value& item, size_t index, const Schema& schema,
                                bool* is_action) {
  std::string at = "entities[" + std::to_string(index) + "]";
  const bj::object* obj = item.if_object();
  if (!obj)
    return InvalidArgument(at + ": expected an entity object, found " +
                           std::string(KindName(item)));
  WARDEN_RETURN_IF_ERROR(CheckKeys(*obj, at, {"uid", "attrs", "parents", "tags"}));
  const bj::value* uidv = obj->if_contains("uid");
  if (!uidv) return InvalidArgument(at + ": missing required member `uid`");
  auto uid = ReadUid(*uidv);
  if (!uid) return InvalidArgument(at + ".uid: expected {\"type\": .., \"id\": ..}");
  std::string path = uid->ToString();
  WARDEN_ASSIGN_OR_RETURN(std::set<SchemaUid> parents, ReadParents(*obj, path));
  const bj::value* attrs = obj->if_contains("attrs");
  const bj::value* tags = obj->if_contains("tags");

  if (schema.IsActionType(uid->type)) {
    const ActionDef* def = schema.FindAction(*uid);
    if (!def) return InvalidArgument(path + ": action is not declared in the schema");
    bool empty_attrs = !attrs || (attrs->is_object() && attrs->as_object().empty());
    bool empty_tags = !tags || (tags->is_object() && tags->as_object().empty());
    if (parents != def->member_of || !empty_attrs || !empty_tags) {
      return InvalidArgument(path +
                             ": action entity does not match its schema declaration "
                             "(parents must be exactly its action groups; no attributes or tags)");
    }
    *is_action = true;
    return bj::value();
  }
  const EntityTypeDef* def = schema.FindEntityType(uid->type);
  if (!def)
    return InvalidArgument(path + ": entity type `" + uid->type +
                           "` is not declared in the schema");
  WARDEN_RETURN_IF_ERROR(CheckEnumId(schema, *uid, path));
  bj::array out_parents;
  for (const auto& p : parents) {
    if (!def->member_of.count(p.type)) {
      std::string allowed;
      for (const auto& m : def->member_of) {
        if (!allowed.empty()) allowed += ", ";
        allowed += m;
      }
      std::string msg = path;
      msg += ".parents: ";
      msg += p.ToString();
      msg += " is not allowed as a parent: entity type `";
      msg += uid->type;
      msg += "` may only be a member of [";
      msg += allowed;
      msg += "]";
      return InvalidArgument(std::move(msg));
    }
    WARDEN_RETURN_IF_ERROR(CheckEnumId(schema, p, path + ".parents"));
    out_parents.push_back(UidJson(p));
  }
  bj::value empty_obj = bj::object{};
  WARDEN_ASSIGN_OR_RETURN(bj::value out_attrs, Rewrite(attrs ? *attrs : empty_obj, def->shape,
                                                       schema, path + ".attrs", 0));
  bj::object out_tags;
  if (tags) {
    if (!tags->is_object()) return InvalidArgument(path + ".tags: expected an object");
    if (!def->tags && !tags->as_object().empty()) {
      return InvalidArgument(path + ".tags: entity type `" + uid->type + "` declares no tags");
    }
    for (const auto& [k, val] : tags->as_object()) {
      WARDEN_ASSIGN_OR_RETURN(
          bj::value r, Rewrite(val, *def->tags, schema, path + ".tags." + std::string(k), 0));
      out_tags[k] = std::move(r);
    }
  }
  return bj::value(bj::object{{"uid", UidJson(*uid)},
                              {"attrs", std::move(out_attrs)},
                              {"parents", std::move(out_parents)},
                              {"tags", std::move(out_tags)}});
}

}  // namespace

Result<bj::value> ExplicitValueJson(const bj::value& v, const SchemaType& type,
                                    const Schema& schema, std::string_view path) {
  return Rewrite(v, type, schema, std::string(path), 0);
}

Result<bj::value> ExplicitEntitiesJson(const bj::value& entities, const Schema& schema) {
  const bj::array* arr = entities.if_array();
  if (!arr)
    return InvalidArgument("entities: expected a JSON array, found " +
                           std::string(KindName(entities)));
  bj::array out;
  std::set<SchemaUid> seen;
  for (size_t i = 0; i < arr->size(); ++i) {
    bool is_action = false;
    WARDEN_ASSIGN_OR_RETURN(bj::value e, RewriteEntity((*arr)[i], i, schema, &is_action));
    if (is_action) continue;
    out.push_back(std::move(e));
  }
  for (auto& a : ActionEntitiesJson(schema)) out.push_back(std::move(a));
  return bj::value(std::move(out));
}

Result<bj::value> ExplicitContextJson(const bj::value& context, const Schema& schema,
                                      const SchemaUid& action) {
  const ActionDef* def = schema.FindAction(action);
  if (!def)
    return InvalidArgument("context: action " + action.ToString() +
                           " is not declared in the schema");
  return Rewrite(context, def->context, schema, "context", 0);
}

bj::array ActionEntitiesJson(const Schema& schema) {
  bj::array out;
  for (const auto& [uid, def] : schema.actions()) {
    bj::array parents;
    for (const auto& p : def.member_of) parents.push_back(UidJson(p));
    out.push_back(bj::object{{"uid", UidJson(uid)},
                             {"attrs", bj::object{}},
                             {"parents", std::move(parents)},
                             {"tags", bj::object{}}});
  }
  return out;
}

std::vector<Entity> ActionEntities(const Schema& schema) {
  std::vector<Entity> out;
  for (const auto& [uid, def] : schema.actions()) {
    Entity e;
    e.uid = EntityUid(EntityType(uid.type), uid.id);
    for (const auto& p : def.member_of) e.parents.emplace_back(EntityType(p.type), p.id);
    out.push_back(std::move(e));
  }
  return out;
}

namespace {

Result<bj::value> ParseDocument(std::string_view text, std::string_view what) {
  JsonParseOptions opts;
  opts.max_bytes = 64u << 20;
  opts.max_depth = 128;
  auto doc = ParseJson(text, opts);
  if (!doc.ok()) return InvalidArgument(std::string(what) + ": " + doc.status().message());
  return std::move(doc).value();
}

}  // namespace

Result<Entities> ParseEntitiesWithSchema(std::string_view json_text, const Schema& schema) {
  WARDEN_ASSIGN_OR_RETURN(bj::value doc, ParseDocument(json_text, "entities"));
  WARDEN_ASSIGN_OR_RETURN(bj::value explicit_doc, ExplicitEntitiesJson(doc, schema));
  return EntitiesFromJson(explicit_doc);
}

Result<Record> ParseContextWithSchema(std::string_view json_text, const Schema& schema,
                                      const SchemaUid& action) {
  WARDEN_ASSIGN_OR_RETURN(bj::value doc, ParseDocument(json_text, "context"));
  WARDEN_ASSIGN_OR_RETURN(bj::value explicit_doc, ExplicitContextJson(doc, schema, action));
  return ContextFromJson(explicit_doc);
}

}  // namespace warden::cedar
