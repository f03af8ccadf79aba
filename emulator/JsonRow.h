#pragma once
// One row of a TCIA "Search" answer: an ordered list of (column, value) pairs, in the server's
// emission order. A NULL value (std::monostate) is omitted on output, the way Jettison's
// JSONObject.put(key, null) removes the key (API.md 2.2).

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace emulator {

/// A JSON scalar: NULL, string, integer, floating point or boolean.
using JsonValue = std::variant<std::monostate, std::string, std::int64_t, double, bool>;

/// One object of the answer array; keys in emission order. Plain value type, not thread-safe.
using JsonRow = std::vector<std::pair<std::string, JsonValue>>;

/// A string value, or NULL when empty (TCIA stores absent DICOM values as SQL NULL).
inline JsonValue stringOrNull(const std::string& s) {
    if (s.empty()) return std::monostate{};
    return s;
}

}  // namespace emulator
