#pragma once
// Compact JSON exactly as NBIA's Jettison 1.1 FormatOutput writes it (API.md 2.2): keys in
// insertion order, NULL-valued keys omitted, '/' escaped as "\/", control characters and the
// U+0080..U+009F and U+2000..U+20FF ranges as \uXXXX, integers bare, no whitespace.
// Pure functions; thread-safe.

#include "emulator/JsonRow.h"

#include <string>
#include <vector>

namespace emulator {

class JettisonJson {
public:
    /// A JSON string literal with Jettison's escaping (input UTF-8).
    static std::string quote(const std::string& utf8);
    /// One value; must not be NULL.
    static std::string value(const JsonValue& v);
    /// One object; NULL values are left out, so an all-NULL row gives "{}".
    static std::string object(const JsonRow& row);
    /// The whole answer: "[{..},{..}]", or an EMPTY string when there are no rows
    /// (NBIA answers 200 with an empty body instead of "[]").
    static std::string array(const std::vector<JsonRow>& rows);
    /// quote(), appended to out (no temporary).
    static void appendQuoted(std::string& out, const std::string& utf8);
};

}  // namespace emulator
