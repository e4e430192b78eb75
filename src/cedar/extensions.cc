// The extension function registry and dispatch.
#include "warden/cedar/extensions.h"

#include <string>

namespace warden::cedar {
namespace {

using K = ValueKind;
using Id = ExtensionFunctionId;

// One row per function, kept one line each so the table reads as a table.
// clang-format off
constexpr ExtensionFunction kFunctions[] = {
    {Id::kIp, "ip", "ipaddr", CallStyle::kFunction, 1, {K::kString, K::kString}, K::kIpAddr, true},
    {Id::kIsIpv4, "isIpv4", "ipaddr", CallStyle::kMethod, 1, {K::kIpAddr, K::kIpAddr}, K::kBool, false},
    {Id::kIsIpv6, "isIpv6", "ipaddr", CallStyle::kMethod, 1, {K::kIpAddr, K::kIpAddr}, K::kBool, false},
    {Id::kIsLoopback, "isLoopback", "ipaddr", CallStyle::kMethod, 1, {K::kIpAddr, K::kIpAddr}, K::kBool, false},
    {Id::kIsMulticast, "isMulticast", "ipaddr", CallStyle::kMethod, 1, {K::kIpAddr, K::kIpAddr}, K::kBool, false},
    {Id::kIsInRange, "isInRange", "ipaddr", CallStyle::kMethod, 2, {K::kIpAddr, K::kIpAddr}, K::kBool, false},
    {Id::kDecimal, "decimal", "decimal", CallStyle::kFunction, 1, {K::kString, K::kString}, K::kDecimal, true},
    {Id::kLessThan, "lessThan", "decimal", CallStyle::kMethod, 2, {K::kDecimal, K::kDecimal}, K::kBool, false},
    {Id::kLessThanOrEqual, "lessThanOrEqual", "decimal", CallStyle::kMethod, 2, {K::kDecimal, K::kDecimal}, K::kBool, false},
    {Id::kGreaterThan, "greaterThan", "decimal", CallStyle::kMethod, 2, {K::kDecimal, K::kDecimal}, K::kBool, false},
    {Id::kGreaterThanOrEqual, "greaterThanOrEqual", "decimal", CallStyle::kMethod, 2, {K::kDecimal, K::kDecimal}, K::kBool, false},
    {Id::kDatetime, "datetime", "datetime", CallStyle::kFunction, 1, {K::kString, K::kString}, K::kDatetime, true},
    {Id::kDuration, "duration", "datetime", CallStyle::kFunction, 1, {K::kString, K::kString}, K::kDuration, true},
    {Id::kOffset, "offset", "datetime", CallStyle::kMethod, 2, {K::kDatetime, K::kDuration}, K::kDatetime, false},
    {Id::kDurationSince, "durationSince", "datetime", CallStyle::kMethod, 2, {K::kDatetime, K::kDatetime}, K::kDuration, false},
    {Id::kToDate, "toDate", "datetime", CallStyle::kMethod, 1, {K::kDatetime, K::kDatetime}, K::kDatetime, false},
    {Id::kToTime, "toTime", "datetime", CallStyle::kMethod, 1, {K::kDatetime, K::kDatetime}, K::kDuration, false},
    {Id::kToMilliseconds, "toMilliseconds", "datetime", CallStyle::kMethod, 1, {K::kDuration, K::kDuration}, K::kLong, false},
    {Id::kToSeconds, "toSeconds", "datetime", CallStyle::kMethod, 1, {K::kDuration, K::kDuration}, K::kLong, false},
    {Id::kToMinutes, "toMinutes", "datetime", CallStyle::kMethod, 1, {K::kDuration, K::kDuration}, K::kLong, false},
    {Id::kToHours, "toHours", "datetime", CallStyle::kMethod, 1, {K::kDuration, K::kDuration}, K::kLong, false},
    {Id::kToDays, "toDays", "datetime", CallStyle::kMethod, 1, {K::kDuration, K::kDuration}, K::kLong, false},
};
// clang-format on

static_assert(sizeof(kFunctions) / sizeof(kFunctions[0]) == static_cast<size_t>(Id::kToDays) + 1);

// GetExtensionFunction indexes by id, so row i must hold id i.
constexpr bool IdsMatchRows() {
  for (size_t i = 0; i < sizeof(kFunctions) / sizeof(kFunctions[0]); ++i) {
    if (static_cast<size_t>(kFunctions[i].id) != i) return false;
  }
  return true;
}
static_assert(IdsMatchRows());

// Cedar names the failing extension after the extension for ipaddr and
// decimal, and after the function itself for the datetime functions.
Status ApplicationError(const ExtensionFunction& fn, const std::string& message) {
  std::string_view label = fn.extension == "datetime" ? fn.name : fn.extension;
  return InvalidArgument("error while evaluating `" + std::string(label) +
                         "` extension function: " + message);
}

Status TypeError(ValueKind expected, const Value& got) {
  return InvalidArgument("type error: expected " + std::string(ValueKindName(expected)) + ", got " +
                         std::string(got.kind_name()));
}

Value FromResult(bool b) { return Value::Bool(b); }

}  // namespace

std::span<const ExtensionFunction> AllExtensionFunctions() { return kFunctions; }

const ExtensionFunction* FindExtensionFunction(std::string_view name) {
  for (const ExtensionFunction& fn : kFunctions) {
    if (fn.name == name) return &fn;
  }
  return nullptr;
}

const ExtensionFunction& GetExtensionFunction(ExtensionFunctionId id) {
  return kFunctions[static_cast<size_t>(id)];
}

Result<Value> CallExtensionFunction(const ExtensionFunction& fn, std::span<const Value> args) {
  if (args.size() != fn.arity) {
    return InvalidArgument("wrong number of arguments provided to extension function `" +
                           std::string(fn.name) + "`: expected " + std::to_string(fn.arity) +
                           ", got " + std::to_string(args.size()));
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].kind() != fn.params[i]) return TypeError(fn.params[i], args[i]);
  }
  auto fail = [&fn](const Status& s) { return ApplicationError(fn, s.message()); };
  switch (fn.id) {
    case Id::kIp: {
      auto ip = IpFromString(args[0].AsString());
      if (!ip.ok()) return fail(ip.status());
      return Value::Ip(*ip);
    }
    case Id::kIsIpv4:
      return FromResult(!args[0].AsIp().v6);
    case Id::kIsIpv6:
      return FromResult(args[0].AsIp().v6);
    case Id::kIsLoopback:
      return FromResult(IpIsLoopback(args[0].AsIp()));
    case Id::kIsMulticast:
      return FromResult(IpIsMulticast(args[0].AsIp()));
    case Id::kIsInRange:
      return FromResult(IpIsInRange(args[0].AsIp(), args[1].AsIp()));
    case Id::kDecimal: {
      auto d = DecimalFromString(args[0].AsString());
      if (!d.ok()) return fail(d.status());
      return Value::FromDecimal(*d);
    }
    case Id::kLessThan:
      return FromResult(args[0].AsDecimal() < args[1].AsDecimal());
    case Id::kLessThanOrEqual:
      return FromResult(args[0].AsDecimal() <= args[1].AsDecimal());
    case Id::kGreaterThan:
      return FromResult(args[0].AsDecimal() > args[1].AsDecimal());
    case Id::kGreaterThanOrEqual:
      return FromResult(args[0].AsDecimal() >= args[1].AsDecimal());
    case Id::kDatetime: {
      auto d = DatetimeFromString(args[0].AsString());
      if (!d.ok()) return fail(d.status());
      return Value::FromDatetime(*d);
    }
    case Id::kDuration: {
      auto d = DurationFromString(args[0].AsString());
      if (!d.ok()) return fail(d.status());
      return Value::FromDuration(*d);
    }
    case Id::kOffset: {
      auto d = DatetimeOffset(args[0].AsDatetime(), args[1].AsDuration());
      if (!d) {
        return ApplicationError(fn, "overflows when adding an offset: " + args[0].ToString() +
                                        "+(" + args[1].ToString() + ")");
      }
      return Value::FromDatetime(*d);
    }
    case Id::kDurationSince: {
      auto d = DatetimeDurationSince(args[0].AsDatetime(), args[1].AsDatetime());
      if (!d) {
        return ApplicationError(fn, "overflows when computing the duration between " +
                                        args[0].ToString() + " and " + args[1].ToString());
      }
      return Value::FromDuration(*d);
    }
    case Id::kToDate: {
      auto d = DatetimeToDate(args[0].AsDatetime());
      if (!d)
        return ApplicationError(fn, "overflows when computing the date of " + args[0].ToString());
      return Value::FromDatetime(*d);
    }
    case Id::kToTime:
      return Value::FromDuration(DatetimeToTime(args[0].AsDatetime()));
    // Integer division truncates toward zero at every step, as Cedar's does.
    case Id::kToMilliseconds:
      return Value::Long(args[0].AsDuration().ms);
    case Id::kToSeconds:
      return Value::Long(args[0].AsDuration().ms / 1000);
    case Id::kToMinutes:
      return Value::Long(args[0].AsDuration().ms / 1000 / 60);
    case Id::kToHours:
      return Value::Long(args[0].AsDuration().ms / 1000 / 60 / 60);
    case Id::kToDays:
      return Value::Long(args[0].AsDuration().ms / 1000 / 60 / 60 / 24);
  }
  return Internal("unhandled extension function");
}

