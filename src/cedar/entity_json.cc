#include "warden/cedar/entity_json.h"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "warden/cedar/extensions.h"

namespace warden::cedar {
namespace {

// JSON built in memory (by schema-based rewriting, say) has no parse-depth
// limit, so the recursive walk carries its own bound.
constexpr size_t kMaxValueDepth = 128;

std::string JoinKey(std::string_view path, std::string_view key) {
  std::string out(path);
  if (IsIdentifierText(key)) {
    if (!out.empty()) out += '.';
    out += key;
  } else {
    out += "[\"" + EscapeCedarString(key) + "\"]";
  }
  return out;
}

std::string JoinIndex(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

// Where a value sits in the input ("attrs.addr[2]"), kept as a chain of stack
// frames and rendered to text only when an error is reported: building the
// text for every value would cost more than parsing it.
struct Path {
  enum class Kind : uint8_t { kRoot, kKey, kIndex };
  const Path* parent = nullptr;
  Kind kind = Kind::kRoot;
  std::string_view text;  // kRoot: the whole prefix; kKey: the member name
  size_t index = 0;       // kIndex

  static Path Root(std::string_view text) { return Path{nullptr, Kind::kRoot, text, 0}; }
  Path Key(std::string_view key) const { return Path{this, Kind::kKey, key, 0}; }
  Path Index(size_t i) const { return Path{this, Kind::kIndex, {}, i}; }

  std::string Render() const {
    std::string prefix = parent == nullptr ? std::string() : parent->Render();
    switch (kind) {
      case Kind::kRoot:
        return prefix + std::string(text);
      case Kind::kKey:
        return JoinKey(prefix, text);
      case Kind::kIndex:
        return JoinIndex(prefix, index);
    }
    return prefix;
  }
};

Status ErrorAt(std::string_view path, const std::string& message) {
  std::string p = path.empty() ? std::string("value") : std::string(path);
  return InvalidArgument(p + ": " + message, p);
}

Status ErrorAt(const Path& path, const std::string& message) {
  return ErrorAt(path.Render(), message);
}

// The converter below reads JSON through one of two node views with the same
// interface: DomNode over a json::value, and TapeNode over a Tape, the flat
// record of one parse that the text entry points build instead of a DOM.
// Object members keep their document order in both; duplicate keys never
// reach the converter (ParseJson rejects them, and a tape holding one is not
// used).

class DomNode {
 public:
  DomNode() = default;
  explicit DomNode(const json::value& v) : v_(&v) {}

  json::kind kind() const { return v_->kind(); }
  bool is_object() const { return v_->is_object(); }
  bool is_array() const { return v_->is_array(); }
  bool is_string() const { return v_->is_string(); }
  bool get_bool() const { return v_->get_bool(); }
  int64_t get_int64() const { return v_->get_int64(); }
  std::string_view str() const {
    const json::string& s = v_->get_string();
    return std::string_view(s.data(), s.size());
  }
  // Members of an object or elements of an array.
  size_t size() const {
    return v_->is_object() ? v_->get_object().size() : v_->get_array().size();
  }
  std::optional<DomNode> Find(std::string_view key) const {
    const json::value* m = v_->get_object().if_contains(key);
    if (m == nullptr) return std::nullopt;
    return DomNode(*m);
  }
  json::value ToDom() const { return *v_; }

  class Members {
   public:
    explicit Members(const json::object& o) : it_(o.begin()), end_(o.end()) {}
    bool Next(std::string_view* key, DomNode* value) {
      if (it_ == end_) return false;
      *key = std::string_view(it_->key().data(), it_->key().size());
      *value = DomNode(it_->value());
      ++it_;
      return true;
    }

   private:
    json::object::const_iterator it_, end_;
  };
  class Elements {
   public:
    explicit Elements(const json::array& a) : it_(a.begin()), end_(a.end()) {}
    bool Next(DomNode* value) {
      if (it_ == end_) return false;
      *value = DomNode(*it_++);
      return true;
    }

   private:
    json::array::const_iterator it_, end_;
  };
  Members members() const { return Members(v_->get_object()); }
  Elements elements() const { return Elements(v_->get_array()); }

 private:
  const json::value* v_ = nullptr;
};

// One parse of a document as a flat token sequence in document order: a
// container token is followed by its contents (an object's as key, value,
// key, value ...) and records where they end. Strings view the input text,
// or the tape's own storage when the parser had to unescape them.
struct TapeToken {
  union {
    int64_t i;
    uint64_t u;
    const char* s;  // strings and keys
  };
  uint32_t n;  // strings and keys: the length; containers: members or elements
  uint32_t end;  // containers: the index just past the contents
  json::kind kind;
  bool b;

  std::string_view str() const { return std::string_view(s, n); }
};
static_assert(sizeof(TapeToken) == 24);

class Tape {
 public:
  std::vector<TapeToken> tokens;

  // The index of the value after the one at `i` (skipping its contents).
  uint32_t After(uint32_t i) const {
    const TapeToken& t = tokens[i];
    return t.kind == json::kind::object || t.kind == json::kind::array ? t.end : i + 1;
  }

  // Copies `s` into storage that lives as long as the tape.
  std::string_view Keep(std::string_view s) {
    if (s.size() > left_) {
      size_t size = std::max<size_t>(s.size(), 4096);
      blocks_.push_back(std::make_unique<char[]>(size));
      next_ = blocks_.back().get();
      left_ = size;
    }
    char* at = next_;
    std::copy(s.begin(), s.end(), at);
    next_ += s.size();
    left_ -= s.size();
    return std::string_view(at, s.size());
  }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
};

class TapeNode {
 public:
  TapeNode() = default;
  TapeNode(const Tape* tape, uint32_t index) : tape_(tape), index_(index) {}

  json::kind kind() const { return token().kind; }
  bool is_object() const { return kind() == json::kind::object; }
  bool is_array() const { return kind() == json::kind::array; }
  bool is_string() const { return kind() == json::kind::string; }
  bool get_bool() const { return token().b; }
  int64_t get_int64() const { return token().i; }
  std::string_view str() const { return token().str(); }
  size_t size() const { return token().n; }

  class Members {
   public:
    Members(const Tape* tape, uint32_t next, uint32_t end) : tape_(tape), next_(next), end_(end) {}
    bool Next(std::string_view* key, TapeNode* value) {
      if (next_ >= end_) return false;
      *key = tape_->tokens[next_].str();
      *value = TapeNode(tape_, next_ + 1);
      next_ = tape_->After(next_ + 1);
      return true;
    }

   private:
    const Tape* tape_;
    uint32_t next_, end_;
  };
  class Elements {
   public:
    Elements(const Tape* tape, uint32_t next, uint32_t end) : tape_(tape), next_(next), end_(end) {}
    bool Next(TapeNode* value) {
      if (next_ >= end_) return false;
      *value = TapeNode(tape_, next_);
      next_ = tape_->After(next_);
      return true;
    }

   private:
    const Tape* tape_;
    uint32_t next_, end_;
  };
  Members members() const { return Members(tape_, index_ + 1, token().end); }
  Elements elements() const { return Elements(tape_, index_ + 1, token().end); }

  std::optional<TapeNode> Find(std::string_view key) const {
    Members m = members();
    std::string_view k;
    TapeNode v;
    while (m.Next(&k, &v)) {
      if (k == key) return v;
    }
    return std::nullopt;
  }

  // The same value as a json::value (for error messages).
  json::value ToDom() const {
    const TapeToken& t = token();
    switch (t.kind) {
      case json::kind::null:
        return nullptr;
      case json::kind::bool_:
        return t.b;
      case json::kind::int64:
        return t.i;
      case json::kind::uint64:
        return t.u;
      case json::kind::double_:
        return nullptr;  // never on a tape
      case json::kind::string:
        return json::string(t.str());
      case json::kind::array: {
        json::array a;
        a.reserve(t.n);
        Elements e = elements();
        TapeNode v;
        while (e.Next(&v)) a.push_back(v.ToDom());
        return a;
      }
      case json::kind::object: {
        json::object o;
        Members m = members();
        std::string_view k;
        TapeNode v;
        while (m.Next(&k, &v)) o.emplace(k, v.ToDom());
        return o;
      }
    }
    return nullptr;
  }

 private:
  const TapeToken& token() const { return tape_->tokens[index_]; }
  const Tape* tape_ = nullptr;
  uint32_t index_ = 0;
};

// Boost.JSON SAX handler that records a Tape. It refuses (and the caller then
// falls back to ParseJson, whose results and messages are the reference) any
// document it cannot take with certainty: one holding a double (ParseJson
// rounds those more carefully; Cedar rejects them anyway) or a duplicate key.
class TapeBuilder {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  TapeBuilder(std::string_view text, Tape* tape) : text_(text), tape_(tape) {}

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) {
    Open(json::kind::array);
    return true;
  }
  bool on_array_end(std::size_t n, boost::system::error_code&) {
    Close(n);
    return true;
  }
  bool on_object_begin(boost::system::error_code&) {
    Open(json::kind::object);
    return true;
  }
  bool on_object_end(std::size_t n, boost::system::error_code& ec) {
    Close(n);
    if (HasDuplicate(n)) {
      ec = json::error::syntax;
      return false;
    }
    keys_.resize(keys_.size() - n);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, boost::system::error_code&) {
    pending_.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, boost::system::error_code&) {
    PushString(Stable(s));
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    pending_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code&) {
    std::string_view key = Stable(s);
    PushString(key);
    keys_.push_back(key);
    return true;
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(int64_t i, json::string_view, boost::system::error_code&) {
    Push(json::kind::int64).i = i;
    return true;
  }
  bool on_uint64(uint64_t u, json::string_view, boost::system::error_code&) {
    Push(json::kind::uint64).u = u;
    return true;
  }
  bool on_double(double, json::string_view, boost::system::error_code& ec) {
    ec = json::error::syntax;
    return false;
  }
  bool on_bool(bool b, boost::system::error_code&) {
    Push(json::kind::bool_).b = b;
    return true;
  }
  bool on_null(boost::system::error_code&) {
    Push(json::kind::null);
    return true;
  }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  TapeToken& Push(json::kind kind) {
    TapeToken& t = tape_->tokens.emplace_back();
    t.i = 0;
    t.n = 0;
    t.end = 0;
    t.kind = kind;
    t.b = false;
    return t;
  }
  void PushString(std::string_view s) {
    TapeToken& t = Push(json::kind::string);
    t.s = s.data();
    t.n = static_cast<uint32_t>(s.size());
  }
  void Open(json::kind kind) {
    open_.push_back(static_cast<uint32_t>(tape_->tokens.size()));
    Push(kind);
  }
  void Close(std::size_t n) {
    TapeToken& t = tape_->tokens[open_.back()];
    open_.pop_back();
    t.n = static_cast<uint32_t>(n);
    t.end = static_cast<uint32_t>(tape_->tokens.size());
  }
  // Whether the last `n` keys (the members of the object just closed) repeat.
  bool HasDuplicate(std::size_t n) {
    if (n < 2) return false;
    auto first = keys_.end() - static_cast<std::ptrdiff_t>(n);
    if (n <= 8) {
      for (auto a = first; a != keys_.end(); ++a) {
        for (auto b = a + 1; b != keys_.end(); ++b) {
          if (*a == *b) return true;
        }
      }
      return false;
    }
    scratch_.assign(first, keys_.end());
    std::sort(scratch_.begin(), scratch_.end());
    return std::adjacent_find(scratch_.begin(), scratch_.end()) != scratch_.end();
  }
  // The string as a view that outlives the parser: the input itself when the
  // string was read in place, the tape's storage otherwise.
  std::string_view Stable(json::string_view part) {
    std::string_view s(part.data(), part.size());
    if (!pending_.empty()) {
      pending_ += s;
      std::string_view kept = tape_->Keep(pending_);
      pending_.clear();
      return kept;
    }
    std::less_equal<const char*> le;
    if (le(text_.data(), s.data()) && le(s.data() + s.size(), text_.data() + text_.size())) {
      return s;
    }
    return tape_->Keep(s);
  }

  std::string_view text_;
  Tape* tape_;
  std::vector<uint32_t> open_;           // indices of the containers still open
  std::vector<std::string_view> keys_;   // keys of the objects still open
  std::vector<std::string_view> scratch_;
  std::string pending_;                  // a string read in parts
};

// Records `text` on `tape`; false (tape unusable) for anything ParseJson must
// judge: malformed or oversized text, a double or a duplicate key.
bool BuildTape(std::string_view text, const JsonParseOptions& options, Tape* tape) {
  if (text.size() > options.max_bytes || text.size() >= UINT32_MAX / 2) return false;
  json::parse_options po;
  po.max_depth = options.max_depth;
  // A rough bound on the token count (at least two bytes per token in most
  // JSON), so that the tape rarely grows.
  tape->tokens.reserve(text.size() / 6 + 4);
  json::basic_parser<TapeBuilder> parser(po, text, tape);
  boost::system::error_code ec;
  size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
  return !ec && consumed == text.size() && parser.done() && !tape->tokens.empty();
}

template <class Node>
std::optional<std::string_view> StringMember(const Node& o, std::string_view key) {
  std::optional<Node> m = o.Find(key);
  if (!m.has_value() || !m->is_string()) return std::nullopt;
  return m->str();
}

// Reads the members of object `o` once: "type" and "id" when they are
// strings, and the "__entity" member if any (when `escape` is given).
template <class Node>
void UidMembers(const Node& o, std::optional<std::string_view>* type,
                std::optional<std::string_view>* id, std::optional<Node>* escape) {
  typename Node::Members members = o.members();
  std::string_view key;
  Node value;
  while (members.Next(&key, &value)) {
    if (key == "type") {
      if (value.is_string()) *type = value.str();
    } else if (key == "id") {
      if (value.is_string()) *id = value.str();
    } else if (escape != nullptr && key == "__entity") {
      *escape = value;
    }
  }
}

// {"type": T, "id": I} with both strings (other members ignored), or false.
template <class Node>
bool TypeAndId(const Node& v, std::string_view* type, std::string_view* id) {
  if (!v.is_object()) return false;
  std::optional<std::string_view> t, i;
  UidMembers<Node>(v, &t, &i, nullptr);
  if (!t.has_value() || !i.has_value()) return false;
  *type = *t;
  *id = *i;
  return true;
}

template <class Node>
std::string_view KindName(const Node& v) {
  switch (v.kind()) {
    case json::kind::object:
      return JsonKindName(json::value(json::object_kind));
    case json::kind::array:
      return JsonKindName(json::value(json::array_kind));
    default:
      return JsonKindName(v.ToDom());
  }
}

// A number as a reader would write it (Boost prints doubles as "1.5E0").
std::string NumberText(const json::value& v) {
  if (!v.is_double()) return json::serialize(v);
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v.get_double());
  return res.ec == std::errc() ? std::string(buf, res.ptr) : json::serialize(v);
}

std::string Describe(const json::value& v) {
  std::string text = json::serialize(v);
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return text;
}

// Converts JSON to Cedar values for one document. Entity type names repeat
// throughout a document, so the last few validated names are remembered and
// each further occurrence costs a string comparison instead of validation
// plus a lookup in the process-wide intern table.
class Converter {
 public:
  // Lets repeated strings and entity uids of one document share a single
  // immutable instance (a direct-mapped cache of about 2 * `expected_values`
  // slots, at most kMaxShareSlots): entity files repeat parents, references and
  // enumeration-like strings, and a shared value costs no allocation and
  // compares by pointer later on.
  void EnableSharing(size_t expected_values) {
    size_t slots = 16;
    while (slots < expected_values * 2 && slots < kMaxShareSlots) slots <<= 1;
    strings_.assign(slots, Value());
    uids_.assign(slots, std::nullopt);
  }

