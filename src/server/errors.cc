#include "warden/server/errors.h"

namespace warden::server {

unsigned HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted: return 409;
    // Request-size limits are answered 413 by the transport before a handler
    // runs; a limit reached inside a module (a rate, a quota) means "later".
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

boost::json::object ErrorBody(const Status& status) {
  boost::json::object err;
  err["code"] = StatusCodeName(status.code());
  err["message"] = status.message();
  if (!status.field().empty()) err["field"] = status.field();
  boost::json::object out;
  out["error"] = std::move(err);
  return out;
}

}  // namespace warden::server
