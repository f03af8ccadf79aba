#pragma once
// Small pure text helpers shared by the core and the adapters. Thread-safe, no allocation
// beyond the returned string.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bridge {

/// `text` without leading and trailing spaces (' ' only: DICOM value padding, PS3.5 6.2;
/// NUL, tabs and other blanks are kept).
std::string trimSpaces(std::string_view text);

/// PS3.5 9.1: a UID is 1..64 characters, each a digit or a dot. The one UID check of the
/// bridge (WADO-RS paths, WADO-URI parameters, UI matching keys).
bool isValidUid(std::string_view text);

/// Strict non-negative decimal integer: 1..18 ASCII digits and nothing else (no sign, no
/// spaces, no trailing text). nullopt otherwise; never wraps (unlike atoi).
std::optional<std::int64_t> parseDecimal(std::string_view text);

/// A JSON string literal, quotes included, with the escapes RFC 8259 requires (Poco::JSON's
/// Stringifier: \" \\ \b \f \n \r \t, other control characters as \u00XX). Bytes >= 0x80 pass
/// through (UTF-8 stays UTF-8).
std::string jsonQuote(std::string_view text);

/// Text for HTML element content and quoted attribute values (& < > " ' escaped).
std::string htmlEscape(std::string_view text);

}  // namespace bridge
