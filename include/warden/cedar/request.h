// A Cedar authorization request: principal, action, resource and context.
// A plain value type; copies share their immutable contents (see value.h).
#pragma once

#include "warden/cedar/value.h"

namespace warden::cedar {

struct Request {
  EntityUid principal;
  EntityUid action;
  EntityUid resource;
  Record context;
};

}  // namespace warden::cedar