  template <class Node>
  Result<Value> ParseValue(const Node& v, const Path& path, size_t depth);
  template <class Node>
  Result<Record> ParseRecordMembers(const Node& o, const Path& path, size_t depth);
  Result<EntityUid> MakeUid(std::string_view type, std::string_view id, const Path& path);
  template <class Node>
  Result<EntityUid> UidFromJson(const Node& v, const Path& path);
  template <class Node>
  Result<Entity> EntityFromJson(const Node& v, const Path& path);

 private:
  template <class Node>
  Result<Value> ParseObject(const Node& o, const Path& path, size_t depth);
  template <class Node>
  Result<std::vector<Value>> ParseElements(const Node& arr, const Path& path, size_t depth);
  template <class Node>
  Result<Value> ParseExtn(const Node& call, std::string_view fn, const Path& path, size_t depth);

  Value MakeString(std::string_view s);
  EntityUid ShareUid(const EntityType& type, std::string_view id);

  static constexpr size_t kMaxShareSlots = 4096;
  std::vector<Value> strings_;  // empty: no sharing; slots hold strings or Bool
  std::vector<std::optional<EntityUid>> uids_;
  static constexpr size_t kTypeCacheSize = 8;
  // Optional so that a converter for a single value costs nothing to set up.
  std::array<std::optional<EntityType>, kTypeCacheSize> types_;
  size_t type_count_ = 0;
  size_t type_next_ = 0;  // replacement cursor once the cache is full
};

Value Converter::MakeString(std::string_view s) {
  if (strings_.empty()) return Value::String(s);
  Value& slot = strings_[std::hash<std::string_view>{}(s) & (strings_.size() - 1)];
  if (!slot.is_string() || slot.AsString() != s) slot = Value::String(s);
  return slot;
}

EntityUid Converter::ShareUid(const EntityType& type, std::string_view id) {
  if (uids_.empty()) return EntityUid(type, id);
  size_t h = std::hash<std::string_view>{}(id) ^ type.hash();
  std::optional<EntityUid>& slot = uids_[h & (uids_.size() - 1)];
  if (!slot.has_value() || slot->type() != type || slot->id() != id) slot = EntityUid(type, id);
  return *slot;
}
Result<EntityUid> Converter::MakeUid(std::string_view type, std::string_view id,
                                     const Path& path) {
  for (size_t i = 0; i < type_count_; ++i) {
    if (types_[i]->name() == type) return ShareUid(*types_[i], id);
  }
  // Names validated by earlier documents on this thread: callers that parse
  // small documents per request would otherwise validate and intern the same
  // few names every time. Direct-mapped and bounded; EntityType is immutable.
  thread_local std::array<std::optional<EntityType>, 16> recent;
  std::optional<EntityType>& seen = recent[std::hash<std::string_view>{}(type) & 15];
  if (!seen.has_value() || seen->name() != type) {
    if (!IsValidEntityTypeName(type)) {
      return ErrorAt(path, "invalid entity type name \"" + EscapeCedarString(type) +
                               "\" (expected identifiers separated by `::`, no whitespace, "
                               "no reserved words)");
    }
    seen = EntityType(type);
  }
  EntityType t = *seen;
  if (type_count_ < kTypeCacheSize) {
    types_[type_count_++] = t;
  } else {
    types_[type_next_] = t;
    type_next_ = (type_next_ + 1) % kTypeCacheSize;
  }
  return ShareUid(t, id);
}

template <class Node>
Result<Value> Converter::ParseExtn(const Node& call, std::string_view fn, const Path& path,
                                   size_t depth) {
  std::vector<Value> args;
  const Path extn = path.Key("__extn");
  if (std::optional<Node> arg = call.Find("arg")) {
    WARDEN_ASSIGN_OR_RETURN(Value a, ParseValue(*arg, extn.Key("arg"), depth + 1));
    args.push_back(std::move(a));
  } else {
    WARDEN_ASSIGN_OR_RETURN(args, ParseElements(*call.Find("args"), extn.Key("args"), depth));
  }
  auto result = CallExtensionFunction(fn, args);
  if (!result.ok()) return ErrorAt(path, result.status().message());
  return result;
}

// Cedar reads an object as an escape only when the escape is its sole member
// and is well formed; otherwise the object is an ordinary record.
template <class Node>
Result<Value> Converter::ParseObject(const Node& o, const Path& path, size_t depth) {
  if (o.size() == 1) {
    std::string_view key;
    Node inner;
    o.members().Next(&key, &inner);
    if (key == "__expr" && inner.is_string()) {
      return ErrorAt(path, "the `__expr` escape is no longer supported");
    }
    std::string_view type, id;
    if (key == "__entity" && TypeAndId(inner, &type, &id)) {
      WARDEN_ASSIGN_OR_RETURN(EntityUid uid, MakeUid(type, id, path.Key("__entity")));
      return Value::Entity(std::move(uid));
    }
    if (key == "__extn" && inner.is_object()) {
      std::optional<std::string_view> fn = StringMember(inner, "fn");
      bool has_arg = inner.Find("arg").has_value();
      std::optional<Node> args = inner.Find("args");
      bool has_args = args.has_value() && args->is_array();
      if (fn.has_value() && (has_arg || has_args)) return ParseExtn(inner, *fn, path, depth);
    }
  }
  WARDEN_ASSIGN_OR_RETURN(Record record, ParseRecordMembers(o, path, depth));
  return Value::FromRecord(std::move(record));
}

template <class Node>
Result<Value> Converter::ParseValue(const Node& v, const Path& path, size_t depth) {
  if (depth > kMaxValueDepth) {
    return ErrorAt(path, "value nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
  }
  switch (v.kind()) {
    case json::kind::bool_:
      return Value::Bool(v.get_bool());
    case json::kind::int64:
      return Value::Long(v.get_int64());
    case json::kind::uint64:
    case json::kind::double_:
      // Boost.JSON yields uint64 above INT64_MAX and double for fractions,
      // exponents and values below INT64_MIN; Cedar longs are exact i64.
      return ErrorAt(path, "number " + NumberText(v.ToDom()) +
                               " is not a 64-bit integer (Cedar numbers are integers from "
                               "-9223372036854775808 to 9223372036854775807)");
    case json::kind::string:
      return MakeString(v.str());
    case json::kind::array: {
      WARDEN_ASSIGN_OR_RETURN(std::vector<Value> elems, ParseElements(v, path, depth));
      return Value::FromSet(Set::FromValues(std::move(elems)));
    }
    case json::kind::object:
      return ParseObject(v, path, depth);
    case json::kind::null:
      return ErrorAt(path, "found a `null`; JSON nulls are not allowed in Cedar");
  }
  return ErrorAt(path, "unsupported JSON value");
}

// The elements of array `arr` (at `path` and `depth`) as values.
template <class Node>
Result<std::vector<Value>> Converter::ParseElements(const Node& arr, const Path& path,
                                                    size_t depth) {
  std::vector<Value> out;
  out.reserve(arr.size());
  typename Node::Elements elements = arr.elements();
  Node e;
  for (size_t i = 0; elements.Next(&e); ++i) {
    WARDEN_ASSIGN_OR_RETURN(Value value, ParseValue(e, path.Index(i), depth + 1));
    out.push_back(std::move(value));
  }
  return out;
}

// The members of object `o` as a record; errors name `path` (the record) or
// the member. `depth` is that of the record itself.
template <class Node>
Result<Record> Converter::ParseRecordMembers(const Node& o, const Path& path, size_t depth) {
  std::vector<Record::Entry> entries;
  entries.reserve(o.size());
  typename Node::Members members = o.members();
  std::string_view key;
  Node value;
  while (members.Next(&key, &value)) {
    WARDEN_ASSIGN_OR_RETURN(Value member, ParseValue(value, path.Key(key), depth + 1));
    entries.emplace_back(std::string(key), std::move(member));
  }
  auto record = Record::FromEntries(std::move(entries));
  if (!record.ok()) return ErrorAt(path, record.status().message());
  return record;
}

template <class Node>
Result<EntityUid> Converter::UidFromJson(const Node& v, const Path& path) {
  if (v.is_object()) {
    std::optional<std::string_view> type, id;
    std::optional<Node> escape;
    UidMembers(v, &type, &id, &escape);
    std::string_view escaped_type, escaped_id;
    if (escape.has_value() && TypeAndId(*escape, &escaped_type, &escaped_id)) {
      return MakeUid(escaped_type, escaped_id, path);
    }
    if (type.has_value() && id.has_value()) return MakeUid(*type, *id, path);
  }
  return ErrorAt(path,
                 "expected an entity reference {\"type\": string, \"id\": string} or "
                 "{\"__entity\": {...}}, got " +
                     Describe(v.ToDom()));
}

template <class Node>
Result<Entity> Converter::EntityFromJson(const Node& v, const Path& path) {
  if (!v.is_object()) {
    return ErrorAt(path, "expected an entity object, got " + std::string(KindName(v)));
  }
  std::optional<Node> uid, attrs, parents, tags;
  {
    typename Node::Members members = v.members();
    std::string_view key;
    Node value;
    while (members.Next(&key, &value)) {
      if (key == "uid") {
        uid = value;
      } else if (key == "attrs") {
        attrs = value;
      } else if (key == "parents") {
        parents = value;
      } else if (key == "tags") {
        tags = value;
      }
    }
  }
  if (!uid.has_value()) return ErrorAt(path, "missing field `uid`");
  Entity e;
  WARDEN_ASSIGN_OR_RETURN(e.uid, UidFromJson(*uid, path.Key("uid")));
  // From here on errors name the entity itself ("entity User::\"a\": attrs.x:
  // ..."), which is what a reader of a large entity file needs.
  auto in_entity = [&e](const Status& s) { return s.WithContext("entity " + e.uid.ToString()); };
  if (!attrs.has_value()) return in_entity(InvalidArgument("missing field `attrs`"));
  if (!attrs->is_object()) {
    return in_entity(ErrorAt("attrs", "expected an object, got " + std::string(KindName(*attrs))));
  }
  if (!parents.has_value()) return in_entity(InvalidArgument("missing field `parents`"));
  if (!parents->is_array()) {
    return in_entity(
        ErrorAt("parents", "expected an array, got " + std::string(KindName(*parents))));
  }
  if (attrs->size() != 0) {
    auto record = ParseRecordMembers(*attrs, Path::Root("attrs"), 0);
    if (!record.ok()) return in_entity(record.status());
    e.attrs = std::move(record).value();
  }
  e.parents.reserve(parents->size());
  const Path parents_path = Path::Root("parents");
  typename Node::Elements elements = parents->elements();
  Node p;
  for (size_t i = 0; elements.Next(&p); ++i) {
    auto parent = UidFromJson(p, parents_path.Index(i));
    if (!parent.ok()) return in_entity(parent.status());
    e.parents.push_back(std::move(parent).value());
  }
  if (tags.has_value()) {
    if (!tags->is_object()) {
      return in_entity(ErrorAt("tags", "expected an object, got " + std::string(KindName(*tags))));
    }
    auto record = ParseRecordMembers(*tags, Path::Root("tags"), 0);
    if (!record.ok()) return in_entity(record.status());
    e.tags = std::move(record).value();
  }
  return e;
}

template <class Node>
Result<std::vector<Entity>> EntityList(Converter& conv, const Node& v) {
  if (!v.is_array()) {
    return ErrorAt("entities", "expected an array of entities, got " + std::string(KindName(v)));
  }
  std::vector<Entity> out;
  out.reserve(v.size());
  // Tiny documents would spend more on the cache than it saves.
  if (v.size() >= 8) conv.EnableSharing(v.size() * 4);
  const Path root = Path::Root("entities");
  typename Node::Elements elements = v.elements();
  Node e;
  for (size_t i = 0; elements.Next(&e); ++i) {
    WARDEN_ASSIGN_OR_RETURN(Entity entity, conv.EntityFromJson(e, root.Index(i)));
    out.push_back(std::move(entity));
  }
  return out;
}

template <class Node>
Result<Record> Context(Converter& conv, const Node& v) {
  if (!v.is_object()) {
    return ErrorAt("context", "expected an object, got " + std::string(KindName(v)));
  }
  return conv.ParseRecordMembers(v, Path::Root("context"), 0);
}

template <class Node>
Result<Request> RequestFrom(const Node& v) {
  if (!v.is_object()) return InvalidArgument("request: not an object");
  std::optional<Node> p = v.Find("principal");
  std::optional<Node> a = v.Find("action");
  std::optional<Node> res = v.Find("resource");
  std::optional<Node> ctx = v.Find("context");
  if (!p || !a || !res || !ctx) {
    return InvalidArgument("request: principal, action, resource and context are required");
  }
  Converter conv;
  Request req;
  WARDEN_ASSIGN_OR_RETURN(req.principal, conv.UidFromJson(*p, Path::Root("principal")));
  WARDEN_ASSIGN_OR_RETURN(req.action, conv.UidFromJson(*a, Path::Root("action")));
  WARDEN_ASSIGN_OR_RETURN(req.resource, conv.UidFromJson(*res, Path::Root("resource")));
  WARDEN_ASSIGN_OR_RETURN(req.context, Context(conv, *ctx));
  return req;
}

// Parses `text` and converts it with `convert` (a generic callable taking a
// DomNode or a TapeNode). The tape is tried first; whatever it refuses, and
// any conversion error, goes through ParseJson and the DOM, so results and
// error messages are exactly those of ParseJson followed by the converters.
template <class Convert>
auto ParseText(std::string_view text, const EntityJsonOptions& options, Convert convert)
    -> decltype(convert(DomNode())) {
  {
    // Each thread keeps one token buffer of moderate size for the next call,
    // so steady per-request parsing allocates no tape.
    static constexpr size_t kMaxSpareTokens = 32768;
    thread_local std::vector<TapeToken> spare;
    Tape tape;
    tape.tokens.swap(spare);
    tape.tokens.clear();
    auto result = BuildTape(text, options.json, &tape)
                      ? convert(TapeNode(&tape, 0))
                      : decltype(convert(DomNode()))(InvalidArgument("not on the tape"));
    if (tape.tokens.capacity() <= kMaxSpareTokens) spare.swap(tape.tokens);
    if (result.ok()) return result;
  }
  WARDEN_ASSIGN_OR_RETURN(json::value v, ParseJson(text, options.json));
  return convert(DomNode(v));
}

json::value Extn(std::string_view fn, std::string_view arg) {
  json::object call;
  call["fn"] = fn;
  call["arg"] = arg;
  json::object out;
  out["__extn"] = std::move(call);
  return out;
}

}  // namespace

Result<Value> ValueFromJson(const json::value& v, std::string_view path) {
  Converter conv;
  return conv.ParseValue(DomNode(v), Path::Root(path), 0);
}

Result<EntityUid> EntityUidFromJson(const json::value& v, std::string_view path) {
  Converter conv;
  return conv.UidFromJson(DomNode(v), Path::Root(path.empty() ? std::string_view("uid") : path));
}

Result<EntityUid> ParseEntityUidJson(std::string_view text, const EntityJsonOptions& options) {
  return ParseText(text, options, [](const auto& node) {
    Converter conv;
    return conv.UidFromJson(node, Path::Root("uid"));
  });
}

Result<Entity> EntityFromJson(const json::value& v, std::string_view path) {
  Converter conv;
  return conv.EntityFromJson(DomNode(v),
                             Path::Root(path.empty() ? std::string_view("entity") : path));
}

Result<std::vector<Entity>> EntityListFromJson(const json::value& v) {
  Converter conv;
  return EntityList(conv, DomNode(v));
}

Result<Entities> EntitiesFromJson(const json::value& v) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<Entity> list, EntityListFromJson(v));
  return Entities::Create(std::move(list));
}

