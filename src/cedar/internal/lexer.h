// Cedar lexer: splits policy text into tokens with byte offsets and 1-based
// line/column (columns in code points). Also decodes string literals and `like`
// patterns. Internal to the cedar module; stateless functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "warden/cedar/ast.h"

namespace warden::cedar::internal {

enum class Tok : uint8_t {
  kEof,
  kError,   // text holds the offending input; LexOutput::error the message
  kIdent,   // [_a-zA-Z][_a-zA-Z0-9]*, keywords included
  kInt,     // [0-9]+ (value checked by the parser)
  kString,  // text includes the quotes; escapes not yet decoded
  kSlot,    // ?ident
  kAt,
  kDot,
  kComma,
  kSemi,
  kColon,
  kColonColon,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kEqEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kOrOr,
  kAndAnd,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kBang,
  kAssign,  // `=`, only to report "use ==".
};

struct Token {
  Tok kind = Tok::kEof;
  std::string_view text;  // points into the lexed input
  uint32_t offset = 0;
  uint32_t line = 1;
  uint32_t column = 1;
};

struct LexOutput {
  // Always ends with kEof, or with kError followed by kEof.
  std::vector<Token> tokens;
  std::string error;  // message for the kError token, if any
};

// Tokenizes `text` (which must be at most 4 GiB). Invalid UTF-8, stray
// characters and unterminated strings end the stream with a kError token.
LexOutput Lex(std::string_view text);

// Decodes the body of a string literal token (quotes included in `token_text`).
// Returns false and sets `*error` on an invalid escape.
bool DecodeStringLiteral(std::string_view token_text, std::string* out, std::string* error);

// Decodes a `like` pattern literal (quotes included): `*` is a wildcard, `\*` a
// literal star, other escapes as in strings.
bool DecodePatternLiteral(std::string_view token_text, std::vector<PatternElem>* out,
                          std::string* error);

// Human text of a token for messages: "`foo`", "end of input".
std::string DescribeToken(const Token& token);

}  // namespace warden::cedar::internal
