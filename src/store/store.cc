// Cell accessors and OpenStore's URL dispatch.
#include "warden/store/store.h"

#include <string>

#include "store/internal/sqlite_store.h"

namespace warden::store {

namespace {

std::string_view TypeName(const SqlValue& v) {
  switch (v.index()) {
    case 0: return "NULL";
    case 1: return "integer";
    case 2: return "double";
    case 3: return "text";
    default: return "blob";
  }
}

}  // namespace

Result<int64_t> AsInt(const SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  return InvalidArgument("expected an integer cell, got " + std::string(TypeName(v)));
}

Result<std::string> AsText(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return InvalidArgument("expected a text cell, got " + std::string(TypeName(v)));
}

bool IsNull(const SqlValue& v) { return std::holds_alternative<std::monostate>(v); }

bool ReadText(const SqlValue& v, std::string* out) {
  const auto* text = std::get_if<std::string>(&v);
  if (text == nullptr) return false;
  *out = *text;
  return true;
}

bool ReadMicros(const SqlValue& v, TimePoint* out) {
  const auto* micros = std::get_if<int64_t>(&v);
  if (micros == nullptr) return false;
  *out = FromUnixMicros(*micros);
  return true;
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& options) {
  if (options.max_batch == 0) return InvalidArgument("max_batch must be at least 1", "max_batch");
  if (options.max_readers == 0) {
    return InvalidArgument("max_readers must be at least 1", "max_readers");
  }
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.starts_with(kSqlite)) {
    std::string_view path = url.substr(kSqlite.size());
    if (path.empty()) return InvalidArgument("store URL \"sqlite:\" names no database file");
    if (path.find('\0') != std::string_view::npos) {
      return InvalidArgument("store URL contains a NUL byte");
    }
    // "sqlite://..." looks like a host-based URL; it would silently name a
    // different path than intended. SQLite's own "file:" URIs would let a URL
    // change open flags, so they are refused too.
    if (path.starts_with("//")) {
      return InvalidArgument("store URL \"" + std::string(url) +
                             "\": write sqlite:/absolute/path or sqlite:relative/path");
    }
    if (path.starts_with("file:")) {
      return InvalidArgument("store URL \"" + std::string(url) +
                             "\": SQLite URI filenames are not accepted");
    }
    return internal::OpenSqliteStore(path, options);
  }
  if (url.starts_with("postgres:") || url.starts_with("postgresql:")) {
    return Unimplemented("the PostgreSQL store backend is not available in this build");
  }
  const size_t colon = url.find(':');
  std::string scheme(colon == std::string_view::npos ? url : url.substr(0, colon));
  return InvalidArgument("unknown store URL scheme \"" + scheme +
                         "\" (expected sqlite:PATH or sqlite::memory:)");
}

}  // namespace warden::store
