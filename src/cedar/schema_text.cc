// The Cedar text schema format (`.cedarschema`): a hand-written lexer and
// recursive-descent parser producing RawNamespaces, then shared resolution.
#include <algorithm>
#include <cctype>
#include <cstdint>

#include "internal/schema_raw.h"
#include "warden/cedar/schema.h"

namespace warden::cedar {

namespace {

using internal::RawAction;
using internal::RawActionRef;
using internal::RawAttr;
using internal::RawEntity;
using internal::RawLoc;
using internal::RawName;
using internal::RawNamespace;
using internal::RawType;

enum class Tok { kIdent, kString, kPunct, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier, decoded string, or punctuation ("::", "{", ...)
  int line = 1;
  int column = 1;
};

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  Lexer(std::string_view text, const SchemaSource& source) : text_(text), source_(source) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      SkipSpace();
      Token t;
      t.line = line_;
      t.column = column_;
      if (pos_ >= text_.size()) {
        out.push_back(t);
        return out;
      }
      char c = text_[pos_];
      if (IsIdentStart(c)) {
        t.kind = Tok::kIdent;
        while (pos_ < text_.size() && IsIdentChar(text_[pos_])) t.text += Advance();
      } else if (c == '"') {
        t.kind = Tok::kString;
        WARDEN_ASSIGN_OR_RETURN(t.text, ReadString());
      } else if (c == ':' && pos_ + 1 < text_.size() && text_[pos_ + 1] == ':') {
        t.kind = Tok::kPunct;
        t.text = "::";
        Advance();
        Advance();
      } else if (std::string_view("{}[]()<>,;:?=@").find(c) != std::string_view::npos) {
        t.kind = Tok::kPunct;
        t.text = std::string(1, Advance());
      } else {
        return Err(line_, column_, "unexpected character '" + Printable(c) + "'");
      }
      out.push_back(std::move(t));
    }
  }

 private:
  static bool IsIdentStart(char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
  static bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
  static std::string Printable(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      static const char* kHex = "0123456789abcdef";
      return std::string("\\x") + kHex[u >> 4] + kHex[u & 15];
    }
    return std::string(1, c);
  }
  Status Err(int line, int column, const std::string& msg) const {
    return InvalidArgument(source_.name + ":" + std::to_string(line) + ":" +
                           std::to_string(column) + ": " + msg);
  }
  char Advance() {
    char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++column_;  // count code points, not UTF-8 continuation bytes
    }
    return c;
  }
  void SkipSpace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        Advance();
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n') Advance();
      } else {
        return;
      }
    }
  }
  Result<std::string> ReadString() {
    int line = line_, column = column_;
    Advance();  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) return Err(line, column, "unterminated string literal");
      char c = Advance();
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) return Err(line, column, "unterminated string literal");
      int eline = line_, ecol = column_ - 1;
      char e = Advance();
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case '0':
          out += '\0';
          break;
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case 'u': {
          if (pos_ >= text_.size() || text_[pos_] != '{') {
            return Err(eline, ecol,
                       "invalid escape: expected `\\u{` followed by 1 to 6 hex digits");
          }
          Advance();
          uint32_t cp = 0;
          int digits = 0;
          while (pos_ < text_.size() && std::isxdigit(static_cast<unsigned char>(text_[pos_]))) {
            char h = Advance();
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                     ? h - '0'
                                                     : (std::tolower(h) - 'a' + 10));
            if (++digits > 6) return Err(eline, ecol, "invalid unicode escape: too many digits");
          }
          if (digits == 0 || pos_ >= text_.size() || text_[pos_] != '}') {
            return Err(eline, ecol, "invalid unicode escape: expected 1 to 6 hex digits and `}`");
          }
          Advance();
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return Err(eline, ecol, "invalid unicode escape: not a Unicode scalar value");
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return Err(eline, ecol, "invalid escape sequence `\\" + Printable(e) + "`");
      }
    }
  }

  std::string_view text_;
  const SchemaSource& source_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

class Parser {
 public:
  Parser(std::vector<Token> toks, const SchemaSource& source)
      : toks_(std::move(toks)), source_(source) {}

