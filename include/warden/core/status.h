// Status and Result<T>: Warden's error values. Every fallible function across a
// module boundary returns one of these; exceptions never cross modules.
// Codes follow absl's guidance: choose the most specific code that applies.
// Immutable after construction; safe to share between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace warden {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong, whatever the state
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // creating something that exists
  kPermissionDenied,    // authenticated but not allowed (policy deny)
  kUnauthenticated,     // no or bad credentials
  kFailedPrecondition,  // state forbids it (suspended agent, used token)
  kResourceExhausted,   // limits (body size, max_calls, rate)
  kAborted,             // concurrency conflict; retry may succeed
  kDeadlineExceeded,    // a wait timed out
  kUnavailable,         // store or upstream unreachable; fail closed
  kDataLoss,            // integrity failure (broken audit chain, corrupt file)
  kUnimplemented,
  kInternal,            // a broken invariant
};

// Stable lower_snake name of a code ("invalid_argument"), used in API errors.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The input field the error is about ("owner", "selectors[2]"), or empty.
  const std::string& field() const { return field_; }

  // "invalid_argument: owner: must not be empty"
  std::string ToString() const;

  // Returns a copy with `prefix: ` prepended to the message.
  Status WithContext(std::string_view prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m, std::string field = {}) {
  return {StatusCode::kInvalidArgument, std::move(m), std::move(field)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m, std::string field = {}) {
  return {StatusCode::kAlreadyExists, std::move(m), std::move(field)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error; OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace warden

#define WARDEN_CONCAT_INNER_(a, b) a##b
#define WARDEN_CONCAT_(a, b) WARDEN_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` is not OK.
#define WARDEN_RETURN_IF_ERROR(expr)               \
  do {                                             \
    ::warden::Status warden_status_ = (expr);      \
    if (!warden_status_.ok()) return warden_status_; \
  } while (0)

// WARDEN_ASSIGN_OR_RETURN(auto x, ComputeResult()): binds the value or returns the error.
#define WARDEN_ASSIGN_OR_RETURN(lhs, rexpr) \
  WARDEN_ASSIGN_OR_RETURN_IMPL_(WARDEN_CONCAT_(warden_result_, __LINE__), lhs, rexpr)
// `lhs` may be a declaration ("auto x"), so it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define WARDEN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
