#include "warden/cedar/value.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "warden/cedar/extensions.h"

namespace warden::cedar {
namespace {

// Interning bound: names come from policies, schemas and (hostile) request
// JSON; beyond this many distinct names new ones are simply not interned, so an
// attacker cannot grow the table without limit. Equality stays correct because
// non-interned names compare by content.
constexpr size_t kMaxInternedNames = 1 << 16;

size_t HashBytes(std::string_view s) { return std::hash<std::string_view>{}(s); }

size_t Mix(size_t seed, size_t h) {
  // boost::hash_combine's constant; enough spreading for hash tables.
  return seed ^ (h + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

struct InternTable {
  // Readers (the common case: a known name) share the lock; only the first
  // sighting of a name takes it exclusively.
  std::shared_mutex mu;
  std::unordered_map<std::string_view, std::shared_ptr<const EntityType::Data>> names;
};

InternTable& Interned() {
  static auto* table = new InternTable();  // never destroyed: used during static teardown
  return *table;
}

std::shared_ptr<const EntityType::Data> MakeTypeData(std::string_view name) {
  InternTable& table = Interned();
  {
    std::shared_lock<std::shared_mutex> read(table.mu);
    auto it = table.names.find(name);
    if (it != table.names.end()) return it->second;
  }
  std::unique_lock<std::shared_mutex> write(table.mu);
  auto it = table.names.find(name);
  if (it != table.names.end()) return it->second;
  auto data = std::make_shared<EntityType::Data>();
  data->name = std::string(name);
  data->hash = HashBytes(name);
  if (table.names.size() >= kMaxInternedNames) return data;
  data->interned = true;
  table.names.emplace(std::string_view(data->name), data);
  return data;
}

const std::shared_ptr<const EntityUid::Data>& EmptyUidData() {
  static const auto* data = new std::shared_ptr<const EntityUid::Data>([] {
    auto d = std::make_shared<EntityUid::Data>();
    d->hash = Mix(d->type.hash(), HashBytes(""));
    return d;
  }());
  return *data;
}

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

template <typename T>
int Cmp3(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Equality of n bytes; keys of up to 16 bytes are compared with at most two
// overlapping word loads per side instead of a library call.
bool KeyBytesEqual(const char* a, const char* b, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a0, b0, a1, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n >= 4 && n < 8) {
    uint32_t a0, b0, a1, b1;
    std::memcpy(&a0, a, 4);
    std::memcpy(&b0, b, 4);
    std::memcpy(&a1, a + n - 4, 4);
    std::memcpy(&b1, b + n - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n < 4) {
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  return std::memcmp(a, b, n) == 0;
}

int CompareStrings(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

std::string_view ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kLong:
      return "long";
    case ValueKind::kString:
      return "string";
    case ValueKind::kEntity:
      return "entity";
    case ValueKind::kSet:
      return "set";
    case ValueKind::kRecord:
      return "record";
    case ValueKind::kIpAddr:
      return "ipaddr";
    case ValueKind::kDecimal:
      return "decimal";
    case ValueKind::kDatetime:
      return "datetime";
    case ValueKind::kDuration:
      return "duration";
  }
  return "unknown";
}

EntityType::EntityType() {
  static const auto* empty = new std::shared_ptr<const Data>(MakeTypeData(""));
  data_ = *empty;
}

EntityType::EntityType(std::string_view name) : data_(MakeTypeData(name)) {}

std::string_view EntityType::basename() const {
  std::string_view n = name();
  size_t pos = n.rfind("::");
  return pos == std::string_view::npos ? n : n.substr(pos + 2);
}

std::string_view EntityType::namespace_name() const {
  std::string_view n = name();
  size_t pos = n.rfind("::");
  return pos == std::string_view::npos ? std::string_view() : n.substr(0, pos);
}

bool IsReservedIdentifier(std::string_view id) {
  static constexpr std::string_view kReserved[] = {"true", "false", "if",   "then", "else",
                                                   "in",   "is",    "like", "has",  "__cedar"};
  return std::find(std::begin(kReserved), std::end(kReserved), id) != std::end(kReserved);
}

bool IsIdentifierText(std::string_view id) {
  if (id.empty() || !IsIdentStart(id[0])) return false;
  return std::all_of(id.begin() + 1, id.end(), IsIdentChar);
}

bool IsValidEntityTypeName(std::string_view name) {
  if (name.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t pos = name.find("::", start);
    std::string_view part =
        name.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start);
    if (!IsIdentifierText(part) || IsReservedIdentifier(part)) return false;
    if (pos == std::string_view::npos) return true;
    start = pos + 2;
  }
}

EntityUid::EntityUid() : data_(EmptyUidData()) {}

EntityUid::EntityUid(EntityType type, std::string_view id) {
  auto d = std::make_shared<Data>();
  d->hash = Mix(type.hash(), HashBytes(id));
  d->type = std::move(type);
  d->id = std::string(id);
  data_ = std::move(d);
}

std::strong_ordering operator<=>(const EntityUid& a, const EntityUid& b) {
  if (a.data_ == b.data_) return std::strong_ordering::equal;
  auto c = a.type() <=> b.type();
  if (std::is_neq(c)) return c;
  return a.id() <=> b.id();
}

std::string EntityUid::ToString() const {
  std::string out(type().name());
  out += "::\"";
  out += EscapeCedarString(id());
  out += '"';
  return out;
}

std::strong_ordering operator<=>(const IpAddr& a, const IpAddr& b) {
  if (a.v6 != b.v6) return a.v6 ? std::strong_ordering::greater : std::strong_ordering::less;
  if (auto c = a.bytes <=> b.bytes; std::is_neq(c)) return c;
  return a.prefix <=> b.prefix;
}

Set Set::FromValues(std::vector<Value> values) {
  Set s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end(), ValueLess());
  values.erase(std::unique(values.begin(), values.end(),
                           [](const Value& a, const Value& b) { return CompareValues(a, b) == 0; }),
               values.end());
  s.elems_ = std::make_shared<const std::vector<Value>>(std::move(values));
  return s;
}

size_t Set::size() const { return elems_ ? elems_->size() : 0; }

std::span<const Value> Set::elements() const {
  if (!elems_) return {};
  return std::span<const Value>(elems_->data(), elems_->size());
}

const Value* Set::begin() const { return elems_ ? elems_->data() : nullptr; }
const Value* Set::end() const { return elems_ ? elems_->data() + elems_->size() : nullptr; }

bool Set::Contains(const Value& v) const {
  if (!elems_) return false;
  // Small sets: a linear scan of equality checks beats the three-way compares.
  if (elems_->size() <= 8) {
    for (const Value& e : *elems_) {
      if (e == v) return true;
    }
    return false;
  }
  return std::binary_search(elems_->begin(), elems_->end(), v, ValueLess());
}

bool Set::ContainsAll(const Set& other) const {
  if (other.size() > size()) {
    // Still possible only if `other` has duplicates, which sets never have.
    return false;
  }
  for (const Value& v : other) {
    if (!Contains(v)) return false;
  }
  return true;
}

bool Set::ContainsAny(const Set& other) const {
  const Set& small = other.size() < size() ? other : *this;
  const Set& large = other.size() < size() ? *this : other;
  for (const Value& v : small) {
    if (large.Contains(v)) return true;
  }
  return false;
}

size_t Set::hash() const {
  size_t h = 0x5e7;
  for (const Value& v : *this) h = Mix(h, v.hash());
  return h;
}

Result<Record> Record::FromEntries(std::vector<Entry> entries) {
  // Any two equal keys are an error, so the order among equal keys does not
  // matter and an unstable sort (which needs no scratch buffer) is enough.
  auto by_key = [](const Entry& a, const Entry& b) { return a.first < b.first; };
  if (!std::is_sorted(entries.begin(), entries.end(), by_key)) {
    std::sort(entries.begin(), entries.end(), by_key);
  }
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].first == entries[i - 1].first) {
      return InvalidArgument("duplicate record key \"" + EscapeCedarString(entries[i].first) +
                             "\"");
    }
  }
  Record r;
  if (!entries.empty()) r.entries_ = std::make_shared<const std::vector<Entry>>(std::move(entries));
  return r;
}

