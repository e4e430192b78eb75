// Cedar schemas: the model (namespaces resolved away into fully-qualified names)
// and the two parsers that produce it, the Cedar text format (`.cedarschema`) and
// the JSON format. Both formats produce identical models for equivalent input.
// A Schema is immutable after parsing; concurrent reads from many threads are safe.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "warden/core/status.h"

namespace warden::cedar {

enum class SchemaTypeKind { kBool, kLong, kString, kSet, kRecord, kEntity, kExtension };

struct SchemaAttribute;

// A fully resolved schema type: common types are inlined, names are qualified.
struct SchemaType {
  SchemaTypeKind kind = SchemaTypeKind::kBool;
  // Entity type name ("NS::User") for kEntity; extension name ("ipaddr",
  // "decimal", "datetime", "duration") for kExtension; empty otherwise.
  std::string name;
  // Element type for kSet.
  std::shared_ptr<const SchemaType> element;
  // Attributes for kRecord, sorted by name, names unique.
  std::vector<SchemaAttribute> attributes;

  static SchemaType Bool();
  static SchemaType Long();
  static SchemaType String();
  static SchemaType Entity(std::string type);
  static SchemaType Extension(std::string ext);
  static SchemaType Set(SchemaType element);
  static SchemaType EmptyRecord();

  // The attribute named `attr` of a record type, or nullptr.
  const SchemaAttribute* FindAttribute(std::string_view attr) const;

  // Cedar text-format spelling ("Set<Long>", "{a?: String}", "NS::User").
  std::string ToString() const;

  bool operator==(const SchemaType& other) const;
};

struct SchemaAttribute {
  std::string name;
  SchemaType type;
  bool required = true;
  bool operator==(const SchemaAttribute& other) const = default;
};

inline SchemaType SchemaType::Bool() { return {SchemaTypeKind::kBool, {}, nullptr, {}}; }
inline SchemaType SchemaType::Long() { return {SchemaTypeKind::kLong, {}, nullptr, {}}; }
inline SchemaType SchemaType::String() { return {SchemaTypeKind::kString, {}, nullptr, {}}; }
inline SchemaType SchemaType::Entity(std::string type) {
  return {SchemaTypeKind::kEntity, std::move(type), nullptr, {}};
}
inline SchemaType SchemaType::Extension(std::string ext) {
  return {SchemaTypeKind::kExtension, std::move(ext), nullptr, {}};
}
inline SchemaType SchemaType::EmptyRecord() { return {SchemaTypeKind::kRecord, {}, nullptr, {}}; }

struct EntityTypeDef {
  std::string name;                              // fully qualified, "NS::User"
  std::set<std::string> member_of;               // direct parent entity types, fully qualified
  SchemaType shape = SchemaType::EmptyRecord();  // always a record
  std::optional<SchemaType> tags;                // the tag type, when tags are declared
  // Allowed entity ids for enumerated entity types (`entity Color enum ["red"]`).
  std::optional<std::vector<std::string>> enum_ids;
  bool operator==(const EntityTypeDef& other) const = default;
};

// An entity uid by its parts; used for actions and action groups.
struct SchemaUid {
  std::string type;  // "NS::Action" or "Action"
  std::string id;
  auto operator<=>(const SchemaUid& other) const = default;  // NOLINT(modernize-use-nullptr)
  std::string ToString() const;                              // NS::Action::"view"
};

struct ActionDef {
  SchemaUid uid;
  std::set<SchemaUid> member_of;  // direct parent action groups
  // appliesTo; both empty when the action applies to no request.
  std::set<std::string> principal_types;
  std::set<std::string> resource_types;
  SchemaType context = SchemaType::EmptyRecord();  // always a record
  bool operator==(const ActionDef& other) const = default;
};

// Where schema text came from, for error messages ("schema.cedarschema:3:7: ...").
struct SchemaSource {
  std::string name = "schema";
};

class Schema {
 public:
  // Parses the Cedar text format. Errors are InvalidArgument naming
  // "<source>:<line>:<column>" and what was expected or what is wrong.
  static Result<Schema> ParseText(std::string_view text, const SchemaSource& source = {});
  // Parses the JSON format from text (line:column for syntax errors, a field path
  // such as `NS.entityTypes.User.shape` for structural errors).
  static Result<Schema> ParseJsonText(std::string_view text, const SchemaSource& source = {});
  // Parses an already-parsed JSON schema document.
  static Result<Schema> FromJson(const boost::json::value& doc, const SchemaSource& source = {});

  const std::map<std::string, EntityTypeDef>& entity_types() const { return entity_types_; }
  const std::map<SchemaUid, ActionDef>& actions() const { return actions_; }

  // Lookups; nullptr when undeclared.
  const EntityTypeDef* FindEntityType(std::string_view name) const;
  const ActionDef* FindAction(const SchemaUid& uid) const;
  // True when `type` is the type of some action ("Action", "NS::Action").
  bool IsActionType(std::string_view type) const {
    return action_types_.count(std::string(type)) > 0;
  }

  // Entity types that `type` may be a (transitive) descendant of, including itself.
  const std::set<std::string>& AncestorTypes(std::string_view type) const;
  // Action groups `action` is transitively a member of (not including itself).
  const std::set<SchemaUid>& ActionAncestors(const SchemaUid& action) const;

  bool operator==(const Schema& other) const {
    return entity_types_ == other.entity_types_ && actions_ == other.actions_;
  }

 private:
  friend class SchemaBuilder;
  std::map<std::string, EntityTypeDef> entity_types_;
  std::map<SchemaUid, ActionDef> actions_;
  std::set<std::string> action_types_;
  std::map<std::string, std::set<std::string>, std::less<>> ancestor_types_;
  std::map<SchemaUid, std::set<SchemaUid>> action_ancestors_;
};

}  // namespace warden::cedar
