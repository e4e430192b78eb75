// Cedar's JSON formats for values, entity uids, entities and request context,
// as Cedar defines them (explicit forms only; schema-based parsing rewrites
// implicit JSON into these forms before calling here). Parsing is hostile-input
// safe: bounded size and depth, exact 64-bit integers, duplicate keys rejected,
// and errors name the entity, the attribute path and the reason.
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "warden/cedar/entities.h"
#include "warden/cedar/request.h"
#include "warden/cedar/value.h"
#include "warden/core/json.h"
#include "warden/core/status.h"

namespace warden::cedar {

struct EntityJsonOptions {
  JsonParseOptions json;  // applied when parsing text
};

// One Cedar JSON value:
//  - true/false -> Bool; an integer in i64 range -> Long (other numbers are
//    errors: "x.y: number 1.5 is not an integer" / "... out of range");
//  - string -> String; array -> Set (duplicates merged); null -> error;
//  - {"__entity": {"type": T, "id": I}} -> EntityUid (T must be a valid name);
//  - {"__extn": {"fn": F, "arg": V}} or {"__extn": {"fn": F, "args": [V...]}}
//    -> the result of calling extension function F (see extensions.h);
//  - {"__expr": ...} -> error (no longer supported by Cedar);
//  - any other object -> Record. As in Cedar, an object whose escape is not
//    well formed (say {"__entity": 3} or {"__extn": {"fn": "ip"}}) or has other
//    members besides the escape is an ordinary record.
// `path` names the value in errors ("attrs.addr[2]").
Result<Value> ValueFromJson(const json::value& v, std::string_view path = {});

// An entity uid: {"type": T, "id": I} or {"__entity": {"type": T, "id": I}}
// (members besides these are ignored, as Cedar does).
Result<EntityUid> EntityUidFromJson(const json::value& v, std::string_view path = {});
Result<EntityUid> ParseEntityUidJson(std::string_view text, const EntityJsonOptions& options = {});

// One entity: {"uid": ..., "attrs": {...}, "parents": [...], "tags": {...}};
// uid, attrs and parents are required, tags optional, other members ignored
// (Cedar's behaviour).
Result<Entity> EntityFromJson(const json::value& v, std::string_view path = {});

// A JSON array of entities, as a list (not yet closed; see Entities::Create).
Result<std::vector<Entity>> EntityListFromJson(const json::value& v);
// Text to list to store in one step.
Result<Entities> ParseEntitiesJson(std::string_view text, const EntityJsonOptions& options = {});
Result<Entities> EntitiesFromJson(const json::value& v);

// Request context: a JSON object whose members are Cedar values.
Result<Record> ContextFromJson(const json::value& v);
Result<Record> ParseContextJson(std::string_view text, const EntityJsonOptions& options = {});

// A request as one JSON object: {"principal": uid, "action": uid, "resource":
// uid, "context": {...}} (uids in either form EntityUidFromJson accepts; other
// members ignored). InvalidArgument "request: ..." when the object or one of
// the four members is missing; member errors name the member.
Result<Request> RequestFromJson(const json::value& v);
Result<Request> ParseRequestJson(std::string_view text, const EntityJsonOptions& options = {});

// Explicit-form encodings (the inverse of the parsers above): extension
// values as {"__extn": {"fn": "ip", "arg": "10.0.0.1/32"}} (a datetime outside
// years 0000-9999 uses the "offset" form), entities as {"__entity": ...}.
// Cedar's JSON has one inherent ambiguity: a record whose only member is
// "__entity" or "__extn" holding a well-formed escape body reads back as the
// escape. Encoding is otherwise exact, and always a fixed point.
json::value ValueToJson(const Value& v);
json::value EntityUidToJson(const EntityUid& uid);  // {"type": T, "id": I}
json::value EntityToJson(const Entity& e);
json::value EntitiesToJson(const Entities& entities);  // in uid order

}  // namespace warden::cedar