Record Record::FromUniqueEntries(std::vector<Entry> entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.first < b.first; });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const Entry& a, const Entry& b) { return a.first == b.first; }),
                entries.end());
  Record r;
  if (!entries.empty()) r.entries_ = std::make_shared<const std::vector<Entry>>(std::move(entries));
  return r;
}

size_t Record::size() const { return entries_ ? entries_->size() : 0; }

std::span<const Record::Entry> Record::entries() const {
  if (!entries_) return {};
  return std::span<const Entry>(entries_->data(), entries_->size());
}

const Record::Entry* Record::begin() const { return entries_ ? entries_->data() : nullptr; }
const Record::Entry* Record::end() const {
  return entries_ ? entries_->data() + entries_->size() : nullptr;
}

const Value* Record::Find(std::string_view key) const {
  if (!entries_) return nullptr;
  const auto& e = *entries_;
  if (e.size() <= 8) {
    // Keys are short: the byte comparison is inline (see KeyBytesEqual).
    for (const Entry& entry : e) {
      const std::string& k = entry.first;
      if (k.size() == key.size() && KeyBytesEqual(k.data(), key.data(), key.size())) {
        return &entry.second;
      }
    }
    return nullptr;
  }
  auto it = std::lower_bound(e.begin(), e.end(), key,
                             [](const Entry& a, std::string_view k) { return a.first < k; });
  if (it != e.end() && it->first == key) return &it->second;
  return nullptr;
}

