// Cedar runtime values: Bool, Long, String, EntityUid, Set, Record and the
// extension values ipaddr, decimal, datetime and duration. A Value is a small
// tagged struct; strings, sets, records and entity uids share immutable data
// through shared_ptr<const ...>, so copying a Value never copies contents.
// All types here are immutable after construction and safe to share between threads.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "warden/core/status.h"

namespace warden::cedar {

// The kind of a Value. The order is the variant order in Value and the first key
// of the total order used for sets; never reorder.
enum class ValueKind : uint8_t {
  kBool = 0,
  kLong,
  kString,
  kEntity,
  kSet,
  kRecord,
  kIpAddr,
  kDecimal,
  kDatetime,
  kDuration,
};

// Cedar's name for a kind in error messages: "bool", "long", "string",
// "entity", "set", "record", "ipaddr", "decimal", "datetime", "duration".
std::string_view ValueKindName(ValueKind kind);

// True for ipaddr, decimal, datetime and duration.
constexpr bool IsExtensionKind(ValueKind kind) { return kind >= ValueKind::kIpAddr; }

// An entity type name such as `User` or `A::B::Photo` (components joined by
// "::", no whitespace). Names are interned in a process-wide table (bounded in
// size), so equality is usually one pointer comparison; names beyond the bound
// still compare correctly by content.
class EntityType {
 public:
  // The empty name; only meaningful as a placeholder.
  EntityType();
  // Does not validate `name`; see IsValidEntityTypeName.
  explicit EntityType(std::string_view name);

  std::string_view name() const { return data_->name; }
  size_t hash() const { return data_->hash; }
  // The last component ("Photo" for "A::B::Photo") and the namespace ("A::B" or "").
  std::string_view basename() const;
  std::string_view namespace_name() const;

  friend bool operator==(const EntityType& a, const EntityType& b) {
    if (a.data_ == b.data_) return true;
    if (a.data_->interned && b.data_->interned) return false;
    return a.data_->hash == b.data_->hash && a.data_->name == b.data_->name;
  }
  // Byte order of the full names.
  friend std::strong_ordering operator<=>(const EntityType& a, const EntityType& b) {
    if (a.data_ == b.data_) return std::strong_ordering::equal;
    return a.name() <=> b.name();
  }

  struct Data {
    std::string name;
    size_t hash = 0;
    bool interned = false;
  };

 private:
  std::shared_ptr<const Data> data_;
};

// True when `name` is `Id(::Id)*` with each Id matching [_a-zA-Z][_a-zA-Z0-9]*
// and not a Cedar reserved word (true, false, if, then, else, in, is, like,
// has, __cedar); no whitespace anywhere.
bool IsValidEntityTypeName(std::string_view name);
// True when `id` matches [_a-zA-Z][_a-zA-Z0-9]* (identifier syntax; reserved words
// are not excluded here, see parser.h IsValidIdentifier for that).
bool IsIdentifierText(std::string_view id);
// True for Cedar's reserved identifiers.
bool IsReservedIdentifier(std::string_view id);

// An entity reference: type plus id (any string). Cheap to copy (one shared_ptr).
class EntityUid {
 public:
  // Empty type and id; a placeholder.
  EntityUid();
  EntityUid(EntityType type, std::string_view id);

  const EntityType& type() const { return data_->type; }
  std::string_view id() const { return data_->id; }
  size_t hash() const { return data_->hash; }

  friend bool operator==(const EntityUid& a, const EntityUid& b) {
    if (a.data_ == b.data_) return true;
    return a.data_->hash == b.data_->hash && a.data_->type == b.data_->type &&
           a.data_->id == b.data_->id;
  }
  // Orders by type name, then id (bytes).
  friend std::strong_ordering operator<=>(const EntityUid& a, const EntityUid& b);

  // Cedar syntax: `A::B::"some \"id\""`.
  std::string ToString() const;

  struct Data {
    EntityType type;
    std::string id;
    size_t hash = 0;
  };

 private:
  std::shared_ptr<const Data> data_;
};

struct EntityTypeHash {
  size_t operator()(const EntityType& t) const { return t.hash(); }
};
struct EntityUidHash {
  size_t operator()(const EntityUid& u) const { return u.hash(); }
};

// ipaddr: an IPv4 or IPv6 address with a prefix length. IPv4 addresses keep
// their 4 bytes in bytes[0..3] (the rest zero). Host bits beyond the prefix are
// kept as written (Cedar does not truncate): "10.0.0.1/24" != "10.0.0.0/24".
// A plain address has the full prefix (32 or 128), so ip("10.0.0.1") ==
// ip("10.0.0.1/32").
struct IpAddr {
  std::array<uint8_t, 16> bytes{};
  uint8_t prefix = 0;
  bool v6 = false;

