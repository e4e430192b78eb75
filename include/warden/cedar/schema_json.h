// Schema-based parsing of Cedar entity, context and value JSON. Cedar's JSON is
// ambiguous without a schema ("10.0.0.1" is a string unless the schema says
// ipaddr; {"type":..,"id":..} is a record unless it says entity). These functions
// use the schema to rewrite input into the explicit JSON forms (`__entity`,
// `__extn`) and check it on the way: types, required and unknown attributes,
// parent and tag types, enumerated ids, and declared actions. Errors name the
// entity, the attribute path, and what was expected versus found.
// Pure functions over immutable inputs; safe to call from any thread.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "warden/cedar/entities.h"
#include "warden/cedar/request.h"
#include "warden/cedar/schema.h"
#include "warden/core/status.h"

namespace warden::cedar {

// Rewrites one JSON value that must have schema type `type` into explicit form.
// `path` names the value in errors (e.g. `User::"alice"`.attrs.addr).
Result<boost::json::value> ExplicitValueJson(const boost::json::value& v, const SchemaType& type,
                                             const Schema& schema, std::string_view path);

// Rewrites a Cedar entities JSON array (objects with uid, attrs, parents, tags)
// into explicit form, checking every entity against its declared type. Action
// entities present in the input must match the schema's declaration exactly and
// are dropped; the result then ends with the schema's action entities (see
// ActionEntitiesJson), as Cedar adds them.
Result<boost::json::value> ExplicitEntitiesJson(const boost::json::value& entities,
                                                const Schema& schema);

// Rewrites a context JSON object for `action` into explicit form, checking it
// against the action's context type. NotFound-style InvalidArgument when the
// action is not declared.
Result<boost::json::value> ExplicitContextJson(const boost::json::value& context,
                                               const Schema& schema, const SchemaUid& action);

// The action entities the schema implies, in the entity JSON format: one per
// declared action, with its action groups as parents and no attributes.
boost::json::array ActionEntitiesJson(const Schema& schema);

// The same action entities as Entity values.
std::vector<Entity> ActionEntities(const Schema& schema);

// Parses entities JSON text through the schema: ExplicitEntitiesJson, then the
// explicit-form entity parser, then Entities::Create.
Result<Entities> ParseEntitiesWithSchema(std::string_view json_text, const Schema& schema);

// Parses context JSON text for `action` through the schema into a Record.
Result<Record> ParseContextWithSchema(std::string_view json_text, const Schema& schema,
                                      const SchemaUid& action);

}  // namespace warden::cedar
