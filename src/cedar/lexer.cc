// Cedar tokenizer and literal decoding. Follows the token rules of Cedar's
// grammar: identifiers are ASCII, whitespace is Unicode White_Space, `//`
// comments run to the end of the line, and a string literal is `"` followed by
// any characters except `"`/`\` or a backslash and one non-newline character.
#include "cedar/internal/lexer.h"

#include <algorithm>

namespace warden::cedar::internal {
namespace {

bool IsIdentStart(unsigned char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsIdentChar(unsigned char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

// Decodes one UTF-8 code point at text[i]; returns its length (0 when invalid).
size_t DecodeUtf8(std::string_view text, size_t i, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len = 0;
  uint32_t value = 0;
  uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    value = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    value = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    value = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  // Reject overlong forms, surrogates and values past U+10FFFF.
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  *cp = value;
  return len;
}

bool IsUnicodeWhitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  LexOutput Run() {
    LexOutput out;
    out.tokens.reserve(text_.size() / 3 + 2);
    while (true) {
      if (!SkipTrivia(&out)) break;
      if (pos_ >= text_.size()) break;
      if (!NextToken(&out)) break;
    }
    Token eof;
    eof.kind = Tok::kEof;
    eof.offset = static_cast<uint32_t>(pos_);
    eof.line = line_;
    eof.column = column_;
    eof.text = text_.substr(pos_, 0);
    out.tokens.push_back(eof);
    return out;
  }

 private:
  // Advances over `n` bytes of already-validated text, tracking line and column.
  void Advance(size_t n) {
    for (size_t k = 0; k < n; ++k) {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '\n') {
        ++line_;
        column_ = 1;
      } else if (c == '\r') {
        // "\r\n" counts once (at the '\n'); a lone '\r' ends a line too.
        if (pos_ + 1 >= text_.size() || text_[pos_ + 1] != '\n') {
          ++line_;
          column_ = 1;
        }
      } else if ((c & 0xC0) != 0x80) {
        ++column_;
      }
      ++pos_;
    }
  }

  Token Start() const {
    Token t;
    t.offset = static_cast<uint32_t>(pos_);
    t.line = line_;
    t.column = column_;
    return t;
  }

  bool Error(LexOutput* out, size_t length, std::string message) {
    Token t = Start();
    t.kind = Tok::kError;
    t.text = text_.substr(pos_, length);
    out->tokens.push_back(t);
    out->error = std::move(message);
    return false;
  }

  // Skips whitespace and comments; false after reporting an error.
  bool SkipTrivia(LexOutput* out) {
    while (pos_ < text_.size()) {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        size_t end = pos_;
        while (end < text_.size() && text_[end] != '\n' && text_[end] != '\r') ++end;
        // Comments may hold any text, but it must still be UTF-8.
        for (size_t i = pos_; i < end;) {
          uint32_t cp = 0;
          const size_t len = DecodeUtf8(text_, i, &cp);
          if (len == 0) {
            Advance(i - pos_);
            return Error(out, 1, "invalid UTF-8 in comment");
          }
          i += len;
        }
        Advance(end - pos_);
        continue;
      }
      uint32_t cp = 0;
      const size_t len = DecodeUtf8(text_, pos_, &cp);
      if (len == 0) return Error(out, 1, "invalid UTF-8 in policy text");
      if (!IsUnicodeWhitespace(cp)) return true;
      Advance(len);
    }
    return true;
  }

  bool Emit(LexOutput* out, Tok kind, size_t length) {
    Token t = Start();
    t.kind = kind;
    t.text = text_.substr(pos_, length);
    out->tokens.push_back(t);
    Advance(length);
    return true;
  }

