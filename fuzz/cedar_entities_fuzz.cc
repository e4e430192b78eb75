// Fuzzes Cedar entity and context JSON parsing. Whatever parses must encode
// back to JSON that parses to the same entities (a parser/encoder mismatch
// would let two components disagree about what an entity file says). The
// text entry points, which read JSON their own way, must also agree with
// ParseJson followed by the value converters: same success or failure, same
// entities, same error text.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "warden/cedar/entity_json.h"
#include "warden/core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace warden::cedar;
  auto entities = ParseEntitiesJson(text);
  auto dom = warden::ParseJson(text);
  {
    auto via_dom = dom.ok() ? EntitiesFromJson(*dom) : warden::Result<Entities>(dom.status());
    if (entities.ok() != via_dom.ok()) std::abort();
    if (entities.ok()) {
      if (warden::CanonicalJson(EntitiesToJson(*entities)) !=
          warden::CanonicalJson(EntitiesToJson(*via_dom))) {
        std::abort();
      }
    } else if (entities.status().ToString() != via_dom.status().ToString()) {
      std::abort();
    }
    auto ctx = ParseContextJson(text);
    auto ctx_dom = dom.ok() ? ContextFromJson(*dom) : warden::Result<Record>(dom.status());
    if (ctx.ok() != ctx_dom.ok()) std::abort();
    if (ctx.ok() && !(Value::FromRecord(*ctx) == Value::FromRecord(*ctx_dom))) std::abort();
  }
  if (entities.ok()) {
    std::string encoded = warden::CanonicalJson(EntitiesToJson(*entities));
    auto again = ParseEntitiesJson(encoded);
    if (!again.ok()) std::abort();
    if (warden::CanonicalJson(EntitiesToJson(*again)) != encoded) std::abort();
    for (const Entity& e : entities->entities()) {
      // Every direct parent is an ancestor.
      for (const EntityUid& p : e.parents) {
        if (!entities->In(e.uid, p)) std::abort();
      }
    }
  }
  auto context = ParseContextJson(text);
  if (context.ok()) {
    // Compared as encodings, not values: a record whose only member is a
    // well-formed "__entity"/"__extn" body is indistinguishable from the
    // escape in Cedar's JSON, so only the encoding is a fixed point.
    std::string encoded = warden::CanonicalJson(ValueToJson(Value::FromRecord(*context)));
    auto back = ParseContextJson(encoded);
    if (!back.ok()) std::abort();
    if (warden::CanonicalJson(ValueToJson(Value::FromRecord(*back))) != encoded) std::abort();
  }
  (void)ParseEntityUidJson(text);
  return 0;
}
