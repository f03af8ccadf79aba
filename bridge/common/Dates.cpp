#include "bridge/common/Dates.h"

#include <cctype>

#include "bridge/common/Error.h"

namespace bridge {
namespace {

bool allDigits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

int toInt(std::string_view s) {
    int v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return v;
}

bool isLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool validDate(int y, int m, int d) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || d < 1) return false;
    int maxDay = days[m - 1] + ((m == 2 && isLeap(y)) ? 1 : 0);
    return d <= maxDay;
}

std::string pad(int v, int width) {
    std::string s = std::to_string(v);
    while (static_cast<int>(s.size()) < width) s.insert(s.begin(), '0');
    return s;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string makeDa(std::string_view y, std::string_view m, std::string_view d) {
    if (!allDigits(y) || !allDigits(m) || !allDigits(d)) return {};
    int yi = toInt(y), mi = toInt(m), di = toInt(d);
    if (!validDate(yi, mi, di)) return {};
    return pad(yi, 4) + pad(mi, 2) + pad(di, 2);
}

std::string requireDa(std::string_view date) {
    std::string da = toDicomDate(date);
    if (da.empty())
        throw BridgeError(ErrorCode::InvalidArgument, "not a valid date: '" + std::string(date) + "'");
    return da;
}

}  // namespace

std::string toDicomDate(std::string_view text) {
    std::string_view s = trim(text);
    if (s.size() == 8 && allDigits(s)) return makeDa(s.substr(0, 4), s.substr(4, 2), s.substr(6, 2));
    if (s.size() < 10) return {};
    // "yyyy-MM-dd..." or "yyyy/MM/dd...": anything after the date (" HH:mm:ss.S") is a time part.
    if ((s[4] == '-' || s[4] == '/') && s[7] == s[4]) {
        if (s.size() > 10 && s[10] != ' ' && s[10] != 'T') return {};
        return makeDa(s.substr(0, 4), s.substr(5, 2), s.substr(8, 2));
    }
    // "MM-dd-yyyy" (v4 SQL date_format '%m-%d-%Y').
    if (s[2] == '-' && s[5] == '-') {
        if (s.size() > 10 && s[10] != ' ') return {};
        return makeDa(s.substr(6, 4), s.substr(0, 2), s.substr(3, 2));
    }
    return {};
}

std::string formatV1NewDate(std::string_view date) {
    std::string da = requireDa(date);
    return da.substr(0, 4) + "/" + da.substr(4, 2) + "/" + da.substr(6, 2);
}

std::string formatV1UpdatedDate(std::string_view date) {
    std::string da = requireDa(date);
    return da.substr(6, 2) + "/" + da.substr(4, 2) + "/" + da.substr(0, 4);
}

std::string formatV4Date(std::string_view date) {
    std::string da = requireDa(date);
    return da.substr(4, 2) + "-" + da.substr(6, 2) + "-" + da.substr(0, 4);
}

}  // namespace bridge