size_t Record::hash() const {
  size_t h = 0x2ec;
  for (const Entry& e : *this) h = Mix(Mix(h, HashBytes(e.first)), e.second.hash());
  return h;
}

Value Value::String(std::string s) {
  return Value(Rep(std::in_place_index<2>, Str{std::make_shared<const std::string>(std::move(s))}));
}

bool operator==(const Value& a, const Value& b) {
  if (a.v_.index() != b.v_.index()) return false;
  switch (a.kind()) {
    case ValueKind::kBool:
      return a.AsBool() == b.AsBool();
    case ValueKind::kLong:
      return a.AsLong() == b.AsLong();
    case ValueKind::kString: {
      const auto& sa = a.SharedString();
      const auto& sb = b.SharedString();
      return sa == sb || *sa == *sb;
    }
    case ValueKind::kEntity:
      return a.AsEntity() == b.AsEntity();
    case ValueKind::kSet: {
      const Set& x = a.AsSet();
      const Set& y = b.AsSet();
      if (x.size() != y.size()) return false;
      // Both are sorted and deduplicated, so element-wise equality is set equality.
      return std::equal(x.begin(), x.end(), y.begin());
    }
    case ValueKind::kRecord: {
      const Record& x = a.AsRecord();
      const Record& y = b.AsRecord();
      if (x.size() != y.size()) return false;
      return std::equal(x.begin(), x.end(), y.begin());
    }
    case ValueKind::kIpAddr:
      return a.AsIp() == b.AsIp();
    case ValueKind::kDecimal:
      return a.AsDecimal() == b.AsDecimal();
    case ValueKind::kDatetime:
      return a.AsDatetime() == b.AsDatetime();
    case ValueKind::kDuration:
      return a.AsDuration() == b.AsDuration();
  }
  return false;
}

int CompareValues(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return Cmp3(static_cast<int>(a.kind()), static_cast<int>(b.kind()));
  switch (a.kind()) {
    case ValueKind::kBool:
      return Cmp3(a.AsBool(), b.AsBool());
    case ValueKind::kLong:
      return Cmp3(a.AsLong(), b.AsLong());
    case ValueKind::kString:
      return CompareStrings(a.AsString(), b.AsString());
    case ValueKind::kEntity: {
      auto c = a.AsEntity() <=> b.AsEntity();
      return std::is_lt(c) ? -1 : (std::is_gt(c) ? 1 : 0);
    }
    case ValueKind::kSet: {
      const Set& x = a.AsSet();
      const Set& y = b.AsSet();
      size_t n = std::min(x.size(), y.size());
      for (size_t i = 0; i < n; ++i) {
        int c = CompareValues(x.elements()[i], y.elements()[i]);
        if (c != 0) return c;
      }
      return Cmp3(x.size(), y.size());
    }
    case ValueKind::kRecord: {
      const Record& x = a.AsRecord();
      const Record& y = b.AsRecord();
      size_t n = std::min(x.size(), y.size());
      for (size_t i = 0; i < n; ++i) {
        const auto& ex = x.entries()[i];
        const auto& ey = y.entries()[i];
        int c = CompareStrings(ex.first, ey.first);
        if (c != 0) return c;
        c = CompareValues(ex.second, ey.second);
        if (c != 0) return c;
      }
      return Cmp3(x.size(), y.size());
    }
    case ValueKind::kIpAddr: {
      auto c = a.AsIp() <=> b.AsIp();
      return std::is_lt(c) ? -1 : (std::is_gt(c) ? 1 : 0);
    }
    case ValueKind::kDecimal:
      return Cmp3(a.AsDecimal().scaled, b.AsDecimal().scaled);
    case ValueKind::kDatetime:
      return Cmp3(a.AsDatetime().ms, b.AsDatetime().ms);
    case ValueKind::kDuration:
      return Cmp3(a.AsDuration().ms, b.AsDuration().ms);
  }
  return 0;
}

