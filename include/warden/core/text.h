// ASCII text helpers for protocol tokens (HTTP header names and values,
// media types, authorization schemes), which compare case-insensitively in
// ASCII only, and for the lists Warden names in messages.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace warden {

// 'A'..'Z' to 'a'..'z'; every other byte unchanged.
char AsciiLower(char c);
std::string AsciiLower(std::string_view s);

// Equality and prefix test with ASCII letters compared without case.
bool EqualsNoCase(std::string_view a, std::string_view b);
bool StartsWithNoCase(std::string_view s, std::string_view prefix);

// RFC 9110 section 5.6.2 tchar: what header names and methods are made of.
bool IsHttpTokenChar(char c);

// "a, b, c" ("" for an empty list).
std::string JoinComma(const std::vector<std::string>& items);

}  // namespace warden