  bool NextToken(LexOutput* out) {
    const auto c = static_cast<unsigned char>(text_[pos_]);
    const char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    if (IsIdentStart(c)) {
      size_t end = pos_ + 1;
      while (end < text_.size() && IsIdentChar(static_cast<unsigned char>(text_[end]))) ++end;
      return Emit(out, Tok::kIdent, end - pos_);
    }
    if (IsDigit(c)) {
      size_t end = pos_ + 1;
      while (end < text_.size() && IsDigit(static_cast<unsigned char>(text_[end]))) ++end;
      return Emit(out, Tok::kInt, end - pos_);
    }
    if (c == '"') return LexString(out);
    if (c == '?') {
      if (pos_ + 1 < text_.size() && IsIdentStart(static_cast<unsigned char>(next))) {
        size_t end = pos_ + 2;
        while (end < text_.size() && IsIdentChar(static_cast<unsigned char>(text_[end]))) ++end;
        return Emit(out, Tok::kSlot, end - pos_);
      }
      return Error(out, 1, "invalid token `?`: a template slot is `?principal` or `?resource`");
    }
    switch (c) {
      case '@': return Emit(out, Tok::kAt, 1);
      case '.': return Emit(out, Tok::kDot, 1);
      case ',': return Emit(out, Tok::kComma, 1);
      case ';': return Emit(out, Tok::kSemi, 1);
      case ':': return next == ':' ? Emit(out, Tok::kColonColon, 2) : Emit(out, Tok::kColon, 1);
      case '(': return Emit(out, Tok::kLParen, 1);
      case ')': return Emit(out, Tok::kRParen, 1);
      case '{': return Emit(out, Tok::kLBrace, 1);
      case '}': return Emit(out, Tok::kRBrace, 1);
      case '[': return Emit(out, Tok::kLBracket, 1);
      case ']': return Emit(out, Tok::kRBracket, 1);
      case '=': return next == '=' ? Emit(out, Tok::kEqEq, 2) : Emit(out, Tok::kAssign, 1);
      case '!': return next == '=' ? Emit(out, Tok::kNe, 2) : Emit(out, Tok::kBang, 1);
      case '<': return next == '=' ? Emit(out, Tok::kLe, 2) : Emit(out, Tok::kLt, 1);
      case '>': return next == '=' ? Emit(out, Tok::kGe, 2) : Emit(out, Tok::kGt, 1);
      case '|':
        if (next == '|') return Emit(out, Tok::kOrOr, 2);
        return Error(out, 1, "invalid token `|`: did you mean `||`?");
      case '&':
        if (next == '&') return Emit(out, Tok::kAndAnd, 2);
        return Error(out, 1, "invalid token `&`: did you mean `&&`?");
      case '+': return Emit(out, Tok::kPlus, 1);
      case '-': return Emit(out, Tok::kMinus, 1);
      case '*': return Emit(out, Tok::kStar, 1);
      case '/': return Emit(out, Tok::kSlash, 1);
      case '%': return Emit(out, Tok::kPercent, 1);
      default: break;
    }
    uint32_t cp = 0;
    const size_t len = DecodeUtf8(text_, pos_, &cp);
    if (len == 0) return Error(out, 1, "invalid UTF-8 in policy text");
    return Error(out, len, "invalid character `" + std::string(text_.substr(pos_, len)) + "`");
  }

  bool LexString(LexOutput* out) {
    size_t i = pos_ + 1;
    while (i < text_.size()) {
      const char ch = text_[i];
      if (ch == '"') {
        return Emit(out, Tok::kString, i + 1 - pos_);
      }
      if (ch == '\\') {
        if (i + 1 >= text_.size() || text_[i + 1] == '\n') break;
        ++i;  // the escaped character (validated when decoded)
      }
      uint32_t cp = 0;
      const size_t len = DecodeUtf8(text_, i, &cp);
      if (len == 0) {
        Advance(i - pos_);
        return Error(out, 1, "invalid UTF-8 in string literal");
      }
      i += len;
    }
    return Error(out, 1, "unterminated string literal (a string must be closed by `\"` and a "
                         "backslash cannot precede a line break)");
  }

