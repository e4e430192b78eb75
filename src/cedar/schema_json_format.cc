// The Cedar JSON schema format: { "<namespace>": { "entityTypes", "actions",
// "commonTypes", "annotations" } }. Unknown members are rejected, as Cedar does.
#include <set>

#include "internal/schema_raw.h"
#include "warden/cedar/schema.h"
#include "warden/core/json.h"

namespace warden::cedar {

namespace {

namespace bj = boost::json;
using internal::RawAction;
using internal::RawActionRef;
using internal::RawAttr;
using internal::RawEntity;
using internal::RawLoc;
using internal::RawName;
using internal::RawNamespace;
using internal::RawType;

class JsonSchemaReader {
 public:
  explicit JsonSchemaReader(const SchemaSource& source) : source_(source) {}

  Result<std::vector<RawNamespace>> Run(const bj::value& doc) {
    const bj::object* root = doc.if_object();
    if (!root) return Err("", "expected a JSON object mapping namespace names to declarations");
    std::vector<RawNamespace> out;
    for (const auto& [key, val] : *root) {
      std::string ns_name(key);
      std::string path = ns_name.empty() ? "\"\"" : ns_name;
      RawNamespace ns;
      ns.name = ns_name;
      ns.loc.field = path;
      const bj::object* obj = val.if_object();
      if (!obj) return Err(path, "expected an object with entityTypes and actions");
      WARDEN_RETURN_IF_ERROR(
          CheckKeys(*obj, path, {"entityTypes", "actions", "commonTypes", "annotations"}));
      const bj::value* ets = obj->if_contains("entityTypes");
      const bj::value* acts = obj->if_contains("actions");
      if (!ets) return Err(path, "missing required member `entityTypes`");
      if (!acts) return Err(path, "missing required member `actions`");
      if (const bj::value* cts = obj->if_contains("commonTypes")) {
        std::string p = path + ".commonTypes";
        if (!cts->is_object()) return Err(p, "expected an object");
        for (const auto& [cname, ctype] : cts->as_object()) {
          internal::RawCommonType c;
          c.name = std::string(cname);
          c.loc.field = p + "." + c.name;
          WARDEN_RETURN_IF_ERROR(CheckIdent(c.name, c.loc.field));
          WARDEN_ASSIGN_OR_RETURN(c.type, ReadType(ctype, c.loc.field, true));
          ns.common_types.push_back(std::move(c));
        }
      }
      {
        std::string p = path + ".entityTypes";
        if (!ets->is_object()) return Err(p, "expected an object");
        for (const auto& [ename, edef] : ets->as_object()) {
          RawEntity e;
          e.name = std::string(ename);
          e.loc.field = p + "." + e.name;
          WARDEN_RETURN_IF_ERROR(CheckIdent(e.name, e.loc.field));
          WARDEN_RETURN_IF_ERROR(ReadEntity(edef, e));
          ns.entities.push_back(std::move(e));
        }
      }
      {
        std::string p = path + ".actions";
        if (!acts->is_object()) return Err(p, "expected an object");
        for (const auto& [aname, adef] : acts->as_object()) {
          RawAction a;
          a.id = std::string(aname);
          a.loc.field = p + "." + a.id;
          WARDEN_RETURN_IF_ERROR(ReadAction(adef, a));
          ns.actions.push_back(std::move(a));
        }
      }
      out.push_back(std::move(ns));
    }
    return out;
  }