  friend bool operator==(const IpAddr&, const IpAddr&) = default;
  // Total order used only for set ordering: v4 before v6, then bytes, then prefix.
  friend std::strong_ordering operator<=>(const IpAddr& a, const IpAddr& b);
};

// decimal: a fixed-point number with 4 fractional digits, stored as value * 10^4.
struct Decimal {
  int64_t scaled = 0;
  friend bool operator==(const Decimal& a, const Decimal& b) { return a.scaled == b.scaled; }
  friend std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) {
    return a.scaled <=> b.scaled;
  }
};

// datetime: milliseconds since 1970-01-01T00:00:00Z (may be negative).
struct Datetime {
  int64_t ms = 0;
  friend bool operator==(const Datetime& a, const Datetime& b) { return a.ms == b.ms; }
  friend std::strong_ordering operator<=>(const Datetime& a, const Datetime& b) {
    return a.ms <=> b.ms;
  }
};

// duration: a signed number of milliseconds.
struct Duration {
  int64_t ms = 0;
  friend bool operator==(const Duration& a, const Duration& b) { return a.ms == b.ms; }
  friend std::strong_ordering operator<=>(const Duration& a, const Duration& b) {
    return a.ms <=> b.ms;
  }
};

class Value;

// A Cedar set: distinct values kept sorted by the total order CompareValues,
// so equality, hashing and printing are deterministic. Cheap to copy.
class Set {
 public:
  Set() = default;  // the empty set
  // Sorts and removes duplicates (Cedar set semantics).
  static Set FromValues(std::vector<Value> values);

  size_t size() const;
  bool empty() const { return size() == 0; }
  // The elements in the total order.
  std::span<const Value> elements() const;
  const Value* begin() const;
  const Value* end() const;

  // Membership by Cedar equality; O(log n).
  bool Contains(const Value& v) const;
  // Every element of `other` is in this set.
  bool ContainsAll(const Set& other) const;
  // Some element of `other` is in this set.
  bool ContainsAny(const Set& other) const;

  size_t hash() const;

 private:
  std::shared_ptr<const std::vector<Value>> elems_;  // null for the empty set
};

// A Cedar record: string keys (any string) to values, kept sorted by key bytes.
// Cheap to copy.
class Record {
 public:
  using Entry = std::pair<std::string, Value>;

  Record() = default;  // the empty record
  // InvalidArgument naming the key when a key appears twice.
  static Result<Record> FromEntries(std::vector<Entry> entries);
  // For inputs already known to have unique keys; later duplicates are dropped.
  static Record FromUniqueEntries(std::vector<Entry> entries);

  size_t size() const;
  bool empty() const { return size() == 0; }
  // Entries in key order.
  std::span<const Entry> entries() const;
  const Entry* begin() const;
  const Entry* end() const;

  // The value under `key`, or nullptr; O(log n). The pointer lives as long as
  // any copy of this Record.
  const Value* Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }

  size_t hash() const;

 private:
  std::shared_ptr<const std::vector<Entry>> entries_;  // null for the empty record
};

// A Cedar runtime value.
class Value {
 public:
  // Default: Bool false (a placeholder; Cedar has no null).
  Value() : v_(false) {}

  static Value Bool(bool b) { return Value(Rep(std::in_place_index<0>, b)); }
  static Value Long(int64_t n) { return Value(Rep(std::in_place_index<1>, n)); }
  static Value String(std::string s);
  static Value String(std::string_view s) { return String(std::string(s)); }
  static Value String(const char* s) { return String(std::string(s)); }
  static Value Entity(EntityUid uid) { return Value(Rep(std::in_place_index<3>, std::move(uid))); }
  static Value FromSet(Set s) { return Value(Rep(std::in_place_index<4>, std::move(s))); }
  static Value FromRecord(Record r) { return Value(Rep(std::in_place_index<5>, std::move(r))); }
  static Value Ip(const IpAddr& ip) { return Value(Rep(std::in_place_index<6>, ip)); }
  static Value FromDecimal(Decimal d) { return Value(Rep(std::in_place_index<7>, d)); }
  static Value FromDatetime(Datetime d) { return Value(Rep(std::in_place_index<8>, d)); }
  static Value FromDuration(Duration d) { return Value(Rep(std::in_place_index<9>, d)); }

