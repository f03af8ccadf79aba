#include "bridge/query/Matcher.h"

#include "bridge/common/Error.h"
#include "bridge/common/Text.h"

#include <dcmtk/dcmdata/dctag.h>
#include <dcmtk/dcmdata/dcdeftag.h>

#include <Poco/Unicode.h>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace bridge {
namespace {

std::string trim(const std::string& s) {
    std::size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\0' || s[b] == '\t')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\0' || s[e - 1] == '\t')) --e;
    return s.substr(b, e - b);
}

std::vector<std::string> splitValues(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        auto pos = s.find('\\', start);
        out.push_back(trim(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start)));
        if (pos == std::string::npos) break;
        start = pos + 1;
    }
    return out;
}

/// Lenient UTF-8 decoder: an invalid byte becomes U+DC00+byte (never equal to a real letter).
std::u32string decodeUtf8(const std::string& s) {
    std::u32string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        bool ok = len > 0 && i + len <= s.size();
        char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (int k = 1; ok && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) ok = false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (!ok) {
            out.push_back(0xDC00 + c);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += len;
    }
    return out;
}

std::u32string toCodePoints(const std::string& s, bool fold) {
    std::u32string u = decodeUtf8(s);
    if (fold)
        for (auto& c : u) c = static_cast<char32_t>(Poco::Unicode::toLower(static_cast<int>(c)));
    return u;
}

/// `*` any sequence, `?` one code point. Iterative with single backtrack point (linear-ish).
bool wildcardMatch(const std::u32string& pattern, const std::u32string& text) {
    std::size_t p = 0, t = 0, starP = std::u32string::npos, starT = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == U'?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == U'*') {
            starP = p++;
            starT = t;
        } else if (starP != std::u32string::npos) {
            p = starP + 1;
            t = ++starT;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == U'*') ++p;
    return p == pattern.size();
}

bool allDigits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// DA "YYYYMMDD" or legacy "YYYY.MM.DD" -> "YYYYMMDD"; nullopt when not a valid date.
std::optional<std::string> normaliseDate(const std::string& in) {
    std::string s = in;
    if (s.size() == 10 && s[4] == '.' && s[7] == '.') s = s.substr(0, 4) + s.substr(5, 2) + s.substr(8, 2);
    if (s.size() != 8 || !allDigits(s)) return std::nullopt;
    const int month = std::stoi(s.substr(4, 2)), day = std::stoi(s.substr(6, 2));
    if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
    return s;
}

/// TM "HH[MM[SS[.F{1,6}]]]" (or legacy HH:MM:SS) -> fixed "HHMMSS.FFFFFF", missing parts filled
/// with the lowest (upper=false) or highest (upper=true) value of the given precision.
std::optional<std::string> normaliseTime(const std::string& in, bool upper) {
    std::string s;
    for (char c : in)
        if (c != ':') s.push_back(c);
    std::string whole = s, fraction;
    if (auto dot = s.find('.'); dot != std::string::npos) {
        whole = s.substr(0, dot);
        fraction = s.substr(dot + 1);
        if (fraction.size() > 6 || (!fraction.empty() && !allDigits(fraction)) || whole.size() != 6) return std::nullopt;
    }
    if (!allDigits(whole) || (whole.size() != 2 && whole.size() != 4 && whole.size() != 6)) return std::nullopt;
    if (std::stoi(whole.substr(0, 2)) > 23) return std::nullopt;
    if (whole.size() >= 4 && std::stoi(whole.substr(2, 2)) > 59) return std::nullopt;
    if (whole.size() == 6 && std::stoi(whole.substr(4, 2)) > 60) return std::nullopt;  // 60: leap second
    const std::string fill = upper ? "5959" : "0000";
    std::string out = whole + fill.substr(0, 6 - whole.size());
    fraction.append(6 - fraction.size(), upper ? '9' : '0');
    return out + "." + fraction;
}