  std::string_view text_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  uint32_t column_ = 1;
};

// Shared escape decoder. `pattern` enables `\*` and makes bare `*` a wildcard.
// Emits literal text through `literal` and wildcards through `wildcard`.
template <typename LiteralFn, typename WildcardFn>
bool DecodeBody(std::string_view token_text, bool pattern, std::string* error,
                LiteralFn literal, WildcardFn wildcard) {
  if (token_text.size() < 2) {
    *error = "malformed string literal";
    return false;
  }
  const std::string_view body = token_text.substr(1, token_text.size() - 2);
  std::string chunk;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '*' && pattern) {
      literal(&chunk);
      wildcard();
      continue;
    }
    if (c != '\\') {
      chunk.push_back(c);
      continue;
    }
    const size_t start = i;
    auto fail = [&](size_t end) {
      *error = "the input `" + std::string(body.substr(start, end - start)) +
               "` is not a valid escape";
      return false;
    };
    if (i + 1 >= body.size()) return fail(body.size());
    const char e = body[++i];
    switch (e) {
      case 'n': chunk.push_back('\n'); break;
      case 'r': chunk.push_back('\r'); break;
      case 't': chunk.push_back('\t'); break;
      case '0': chunk.push_back('\0'); break;
      case '\\': chunk.push_back('\\'); break;
      case '\'': chunk.push_back('\''); break;
      case '"': chunk.push_back('"'); break;
      case '*':
        if (!pattern) return fail(i + 1);
        chunk.push_back('*');
        break;
      case 'x': {
        // \xHH, at most 0x7F (one ASCII byte), as in Rust string literals.
        if (i + 2 >= body.size()) return fail(body.size());
        const int hi = HexValue(body[i + 1]);
        const int lo = HexValue(body[i + 2]);
        if (hi < 0 || lo < 0) return fail(i + 3);
        if (hi > 7) return fail(i + 3);
        chunk.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        break;
      }
      case 'u': {
        // \u{H..H}: 1 to 6 hex digits, a Unicode scalar value.
        if (i + 1 >= body.size() || body[i + 1] != '{') return fail(i + 1);
        size_t j = i + 2;
        uint32_t value = 0;
        size_t digits = 0;
        while (j < body.size() && body[j] != '}') {
          const int h = HexValue(body[j]);
          if (h < 0 || digits >= 6) return fail(std::min(j + 1, body.size()));
          value = value * 16 + static_cast<uint32_t>(h);
          ++digits;
          ++j;
        }
        if (j >= body.size()) return fail(body.size());
        if (digits == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
          return fail(j + 1);
        }
        AppendUtf8(value, &chunk);
        i = j;
        break;
      }
      default: {
        uint32_t cp = 0;
        const size_t len = DecodeUtf8(body, i, &cp);
        return fail(i + (len == 0 ? 1 : len));
      }
    }
  }
  literal(&chunk);
  return true;
}

}  // namespace

LexOutput Lex(std::string_view text) { return Lexer(text).Run(); }

bool DecodeStringLiteral(std::string_view token_text, std::string* out, std::string* error) {
  out->clear();
  return DecodeBody(
      token_text, /*pattern=*/false, error,
      [out](std::string* chunk) {
        out->append(*chunk);
        chunk->clear();
      },
      [] {});
}

bool DecodePatternLiteral(std::string_view token_text, std::vector<PatternElem>* out,
                          std::string* error) {
  out->clear();
  return DecodeBody(
      token_text, /*pattern=*/true, error,
      [out](std::string* chunk) {
        if (chunk->empty()) return;
        if (!out->empty() && !out->back().wildcard) {
          out->back().literal.append(*chunk);
        } else {
          out->push_back(PatternElem{false, *chunk});
        }
        chunk->clear();
      },
      [out] { out->push_back(PatternElem{true, {}}); });
}

std::string DescribeToken(const Token& token) {
  switch (token.kind) {
    case Tok::kEof:
      return "end of input";
    case Tok::kString:
      return token.text.size() > 40 ? "string literal" : "`" + std::string(token.text) + "`";
    default:
      return "`" + std::string(token.text.substr(0, 40)) + "`";
  }
}

}  // namespace warden::cedar::internal
