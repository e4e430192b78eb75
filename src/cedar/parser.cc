// Recursive-descent parser for Cedar policies (language 4.5). It accepts the
// same language as Cedar's reference grammar plus its AST conversion checks
// (reserved words, scope shapes, builtin names and arities, literal ranges), so
// that text Cedar rejects is rejected here too. Depth of recursion and height of
// the produced trees are bounded so hostile input cannot exhaust the stack.
#include "warden/cedar/parser.h"

#include <algorithm>
#include <array>
#include <limits>
#include <unordered_set>
#include <utility>

#include "cedar/internal/lexer.h"
#include "warden/cedar/formatter.h"

namespace warden::cedar {
namespace {

using internal::Tok;
using internal::Token;

constexpr std::array<std::string_view, 9> kReservedWords = {
    "true", "false", "if", "then", "else", "in", "is", "like", "has"};

bool IsReservedWord(std::string_view s) {
  return std::find(kReservedWords.begin(), kReservedWords.end(), s) != kReservedWords.end();
}

bool IsIdentText(std::string_view s) {
  if (s.empty()) return false;
  auto start = [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  if (!start(s[0])) return false;
  return std::all_of(s.begin() + 1, s.end(),
                     [&](char c) { return start(c) || (c >= '0' && c <= '9'); });
}

std::optional<Var> VarFromName(std::string_view s) {
  if (s == "principal") return Var::kPrincipal;
  if (s == "action") return Var::kAction;
  if (s == "resource") return Var::kResource;
  if (s == "context") return Var::kContext;
  return std::nullopt;
}

std::string_view VarName(Var var) {
  switch (var) {
    case Var::kPrincipal: return "principal";
    case Var::kAction: return "action";
    case Var::kResource: return "resource";
    case Var::kContext: return "context";
  }
  return "";
}

std::string_view SlotName(SlotId slot) {
  return slot == SlotId::kPrincipal ? "?principal" : "?resource";
}

// Expected arity of builtin methods Cedar checks at parse time (extension
// methods and functions are checked at evaluation, as Cedar does).
std::optional<size_t> ParseTimeArity(BuiltinFn fn) {
  switch (fn) {
    case BuiltinFn::kContains:
    case BuiltinFn::kContainsAll:
    case BuiltinFn::kContainsAny:
    case BuiltinFn::kHasTag:
    case BuiltinFn::kGetTag:
      return 1;
    case BuiltinFn::kIsEmpty:
      return 0;
    default:
      return std::nullopt;
  }
}

std::string Plural(size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

// A parsed expression with the height of its tree (1 for a leaf).
struct Node {
  ExprPtr e;
  uint32_t h = 0;
  explicit operator bool() const { return e != nullptr; }
};

enum class SlotMode { kForbidden, kScope, kWhen, kUnless };

class Parser {
 public:
  Parser(std::string_view text, std::string_view file_name, const ParseLimits& limits,
         std::vector<ParseError>* errors)
      : text_(text),
        file_(std::make_shared<const std::string>(file_name)),
        limits_(limits),
        errors_(errors) {}

  // Lexes; false (with an error recorded) when the input is too large.
  bool Init() {
    if (text_.size() > limits_.max_input_bytes || text_.size() > 0xFFFFFFF0u) {
      ParseError err;
      err.loc.file = file_;
      err.loc.line = 1;
      err.loc.column = 1;
      err.message = "policy text is too large (" + std::to_string(text_.size()) +
                    " bytes; limit " + std::to_string(limits_.max_input_bytes) + ")";
      errors_->push_back(std::move(err));
      return false;
    }
    lex_ = internal::Lex(text_);
    return true;
  }

  PolicySetAst ParseAll() {
    PolicySetAst out;
    size_t index = 0;
    while (Peek().kind != Tok::kEof) {
      const size_t errors_before = errors_->size();
      Policy policy;
      if (ParsePolicy(&policy)) {
        policy.id = "policy" + std::to_string(index);
        out.policies.push_back(std::move(policy));
      } else {
        if (errors_->size() == errors_before) Fail(Peek(), "invalid policy");
        if (lexer_failed_ || errors_->size() >= limits_.max_errors) break;
        Recover();
      }
      ++index;
    }
    return out;
  }

  bool ParseSinglePolicy(Policy* policy) {
    if (!ParsePolicy(policy)) {
      if (errors_->empty()) Fail(Peek(), "invalid policy");
      return false;
    }
    if (Peek().kind != Tok::kEof) {
      Fail(Peek(), "expected end of input after the policy, found " + Describe(Peek()));
      return false;
    }
    return true;
  }

  ExprPtr ParseStandaloneExpr() {
    slot_mode_ = SlotMode::kForbidden;
    Node n = ParseExpr();
    if (!n) return nullptr;
    if (Peek().kind != Tok::kEof) {
      Fail(Peek(), "expected end of input, found " + Describe(Peek()));
      return nullptr;
    }
    return std::move(n.e);
  }

  // Entity UID or type name alone (with `want_uid`), followed by end of input.
  bool ParseStandaloneName(bool want_uid, EntityUidLit* uid, std::string* type) {
    const Token& first = Peek();
    if (first.kind != Tok::kIdent) {
      Fail(first, std::string("expected ") + (want_uid ? "an entity uid" : "an entity type") +
                      ", found " + Describe(first));
      return false;
    }
    std::vector<std::string_view> path;
    path.push_back(Next().text);
    while (Peek().kind == Tok::kColonColon && PeekAt(1).kind == Tok::kIdent) {
      Next();
      path.push_back(Next().text);
    }
    if (!CheckName(path, first)) return false;
    if (want_uid) {
      if (!Expect(Tok::kColonColon, "`::`")) return false;
      const Token& str = Peek();
      if (str.kind != Tok::kString) {
        Fail(str, "expected an entity id string, found " + Describe(str));
        return false;
      }
      Next();
      uid->type = JoinPath(path);
      uid->loc = LocSpan(first);
      if (!Decode(str, &uid->id)) return false;
    } else {
      *type = JoinPath(path);
    }
    if (Peek().kind != Tok::kEof) {
      Fail(Peek(), "expected end of input, found " + Describe(Peek()));
      return false;
    }
    return true;
  }

 private:
  // ---- token access -------------------------------------------------------

  const Token& Peek() const { return lex_.tokens[pos_]; }
  const Token& PeekAt(size_t ahead) const {
    const size_t i = std::min(pos_ + ahead, lex_.tokens.size() - 1);
    return lex_.tokens[i];
  }
  const Token& Next() {
    const Token& t = lex_.tokens[pos_];
    if (t.kind != Tok::kEof && t.kind != Tok::kError) {
      prev_end_ = t.offset + static_cast<uint32_t>(t.text.size());
      ++pos_;
    }
    return t;
  }
  bool PeekIdent(std::string_view word) const {
    return Peek().kind == Tok::kIdent && Peek().text == word;
  }

  SourceLoc Loc(const Token& t) const {
    SourceLoc loc;
    loc.file = file_;
    loc.line = t.line;
    loc.column = t.column;
    loc.offset = t.offset;
    loc.length = static_cast<uint32_t>(t.text.size());
    return loc;
  }
  // Location from `start` to the end of the last consumed token.
  SourceLoc LocSpan(const Token& start) const {
    SourceLoc loc = Loc(start);
    loc.length = prev_end_ > start.offset ? prev_end_ - start.offset : loc.length;
    return loc;
  }
  void ExtendTo(SourceLoc* loc) const {
    if (prev_end_ > loc->offset) loc->length = prev_end_ - loc->offset;
  }

  std::string Describe(const Token& t) const { return internal::DescribeToken(t); }

  // ---- errors -------------------------------------------------------------

  void FailAt(const SourceLoc& loc, std::string message) {
    if (errors_->size() > errors_at_policy_start_) return;  // one error per policy
    ParseError err;
    err.loc = loc;
    err.message = std::move(message);
    errors_->push_back(std::move(err));
  }
  void Fail(const Token& t, std::string message) {
    if (t.kind == Tok::kError) {
      lexer_failed_ = true;
      FailAt(Loc(t), lex_.error);
      return;
    }
    FailAt(Loc(t), std::move(message));
  }
  bool Expect(Tok kind, std::string_view what) {
    if (Peek().kind == kind) {
      Next();
      return true;
    }
    Fail(Peek(), "expected " + std::string(what) + ", found " + Describe(Peek()));
    return false;
  }

  // Skips to just after the next `;` so later policies can still be checked.
  void Recover() {
    while (Peek().kind != Tok::kEof && Peek().kind != Tok::kError) {
      if (Next().kind == Tok::kSemi) return;
    }
  }

  // ---- names and literals -------------------------------------------------

  static std::string JoinPath(const std::vector<std::string_view>& path) {
    std::string out;
    for (size_t i = 0; i < path.size(); ++i) {
      if (i) out += "::";
      out += path[i];
    }
    return out;
  }

  // Reserved-word checks for a `::`-separated name (types, functions).
  bool CheckName(const std::vector<std::string_view>& path, const Token& at) {
    for (auto part : path) {
      if (IsReservedWord(part)) {
        Fail(at, "this identifier is reserved and cannot be used: " + std::string(part));
        return false;
      }
    }
    for (auto part : path) {
      if (part == "__cedar") {
        Fail(at, "The name `" + JoinPath(path) + "` contains `__cedar`, which is reserved");
        return false;
      }
    }
    return true;
  }
  // Checks an unquoted attribute name or record key.
  bool CheckAttrIdent(const Token& t) {
    if (IsReservedWord(t.text)) {
      Fail(t, "this identifier is reserved and cannot be used: " + std::string(t.text));
      return false;
    }
    if (t.text == "__cedar") {
      Fail(t, "The name `__cedar` contains `__cedar`, which is reserved");
      return false;
    }
    return true;
  }

  bool Decode(const Token& t, std::string* out) {
    std::string error;
    if (!internal::DecodeStringLiteral(t.text, out, &error)) {
      Fail(t, error);
      return false;
    }
    return true;
  }

  // Parses the digits of an integer token; false when above u64 range.
  static bool ParseU64(std::string_view digits, uint64_t* out) {
    uint64_t v = 0;
    for (char c : digits) {
      const auto d = static_cast<uint64_t>(c - '0');
      if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
      v = v * 10 + d;
    }
    *out = v;
    return true;
  }

  // ---- node construction --------------------------------------------------

  // Makes a childless node; fails once the text has too many nodes.
  Node Leaf(ExprKind kind, SourceLoc loc) {
    if (++node_count_ > limits_.max_expr_nodes) {
      FailAt(loc, "policy text has too many expression nodes (limit " +
                      std::to_string(limits_.max_expr_nodes) + ")");
      return Node{};
    }
    Node n;
    n.e = std::make_unique<Expr>();
    n.e->kind = kind;
    n.e->loc = std::move(loc);
    n.h = 1;
    return n;
  }

  // Makes a node owning `children`; fails when the tree gets too tall.
  Node Make(ExprKind kind, SourceLoc loc, std::vector<Node> children) {
    Node n = Leaf(kind, std::move(loc));
    if (!n) return n;
    uint32_t h = 0;
    n.e->operands.reserve(children.size());
    for (auto& child : children) {
      h = std::max(h, child.h);
      n.e->operands.push_back(std::move(child.e));
    }
    n.h = h + 1;
    if (n.h > limits_.max_expr_height) {
      FailAt(n.e->loc, "expression is too deeply nested (limit " +
                           std::to_string(limits_.max_expr_height) + " levels)");
      return Node{};
    }
    return n;
  }
  Node MakeBinary(ExprKind kind, Node lhs, Node rhs) {
    SourceLoc loc = lhs.e->loc;
    ExtendTo(&loc);
    std::vector<Node> children;
    children.push_back(std::move(lhs));
    children.push_back(std::move(rhs));
    return Make(kind, std::move(loc), std::move(children));
  }
  Node MakeUnary(ExprKind kind, SourceLoc loc, Node operand) {
    ExtendTo(&loc);
    std::vector<Node> children;
    children.push_back(std::move(operand));
    return Make(kind, std::move(loc), std::move(children));
  }

  // ---- policies -----------------------------------------------------------

  bool ParsePolicy(Policy* policy) {
    errors_at_policy_start_ = errors_->size();
    const Token& start = Peek();
    policy->loc = Loc(start);
    std::unordered_set<std::string> annotation_keys;
    while (Peek().kind == Tok::kAt) {
      if (!ParseAnnotation(policy, &annotation_keys)) return false;
    }
    const Token& effect = Peek();
    if (effect.kind != Tok::kIdent) {
      Fail(effect, "expected `permit` or `forbid`, found " + Describe(effect));
      return false;
    }
    if (effect.text == "permit") {
      policy->effect = Effect::kPermit;
    } else if (effect.text == "forbid") {
      policy->effect = Effect::kForbid;
    } else {
      Fail(effect, "invalid policy effect: " + std::string(effect.text) +
                       " (effect must be either `permit` or `forbid`)");
      return false;
    }
    Next();
    if (!ParseScope(policy)) return false;
    while (Peek().kind == Tok::kIdent) {
      if (!ParseCondition(policy)) return false;
    }
    if (!Expect(Tok::kSemi, "`;`")) return false;
    policy->loc.length = prev_end_ - policy->loc.offset;
    return true;
  }

  bool ParseAnnotation(Policy* policy, std::unordered_set<std::string>* keys) {
    const Token& at = Next();
    const Token& key = Peek();
    if (key.kind != Tok::kIdent) {
      Fail(key, "expected an annotation name after `@`, found " + Describe(key));
      return false;
    }
    Next();
    Annotation annotation;
    annotation.key = std::string(key.text);
    if (Peek().kind == Tok::kLParen) {
      Next();
      const Token& value = Peek();
      if (value.kind != Tok::kString) {
        Fail(value, "expected a string literal as the annotation value, found " +
                        Describe(value));
        return false;
      }
      Next();
      if (!Decode(value, &annotation.value)) return false;
      annotation.has_value = true;
      if (!Expect(Tok::kRParen, "`)`")) return false;
    }
    annotation.loc = LocSpan(at);
    if (!keys->insert(annotation.key).second) {
      FailAt(annotation.loc, "duplicate annotation: @" + annotation.key);
      return false;
    }
    policy->annotations.push_back(std::move(annotation));
    return true;
  }

  bool ParseScope(Policy* policy) {
    if (!Expect(Tok::kLParen, "`(` after the policy effect")) return false;
    constexpr std::array<Var, 3> kOrder = {Var::kPrincipal, Var::kAction, Var::kResource};
    std::array<ScopeConstraint*, 3> slots = {&policy->principal, &policy->action,
                                             &policy->resource};
    size_t count = 0;
    while (Peek().kind != Tok::kRParen) {
      const Token& var_tok = Peek();
      if (var_tok.kind != Tok::kIdent) {
        Fail(var_tok, "expected `principal`, `action`, `resource` or `)`, found " +
                          Describe(var_tok));
        return false;
      }
      if (count >= 3) {
        Fail(var_tok, "this policy has an extra element in the scope: " +
                          std::string(var_tok.text));
        return false;
      }
      const Var expected = kOrder[count];
      const auto var = VarFromName(var_tok.text);
      if (!var || *var != expected) {
        Fail(var_tok, "found the variable `" + std::string(var_tok.text) +
                          "` where the variable `" + std::string(VarName(expected)) +
                          "` must be used (policy scopes must contain `principal`, "
                          "`action` and `resource` in that order)");
        return false;
      }
      Next();
      if (!ParseScopeConstraint(var_tok, expected, slots[count])) return false;
      ++count;
      if (Peek().kind == Tok::kComma) {
        Next();
        continue;
      }
      if (Peek().kind != Tok::kRParen) {
        Fail(Peek(), "expected `,` or `)`, found " + Describe(Peek()));
        return false;
      }
    }
    if (count < 3) {
      Fail(Peek(), "this policy is missing the `" + std::string(VarName(kOrder[count])) +
                       "` variable in the scope");
      return false;
    }
    Next();  // `)`
    return true;
  }

  bool ParseScopeConstraint(const Token& var_tok, Var var, ScopeConstraint* out) {
    out->var = var;
    out->op = ScopeOp::kAny;
    if (Peek().kind == Tok::kColon) {
      Fail(Peek(), "type constraints using `:` are not supported; use `is` instead");
      return false;
    }
    bool has_is = false;
    if (PeekIdent("is")) {
      Next();
      if (var == Var::kAction) {
        Fail(var_tok, "`is` cannot appear in the action scope");
        return false;
      }
      if (!ParseIsType(&out->entity_type)) return false;
      has_is = true;
      out->op = ScopeOp::kIs;
    }
    const Token& op = Peek();
    const bool is_in = op.kind == Tok::kIdent && op.text == "in";
    const bool is_eq = op.kind == Tok::kEqEq;
    if (!is_in && !is_eq) {
      switch (op.kind) {
        case Tok::kNe:
        case Tok::kLt:
        case Tok::kLe:
        case Tok::kGt:
        case Tok::kGe:
        case Tok::kAssign:
          Fail(op, "invalid operator in the policy scope: " + std::string(op.text) +
                       " (scope clauses can only use `==`, `in`, `is`, or `_ is _ in _`)");
          return false;
        default:
          out->loc = LocSpan(var_tok);
          return true;
      }
    }
    if (has_is && is_eq) {
      Fail(var_tok, "`is` cannot be used together with `==`; try `_ is _ in _`");
      return false;
    }
    Next();
    const SlotMode saved = slot_mode_;
    slot_mode_ = SlotMode::kScope;
    Node rhs = ParseExpr();
    slot_mode_ = saved;
    if (!rhs) return false;
    out->loc = LocSpan(var_tok);
    const Expr& e = *rhs.e;
    if (var == Var::kAction) {
      if (e.kind == ExprKind::kSlot) {
        FailAt(e.loc, "expected single entity uid, found template slot");
        return false;
      }
      if (is_in && e.kind == ExprKind::kSet) {
        out->op = ScopeOp::kInSet;
        for (const auto& element : e.operands) {
          if (element->kind == ExprKind::kSlot) {
            FailAt(element->loc, "expected single entity uid, found template slot");
            return false;
          }
          if (element->kind != ExprKind::kEntity) {
            FailAt(element->loc, "expected an entity uid, found `" + ExprToString(*element) +
                                     "`");
            return false;
          }
          if (!CheckActionType(element->uid)) return false;
          out->set.push_back(element->uid);
        }
        return true;
      }
      if (e.kind != ExprKind::kEntity) {
        FailAt(e.loc, "expected an entity uid, found `" + ExprToString(e) + "`");
        return false;
      }
      if (!CheckActionType(e.uid)) return false;
      out->op = is_eq ? ScopeOp::kEq : ScopeOp::kIn;
      out->target.uid = e.uid;
      return true;
    }
    const SlotId own_slot = var == Var::kPrincipal ? SlotId::kPrincipal : SlotId::kResource;
    if (e.kind == ExprKind::kSlot) {
      if (e.slot != own_slot) {
        FailAt(e.loc, "expected an entity uid or matching template slot, found " +
                          std::string(SlotName(e.slot)) + " instead of " +
                          std::string(SlotName(own_slot)));
        return false;
      }
      out->target.slot = own_slot;
    } else if (e.kind == ExprKind::kEntity) {
      out->target.uid = e.uid;
    } else if (e.kind == ExprKind::kSet) {
      FailAt(e.loc, "expected single entity uid or template slot, found set of entity uids");
      return false;
    } else {
      FailAt(e.loc, "expected an entity uid or matching template slot, found `" +
                        ExprToString(e) + "`");
      return false;
    }
    out->op = has_is ? ScopeOp::kIsIn : (is_eq ? ScopeOp::kEq : ScopeOp::kIn);
    return true;
  }

  bool CheckActionType(const EntityUidLit& uid) {
    const std::string_view type = uid.type;
    const bool ok = type == "Action" ||
                    (type.size() > 8 && type.substr(type.size() - 8) == "::Action");
    if (!ok) {
      FailAt(uid.loc, "expected an entity uid with type `Action` but got `" +
                          EntityUidToString(uid) +
                          "` (action entities must have type `Action`, optionally in a "
                          "namespace)");
    }
    return ok;
  }

  bool ParseCondition(Policy* policy) {
    const Token& kw = Peek();
    Condition condition;
    if (kw.text == "when") {
      condition.is_when = true;
    } else if (kw.text == "unless") {
      condition.is_when = false;
    } else {
      Fail(kw, "invalid policy condition: " + std::string(kw.text) +
                   " (condition must be either `when` or `unless`)");
      return false;
    }
    Next();
    if (!Expect(Tok::kLBrace, "`{`")) return false;
    if (Peek().kind == Tok::kRBrace) {
      Fail(kw, "`" + std::string(kw.text) + "` condition clause cannot be empty");
      return false;
    }
    slot_mode_ = condition.is_when ? SlotMode::kWhen : SlotMode::kUnless;
    Node e = ParseExpr();
    slot_mode_ = SlotMode::kForbidden;
    if (!e) return false;
    if (!Expect(Tok::kRBrace, "`}`")) return false;
    condition.expr = std::move(e.e);
    condition.loc = LocSpan(kw);
    policy->conditions.push_back(std::move(condition));
    return true;
  }

  // ---- expressions --------------------------------------------------------

  Node ParseExpr() {
    if (depth_ >= limits_.max_nesting) {
      Fail(Peek(), "expression nesting is too deep (limit " +
                       std::to_string(limits_.max_nesting) + " levels)");
      return Node{};
    }
    ++depth_;
    Node n = ParseExprInner();
    --depth_;
    return n;
  }

  Node ParseExprInner() {
    if (!PeekIdent("if")) return ParseOr();
    const Token& if_tok = Next();
    Node cond = ParseExpr();
    if (!cond) return Node{};
    if (!PeekIdent("then")) {
      Fail(Peek(), "expected `then`, found " + Describe(Peek()));
      return Node{};
    }
    Next();
    Node then_branch = ParseExpr();
    if (!then_branch) return Node{};
    if (!PeekIdent("else")) {
      Fail(Peek(), "expected `else`, found " + Describe(Peek()));
      return Node{};
    }
    Next();
    Node else_branch = ParseExpr();
    if (!else_branch) return Node{};
    std::vector<Node> children;
    children.push_back(std::move(cond));
    children.push_back(std::move(then_branch));
    children.push_back(std::move(else_branch));
    return Make(ExprKind::kIf, LocSpan(if_tok), std::move(children));
  }

  Node ParseOr() {
    Node lhs = ParseAnd();
    while (lhs && Peek().kind == Tok::kOrOr) {
      Next();
      Node rhs = ParseAnd();
      if (!rhs) return Node{};
      lhs = MakeBinary(ExprKind::kOr, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  Node ParseAnd() {
    Node lhs = ParseRelation();
    while (lhs && Peek().kind == Tok::kAndAnd) {
      Next();
      Node rhs = ParseRelation();
      if (!rhs) return Node{};
      lhs = MakeBinary(ExprKind::kAnd, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  static std::optional<ExprKind> RelOpKind(const Token& t) {
    switch (t.kind) {
      case Tok::kEqEq: return ExprKind::kEq;
      case Tok::kNe: return ExprKind::kNe;
      case Tok::kLt: return ExprKind::kLt;
      case Tok::kLe: return ExprKind::kLe;
      case Tok::kGt: return ExprKind::kGt;
      case Tok::kGe: return ExprKind::kGe;
      case Tok::kIdent:
        if (t.text == "in") return ExprKind::kIn;
        return std::nullopt;
      default: return std::nullopt;
    }
  }

  Node ParseRelation() {
    Node lhs = ParseAdd();
    if (!lhs) return lhs;
    const Token& op = Peek();
    if (op.kind == Tok::kAssign) {
      Fail(op, "'=' is not a valid operator in Cedar; use `==` instead");
      return Node{};
    }
    if (auto kind = RelOpKind(op)) {
      Next();
      Node rhs = ParseAdd();
      if (!rhs) return Node{};
      if (RelOpKind(Peek()) || Peek().kind == Tok::kAssign) {
        FailAt(lhs.e->loc,
               "multiple relational operators (>, ==, in, etc.) must be used with "
               "parentheses to make ordering explicit");
        return Node{};
      }
      return MakeBinary(*kind, std::move(lhs), std::move(rhs));
    }
    if (op.kind != Tok::kIdent) return lhs;
    if (op.text == "has") return ParseHas(std::move(lhs));
    if (op.text == "like") return ParseLike(std::move(lhs));
    if (op.text == "is") return ParseIs(std::move(lhs));
    return lhs;
  }

  Node ParseHas(Node lhs) {
    Next();  // has
    const Token& first = Peek();
    std::vector<std::string> attrs;
    if (first.kind == Tok::kString) {
      Next();
      std::string attr;
      if (!Decode(first, &attr)) return Node{};
      attrs.push_back(std::move(attr));
    } else if (first.kind == Tok::kIdent) {
      if (!CheckAttrIdent(first)) return Node{};
      Next();
      attrs.emplace_back(first.text);
      while (Peek().kind == Tok::kDot && PeekAt(1).kind == Tok::kIdent) {
        Next();
        const Token& part = Next();
        if (!CheckAttrIdent(part)) return Node{};
        attrs.emplace_back(part.text);
      }
    } else {
      Fail(first, "invalid RHS of a `has` operation: " + Describe(first) +
                      " (expected an identifier, a sequence of identifiers separated by "
                      "`.`, or a string literal)");
      return Node{};
    }
    const Tok after = Peek().kind;
    if (after == Tok::kDot || after == Tok::kLParen || after == Tok::kLBracket) {
      Fail(Peek(), "invalid RHS of a `has` operation (expected a sequence of identifiers "
                   "separated by `.` or a string literal)");
      return Node{};
    }
    SourceLoc loc = lhs.e->loc;
    ExtendTo(&loc);
    std::vector<Node> children;
    children.push_back(std::move(lhs));
    Node n = Make(ExprKind::kHas, std::move(loc), std::move(children));
    if (n) n.e->attrs = std::move(attrs);
    return n;
  }

  Node ParseLike(Node lhs) {
    Next();  // like
    const Token& pat = Peek();
    if (pat.kind != Tok::kString) {
      Fail(pat, "right hand side of a `like` expression must be a pattern literal, found " +
                    Describe(pat));
      return Node{};
    }
    Next();
    std::vector<PatternElem> pattern;
    std::string error;
    if (!internal::DecodePatternLiteral(pat.text, &pattern, &error)) {
      Fail(pat, error);
      return Node{};
    }
    const Tok after = Peek().kind;
    if (after == Tok::kDot || after == Tok::kLParen || after == Tok::kLBracket) {
      Fail(Peek(), "right hand side of a `like` expression must be a pattern literal");
      return Node{};
    }
    SourceLoc loc = lhs.e->loc;
    ExtendTo(&loc);
    std::vector<Node> children;
    children.push_back(std::move(lhs));
    Node n = Make(ExprKind::kLike, std::move(loc), std::move(children));
    if (n) n.e->pattern = std::move(pattern);
    return n;
  }

  // Parses the entity type after `is`.
  bool ParseIsType(std::string* type) {
    const Token& first = Peek();
    auto not_a_type = [&](const std::string& got) {
      Fail(first, "right hand side of an `is` expression must be an entity type name, but got `" +
                      got + "`");
      return false;
    };
    if (first.kind != Tok::kIdent) return not_a_type(std::string(first.text));
    std::vector<std::string_view> path;
    path.push_back(Next().text);
    while (Peek().kind == Tok::kColonColon && PeekAt(1).kind == Tok::kIdent) {
      Next();
      path.push_back(Next().text);
    }
    if (Peek().kind == Tok::kColonColon && PeekAt(1).kind == Tok::kString) {
      return not_a_type(JoinPath(path) + "::" + std::string(PeekAt(1).text));
    }
    if (!CheckName(path, first)) return false;
    *type = JoinPath(path);
    return true;
  }

  Node ParseIs(Node lhs) {
    Next();  // is
    std::string type;
    if (!ParseIsType(&type)) return Node{};
    std::vector<Node> children;
    SourceLoc loc = lhs.e->loc;
    children.push_back(std::move(lhs));
    if (PeekIdent("in")) {
      Next();
      Node target = ParseAdd();
      if (!target) return Node{};
      children.push_back(std::move(target));
    }
    ExtendTo(&loc);
    Node n = Make(ExprKind::kIs, std::move(loc), std::move(children));
    if (n) n.e->entity_type = std::move(type);
    return n;
  }

  Node ParseAdd() {
    Node lhs = ParseMult();
    while (lhs && (Peek().kind == Tok::kPlus || Peek().kind == Tok::kMinus)) {
      const ExprKind kind = Next().kind == Tok::kPlus ? ExprKind::kAdd : ExprKind::kSub;
      Node rhs = ParseMult();
      if (!rhs) return Node{};
      lhs = MakeBinary(kind, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  Node ParseMult() {
    Node lhs = ParseUnary();
    while (lhs) {
      const Token& op = Peek();
      if (op.kind == Tok::kSlash) {
        Fail(op, "division is not supported");
        return Node{};
      }
      if (op.kind == Tok::kPercent) {
        Fail(op, "remainder is not supported");
        return Node{};
      }
      if (op.kind != Tok::kStar) break;
      Next();
      Node rhs = ParseUnary();
      if (!rhs) return Node{};
      lhs = MakeBinary(ExprKind::kMul, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  Node ParseUnary() {
    const Token& first = Peek();
    if (first.kind != Tok::kBang && first.kind != Tok::kMinus) return ParseMember();
    const Tok op = first.kind;
    std::vector<const Token*> ops;
    while (Peek().kind == op) ops.push_back(&Next());
    if (ops.size() > 4) {
      Fail(first, std::string("too many occurrences of `") + (op == Tok::kBang ? "!" : "-") +
                      "` (cannot chain more than 4 applications of a unary operator)");
      return Node{};
    }
    Node operand;
    // `-` directly before an integer literal (with no member access) folds into
    // the literal, so -9223372036854775808 is representable.
    const Tok after = PeekAt(1).kind;
    if (op == Tok::kMinus && Peek().kind == Tok::kInt && after != Tok::kDot &&
        after != Tok::kLBracket && after != Tok::kLParen) {
      const Token& num = Next();
      uint64_t v = 0;
      constexpr uint64_t kMinMagnitude = uint64_t{1} << 63;
      if (!ParseU64(num.text, &v) || v > kMinMagnitude) {
        Fail(num, "integer literal `-" + std::string(num.text) +
                      "` is too small (minimum is `-9223372036854775808`)");
        return Node{};
      }
      const Token& dash = *ops.back();
      operand = Leaf(ExprKind::kLong, LocSpan(dash));
      if (!operand) return operand;
      operand.e->long_value =
          v == kMinMagnitude ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(v);
      ops.pop_back();
    } else {
      operand = ParseMember();
      if (!operand) return Node{};
    }
    const ExprKind kind = op == Tok::kBang ? ExprKind::kNot : ExprKind::kNeg;
    while (!ops.empty()) {
      operand = MakeUnary(kind, Loc(*ops.back()), std::move(operand));
      if (!operand) return Node{};
      ops.pop_back();
    }
    return operand;
  }

  Node ParseMember() {
    Node n = ParsePrimary();
    while (n) {
      const Token& t = Peek();
      if (t.kind == Tok::kDot) {
        Next();
        const Token& name = Peek();
        if (name.kind != Tok::kIdent) {
          Fail(name, "expected an attribute or method name after `.`, found " +
                         Describe(name));
          return Node{};
        }
        if (!CheckAttrIdent(name)) return Node{};
        Next();
        if (Peek().kind == Tok::kLParen) {
          n = ParseMethodCall(std::move(n), name);
        } else {
          SourceLoc loc = n.e->loc;
          ExtendTo(&loc);
          std::vector<Node> children;
          children.push_back(std::move(n));
          n = Make(ExprKind::kGetAttr, std::move(loc), std::move(children));
          if (n) n.e->string_value = std::string(name.text);
        }
      } else if (t.kind == Tok::kLBracket) {
        Next();
        Node key = ParseExpr();
        if (!key) return Node{};
        if (key.e->kind != ExprKind::kString) {
          FailAt(key.e->loc, "invalid string literal: " + ExprToString(*key.e) +
                                 " (attribute access with `[]` needs a string literal)");
          return Node{};
        }
        if (!Expect(Tok::kRBracket, "`]`")) return Node{};
        SourceLoc loc = n.e->loc;
        ExtendTo(&loc);
        std::vector<Node> children;
        children.push_back(std::move(n));
        std::string attr = std::move(key.e->string_value);
        n = Make(ExprKind::kGetAttr, std::move(loc), std::move(children));
        if (n) {
          n.e->string_value = std::move(attr);
          n.e->index_syntax = true;
        }
      } else if (t.kind == Tok::kLParen) {
        Fail(t, "only functions and methods can be called (found `(` after `" +
                    ExprToString(*n.e) + "`)");
        return Node{};
      } else {
        break;
      }
    }
    return n;
  }

  // Parses `( args )` into `out` (trailing comma allowed, as in Cedar).
  bool ParseArgs(std::vector<Node>* out) {
    if (!Expect(Tok::kLParen, "`(`")) return false;
    while (Peek().kind != Tok::kRParen) {
      Node arg = ParseExpr();
      if (!arg) return false;
      out->push_back(std::move(arg));
      if (Peek().kind == Tok::kComma) {
        Next();
        continue;
      }
      if (Peek().kind != Tok::kRParen) {
        Fail(Peek(), "expected `,` or `)`, found " + Describe(Peek()));
        return false;
      }
    }
    Next();
    return true;
  }

  Node ParseMethodCall(Node receiver, const Token& name) {
    const auto fn = LookupBuiltinFn(name.text, /*function_syntax=*/false);
    if (!fn) {
      if (LookupBuiltinFn(name.text, /*function_syntax=*/true)) {
        Fail(name, "`" + std::string(name.text) + "` is a function, not a method; use a "
                   "function-style call `" + std::string(name.text) + "(..)`");
      } else {
        Fail(name, "`" + std::string(name.text) + "` is not a valid method");
      }
      return Node{};
    }
    std::vector<Node> children;
    SourceLoc loc = receiver.e->loc;
    children.push_back(std::move(receiver));
    if (!ParseArgs(&children)) return Node{};
    if (auto arity = ParseTimeArity(*fn); arity && children.size() - 1 != *arity) {
      FailAt(loc, "call to `" + std::string(name.text) + "` requires exactly " +
                      Plural(*arity, "argument") + ", but got " +
                      Plural(children.size() - 1, "argument"));
      return Node{};
    }
    ExtendTo(&loc);
    Node n = Make(ExprKind::kMethod, std::move(loc), std::move(children));
    if (n) {
      n.e->fn = *fn;
      n.e->string_value = std::string(name.text);
    }
    return n;
  }

  Node ParsePrimary() {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kInt: {
        Next();
        uint64_t v = 0;
        if (!ParseU64(t.text, &v) ||
            v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          Fail(t, "integer literal `" + std::string(t.text) +
                      "` is too large (maximum allowed integer literal is "
                      "`9223372036854775807`)");
          return Node{};
        }
        Node n = Leaf(ExprKind::kLong, Loc(t));
        if (!n) return n;
        n.e->long_value = static_cast<int64_t>(v);
        return n;
      }
      case Tok::kString: {
        Next();
        Node n = Leaf(ExprKind::kString, Loc(t));
        if (!n) return n;
        if (!Decode(t, &n.e->string_value)) return Node{};
        return n;
      }
      case Tok::kSlot:
        return ParseSlot();
      case Tok::kLParen: {
        Next();
        Node inner = ParseExpr();
        if (!inner) return Node{};
        if (!Expect(Tok::kRParen, "`)`")) return Node{};
        return inner;
      }
      case Tok::kLBracket:
        return ParseSet();
      case Tok::kLBrace:
        return ParseRecord();
      case Tok::kIdent:
        return ParseNamePrimary();
      default:
        Fail(t, "expected an expression, found " + Describe(t));
        return Node{};
    }
  }

  Node ParseSlot() {
    const Token& t = Next();
    std::optional<SlotId> slot;
    if (t.text == "?principal") slot = SlotId::kPrincipal;
    if (t.text == "?resource") slot = SlotId::kResource;
    if (!slot) {
      Fail(t, "`" + std::string(t.text) + "` is not a valid template slot (a template slot "
              "may only be `?principal` or `?resource`)");
      return Node{};
    }
    switch (slot_mode_) {
      case SlotMode::kScope:
        break;
      case SlotMode::kWhen:
      case SlotMode::kUnless:
        Fail(t, "found template slot " + std::string(t.text) + " in a `" +
                    (slot_mode_ == SlotMode::kWhen ? "when" : "unless") +
                    "` clause (slots are only allowed in the policy scope)");
        return Node{};
      case SlotMode::kForbidden:
        Fail(t, "template slot " + std::string(t.text) + " is not allowed here");
        return Node{};
    }
    Node n = Leaf(ExprKind::kSlot, Loc(t));
    if (!n) return n;
    n.e->slot = *slot;
    return n;
  }

  Node ParseSet() {
    const Token& open = Next();
    std::vector<Node> elements;
    while (Peek().kind != Tok::kRBracket) {
      Node element = ParseExpr();
      if (!element) return Node{};
      elements.push_back(std::move(element));
      if (Peek().kind == Tok::kComma) {
        Next();
        continue;
      }
      if (Peek().kind != Tok::kRBracket) {
        Fail(Peek(), "expected `,` or `]`, found " + Describe(Peek()));
        return Node{};
      }
    }
    Next();
    return Make(ExprKind::kSet, LocSpan(open), std::move(elements));
  }

  Node ParseRecord() {
    const Token& open = Next();
    std::vector<Node> values;
    std::vector<std::string> keys;
    std::unordered_set<std::string> seen;
    while (Peek().kind != Tok::kRBrace) {
      const Token& key_tok = Peek();
      std::string key;
      if (key_tok.kind == Tok::kIdent && PeekAt(1).kind == Tok::kColon) {
        if (!CheckAttrIdent(key_tok)) return Node{};
        key = std::string(key_tok.text);
        Next();
      } else if (key_tok.kind == Tok::kString && PeekAt(1).kind == Tok::kColon) {
        if (!Decode(key_tok, &key)) return Node{};
        Next();
      } else {
        Fail(key_tok, "invalid attribute name: " + Describe(key_tok) +
                          " (attribute names can either be identifiers or string literals, "
                          "followed by `:`)");
        return Node{};
      }
      Next();  // `:`
      if (!seen.insert(key).second) {
        Fail(key_tok, "duplicate key `" + key + "` in record literal");
        return Node{};
      }
      Node value = ParseExpr();
      if (!value) return Node{};
      keys.push_back(std::move(key));
      values.push_back(std::move(value));
      if (Peek().kind == Tok::kComma) {
        Next();
        continue;
      }
      if (Peek().kind != Tok::kRBrace) {
        Fail(Peek(), "expected `,` or `}`, found " + Describe(Peek()));
        return Node{};
      }
    }
    Next();
    Node n = Make(ExprKind::kRecord, LocSpan(open), std::move(values));
    if (n) n.e->keys = std::move(keys);
    return n;
  }

  // Identifier-led primaries: literals true/false, variables, entity UIDs and
  // extension function calls.
  Node ParseNamePrimary() {
    const Token& first = Peek();
    if (first.text == "true" || first.text == "false") {
      Next();
      Node n = Leaf(ExprKind::kBool, Loc(first));
      if (!n) return n;
      n.e->bool_value = first.text == "true";
      return n;
    }
    if (first.text == "if") {
      Fail(first, "an `if` expression must be enclosed in parentheses here");
      return Node{};
    }
    if (first.text == "then" || first.text == "else" || first.text == "in" ||
        first.text == "has" || first.text == "like" || first.text == "is") {
      Fail(first, "expected an expression, found " + Describe(first));
      return Node{};
    }
    std::vector<std::string_view> path;
    path.push_back(Next().text);
    while (Peek().kind == Tok::kColonColon && PeekAt(1).kind == Tok::kIdent) {
      Next();
      path.push_back(Next().text);
    }
    if (Peek().kind == Tok::kColonColon) {
      const Token& after = PeekAt(1);
      if (after.kind == Tok::kString) {
        if (!CheckName(path, first)) return Node{};
        Next();
        Next();
        Node n = Leaf(ExprKind::kEntity, LocSpan(first));
        if (!n) return n;
        n.e->uid.type = JoinPath(path);
        n.e->uid.loc = n.e->loc;
        if (!Decode(after, &n.e->uid.id)) return Node{};
        return n;
      }
      if (after.kind == Tok::kLBrace) {
        Fail(after, "entity literals in record form (`Type::{...}`) are not supported");
        return Node{};
      }
      Next();
      Fail(Peek(), "expected an identifier or an entity id string after `::`, found " +
                       Describe(Peek()));
      return Node{};
    }
    const std::string name = JoinPath(path);
    if (Peek().kind == Tok::kLParen) {
      const auto fn = LookupBuiltinFn(name, /*function_syntax=*/true);
      if (!fn) {
        if (LookupBuiltinFn(name, /*function_syntax=*/false)) {
          Fail(first, "`" + name + "` is a method, not a function; use a method-style call `e." +
                          name + "(..)`");
        } else {
          Fail(first, "`" + name + "` is not a valid function");
        }
        return Node{};
      }
      std::vector<Node> args;
      if (!ParseArgs(&args)) return Node{};
      Node n = Make(ExprKind::kCall, LocSpan(first), std::move(args));
      if (n) {
        n.e->fn = *fn;
        n.e->string_value = name;
      }
      return n;
    }
    if (path.size() == 1) {
      if (auto var = VarFromName(path[0])) {
        Node n = Leaf(ExprKind::kVar, Loc(first));
        if (!n) return n;
        n.e->var = *var;
        return n;
      }
      Fail(first, "invalid variable: " + name +
                      " (the valid Cedar variables are `principal`, `action`, `resource`, "
                      "and `context`; did you mean to enclose `" + name +
                      "` in quotes to make a string?)");
      return Node{};
    }
    Fail(first, "unexpected name `" + name + "`: an entity uid needs an id, as in `" + name +
                    "::\"id\"`");
    return Node{};
  }

  std::string_view text_;
  std::shared_ptr<const std::string> file_;
  ParseLimits limits_;
  std::vector<ParseError>* errors_;
  internal::LexOutput lex_;
  size_t pos_ = 0;
  uint32_t prev_end_ = 0;
  uint32_t depth_ = 0;
  size_t errors_at_policy_start_ = 0;
  size_t node_count_ = 0;
  bool lexer_failed_ = false;
  SlotMode slot_mode_ = SlotMode::kForbidden;
};

Status ErrorsToStatus(const std::vector<ParseError>& errors) {
  std::string message;
  for (const auto& error : errors) {
    if (!message.empty()) message += '\n';
    message += error.ToString();
  }
  return InvalidArgument(std::move(message));
}

}  // namespace

std::string ParseError::ToString() const { return loc.ToString() + ": " + message; }

PolicySetAst ParsePoliciesCollectingErrors(std::string_view text, std::string_view file_name,
                                           std::vector<ParseError>* errors,
                                           const ParseLimits& limits) {
  errors->clear();
  Parser parser(text, file_name, limits, errors);
  if (!parser.Init()) return {};
  PolicySetAst out = parser.ParseAll();
  if (!errors->empty()) return {};
  return out;
}

Result<PolicySetAst> ParsePolicies(std::string_view text, std::string_view file_name,
                                   const ParseLimits& limits) {
  std::vector<ParseError> errors;
  PolicySetAst out = ParsePoliciesCollectingErrors(text, file_name, &errors, limits);
  if (!errors.empty()) return ErrorsToStatus(errors);
  return out;
}

Result<Policy> ParsePolicy(std::string_view text, std::string_view policy_id,
                           std::string_view file_name, const ParseLimits& limits) {
  std::vector<ParseError> errors;
  Parser parser(text, file_name, limits, &errors);
  Policy policy;
  if (!parser.Init() || !parser.ParseSinglePolicy(&policy)) return ErrorsToStatus(errors);
  policy.id = std::string(policy_id);
  return policy;
}

Result<ExprPtr> ParseExpression(std::string_view text, std::string_view file_name,
                                const ParseLimits& limits) {
  std::vector<ParseError> errors;
  Parser parser(text, file_name, limits, &errors);
  if (!parser.Init()) return ErrorsToStatus(errors);
  ExprPtr e = parser.ParseStandaloneExpr();
  if (!e) return ErrorsToStatus(errors);
  return e;
}

Result<EntityUidLit> ParseEntityUid(std::string_view text) {
  std::vector<ParseError> errors;
  Parser parser(text, {}, ParseLimits{}, &errors);
  EntityUidLit uid;
  if (!parser.Init() || !parser.ParseStandaloneName(true, &uid, nullptr)) {
    return ErrorsToStatus(errors);
  }
  return uid;
}

Result<std::string> ParseEntityTypeName(std::string_view text) {
  std::vector<ParseError> errors;
  Parser parser(text, {}, ParseLimits{}, &errors);
  std::string type;
  if (!parser.Init() || !parser.ParseStandaloneName(false, nullptr, &type)) {
    return ErrorsToStatus(errors);
  }
  return type;
}

bool IsValidIdentifier(std::string_view name) {
  return IsIdentText(name) && !IsReservedWord(name) && name != "__cedar";
}

Result<Policy> InstantiateTemplate(const Template& tmpl, const TemplateLink& link) {
  if (!tmpl.IsTemplate()) {
    return InvalidArgument("policy `" + tmpl.id + "` is not a template (it has no slots)");
  }
  if (tmpl.id != link.template_id) {
    return InvalidArgument("link `" + link.link_id + "` refers to template `" +
                           link.template_id + "`, not `" + tmpl.id + "`");
  }
  Policy out = Clone(tmpl);
  out.id = link.link_id;
  auto fill = [&](ScopeConstraint* scope, const std::optional<EntityUidLit>& value,
                  std::string_view slot_name) -> Status {
    if (scope->target.slot) {
      if (!value) {
        return InvalidArgument("link `" + link.link_id + "` gives no value for slot " +
                               std::string(slot_name) + " of template `" + tmpl.id + "`");
      }
      // Link values come from storage or an API: the type must be a valid name.
      auto type = ParseEntityTypeName(value->type);
      if (!type.ok() || *type != value->type) {
        return InvalidArgument("link `" + link.link_id + "` gives an invalid entity type `" +
                               value->type + "` for slot " + std::string(slot_name));
      }
      scope->target.slot.reset();
      scope->target.uid = *value;
    } else if (value) {
      return InvalidArgument("link `" + link.link_id + "` gives a value for slot " +
                             std::string(slot_name) + ", which template `" + tmpl.id +
                             "` does not use");
    }
    return OkStatus();
  };
  WARDEN_RETURN_IF_ERROR(fill(&out.principal, link.principal, "?principal"));
  WARDEN_RETURN_IF_ERROR(fill(&out.resource, link.resource, "?resource"));
  return out;
}

}  // namespace warden::cedar