/// DT "YYYY[MM[DD[HH[MM[SS[.F]]]]]][+-ZZXX]" -> fixed "YYYYMMDDHHMMSS.FFFFFF" (offset dropped).
std::optional<std::string> normaliseDateTime(const std::string& in, bool upper) {
    std::string s = in;
    if (s.size() > 5 && (s[s.size() - 5] == '+' || s[s.size() - 5] == '-') && allDigits(s.substr(s.size() - 4)))
        s = s.substr(0, s.size() - 5);
    std::string whole = s, fraction;
    if (auto dot = s.find('.'); dot != std::string::npos) {
        whole = s.substr(0, dot);
        fraction = s.substr(dot + 1);
        if (fraction.size() > 6 || (!fraction.empty() && !allDigits(fraction)) || whole.size() != 14) return std::nullopt;
    }
    if (!allDigits(whole) || whole.size() < 4 || whole.size() > 14 || whole.size() % 2 != 0) return std::nullopt;
    static const std::string lowFill = "0101000000", highFill = "1231235959";  // MMDDHHMMSS
    std::string out = whole + (upper ? highFill : lowFill).substr(whole.size() - 4);
    if (whole.size() >= 8 && !normaliseDate(out.substr(0, 8))) return std::nullopt;
    fraction.append(6 - fraction.size(), upper ? '9' : '0');
    return out + "." + fraction;
}

std::optional<double> parseNumber(const std::string& s) {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return std::nullopt;
    return v;
}

bool isNumericVr(DcmEVR vr) {
    switch (vr) {
        case EVR_IS: case EVR_DS: case EVR_US: case EVR_UL: case EVR_SS: case EVR_SL:
        case EVR_FL: case EVR_FD: case EVR_SV: case EVR_UV:
            return true;
        default:
            return false;
    }
}

bool hasWildcard(const std::string& s) { return s.find_first_of("*?") != std::string::npos; }

}  // namespace

std::string Matcher::describe(const DcmTagKey& tag) {
    DcmTag t(tag);
    const char* name = t.getTagName();
    std::string out = (name && std::string(name) != DcmTag_ERROR_TagName) ? std::string(name) + " " : std::string();
    return out + tag.toString().c_str();
}

Matcher::Matcher(const QueryKey& key, const MatchOptions& options) : tag_(key.tag), vr_(key.vr) {
    if (vr_ == EVR_UNKNOWN || vr_ == EVR_UNKNOWN2B) vr_ = DcmTag(tag_).getEVR();
    const bool personName = vr_ == EVR_PN;
    if (personName)
        compare_ = options.caseSensitivePersonNames ? Compare::Exact : Compare::CaseInsensitive;
    else if (tag_ == DCM_BodyPartExamined || tag_ == DCM_Manufacturer || tag_ == DCM_ManufacturerModelName ||
             tag_ == kCollectionTag)
        compare_ = Compare::CaseInsensitive;  // TCIA compares these case-insensitively (API.md 2.4)
    else if (vr_ == EVR_DA)
        compare_ = Compare::Date;
    else if (vr_ == EVR_TM)
        compare_ = Compare::Time;
    else if (vr_ == EVR_DT)
        compare_ = Compare::DateTime;
    else if (isNumericVr(vr_))
        compare_ = Compare::Numeric;
    fuzzy_ = options.fuzzyMatching && personName;

    // Sequence matching (C.2.2.2.6) is not supported: an SQ key is a return key.
    if (vr_ == EVR_SQ || trim(key.value).empty()) return;

    for (const auto& piece : splitValues(key.value)) {
        if (piece.empty()) continue;  // "CT\" : an empty alternative adds nothing
        if (piece == "*" || (piece == "-" && (vr_ == EVR_DA || vr_ == EVR_TM || vr_ == EVR_DT))) {
            // C.2.2.2.4: "*" alone is universal matching, whatever the VR.
            alternatives_.clear();
            kind_ = MatchKind::Universal;
            return;
        }
        alternatives_.push_back(parseAlternative(piece));
    }
    if (alternatives_.empty())
        kind_ = MatchKind::Universal;
    else if (alternatives_.size() > 1)
        kind_ = MatchKind::List;
    else
        kind_ = alternatives_.front().kind;
}

