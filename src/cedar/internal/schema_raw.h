// Unresolved schema declarations shared by the text and JSON schema parsers.
// Both parsers produce RawNamespaces; BuildSchema resolves names and checks them.
// Plain data; not shared between threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "warden/cedar/schema.h"

namespace warden::cedar::internal {

// Where a declaration came from: line/column (text) or a field path (JSON).
struct RawLoc {
  int line = 0;
  int column = 0;
  std::string field;
  // "src:3:7: " or "src: at NS.entityTypes.User: ".
  std::string Prefix(const SchemaSource& source) const;
};

struct RawAttr;

struct RawType {
  enum class Kind {
    kEntityOrCommon,  // a name to resolve: common type, entity type or builtin
    kEntity,          // JSON {"type":"Entity"}
    kCommon,          // JSON {"type":"<name>"}: a common type (or builtin)
    kPrimitive,       // JSON Long/String/Boolean; `name` is "Long", "String", "Bool"
    kExtension,       // JSON {"type":"Extension"}
    kSet,
    kRecord,
  };
  Kind kind = Kind::kPrimitive;
  std::string name;
  std::shared_ptr<RawType> element;
  std::vector<RawAttr> attributes;
  RawLoc loc;
};

struct RawAttr {
  std::string name;
  RawType type;
  bool required = true;
  RawLoc loc;
};

struct RawName {
  std::string name;
  RawLoc loc;
};

struct RawEntity {
  std::string name;  // unqualified
  std::vector<RawName> member_of;
  std::optional<RawType> shape;
  std::optional<RawType> tags;
  std::optional<std::vector<std::string>> enum_ids;
  RawLoc loc;
};

struct RawActionRef {
  std::optional<std::string> type;  // as written; nullopt = this namespace's Action
  std::string id;
  RawLoc loc;
};

struct RawAction {
  std::string id;
  std::vector<RawActionRef> member_of;
  bool has_applies_to = false;
  std::vector<RawName> principals;
  std::vector<RawName> resources;
  std::optional<RawType> context;
  RawLoc loc;
};

struct RawCommonType {
  std::string name;  // unqualified
  RawType type;
  RawLoc loc;
};

struct RawNamespace {
  std::string name;  // "" for the empty namespace
  std::vector<RawCommonType> common_types;
  std::vector<RawEntity> entities;
  std::vector<RawAction> actions;
  RawLoc loc;
};

}  // namespace warden::cedar::internal

namespace warden::cedar {

// Resolves names and checks declarations; the only writer of Schema internals.
class SchemaBuilder {
 public:
  static Result<Schema> Build(const std::vector<internal::RawNamespace>& namespaces,
                              const SchemaSource& source);
};

}  // namespace warden::cedar