  ValueKind kind() const { return static_cast<ValueKind>(v_.index()); }
  std::string_view kind_name() const { return ValueKindName(kind()); }
  bool is(ValueKind k) const { return kind() == k; }
  bool is_bool() const { return kind() == ValueKind::kBool; }
  bool is_long() const { return kind() == ValueKind::kLong; }
  bool is_string() const { return kind() == ValueKind::kString; }
  bool is_entity() const { return kind() == ValueKind::kEntity; }
  bool is_set() const { return kind() == ValueKind::kSet; }
  bool is_record() const { return kind() == ValueKind::kRecord; }
  bool is_extension() const { return IsExtensionKind(kind()); }

  // Accessors; the precondition is the matching kind (checked by assert only).
  bool AsBool() const { return *std::get_if<0>(&v_); }
  int64_t AsLong() const { return *std::get_if<1>(&v_); }
  std::string_view AsString() const { return *std::get_if<2>(&v_)->s; }
  // The shared string itself (for callers that keep it without copying).
  const std::shared_ptr<const std::string>& SharedString() const { return std::get_if<2>(&v_)->s; }
  const EntityUid& AsEntity() const { return *std::get_if<3>(&v_); }
  const Set& AsSet() const { return *std::get_if<4>(&v_); }
  const Record& AsRecord() const { return *std::get_if<5>(&v_); }
  const IpAddr& AsIp() const { return *std::get_if<6>(&v_); }
  Decimal AsDecimal() const { return *std::get_if<7>(&v_); }
  Datetime AsDatetime() const { return *std::get_if<8>(&v_); }
  Duration AsDuration() const { return *std::get_if<9>(&v_); }

  // Nullable accessors: nullptr when the kind differs.
  const bool* TryBool() const { return std::get_if<0>(&v_); }
  const int64_t* TryLong() const { return std::get_if<1>(&v_); }
  const EntityUid* TryEntity() const { return std::get_if<3>(&v_); }
  const Set* TrySet() const { return std::get_if<4>(&v_); }
  const Record* TryRecord() const { return std::get_if<5>(&v_); }

  // Cedar `==`: structural; values of different kinds are unequal (not an error).
  friend bool operator==(const Value& a, const Value& b);

  size_t hash() const;

  // Cedar syntax for the value: `true`, `-3`, `"a\"b"`, `User::"x"`, `[1, 2]`,
  // `{"a": 1}`, `ip("10.0.0.1/32")`, `decimal("1.2300")`, `datetime("...")`,
  // `duration("...")`. Deterministic (sets and records in their sorted order).
  std::string ToString() const;

 private:
  struct Str {
    std::shared_ptr<const std::string> s;
  };
  using Rep =
      std::variant<bool, int64_t, Str, EntityUid, Set, Record, IpAddr, Decimal, Datetime, Duration>;
  explicit Value(Rep v) : v_(std::move(v)) {}
  Rep v_;
};

// A total order on values (kind first, then contents); the order of Set
// elements. Returns <0, 0, >0. Zero exactly when the values are Cedar-equal.
int CompareValues(const Value& a, const Value& b);

struct ValueHash {
  size_t operator()(const Value& v) const { return v.hash(); }
};
struct ValueLess {
  bool operator()(const Value& a, const Value& b) const { return CompareValues(a, b) < 0; }
};

// Cedar string literal escaping (the body, without quotes), as Cedar prints it.
std::string EscapeCedarString(std::string_view s);

// Checked 64-bit arithmetic (Cedar's Long overflow rules): false on overflow,
// leaving *out unspecified.
inline bool CheckedAdd(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
inline bool CheckedSub(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_sub_overflow(a, b, out);
}
inline bool CheckedMul(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
inline bool CheckedNeg(int64_t a, int64_t* out) {
  return !__builtin_sub_overflow(int64_t{0}, a, out);
}

}  // namespace warden::cedar

template <>
struct std::hash<warden::cedar::Value> {
  size_t operator()(const warden::cedar::Value& v) const { return v.hash(); }
};
template <>
struct std::hash<warden::cedar::EntityUid> {
  size_t operator()(const warden::cedar::EntityUid& u) const { return u.hash(); }
};
template <>
struct std::hash<warden::cedar::EntityType> {
  size_t operator()(const warden::cedar::EntityType& t) const { return t.hash(); }
};
