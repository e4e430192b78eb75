// Schema model methods and name resolution shared by both schema formats.
#include "warden/cedar/schema.h"

#include <algorithm>
#include <functional>

#include "internal/schema_raw.h"

namespace warden::cedar {

namespace {

using internal::RawLoc;
using internal::RawNamespace;
using internal::RawType;

const std::set<std::string>& EmptyTypeSet() {
  static const std::set<std::string> kEmpty;
  return kEmpty;
}

bool IsExtensionName(std::string_view n) {
  return n == "ipaddr" || n == "decimal" || n == "datetime" || n == "duration";
}

std::string Qualify(const std::string& ns, std::string_view id) {
  return ns.empty() ? std::string(id) : ns + "::" + std::string(id);
}

// The builtin type named by `id` (a primitive or extension), if any.
std::optional<SchemaType> Builtin(std::string_view id) {
  if (id == "Long") return SchemaType::Long();
  if (id == "String") return SchemaType::String();
  if (id == "Bool" || id == "Boolean") return SchemaType::Bool();
  if (IsExtensionName(id)) return SchemaType::Extension(std::string(id));
  return std::nullopt;
}

struct Parts {
  std::map<std::string, EntityTypeDef> entity_types_;
  std::map<SchemaUid, ActionDef> actions_;
  std::set<std::string> action_types_;
  std::map<std::string, std::set<std::string>, std::less<>> ancestor_types_;
  std::map<SchemaUid, std::set<SchemaUid>> action_ancestors_;
};

class Resolver {
 public:
  Resolver(const std::vector<RawNamespace>& nss, const SchemaSource& source)
      : nss_(nss), source_(source) {}

  Result<Parts> Run(Parts parts);

 private:
  Status Error(const RawLoc& loc, const std::string& msg) const {
    return InvalidArgument(loc.Prefix(source_) + msg);
  }
  Result<SchemaType> ResolveType(const RawType& t, const std::string& ns);
  Result<SchemaType> ResolveCommon(const std::string& fq, const RawLoc& use);
  Result<SchemaType> ResolveName(const RawType& t, const std::string& ns, bool allow_entity,
                                 bool allow_common);
  Result<std::string> ResolveEntityName(const std::string& name, const std::string& ns,
                                        const RawLoc& loc) const;