Result<Entities> ParseEntitiesJson(std::string_view text, const EntityJsonOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<Entity> list,
                          ParseText(text, options, [](const auto& node) {
                            Converter conv;
                            return EntityList(conv, node);
                          }));
  return Entities::Create(std::move(list));
}

Result<Record> ContextFromJson(const json::value& v) {
  Converter conv;
  return Context(conv, DomNode(v));
}

Result<Record> ParseContextJson(std::string_view text, const EntityJsonOptions& options) {
  return ParseText(text, options, [](const auto& node) {
    Converter conv;
    return Context(conv, node);
  });
}

Result<Request> RequestFromJson(const json::value& v) { return RequestFrom(DomNode(v)); }

Result<Request> ParseRequestJson(std::string_view text, const EntityJsonOptions& options) {
  return ParseText(text, options, [](const auto& node) { return RequestFrom(node); });
}

json::value EntityUidToJson(const EntityUid& uid) {
  json::object o;
  o["type"] = uid.type().name();
  o["id"] = uid.id();
  return o;
}

json::value ValueToJson(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kBool:
      return v.AsBool();
    case ValueKind::kLong:
      return v.AsLong();
    case ValueKind::kString:
      return json::string(v.AsString());
    case ValueKind::kEntity: {
      json::object o;
      o["__entity"] = EntityUidToJson(v.AsEntity());
      return o;
    }
    case ValueKind::kSet: {
      json::array a;
      for (const Value& e : v.AsSet()) a.push_back(ValueToJson(e));
      return a;
    }
    case ValueKind::kRecord: {
      json::object o;
      for (const auto& [k, e] : v.AsRecord()) o[k] = ValueToJson(e);
      return o;
    }
    case ValueKind::kIpAddr:
      return Extn("ip", FormatIp(v.AsIp()));
    case ValueKind::kDecimal:
      return Extn("decimal", FormatDecimal(v.AsDecimal()));
    case ValueKind::kDatetime: {
      if (auto text = FormatDatetime(v.AsDatetime())) return Extn("datetime", *text);
      json::array args;
      args.push_back(Extn("datetime", "1970-01-01"));
      args.push_back(Extn("duration", FormatDuration(Duration{v.AsDatetime().ms})));
      json::object call;
      call["fn"] = "offset";
      call["args"] = std::move(args);
      json::object out;
      out["__extn"] = std::move(call);
      return out;
    }
    case ValueKind::kDuration:
      return Extn("duration", FormatDuration(v.AsDuration()));
  }
  return nullptr;
}

json::value EntityToJson(const Entity& e) {
  json::object o;
  o["uid"] = EntityUidToJson(e.uid);
  json::object attrs;
  for (const auto& [k, v] : e.attrs) attrs[k] = ValueToJson(v);
  o["attrs"] = std::move(attrs);
  json::array parents;
  for (const EntityUid& p : e.parents) parents.push_back(EntityUidToJson(p));
  o["parents"] = std::move(parents);
  if (!e.tags.empty()) {
    json::object tags;
    for (const auto& [k, v] : e.tags) tags[k] = ValueToJson(v);
    o["tags"] = std::move(tags);
  }
  return o;
}

json::value EntitiesToJson(const Entities& entities) {
  std::vector<const Entity*> sorted;
  sorted.reserve(entities.size());
  for (const Entity& e : entities.entities()) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(),
            [](const Entity* a, const Entity* b) { return a->uid < b->uid; });
  json::array a;
  a.reserve(sorted.size());
  for (const Entity* e : sorted) a.push_back(EntityToJson(*e));
  return a;
}

}  // namespace warden::cedar
