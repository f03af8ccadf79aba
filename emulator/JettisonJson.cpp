#include "emulator/JettisonJson.h"

#include <cmath>
#include <cstdio>

namespace emulator {

namespace {
// Decodes one UTF-8 code point starting at s[i]; advances i. Invalid bytes map to themselves.
std::uint32_t nextCodePoint(const std::string& s, std::size_t& i) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    std::uint32_t cp = c;
    if (c >= 0xC0 && c < 0xE0) { extra = 1; cp = c & 0x1F; }
    else if (c >= 0xE0 && c < 0xF0) { extra = 2; cp = c & 0x0F; }
    else if (c >= 0xF0 && c < 0xF8) { extra = 3; cp = c & 0x07; }
    if (extra == 0 || i + extra >= s.size()) { ++i; return c; }  // ASCII or truncated sequence
    for (int k = 1; k <= extra; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += extra + 1;
    return cp;
}
}  // namespace

void JettisonJson::appendQuoted(std::string& out, const std::string& utf8) {
    out += '"';
    bool plain = true;  // fast path: nothing to escape (the common case for UIDs and codes)
    for (char ch : utf8) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '/') {
            plain = false;
            break;
        }
    }
    if (plain) {
        out += utf8;
        out += '"';
        return;
    }
    std::size_t i = 0;
    while (i < utf8.size()) {
        const std::size_t start = i;
        const std::uint32_t cp = nextCodePoint(utf8, i);
        switch (cp) {
            case '"': out += "\\\""; continue;
            case '\\': out += "\\\\"; continue;
            case '/': out += "\\/"; continue;  // Jettison escapes every solidus
            case '\b': out += "\\b"; continue;
            case '\t': out += "\\t"; continue;
            case '\n': out += "\\n"; continue;
            case '\f': out += "\\f"; continue;
            case '\r': out += "\\r"; continue;
            default: break;
        }
        if (cp < 0x20 || (cp >= 0x80 && cp < 0xA0) || (cp >= 0x2000 && cp < 0x2100)) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
            out += buf;
        } else {
            out.append(utf8, start, i - start);
        }
    }
    out += '"';
}

std::string JettisonJson::quote(const std::string& utf8) {
    std::string out;
    out.reserve(utf8.size() + 2);
    appendQuoted(out, utf8);
    return out;
}

std::string JettisonJson::value(const JsonValue& v) {
    if (const auto* s = std::get_if<std::string>(&v)) return quote(*s);
    if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
    if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
    if (const auto* d = std::get_if<double>(&v)) {
        // Jettison prints Java's Double.toString and strips a trailing ".0".
        if (std::isfinite(*d) && *d == std::floor(*d) && std::fabs(*d) < 1e15) {
            return std::to_string(static_cast<std::int64_t>(*d));
        }
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.15g", *d);
        return buf;
    }
    return "null";
}

std::string JettisonJson::object(const JsonRow& row) {
    std::string out;
    out.reserve(64 * row.size());
    out += '{';
    bool first = true;
    for (const auto& [key, v] : row) {
        if (std::holds_alternative<std::monostate>(v)) continue;
        if (!first) out += ',';
        first = false;
        appendQuoted(out, key);
        out += ':';
        if (const auto* str = std::get_if<std::string>(&v)) appendQuoted(out, *str);
        else out += value(v);
    }
    out += '}';
    return out;
}

std::string JettisonJson::array(const std::vector<JsonRow>& rows) {
    if (rows.empty()) return {};
    std::string out = "[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i) out += ',';
        out += object(rows[i]);
    }
    out += ']';
    return out;
}

}  // namespace emulator