  struct Common {
    const RawType* raw;
    std::string ns;
    std::optional<SchemaType> resolved;
    bool in_progress = false;
  };
  const std::vector<RawNamespace>& nss_;
  const SchemaSource& source_;
  std::map<std::string, Common> commons_;
  std::set<std::string> entity_names_;
  int common_depth_ = 0;
};

Result<std::string> Resolver::ResolveEntityName(const std::string& name, const std::string& ns,
                                                const RawLoc& loc) const {
  if (name.find("::") == std::string::npos) {
    std::string local = Qualify(ns, name);
    if (entity_names_.count(local)) return local;
    if (entity_names_.count(name)) return name;
  } else if (entity_names_.count(name)) {
    return name;
  }
  return Error(loc, "undeclared entity type `" + name + "`");
}

Result<SchemaType> Resolver::ResolveCommon(const std::string& fq, const RawLoc& use) {
  Common& c = commons_.at(fq);
  if (c.resolved) return *c.resolved;
  if (c.in_progress) return Error(use, "common type `" + fq + "` is defined in terms of itself");
  // Chains of common types recurse; bound the depth so hostile input cannot
  // exhaust the stack.
  if (++common_depth_ > 128) {
    --common_depth_;
    return Error(use, "common type `" + fq + "` is nested more than 128 definitions deep");
  }
  c.in_progress = true;
  auto r = ResolveType(*c.raw, c.ns);
  c.in_progress = false;
  --common_depth_;
  if (!r.ok()) return r.status();
  c.resolved = *r;
  return *r;
}

Result<SchemaType> Resolver::ResolveName(const RawType& t, const std::string& ns, bool allow_entity,
                                         bool allow_common) {
  const std::string& name = t.name;
  if (name.rfind("__cedar::", 0) == 0) {
    std::string id = name.substr(9);
    if (auto b = Builtin(id); b && id != "Boolean") return *b;
    return Error(t.loc, "unknown builtin type `" + name + "`");
  }
  std::vector<std::string> candidates;
  if (name.find("::") == std::string::npos) {
    if (!ns.empty()) candidates.push_back(Qualify(ns, name));
    candidates.push_back(name);
  } else {
    candidates.push_back(name);
  }
  // Cedar's order: in each candidate namespace a common type wins over an entity
  // type; the current namespace wins over the empty one; builtins come last.
  for (const auto& fq : candidates) {
    if (allow_common && commons_.count(fq)) return ResolveCommon(fq, t.loc);
    if (allow_entity && entity_names_.count(fq)) return SchemaType::Entity(fq);
  }
  if (name.find("::") == std::string::npos) {
    if (auto b = Builtin(name); b && name != "Boolean") return *b;
  }
  const char* what = allow_entity && allow_common ? "type"
                     : allow_entity               ? "entity type"
                                                  : "common type";
  return Error(t.loc, std::string("undeclared ") + what + " `" + name + "`");
}

Result<SchemaType> Resolver::ResolveType(const RawType& t, const std::string& ns) {
  switch (t.kind) {
    case RawType::Kind::kPrimitive: {
      auto b = Builtin(t.name);
      if (!b) return Error(t.loc, "unknown primitive type `" + t.name + "`");
      return *b;
    }
    case RawType::Kind::kExtension:
      if (!IsExtensionName(t.name)) {
        return Error(t.loc, "unknown extension type `" + t.name +
                                "` (expected ipaddr, decimal, datetime or duration)");
      }
      return SchemaType::Extension(t.name);
    case RawType::Kind::kEntity: {
      WARDEN_ASSIGN_OR_RETURN(std::string fq, ResolveEntityName(t.name, ns, t.loc));
      return SchemaType::Entity(fq);
    }
    case RawType::Kind::kCommon:
      return ResolveName(t, ns, /*allow_entity=*/false, /*allow_common=*/true);
    case RawType::Kind::kEntityOrCommon:
      return ResolveName(t, ns, true, true);
    case RawType::Kind::kSet: {
      if (!t.element) return Error(t.loc, "set type without an element type");
      WARDEN_ASSIGN_OR_RETURN(SchemaType e, ResolveType(*t.element, ns));
      return SchemaType::Set(std::move(e));
    }
    case RawType::Kind::kRecord: {
      SchemaType rec = SchemaType::EmptyRecord();
      std::set<std::string> seen;
      for (const auto& a : t.attributes) {
        if (!seen.insert(a.name).second) {
          return Error(a.loc, "duplicate attribute `" + a.name + "`");
        }
        WARDEN_ASSIGN_OR_RETURN(SchemaType at, ResolveType(a.type, ns));
        rec.attributes.push_back({a.name, std::move(at), a.required});
      }
      std::sort(rec.attributes.begin(), rec.attributes.end(),
                [](const SchemaAttribute& x, const SchemaAttribute& y) { return x.name < y.name; });
      return rec;
    }
  }
  return Error(t.loc, "unsupported type");
}

Result<Parts> Resolver::Run(Parts parts) {
  std::set<std::string> ns_names;
  for (const auto& ns : nss_) {
    if (!ns.name.empty() && !ns_names.insert(ns.name).second) {
      return Error(ns.loc, "namespace `" + ns.name + "` is declared more than once");
    }
    if (ns.name == "__cedar" || ns.name.rfind("__cedar::", 0) == 0) {
      return Error(ns.loc, "the `__cedar` namespace is reserved");
    }
    for (const auto& e : ns.entities) {
      std::string fq = Qualify(ns.name, e.name);
      if (!entity_names_.insert(fq).second) {
        return Error(e.loc, "entity type `" + fq + "` is declared more than once");
      }
    }
    for (const auto& c : ns.common_types) {
      std::string fq = Qualify(ns.name, c.name);
      if (Builtin(c.name) &&
          (c.name == "Bool" || c.name == "Long" || c.name == "String" || c.name == "Boolean")) {
        return Error(c.loc, "common type name `" + c.name + "` is reserved");
      }
      if (commons_.count(fq)) {
        return Error(c.loc, "common type `" + fq + "` is declared more than once");
      }
      commons_.emplace(fq, Common{&c.type, ns.name, std::nullopt, false});
    }
  }
  for (const auto& [fq, c] : commons_) {
    if (entity_names_.count(fq)) {
      return Error(c.raw->loc, "`" + fq + "` is declared as both a common type and an entity type");
    }
  }
  for (const auto& ns : nss_) {
    for (const auto& c : ns.common_types) {
      WARDEN_RETURN_IF_ERROR(ResolveCommon(Qualify(ns.name, c.name), c.loc).status());
    }
    for (const auto& e : ns.entities) {
      EntityTypeDef def;
      def.name = Qualify(ns.name, e.name);
      for (const auto& p : e.member_of) {
        WARDEN_ASSIGN_OR_RETURN(std::string fq, ResolveEntityName(p.name, ns.name, p.loc));
        def.member_of.insert(fq);
      }
      if (e.shape) {
        WARDEN_ASSIGN_OR_RETURN(def.shape, ResolveType(*e.shape, ns.name));
        if (def.shape.kind != SchemaTypeKind::kRecord) {
          return Error(e.shape->loc, "the shape of entity type `" + def.name +
                                         "` must be a record type, found " + def.shape.ToString());
        }
      }
      if (e.tags) {
        WARDEN_ASSIGN_OR_RETURN(SchemaType tags, ResolveType(*e.tags, ns.name));
        def.tags = std::move(tags);
      }
      if (e.enum_ids) {
        if (e.enum_ids->empty())
          return Error(e.loc, "an enumerated entity type needs at least one id");
        // Cedar accepts repeated ids; they mean the same entity.
        def.enum_ids = *e.enum_ids;
      }
      parts.entity_types_.emplace(def.name, std::move(def));
    }
  }
  // Actions: first all uids (parents may be declared later or in other namespaces).
  for (const auto& ns : nss_) {
    for (const auto& a : ns.actions) {
      SchemaUid uid{Qualify(ns.name, "Action"), a.id};
      if (parts.actions_.count(uid)) {
        return Error(a.loc, "action " + uid.ToString() + " is declared more than once");
      }
      ActionDef def;
      def.uid = uid;
      parts.actions_.emplace(uid, std::move(def));
      parts.action_types_.insert(uid.type);
    }
  }
  for (const auto& t : parts.action_types_) {
    if (entity_names_.count(t)) {
      return InvalidArgument(source_.name + ": `" + t +
                             "` is declared as an entity type but names actions");
    }
  }
  for (const auto& ns : nss_) {
    for (const auto& a : ns.actions) {
      ActionDef& def = parts.actions_.at(SchemaUid{Qualify(ns.name, "Action"), a.id});
      for (const auto& ref : a.member_of) {
        SchemaUid parent;
        parent.id = ref.id;
        if (!ref.type) {
          parent.type = Qualify(ns.name, "Action");
        } else if (ref.type->find("::") == std::string::npos) {
          // `Action::"x"` inside a namespace means this namespace's actions when
          // they exist, else the empty namespace's.
          std::string local = Qualify(ns.name, *ref.type);
          parent.type = parts.actions_.count(SchemaUid{local, ref.id}) ? local : *ref.type;
        } else {
          parent.type = *ref.type;
        }
        if (!parts.actions_.count(parent)) {
          return Error(ref.loc, "undeclared action group " + parent.ToString());
        }
        def.member_of.insert(parent);
      }
      for (const auto& p : a.principals) {
        WARDEN_ASSIGN_OR_RETURN(std::string fq, ResolveEntityName(p.name, ns.name, p.loc));
        def.principal_types.insert(fq);
      }
      for (const auto& r : a.resources) {
        WARDEN_ASSIGN_OR_RETURN(std::string fq, ResolveEntityName(r.name, ns.name, r.loc));
        def.resource_types.insert(fq);
      }
      if (a.context) {
        WARDEN_ASSIGN_OR_RETURN(def.context, ResolveType(*a.context, ns.name));
        if (def.context.kind != SchemaTypeKind::kRecord) {
          return Error(a.context->loc, "the context of action " + def.uid.ToString() +
                                           " must be a record type, found " +
                                           def.context.ToString());
        }
      }
    }
  }
  // Transitive closures; a cycle in the action hierarchy is an error.
  for (const auto& [name, def] : parts.entity_types_) {
    std::set<std::string> seen{name};
    std::vector<std::string> todo{name};
    while (!todo.empty()) {
      std::string cur = todo.back();
      todo.pop_back();
      auto it = parts.entity_types_.find(cur);
      if (it == parts.entity_types_.end()) continue;
      for (const auto& p : it->second.member_of) {
        if (seen.insert(p).second) todo.push_back(p);
      }
    }
    parts.ancestor_types_[name] = std::move(seen);
  }
  for (const auto& [uid, def] : parts.actions_) {
    std::set<SchemaUid> seen;
    std::vector<SchemaUid> todo(def.member_of.begin(), def.member_of.end());
    for (const auto& p : todo) seen.insert(p);
    while (!todo.empty()) {
      SchemaUid cur = todo.back();
      todo.pop_back();
      if (cur == uid) {
        return InvalidArgument(source_.name + ": action " + uid.ToString() +
                               " is (transitively) a member of itself");
      }
      for (const auto& p : parts.actions_.at(cur).member_of) {
        if (seen.insert(p).second) todo.push_back(p);
      }
    }
    parts.action_ancestors_[uid] = std::move(seen);
  }
  return parts;
}

std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

bool IsPlainIdent(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

}  // namespace

std::string internal::RawLoc::Prefix(const SchemaSource& source) const {
  if (line > 0) {
    return source.name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }
  if (!field.empty()) return source.name + ": at " + field + ": ";
  return source.name + ": ";
}

SchemaType SchemaType::Set(SchemaType element) {
  SchemaType t;
  t.kind = SchemaTypeKind::kSet;
  t.element = std::make_shared<const SchemaType>(std::move(element));
  return t;
}

const SchemaAttribute* SchemaType::FindAttribute(std::string_view attr) const {
  auto it =
      std::lower_bound(attributes.begin(), attributes.end(), attr,
                       [](const SchemaAttribute& a, std::string_view n) { return a.name < n; });
  if (it == attributes.end() || it->name != attr) return nullptr;
  return &*it;
}

bool SchemaType::operator==(const SchemaType& other) const {
  if (kind != other.kind || name != other.name || attributes != other.attributes) return false;
  if (kind == SchemaTypeKind::kSet) {
    if (!element || !other.element) return element == other.element;
    return *element == *other.element;
  }
  return true;
}

std::string SchemaType::ToString() const {
  switch (kind) {
    case SchemaTypeKind::kBool:
      return "Bool";
    case SchemaTypeKind::kLong:
      return "Long";
    case SchemaTypeKind::kString:
      return "String";
    case SchemaTypeKind::kSet:
      return "Set<" + (element ? element->ToString() : "?") + ">";
    case SchemaTypeKind::kEntity:
    case SchemaTypeKind::kExtension:
      return name;
    case SchemaTypeKind::kRecord: {
      std::string out = "{";
      for (size_t i = 0; i < attributes.size(); ++i) {
        if (i) out += ", ";
        const auto& a = attributes[i];
        out += IsPlainIdent(a.name) ? a.name : QuoteString(a.name);
        if (!a.required) out += "?";
        out += ": " + a.type.ToString();
      }
      return out + "}";
    }
  }
  return "?";
}

std::string SchemaUid::ToString() const { return type + "::" + QuoteString(id); }

const EntityTypeDef* Schema::FindEntityType(std::string_view name) const {
  auto it = entity_types_.find(std::string(name));
  return it == entity_types_.end() ? nullptr : &it->second;
}

const ActionDef* Schema::FindAction(const SchemaUid& uid) const {
  auto it = actions_.find(uid);
  return it == actions_.end() ? nullptr : &it->second;
}

const std::set<std::string>& Schema::AncestorTypes(std::string_view type) const {
  auto it = ancestor_types_.find(type);
  return it == ancestor_types_.end() ? EmptyTypeSet() : it->second;
}

const std::set<SchemaUid>& Schema::ActionAncestors(const SchemaUid& action) const {
  static const std::set<SchemaUid> kEmpty;
  auto it = action_ancestors_.find(action);
  return it == action_ancestors_.end() ? kEmpty : it->second;
}

Result<Schema> SchemaBuilder::Build(const std::vector<internal::RawNamespace>& namespaces,
                                    const SchemaSource& source) {
  Resolver r(namespaces, source);
  WARDEN_ASSIGN_OR_RETURN(Parts parts, r.Run(Parts()));
  Schema schema;
  schema.entity_types_ = std::move(parts.entity_types_);
  schema.actions_ = std::move(parts.actions_);
  schema.action_types_ = std::move(parts.action_types_);
  schema.ancestor_types_ = std::move(parts.ancestor_types_);
  schema.action_ancestors_ = std::move(parts.action_ancestors_);
  return schema;
}

}  // namespace warden::cedar
