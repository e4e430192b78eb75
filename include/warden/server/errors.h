// The one mapping from warden::StatusCode to HTTP status codes, and the JSON
// error body {"error":{"code","message","field"}} used by every endpoint.
// Pure functions, thread-safe.
#pragma once

#include <boost/json.hpp>

#include "warden/core/status.h"

namespace warden::server {

// invalid_argument 400, unauthenticated 401, permission_denied 403,
// not_found 404, already_exists/failed_precondition/aborted 409,
// resource_exhausted 429, unavailable 503, deadline_exceeded 504,
// data_loss/internal 500, unimplemented 501.
unsigned HttpStatusFor(StatusCode code);

// {"error":{"code":"invalid_argument","message":"...","field":"owner"}};
// "field" is omitted when empty.
boost::json::object ErrorBody(const Status& status);

// Errors that are about HTTP itself rather than a module's Status; their
// "code" is still a StatusCodeName so clients handle one vocabulary.
//   413 resource_exhausted (body too large)    415 invalid_argument (Content-Type)
//   405 invalid_argument (method)              404 not_found (no such route)
//   431 resource_exhausted (headers too large)
inline constexpr unsigned kHttpPayloadTooLarge = 413;
inline constexpr unsigned kHttpUnsupportedMediaType = 415;
inline constexpr unsigned kHttpMethodNotAllowed = 405;
inline constexpr unsigned kHttpHeadersTooLarge = 431;

}  // namespace warden::server
