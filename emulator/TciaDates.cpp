#include "emulator/TciaDates.h"

#include <cctype>
#include <cstdio>

namespace emulator {

namespace {
bool allDigits(const std::string& s) {
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return !s.empty();
}

// Splits "a<sep>b<sep>c" into three digit groups.
bool split3(const std::string& text, char sep, std::string& a, std::string& b, std::string& c) {
    const auto p1 = text.find(sep);
    if (p1 == std::string::npos) return false;
    const auto p2 = text.find(sep, p1 + 1);
    if (p2 == std::string::npos) return false;
    a = text.substr(0, p1);
    b = text.substr(p1 + 1, p2 - p1 - 1);
    c = text.substr(p2 + 1);
    return allDigits(a) && allDigits(b) && allDigits(c);
}

std::optional<std::string> makeDate(const std::string& y, const std::string& m, const std::string& d) {
    if (y.size() != 4 || m.empty() || m.size() > 2 || d.empty() || d.size() > 2) return std::nullopt;
    const int mi = std::stoi(m), di = std::stoi(d);
    if (mi < 1 || mi > 12 || di < 1 || di > 31) return std::nullopt;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%s%02d%02d", y.c_str(), mi, di);
    return std::string(buf);
}
}  // namespace

std::string TciaDates::toTimestamp(const std::string& v) {
    if (v.size() == 8) return v + "000000";
    return v;
}

std::string TciaDates::v1Timestamp(const std::string& v) {
    if (v.size() < 8) return {};
    const std::string t = toTimestamp(v);
    return t.substr(0, 4) + "-" + t.substr(4, 2) + "-" + t.substr(6, 2) + " " + t.substr(8, 2) + ":" + t.substr(10, 2) +
           ":" + t.substr(12, 2) + ".0";
}

std::string TciaDates::monthDayYear(const std::string& v) {
    if (v.size() < 8) return {};
    return v.substr(4, 2) + "-" + v.substr(6, 2) + "-" + v.substr(0, 4);
}

std::optional<std::string> TciaDates::parseYearSlash(const std::string& text) {
    std::string a, b, c;
    if (!split3(text, '/', a, b, c)) return std::nullopt;
    return makeDate(a, b, c);
}

std::optional<std::string> TciaDates::parseDaySlash(const std::string& text) {
    std::string a, b, c;
    if (!split3(text, '/', a, b, c)) return std::nullopt;
    return makeDate(c, b, a);
}

std::optional<std::string> TciaDates::parseMonthDash(const std::string& text) {
    std::string a, b, c;
    if (!split3(text, '-', a, b, c)) return std::nullopt;
    return makeDate(c, a, b);
}

}  // namespace emulator