 private:
  Status Err(const std::string& field, const std::string& msg) const {
    RawLoc loc;
    loc.field = field;
    return InvalidArgument(loc.Prefix(source_) + msg);
  }
  Status CheckKeys(const bj::object& obj, const std::string& path,
                   std::initializer_list<std::string_view> allowed) const {
    for (const auto& [k, v] : obj) {
      bool ok = false;
      for (auto a : allowed) ok = ok || a == k;
      if (!ok) return Err(path, "unknown member `" + std::string(k) + "`");
    }
    return OkStatus();
  }
  Status CheckIdent(const std::string& s, const std::string& path) const {
    bool ok = !s.empty() && !(s[0] >= '0' && s[0] <= '9');
    for (char c : s) {
      ok = ok &&
           (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
    }
    if (!ok) return Err(path, "`" + s + "` is not a valid identifier");
    return OkStatus();
  }
  Result<std::string> String(const bj::value& v, const std::string& path) const {
    if (!v.is_string())
      return Err(path, std::string("expected a string, found ") + std::string(JsonKindName(v)));
    return std::string(v.as_string());
  }
  Result<std::vector<RawName>> NameList(const bj::value& v, const std::string& path) const {
    if (!v.is_array()) return Err(path, "expected an array of entity type names");
    std::vector<RawName> out;
    size_t i = 0;
    for (const auto& el : v.as_array()) {
      std::string p = path + "[" + std::to_string(i++) + "]";
      WARDEN_ASSIGN_OR_RETURN(std::string s, String(el, p));
      RawName n;
      n.name = s;
      n.loc.field = p;
      out.push_back(std::move(n));
    }
    return out;
  }
  Status ReadEntity(const bj::value& v, RawEntity& e) {
    const std::string& path = e.loc.field;
    if (!v.is_object()) return Err(path, "expected an object");
    const auto& obj = v.as_object();
    WARDEN_RETURN_IF_ERROR(
        CheckKeys(obj, path, {"memberOfTypes", "shape", "tags", "enum", "annotations"}));
    if (const auto* m = obj.if_contains("memberOfTypes")) {
      WARDEN_ASSIGN_OR_RETURN(e.member_of, NameList(*m, path + ".memberOfTypes"));
    }
    if (const auto* s = obj.if_contains("shape")) {
      WARDEN_ASSIGN_OR_RETURN(RawType t, ReadType(*s, path + ".shape", false));
      e.shape = std::move(t);
    }
    if (const auto* t = obj.if_contains("tags")) {
      WARDEN_ASSIGN_OR_RETURN(RawType tt, ReadType(*t, path + ".tags", false));
      e.tags = std::move(tt);
    }
    if (const auto* en = obj.if_contains("enum")) {
      if (obj.contains("memberOfTypes") || obj.contains("shape") || obj.contains("tags")) {
        return Err(path, "an enumerated entity type cannot have memberOfTypes, shape or tags");
      }
      if (!en->is_array()) return Err(path + ".enum", "expected an array of strings");
      std::vector<std::string> ids;
      size_t i = 0;
      for (const auto& el : en->as_array()) {
        WARDEN_ASSIGN_OR_RETURN(std::string s,
                                String(el, path + ".enum[" + std::to_string(i++) + "]"));
        ids.push_back(std::move(s));
      }
      e.enum_ids = std::move(ids);
    }
    return OkStatus();
  }
  Status ReadAction(const bj::value& v, RawAction& a) {
    const std::string& path = a.loc.field;
    if (!v.is_object()) return Err(path, "expected an object");
    const auto& obj = v.as_object();
    WARDEN_RETURN_IF_ERROR(
        CheckKeys(obj, path, {"memberOf", "appliesTo", "annotations", "attributes"}));
    if (obj.contains("attributes"))
      return Err(path + ".attributes", "action attributes are not supported");
    if (const auto* m = obj.if_contains("memberOf")) {
      if (!m->is_array()) return Err(path + ".memberOf", "expected an array");
      size_t i = 0;
      for (const auto& el : m->as_array()) {
        std::string p = path + ".memberOf[" + std::to_string(i++) + "]";
        if (!el.is_object()) return Err(p, "expected an object with `id` (and optional `type`)");
        WARDEN_RETURN_IF_ERROR(CheckKeys(el.as_object(), p, {"id", "type"}));
        RawActionRef ref;
        ref.loc.field = p;
        const auto* id = el.as_object().if_contains("id");
        if (!id) return Err(p, "missing required member `id`");
        WARDEN_ASSIGN_OR_RETURN(ref.id, String(*id, p + ".id"));
        if (const auto* t = el.as_object().if_contains("type")) {
          WARDEN_ASSIGN_OR_RETURN(std::string ts, String(*t, p + ".type"));
          ref.type = ts;
        }
        a.member_of.push_back(std::move(ref));
      }
    }
    if (const auto* ap = obj.if_contains("appliesTo"); ap && !ap->is_null()) {
      std::string p = path + ".appliesTo";
      if (!ap->is_object()) return Err(p, "expected an object");
      WARDEN_RETURN_IF_ERROR(
          CheckKeys(ap->as_object(), p, {"principalTypes", "resourceTypes", "context"}));
      a.has_applies_to = true;
      const auto* pt = ap->as_object().if_contains("principalTypes");
      const auto* rt = ap->as_object().if_contains("resourceTypes");
      if (!pt) return Err(p, "missing required member `principalTypes`");
      if (!rt) return Err(p, "missing required member `resourceTypes`");
      WARDEN_ASSIGN_OR_RETURN(a.principals, NameList(*pt, p + ".principalTypes"));
      WARDEN_ASSIGN_OR_RETURN(a.resources, NameList(*rt, p + ".resourceTypes"));
      if (const auto* c = ap->as_object().if_contains("context")) {
        WARDEN_ASSIGN_OR_RETURN(RawType ct, ReadType(*c, p + ".context", false));
        a.context = std::move(ct);
      }
    }
    return OkStatus();
  }
  Result<RawType> ReadType(const bj::value& v, const std::string& path, bool /*is_common*/) {
    if (++depth_ > 64) return Err(path, "types nested too deeply");
    auto r = ReadTypeInner(v, path);
    --depth_;
    return r;
  }
  Result<RawType> ReadTypeInner(const bj::value& v, const std::string& path) {
    RawType t;
    t.loc.field = path;
    if (!v.is_object()) return Err(path, "expected a type object with a `type` member");
    const auto& obj = v.as_object();
    const auto* ty = obj.if_contains("type");
    if (!ty) return Err(path, "missing required member `type`");
    WARDEN_ASSIGN_OR_RETURN(std::string kind, String(*ty, path + ".type"));
    auto name = [&]() -> Result<std::string> {
      const auto* n = obj.if_contains("name");
      if (!n) return Err(path, "missing required member `name` for type " + kind);
      return String(*n, path + ".name");
    };
    if (kind == "Long" || kind == "String" || kind == "Boolean") {
      WARDEN_RETURN_IF_ERROR(CheckKeys(obj, path, {"type", "required", "annotations"}));
      t.kind = RawType::Kind::kPrimitive;
      t.name = kind == "Boolean" ? "Bool" : kind;
    } else if (kind == "Set") {
      WARDEN_RETURN_IF_ERROR(CheckKeys(obj, path, {"type", "element", "required", "annotations"}));
      const auto* el = obj.if_contains("element");
      if (!el) return Err(path, "missing required member `element` for type Set");
      t.kind = RawType::Kind::kSet;
      WARDEN_ASSIGN_OR_RETURN(RawType e, ReadType(*el, path + ".element", false));
      t.element = std::make_shared<RawType>(std::move(e));
    } else if (kind == "Record") {
      WARDEN_RETURN_IF_ERROR(CheckKeys(
          obj, path, {"type", "attributes", "additionalAttributes", "required", "annotations"}));
      t.kind = RawType::Kind::kRecord;
      if (const auto* add = obj.if_contains("additionalAttributes")) {
        if (!add->is_bool()) return Err(path + ".additionalAttributes", "expected a boolean");
        if (add->as_bool())
          return Err(path + ".additionalAttributes", "open records are not supported");
      }
      if (const auto* attrs = obj.if_contains("attributes")) {
        if (!attrs->is_object()) return Err(path + ".attributes", "expected an object");
        for (const auto& [an, av] : attrs->as_object()) {
          RawAttr a;
          a.name = std::string(an);
          a.loc.field = path + ".attributes." + a.name;
          WARDEN_ASSIGN_OR_RETURN(a.type, ReadType(av, a.loc.field, false));
          if (const auto* req = av.is_object() ? av.as_object().if_contains("required") : nullptr) {
            if (!req->is_bool()) return Err(a.loc.field + ".required", "expected a boolean");
            a.required = req->as_bool();
          }
          t.attributes.push_back(std::move(a));
        }
      }
    } else if (kind == "Entity" || kind == "Extension" || kind == "EntityOrCommon") {
      WARDEN_RETURN_IF_ERROR(CheckKeys(obj, path, {"type", "name", "required", "annotations"}));
      t.kind = kind == "Entity"      ? RawType::Kind::kEntity
               : kind == "Extension" ? RawType::Kind::kExtension
                                     : RawType::Kind::kEntityOrCommon;
      WARDEN_ASSIGN_OR_RETURN(t.name, name());
    } else {
      WARDEN_RETURN_IF_ERROR(CheckKeys(obj, path, {"type", "required", "annotations"}));
      t.kind = RawType::Kind::kCommon;
      t.name = kind;
    }
    return t;
  }

  const SchemaSource& source_;
  int depth_ = 0;
};

}  // namespace

Result<Schema> Schema::FromJson(const boost::json::value& doc, const SchemaSource& source) {
  JsonSchemaReader reader(source);
  WARDEN_ASSIGN_OR_RETURN(std::vector<RawNamespace> nss, reader.Run(doc));
  return SchemaBuilder::Build(nss, source);
}

Result<Schema> Schema::ParseJsonText(std::string_view text, const SchemaSource& source) {
  JsonParseOptions opts;
  opts.max_bytes = 16u << 20;
  opts.max_depth = 256;
  auto doc = ParseJson(text, opts);
  if (!doc.ok()) return InvalidArgument(source.name + ": " + doc.status().message());
  return FromJson(*doc, source);
}

}  // namespace warden::cedar