Matcher::Alternative Matcher::parseAlternative(const std::string& text) const {
    Alternative a;
    a.text = text;
    auto invalid = [&](const std::string& why) {
        return BridgeError(ErrorCode::InvalidArgument,
                           "invalid value '" + text + "' for " + describe(tag_) + ": " + why);
    };
    const bool dateLike = compare_ == Compare::Date || compare_ == Compare::Time || compare_ == Compare::DateTime;
    // A DT may end in a UTC offset "-HHMM" (PS3.5 6.2), which also looks like "A-B". Offsets
    // lie within -1200..+1400 while a 4-digit range bound is a year, so "-0500" is an offset
    // and "2000-2001" a range.
    const bool dtWithOffset = compare_ == Compare::DateTime && text.size() > 5 &&
                              text.find('-') == text.size() - 5 && allDigits(text.substr(text.size() - 4)) &&
                              std::stoi(text.substr(text.size() - 4)) <= 1400 && normaliseDateTime(text, false);
    if (dateLike && !hasWildcard(text) && text.find('-') != std::string::npos && !dtWithOffset) {
        // Range (C.2.2.2.5). For DT a '-' may also introduce a UTC offset: try every split.
        a.kind = MatchKind::Range;
        std::vector<std::size_t> dashes;
        for (std::size_t i = 0; i < text.size(); ++i)
            if (text[i] == '-') dashes.push_back(i);
        if (compare_ != Compare::DateTime && dashes.size() != 1)
            throw invalid("a range is A-B, A- or -B with one '-'");
        bool parsed = false;
        for (std::size_t dash : dashes) {
            const std::string lo = trim(text.substr(0, dash)), hi = trim(text.substr(dash + 1));
            std::optional<std::string> low, high;
            if (compare_ == Compare::Date) {
                low = lo.empty() ? std::string() : normaliseDate(lo);
                high = hi.empty() ? std::string() : normaliseDate(hi);
            } else if (compare_ == Compare::Time) {
                low = lo.empty() ? std::string() : normaliseTime(lo, false);
                high = hi.empty() ? std::string() : normaliseTime(hi, true);
            } else {
                low = lo.empty() ? std::string() : normaliseDateTime(lo, false);
                high = hi.empty() ? std::string() : normaliseDateTime(hi, true);
            }
            if (low && high) {
                a.low = *low;
                a.high = *high;
                parsed = true;
                break;
            }
        }
        if (!parsed)
            throw invalid(compare_ == Compare::Date ? "range bounds must be dates YYYYMMDD (or YYYY.MM.DD)"
                                                    : "range bounds are not valid DICOM values");
        return a;
    }
    if (hasWildcard(text)) {
        a.kind = MatchKind::Wildcard;
        std::string pattern = text;
        if (fuzzy_) {
            while (!pattern.empty() && pattern.back() == '*') pattern.pop_back();
            if (!hasWildcard(pattern)) {
                a.kind = MatchKind::SingleValue;  // fuzzy prefix match, see header
                a.text = pattern;
            }
        }
        a.folded = toCodePoints(a.text, fuzzy_ || compare_ == Compare::CaseInsensitive);
        return a;
    }
    a.kind = MatchKind::SingleValue;
    if (vr_ == EVR_UI) {
        // PS3.5 9.1: digits and dots, at most 64 characters. Refusing garbage here saves a TCIA
        // call per bad UID and tells the caller what is wrong.
        if (!text.empty() && !isValidUid(text))
            throw invalid("not a UID (digits and dots, at most 64 characters)");
    }
    if (compare_ == Compare::Date) {
        auto d = normaliseDate(text);
        if (!d) throw invalid("not a date YYYYMMDD");
        a.text = *d;
    } else if (compare_ == Compare::Time) {
        auto t = normaliseTime(text, false);
        if (!t) throw invalid("not a time HHMMSS.FFFFFF");
        a.text = *t;
    } else if (compare_ == Compare::DateTime) {
        auto t = normaliseDateTime(text, false);
        if (!t) throw invalid("not a date-time YYYYMMDDHHMMSS");
        a.text = *t;
    }
    a.folded = toCodePoints(a.text, fuzzy_ || compare_ == Compare::CaseInsensitive);
    return a;
}

std::optional<std::string> Matcher::exactValue() const {
    if (kind_ != MatchKind::SingleValue || fuzzy_) return std::nullopt;
    if (compare_ == Compare::Time || compare_ == Compare::DateTime) return std::nullopt;
    return alternatives_.front().text;
}