size_t Value::hash() const {
  size_t seed = static_cast<size_t>(kind()) * 0x100000001b3ULL;
  switch (kind()) {
    case ValueKind::kBool:
      return Mix(seed, AsBool() ? 1 : 0);
    case ValueKind::kLong:
      return Mix(seed, std::hash<int64_t>{}(AsLong()));
    case ValueKind::kString:
      return Mix(seed, HashBytes(AsString()));
    case ValueKind::kEntity:
      return Mix(seed, AsEntity().hash());
    case ValueKind::kSet:
      return Mix(seed, AsSet().hash());
    case ValueKind::kRecord:
      return Mix(seed, AsRecord().hash());
    case ValueKind::kIpAddr: {
      const IpAddr& ip = AsIp();
      std::string_view bytes(reinterpret_cast<const char*>(ip.bytes.data()), ip.bytes.size());
      return Mix(Mix(Mix(seed, HashBytes(bytes)), ip.prefix), ip.v6 ? 1 : 0);
    }
    case ValueKind::kDecimal:
      return Mix(seed, std::hash<int64_t>{}(AsDecimal().scaled));
    case ValueKind::kDatetime:
      return Mix(seed, std::hash<int64_t>{}(AsDatetime().ms));
    case ValueKind::kDuration:
      return Mix(seed, std::hash<int64_t>{}(AsDuration().ms));
  }
  return seed;
}

std::string EscapeCedarString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\0':
        out += "\\0";
        break;
      default: {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u{";
          if (u >= 0x10) out += kHex[u >> 4];
          out += kHex[u & 0xf];
          out += '}';
        } else {
          out += c;
        }
      }
    }
  }
  return out;
}

std::string Value::ToString() const {
  switch (kind()) {
    case ValueKind::kBool:
      return AsBool() ? "true" : "false";
    case ValueKind::kLong:
      return std::to_string(AsLong());
    case ValueKind::kString:
      return "\"" + EscapeCedarString(AsString()) + "\"";
    case ValueKind::kEntity:
      return AsEntity().ToString();
    case ValueKind::kSet: {
      std::string out = "[";
      bool first = true;
      for (const Value& v : AsSet()) {
        if (!first) out += ", ";
        first = false;
        out += v.ToString();
      }
      return out + "]";
    }
    case ValueKind::kRecord: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : AsRecord()) {
        if (!first) out += ", ";
        first = false;
        out += "\"" + EscapeCedarString(k) + "\": " + v.ToString();
      }
      return out + "}";
    }
    case ValueKind::kIpAddr:
      return "ip(\"" + FormatIp(AsIp()) + "\")";
    case ValueKind::kDecimal:
      return "decimal(\"" + FormatDecimal(AsDecimal()) + "\")";
    case ValueKind::kDatetime: {
      auto text = FormatDatetime(AsDatetime());
      if (text) return "datetime(\"" + *text + "\")";
      return "datetime(\"1970-01-01\").offset(duration(\"" +
             FormatDuration(Duration{AsDatetime().ms}) + "\"))";
    }
    case ValueKind::kDuration:
      return "duration(\"" + FormatDuration(AsDuration()) + "\")";
  }
  return "";
}

}  // namespace warden::cedar