  Result<std::vector<RawNamespace>> Run() {
    std::vector<RawNamespace> out;
    RawNamespace empty;
    while (Peek().kind != Tok::kEnd) {
      RawLoc loc = Loc();
      WARDEN_RETURN_IF_ERROR(SkipAnnotations());
      if (IsWord("namespace")) {
        Next();
        RawNamespace ns;
        ns.loc = loc;
        WARDEN_ASSIGN_OR_RETURN(ns.name, ParsePath("a namespace name"));
        WARDEN_RETURN_IF_ERROR(Expect("{"));
        while (!IsPunct("}")) {
          if (Peek().kind == Tok::kEnd) return Error(Peek(), "expected `}` to close the namespace");
          WARDEN_RETURN_IF_ERROR(SkipAnnotations());
          WARDEN_RETURN_IF_ERROR(ParseDecl(ns));
        }
        Next();
        out.push_back(std::move(ns));
      } else {
        WARDEN_RETURN_IF_ERROR(ParseDecl(empty));
      }
    }
    out.insert(out.begin(), std::move(empty));
    return out;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, toks_.size() - 1);
    return toks_[i];
  }
  const Token& Next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  RawLoc Loc() const { return RawLoc{Peek().line, Peek().column, {}}; }
  bool IsPunct(std::string_view p, size_t ahead = 0) const {
    return Peek(ahead).kind == Tok::kPunct && Peek(ahead).text == p;
  }
  bool IsWord(std::string_view w) const { return Peek().kind == Tok::kIdent && Peek().text == w; }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kIdent:
        return "`" + t.text + "`";
      case Tok::kString:
        return "a string literal";
      case Tok::kPunct:
        return "`" + t.text + "`";
      case Tok::kEnd:
        return "end of input";
    }
    return "?";
  }
  Status Error(const Token& t, const std::string& msg) const {
    return InvalidArgument(source_.name + ":" + std::to_string(t.line) + ":" +
                           std::to_string(t.column) + ": " + msg + ", found " + Describe(t));
  }
  Status Expect(std::string_view p) {
    if (!IsPunct(p)) return Error(Peek(), "expected `" + std::string(p) + "`");
    Next();
    return OkStatus();
  }
  Result<std::string> ParseIdent(const std::string& what) {
    if (Peek().kind != Tok::kIdent) return Error(Peek(), "expected " + what);
    return Next().text;
  }
  Result<std::string> ParsePath(const std::string& what) {
    WARDEN_ASSIGN_OR_RETURN(std::string path, ParseIdent(what));
    while (IsPunct("::") && Peek(1).kind == Tok::kIdent) {
      Next();
      path += "::" + Next().text;
    }
    return path;
  }
  // A Name: identifier or string literal.
  Result<std::string> ParseName(const std::string& what) {
    if (Peek().kind == Tok::kIdent || Peek().kind == Tok::kString) return Next().text;
    return Error(Peek(), "expected " + what);
  }
  Status SkipAnnotations() {
    while (IsPunct("@")) {
      Next();
      WARDEN_RETURN_IF_ERROR(ParseIdent("an annotation name").status());
      if (IsPunct("(")) {
        Next();
        if (Peek().kind != Tok::kString)
          return Error(Peek(), "expected an annotation value string");
        Next();
        WARDEN_RETURN_IF_ERROR(Expect(")"));
      }
    }
    return OkStatus();
  }
  Status ParseDecl(RawNamespace& ns) {
    if (IsWord("entity")) return ParseEntity(ns);
    if (IsWord("action")) return ParseAction(ns);
    if (IsWord("type")) return ParseCommonType(ns);
    return Error(Peek(), "expected `entity`, `action`, `type` or `namespace`");
  }
  Result<std::vector<RawName>> ParseEntityTypes() {
    std::vector<RawName> out;
    if (IsPunct("[")) {
      Next();
      while (!IsPunct("]")) {
        RawLoc loc = Loc();
        WARDEN_ASSIGN_OR_RETURN(std::string p, ParsePath("an entity type name"));
        out.push_back({p, loc});
        if (IsPunct(",")) {
          Next();
        } else if (!IsPunct("]")) {
          return Error(Peek(), "expected `,` or `]`");
        }
      }
      Next();
    } else {
      RawLoc loc = Loc();
      WARDEN_ASSIGN_OR_RETURN(std::string p, ParsePath("an entity type name or `[`"));
      out.push_back({p, loc});
    }
    return out;
  }
  Status ParseEntity(RawNamespace& ns) {
    Next();  // entity
    std::vector<std::pair<std::string, RawLoc>> names;
    do {
      RawLoc loc = Loc();
      WARDEN_ASSIGN_OR_RETURN(std::string n, ParseIdent("an entity type name"));
      names.emplace_back(n, loc);
    } while (IsPunct(",") && (Next(), true));
    RawEntity proto;
    if (IsWord("enum")) {
      Next();
      WARDEN_RETURN_IF_ERROR(Expect("["));
      std::vector<std::string> ids;
      while (!IsPunct("]")) {
        if (Peek().kind != Tok::kString) return Error(Peek(), "expected an enum id string");
        ids.push_back(Next().text);
        if (IsPunct(",")) {
          Next();
        } else if (!IsPunct("]")) {
          return Error(Peek(), "expected `,` or `]`");
        }
      }
      Next();
      proto.enum_ids = std::move(ids);
    } else {
      if (IsWord("in")) {
        Next();
        WARDEN_ASSIGN_OR_RETURN(proto.member_of, ParseEntityTypes());
      }
      if (IsPunct("=")) {
        Next();
        if (!IsPunct("{")) return Error(Peek(), "expected a record type `{ ... }` after `=`");
      }
      if (IsPunct("{")) {
        WARDEN_ASSIGN_OR_RETURN(RawType shape, ParseType());
        proto.shape = std::move(shape);
      }
      if (IsWord("tags")) {
        Next();
        WARDEN_ASSIGN_OR_RETURN(RawType tags, ParseType());
        proto.tags = std::move(tags);
      }
    }
    WARDEN_RETURN_IF_ERROR(Expect(";"));
    for (auto& [n, loc] : names) {
      RawEntity e = proto;
      e.name = n;
      e.loc = loc;
      ns.entities.push_back(std::move(e));
    }
    return OkStatus();
  }
  Result<RawActionRef> ParseActionRef() {
    RawActionRef ref;
    ref.loc = Loc();
    if (Peek().kind == Tok::kString) {
      ref.id = Next().text;
      return ref;
    }
    WARDEN_ASSIGN_OR_RETURN(std::string first, ParseIdent("an action name"));
    std::string path = first;
    while (IsPunct("::")) {
      Next();
      if (Peek().kind == Tok::kString) {
        ref.type = path;
        ref.id = Next().text;
        return ref;
      }
      WARDEN_ASSIGN_OR_RETURN(std::string part, ParseIdent("an identifier or action id string"));
      path += "::" + part;
    }
    if (path != first) return Error(Peek(), "expected `::` and an action id string");
    ref.id = first;
    return ref;
  }
  Status ParseAction(RawNamespace& ns) {
    Next();  // action
    std::vector<std::pair<std::string, RawLoc>> names;
    do {
      RawLoc loc = Loc();
      WARDEN_ASSIGN_OR_RETURN(std::string n, ParseName("an action name"));
      names.emplace_back(n, loc);
    } while (IsPunct(",") && (Next(), true));
    RawAction proto;
    if (IsWord("in")) {
      Next();
      if (IsPunct("[")) {
        Next();
        while (!IsPunct("]")) {
          WARDEN_ASSIGN_OR_RETURN(RawActionRef r, ParseActionRef());
          proto.member_of.push_back(std::move(r));
          if (IsPunct(",")) {
            Next();
          } else if (!IsPunct("]")) {
            return Error(Peek(), "expected `,` or `]`");
          }
        }
        Next();
      } else {
        WARDEN_ASSIGN_OR_RETURN(RawActionRef r, ParseActionRef());
        proto.member_of.push_back(std::move(r));
      }
    }
    if (IsWord("appliesTo")) {
      Next();
      proto.has_applies_to = true;
      const Token open = Peek();
      WARDEN_RETURN_IF_ERROR(Expect("{"));
      bool saw_principal = false, saw_resource = false, saw_context = false;
      while (!IsPunct("}")) {
        const Token key = Peek();
        if (key.kind == Tok::kIdent && key.text == "principal" && !saw_principal) {
          Next();
          WARDEN_RETURN_IF_ERROR(Expect(":"));
          WARDEN_ASSIGN_OR_RETURN(proto.principals, ParseEntityTypes());
          saw_principal = true;
        } else if (key.kind == Tok::kIdent && key.text == "resource" && !saw_resource) {
          Next();
          WARDEN_RETURN_IF_ERROR(Expect(":"));
          WARDEN_ASSIGN_OR_RETURN(proto.resources, ParseEntityTypes());
          saw_resource = true;
        } else if (key.kind == Tok::kIdent && key.text == "context" && !saw_context) {
          Next();
          WARDEN_RETURN_IF_ERROR(Expect(":"));
          WARDEN_ASSIGN_OR_RETURN(RawType ctx, ParseType());
          if (ctx.kind == RawType::Kind::kSet) {
            return InvalidArgument(ctx.loc.Prefix(source_) +
                                   "expected a record type or a common type name for `context`");
          }
          proto.context = std::move(ctx);
          saw_context = true;
        } else {
          return Error(key, "expected `principal`, `resource` or `context` (each at most once)");
        }
        if (IsPunct(",")) {
          Next();
        } else if (!IsPunct("}")) {
          return Error(Peek(), "expected `,` or `}`");
        }
      }
      Next();
      if (!saw_principal || !saw_resource) {
        return Error(open, std::string("`appliesTo` must declare ") +
                               (saw_principal ? "`resource`" : "`principal`"));
      }
    }
    if (IsWord("attributes"))
      return Error(Peek(), "action attributes are not supported; expected `;`");
    WARDEN_RETURN_IF_ERROR(Expect(";"));
    for (auto& [n, loc] : names) {
      RawAction a = proto;
      a.id = n;
      a.loc = loc;
      ns.actions.push_back(std::move(a));
    }
    return OkStatus();
  }
  Status ParseCommonType(RawNamespace& ns) {
    Next();  // type
    internal::RawCommonType c;
    c.loc = Loc();
    WARDEN_ASSIGN_OR_RETURN(c.name, ParseIdent("a common type name"));
    WARDEN_RETURN_IF_ERROR(Expect("="));
    WARDEN_ASSIGN_OR_RETURN(c.type, ParseType());
    WARDEN_RETURN_IF_ERROR(Expect(";"));
    ns.common_types.push_back(std::move(c));
    return OkStatus();
  }
  Result<RawType> ParseType() {
    if (++depth_ > 64) return Error(Peek(), "types nested too deeply");
    auto r = ParseTypeInner();
    --depth_;
    return r;
  }
  Result<RawType> ParseTypeInner() {
    RawType t;
    t.loc = Loc();
    if (IsPunct("{")) {
      Next();
      t.kind = RawType::Kind::kRecord;
      while (!IsPunct("}")) {
        WARDEN_RETURN_IF_ERROR(SkipAnnotations());
        RawAttr a;
        a.loc = Loc();
        WARDEN_ASSIGN_OR_RETURN(a.name, ParseName("an attribute name"));
        if (IsPunct("?")) {
          Next();
          a.required = false;
        }
        WARDEN_RETURN_IF_ERROR(Expect(":"));
        WARDEN_ASSIGN_OR_RETURN(a.type, ParseType());
        t.attributes.push_back(std::move(a));
        if (IsPunct(",")) {
          Next();
        } else if (!IsPunct("}")) {
          return Error(Peek(), "expected `,` or `}`");
        }
      }
      Next();
      return t;
    }
    if (IsWord("Set") && IsPunct("<", 1)) {
      Next();
      Next();
      t.kind = RawType::Kind::kSet;
      WARDEN_ASSIGN_OR_RETURN(RawType e, ParseType());
      t.element = std::make_shared<RawType>(std::move(e));
      WARDEN_RETURN_IF_ERROR(Expect(">"));
      return t;
    }
    if (Peek().kind != Tok::kIdent) return Error(Peek(), "expected a type");
    t.kind = RawType::Kind::kEntityOrCommon;
    WARDEN_ASSIGN_OR_RETURN(t.name, ParsePath("a type"));
    return t;
  }

  std::vector<Token> toks_;
  const SchemaSource& source_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<Schema> Schema::ParseText(std::string_view text, const SchemaSource& source) {
  if (text.size() > (16u << 20))
    return InvalidArgument(source.name + ": schema larger than 16 MiB");
  Lexer lexer(text, source);
  WARDEN_ASSIGN_OR_RETURN(std::vector<Token> toks, lexer.Run());
  Parser parser(std::move(toks), source);
  WARDEN_ASSIGN_OR_RETURN(std::vector<RawNamespace> nss, parser.Run());
  return SchemaBuilder::Build(nss, source);
}

}  // namespace warden::cedar
