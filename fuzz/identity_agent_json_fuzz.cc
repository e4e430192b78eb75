// Fuzzes the agent request bodies of POST/PATCH /v1/agents: any JSON must be
// either accepted as a well-formed spec/patch or refused with InvalidArgument
// naming what is wrong; nothing may crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "warden/core/json.h"
#include "warden/identity/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = warden::ParseJson(text);
  if (!v.ok()) return 0;
  auto spec = warden::identity::AgentRegistry::SpecFromJson(*v);
  if (!spec.ok() && spec.status().code() != warden::StatusCode::kInvalidArgument) std::abort();
  auto patch = warden::identity::AgentRegistry::PatchFromJson(*v);
  if (!patch.ok() && patch.status().code() != warden::StatusCode::kInvalidArgument) std::abort();
  return 0;
}
