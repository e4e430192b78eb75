// Fuzz target for the Cedar parser and printer: any input must either fail with
// an error or parse into policies whose formatted text re-parses to equal trees.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "warden/cedar/formatter.h"
#include "warden/cedar/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::cedar;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParsePolicies(text, "fuzz.cedar");
  if (parsed.ok()) {
    auto again = ParsePolicies(FormatPolicies(*parsed), "formatted.cedar");
    if (!again.ok() || again->policies.size() != parsed->policies.size()) std::abort();
    for (size_t i = 0; i < parsed->policies.size(); ++i) {
      if (!Equal(parsed->policies[i], again->policies[i])) std::abort();
    }
  }
  // The expression entry point sees the same bytes.
  auto expr = ParseExpression(text);
  if (expr.ok()) {
    auto again = ParseExpression(ExprToString(**expr));
    if (!again.ok() || !Equal(**expr, **again)) std::abort();
  }
  (void)ParseEntityUid(text);
  return 0;
}