std::vector<std::string> Matcher::exactValues() const {
    std::vector<std::string> out;
    if (fuzzy_ || alternatives_.empty() || compare_ == Compare::Time || compare_ == Compare::DateTime) return out;
    std::set<std::string> seen;
    for (const auto& a : alternatives_) {
        if (a.kind != MatchKind::SingleValue) return {};
        if (seen.insert(a.text).second) out.push_back(a.text);
    }
    return out;
}

bool Matcher::matches(const std::optional<std::string>& recordValue) const {
    if (kind_ == MatchKind::Universal) return true;
    if (!recordValue) return true;  // unknown to the bridge: see header ("Missing values")
    if (trim(*recordValue).empty()) return false;
    for (const auto& component : splitValues(*recordValue)) {
        if (component.empty()) continue;
        for (const auto& a : alternatives_)
            if (matchesOne(a, component)) return true;
        if (vr_ == EVR_PN) {
            // PS3.5 6.2.1: trailing empty components ("DOE^JOHN^^^") may be left out, and a name
            // has up to three '='-separated groups (alphabetic, ideographic, phonetic): a key
            // matching the whole name, its trimmed form or any one group matches.
            std::vector<std::string> forms;
            std::size_t start = 0;
            for (;;) {
                auto eq = component.find('=', start);
                forms.push_back(component.substr(start, eq == std::string::npos ? std::string::npos : eq - start));
                if (eq == std::string::npos) break;
                start = eq + 1;
            }
            if (forms.size() == 1 && forms.front() == component) forms.clear();
            std::string trimmed = component;
            while (!trimmed.empty() && (trimmed.back() == '^' || trimmed.back() == '=' || trimmed.back() == ' ')) trimmed.pop_back();
            if (trimmed != component) forms.push_back(trimmed);
            for (auto& f : forms) {
                while (!f.empty() && (f.back() == '^' || f.back() == ' ')) f.pop_back();
                if (f.empty()) continue;
                for (const auto& a : alternatives_)
                    if (matchesOne(a, f)) return true;
            }
        }
    }
    return false;
}

bool Matcher::matchesOne(const Alternative& a, const std::string& value) const {
    const bool fold = fuzzy_ || compare_ == Compare::CaseInsensitive;
    switch (a.kind) {
        case MatchKind::Range: {
            std::optional<std::string> v;
            if (compare_ == Compare::Date) v = normaliseDate(value);
            else if (compare_ == Compare::Time) v = normaliseTime(value, false);
            else v = normaliseDateTime(value, false);
            if (!v) return false;
            return (a.low.empty() || *v >= a.low) && (a.high.empty() || *v <= a.high);
        }
        case MatchKind::Wildcard:
            return wildcardMatch(a.folded, toCodePoints(value, fold));
        default:
            break;
    }
    if (fuzzy_) {
        // Prefix of the whole name or of any component (see header).
        const std::u32string v = toCodePoints(value, true);
        if (v.compare(0, a.folded.size(), a.folded) == 0) return true;
        for (std::size_t i = 0; i < v.size(); ++i) {
            const char32_t c = v[i];
            if (c == U'^' || c == U'=' || c == U' ' || c == U',') {
                if (v.compare(i + 1, a.folded.size(), a.folded) == 0 && i + 1 + a.folded.size() <= v.size())
                    return true;
            }
        }
        return false;
    }
    switch (compare_) {
        case Compare::CaseInsensitive:
            return toCodePoints(value, true) == a.folded;
        case Compare::Numeric: {
            auto x = parseNumber(a.text), y = parseNumber(value);
            if (x && y) return *x == *y;
            return value == a.text;
        }
        case Compare::Date: {
            auto d = normaliseDate(value);
            return d ? *d == a.text : value == a.text;
        }
        case Compare::Time: {
            auto t = normaliseTime(value, false);
            return t && *t == a.text;
        }
        case Compare::DateTime: {
            auto t = normaliseDateTime(value, false);
            return t && *t == a.text;
        }
        default:
            return value == a.text;
    }
}

bool matchValue(const QueryKey& key, const std::optional<std::string>& recordValue, const MatchOptions& options) {
    return Matcher(key, options).matches(recordValue);
}

}  // namespace bridge
