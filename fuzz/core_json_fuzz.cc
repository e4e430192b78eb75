// Fuzzes the JSON reader every API body goes through: parsing must never
// crash, and whatever parses must re-encode canonically to a document that
// parses to the same canonical form (so digests of canonical JSON are stable).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "warden/core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = warden::ParseJson(text);
  if (!v.ok()) return 0;
  std::string canonical = warden::CanonicalJson(*v);
  auto again = warden::ParseJson(canonical);
  if (!again.ok() || warden::CanonicalJson(*again) != canonical) std::abort();
  if (v->is_object()) {
    auto obj = warden::StrictObject::From(*v);
    if (!obj.ok()) std::abort();
    (void)obj->OptionalString("name");
    (void)obj->OptionalInt("limit");
    (void)obj->OptionalStringArray("selectors");
    (void)obj->Finish();
  }
  return 0;
}