Result<Value> CallExtensionFunction(std::string_view name, std::span<const Value> args) {
  const ExtensionFunction* fn = FindExtensionFunction(name);
  if (fn == nullptr) {
    return InvalidArgument("extension function `" + std::string(name) + "` does not exist");
  }
  return CallExtensionFunction(*fn, args);
}

Result<bool> CompareOrdered(OrderOp op, const Value& a, const Value& b) {
  auto orderable = [](ValueKind k) {
    return k == ValueKind::kLong || k == ValueKind::kDatetime || k == ValueKind::kDuration;
  };
  int c = 0;
  if (a.kind() == b.kind() && orderable(a.kind())) {
    c = CompareValues(a, b);
  } else if (orderable(a.kind())) {
    return TypeError(a.kind(), b);
  } else if (orderable(b.kind())) {
    return TypeError(b.kind(), a);
  } else {
    return InvalidArgument("type error: expected one of [long, datetime, duration], got " +
                           std::string(a.kind_name()));
  }
  switch (op) {
    case OrderOp::kLess:
      return c < 0;
    case OrderOp::kLessEqual:
      return c <= 0;
    case OrderOp::kGreater:
      return c > 0;
    case OrderOp::kGreaterEqual:
      return c >= 0;
  }
  return c < 0;
}

}  // namespace warden::cedar
