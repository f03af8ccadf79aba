#include "bridge/catalog/ScanFilter.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <algorithm>
#include <cctype>

namespace bridge {
namespace {

enum class KeyKind {
    Uid,         // list of UIDs: IN (...), exact
    Date,        // DA single value or range, exact
    PersonName,  // PN: upper-cased LIKE, exact for case-insensitive trailing-`*` patterns
    Text,        // other strings: upper-cased LIKE, always a superset only
    ModalitiesInStudy,    // studies: via the series table
    PersonNameOfStudy,    // series: PatientName via the studies table
};

struct ColumnMapping {
    DcmTagKey tag;
    const char* column;
    KeyKind kind;
};

const std::vector<ColumnMapping>& mappings(QueryLevel level) {
    static const std::vector<ColumnMapping> patients = {
        {DCM_PatientName, "patient_name", KeyKind::PersonName},
        {DCM_PatientID, "patient_id", KeyKind::Text},
        {DCM_PatientBirthDate, "patient_birth_date", KeyKind::Date},
        {DCM_PatientSex, "patient_sex", KeyKind::Text},
        {DCM_EthnicGroup, "ethnic_group", KeyKind::Text},
        {kCollectionTag, "collection", KeyKind::Text},
    };
    static const std::vector<ColumnMapping> studies = {
        {DCM_PatientName, "patient_name", KeyKind::PersonName},
        {DCM_PatientID, "patient_id", KeyKind::Text},
        {DCM_PatientBirthDate, "patient_birth_date", KeyKind::Date},
        {DCM_PatientSex, "patient_sex", KeyKind::Text},
        {DCM_EthnicGroup, "ethnic_group", KeyKind::Text},
        {DCM_PatientAge, "patient_age", KeyKind::Text},
        {DCM_StudyInstanceUID, "study_uid", KeyKind::Uid},
        {DCM_StudyDate, "study_date", KeyKind::Date},
        {DCM_StudyDescription, "study_description", KeyKind::Text},
        {DCM_StudyID, "study_id", KeyKind::Text},
        {DCM_ModalitiesInStudy, "", KeyKind::ModalitiesInStudy},
        {kCollectionTag, "collection", KeyKind::Text},
    };
    static const std::vector<ColumnMapping> series = {
        {DCM_SeriesInstanceUID, "series_uid", KeyKind::Uid},
        {DCM_StudyInstanceUID, "study_uid", KeyKind::Uid},
        {DCM_Modality, "modality", KeyKind::Text},
        {DCM_SeriesDate, "series_date", KeyKind::Date},
        {DCM_SeriesDescription, "series_description", KeyKind::Text},
        {DCM_BodyPartExamined, "body_part", KeyKind::Text},
        {DCM_Manufacturer, "manufacturer", KeyKind::Text},
        {DCM_ManufacturerModelName, "manufacturer_model", KeyKind::Text},
        {DCM_ProtocolName, "protocol_name", KeyKind::Text},
        {DCM_PatientID, "patient_id", KeyKind::Text},
        {DCM_PatientSex, "patient_sex", KeyKind::Text},
        {DCM_PatientAge, "patient_age", KeyKind::Text},
        {DCM_PatientName, "", KeyKind::PersonNameOfStudy},
        {kCollectionTag, "collection", KeyKind::Text},
    };
    static const std::vector<ColumnMapping> none;
    switch (level) {
        case QueryLevel::Patient: return patients;
        case QueryLevel::Study: return studies;
        case QueryLevel::Series: return series;
        default: return none;
    }
}

// Keys that steer the query rather than match records.
bool isControlKey(const DcmTagKey& tag) {
    return tag == DCM_QueryRetrieveLevel || tag == DCM_SpecificCharacterSet || tag == DCM_RetrieveAETitle ||
           tag == DCM_InstanceAvailability || tag == DCM_TimezoneOffsetFromUTC;
}

std::string trim(const std::string& text) {
    std::size_t b = 0, e = text.size();
    while (b < e && (text[b] == ' ' || text[b] == '\0')) ++b;
    while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\0')) --e;
    return text.substr(b, e - b);
}

std::vector<std::string> splitAlternatives(const std::string& value) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const auto pos = value.find('\\', start);
        out.push_back(trim(value.substr(start, pos == std::string::npos ? std::string::npos : pos - start)));
        if (pos == std::string::npos) break;
        start = pos + 1;
    }
    return out;
}

bool isAscii(const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool hasWildcard(const std::string& text) { return text.find_first_of("*?") != std::string::npos; }

bool isUniversal(const std::string& value) {
    const std::string v = trim(value);
    return v.empty() || std::all_of(v.begin(), v.end(), [](char c) { return c == '*'; });
}

// "YYYYMMDD" or the legacy ACR-NEMA "YYYY.MM.DD" (PS3.5 6.2 note) -> "YYYYMMDD"; "" if neither.
std::string normaliseDate(const std::string& text) {
    std::string d = text;
    if (d.size() == 10 && d[4] == '.' && d[7] == '.') d = d.substr(0, 4) + d.substr(5, 2) + d.substr(8, 2);
    if (d.size() != 8 || !std::all_of(d.begin(), d.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return {};
    return d;
}

class Builder {
public:
    Builder(SqlDialect dialect, std::size_t first) : dialect_(dialect), next_(first) {}

    std::string param(std::string value) {
        params.push_back(std::move(value));
        return "$" + std::to_string(next_++);
    }

    /// `upper(expr) LIKE pattern` plus, on SQLite, the literal prefix as an index range:
    /// SQLite's LIKE cannot use an index on upper(...) itself (it needs NOCASE collation),
    /// a `>= prefix AND < prefix+1` range on the same expression can.
    std::string likeCondition(const std::string& column, const std::string& likePattern) {
        const std::string expr = "upper(" + column + ")";
        std::string prefix;
        for (std::size_t i = 0; i < likePattern.size(); ++i) {
            const char c = likePattern[i];
            if (c == '%' || c == '_') break;
            if (c == '\\' && i + 1 < likePattern.size()) {
                prefix += likePattern[++i];
                continue;
            }
            prefix += c;
        }
        // SQLite numbers `$n` parameters in order of first appearance in the text, so the
        // placeholders must appear in allocation order.
        if (dialect_ == SqlDialect::Sqlite && !prefix.empty() && static_cast<unsigned char>(prefix.back()) < 0x7E) {
            // PostgreSQL compares text in the database collation, where a byte-wise prefix
            // range is not a prefix test, so the range is SQLite-only (BINARY collation).
            std::string upper = prefix;
            upper.back() = static_cast<char>(upper.back() + 1);
            const std::string low = param(prefix);
            const std::string high = param(upper);
            return "(" + expr + " >= " + low + " AND " + expr + " < " + high + " AND " + expr + " LIKE " +
                   param(likePattern) + " ESCAPE '\\')";
        }
        std::string sql = expr + " LIKE " + param(likePattern) + " ESCAPE '\\'";
        return sql;
    }

    std::vector<std::string> params;

    /// Where the parameter list stands, to undo a key that turned out untranslatable.
    std::pair<std::size_t, std::size_t> mark() const { return {params.size(), next_}; }
    void rollback(std::pair<std::size_t, std::size_t> m) {
        params.resize(m.first);
        next_ = m.second;
    }

private:
    SqlDialect dialect_;
    std::size_t next_;
};

std::string joinOr(const std::vector<std::string>& parts) {
    if (parts.size() == 1) return parts.front();
    std::string out = "(";
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? " OR " : "") + parts[i];
    return out + ")";
}

/// PN and other strings. Returns "" when the key cannot be pushed. Sets `exact` to whether the
/// pushed condition equals the matcher's semantics.
std::string textCondition(Builder& b, const std::string& column, const std::string& value, bool personName,
                          const Query& query, bool& exact) {
    const auto alternatives = splitAlternatives(value);
    exact = personName && !query.caseSensitivePersonNames && !query.fuzzyMatching;
    std::vector<std::string> parts;
    for (const auto& alt : alternatives) {
        // Non-ASCII: the matcher folds case Unicode-aware, SQL upper() only ASCII.
        if (!isAscii(alt)) return {};
        if (isUniversal(alt)) return {};  // one universal alternative makes the key universal
        std::string pattern;
        if (personName && query.fuzzyMatching) {
            // Fuzzy (Matcher.h): the name or any component starts with the value: a substring.
            std::string v = alt;
            while (!v.empty() && v.back() == '*') v.pop_back();
            pattern = "%" + wildcardToLikePattern(v) + "%";
        } else {
            pattern = wildcardToLikePattern(alt);
            // A trailing `%` tolerates padding spaces in stored values; where the pattern did
            // not end in `*` it widens the match, so the filter is only a superset.
            if (alt.back() != '*') {
                pattern += "%";
                exact = false;
            }
        }
        parts.push_back(b.likeCondition(column, pattern));
    }
    if (!personName) exact = false;  // CS/LO/SH: case-sensitive or numeric in the matcher
    return joinOr(parts);
}

std::string uidCondition(Builder& b, const std::string& column, const std::string& value) {
    const auto alternatives = splitAlternatives(value);
    std::string sql = column + " IN (";
    bool first = true;
    for (const auto& alt : alternatives) {
        if (alt.empty() || hasWildcard(alt)) return {};
        sql += (first ? "" : ", ") + b.param(alt);
        first = false;
    }
    return sql + ")";
}

std::string dateCondition(Builder& b, const std::string& column, const std::string& value) {
    const std::string v = trim(value);
    if (v.find('\\') != std::string::npos || hasWildcard(v)) return {};
    const auto dash = v.find('-');
    if (dash == std::string::npos) {
        const std::string d = normaliseDate(v);
        return d.empty() ? std::string() : column + " = " + b.param(d);
    }
    const std::string low = trim(v.substr(0, dash)), high = trim(v.substr(dash + 1));
    const std::string lowDate = normaliseDate(low), highDate = normaliseDate(high);
    if ((!low.empty() && lowDate.empty()) || (!high.empty() && highDate.empty())) return {};
    if (low.empty() && high.empty()) return "1=1";
    std::vector<std::string> parts;
    // An empty stored date matches only universal matching (Matcher.h), never a range.
    parts.push_back(column + " <> ''");
    if (!lowDate.empty()) parts.push_back(column + " >= " + b.param(lowDate));
    if (!highDate.empty()) parts.push_back(column + " <= " + b.param(highDate));
    std::string sql = "(";
    for (std::size_t i = 0; i < parts.size(); ++i) sql += (i ? " AND " : "") + parts[i];
    return sql + ")";
}

}  // namespace

std::string asciiUpper(std::string text) {
    for (auto& c : text)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return text;
}

std::string wildcardToLikePattern(const std::string& dicomPattern) {
    std::string out;
    out.reserve(dicomPattern.size() + 4);
    for (char c : asciiUpper(dicomPattern)) {
        switch (c) {
            case '*': out += '%'; break;
            case '?': out += '_'; break;
            case '%':
            case '_':
            case '\\': out += '\\'; out += c; break;
            default: out += c;
        }
    }
    return out;
}

ScanFilter buildScanFilter(const Query& query, QueryLevel level, const std::vector<std::string>& collections,
                           SqlDialect dialect, std::size_t firstParameter) {
    ScanFilter result;
    Builder b(dialect, firstParameter);
    std::vector<std::string> conditions;

    if (!collections.empty()) {
        std::string sql = "upper(collection) IN (";
        for (std::size_t i = 0; i < collections.size(); ++i)
            sql += (i ? ", " : "") + b.param(asciiUpper(trim(collections[i])));
        conditions.push_back(sql + ")");
    }

    const auto& table = mappings(level);
    for (const auto& key : query.keys) {
        if (isControlKey(key.tag) || isUniversal(key.value)) continue;
        const auto mapping = std::find_if(table.begin(), table.end(), [&](const ColumnMapping& m) { return m.tag == key.tag; });
        if (mapping == table.end()) {
            result.exact = false;  // left to the engine
            continue;
        }
        std::string condition;
        bool exact = false;
        const auto mark = b.mark();
        switch (mapping->kind) {
            case KeyKind::Uid:
                condition = uidCondition(b, mapping->column, key.value);
                exact = true;
                break;
            case KeyKind::Date:
                condition = dateCondition(b, mapping->column, key.value);
                exact = true;
                break;
            case KeyKind::PersonName:
                condition = textCondition(b, mapping->column, key.value, true, query, exact);
                break;
            case KeyKind::Text:
                condition = textCondition(b, mapping->column, key.value, false, query, exact);
                break;
            case KeyKind::ModalitiesInStudy: {
                std::string modalities;
                for (const auto& alt : splitAlternatives(key.value)) {
                    if (alt.empty() || hasWildcard(alt) || !isAscii(alt)) {
                        modalities.clear();
                        break;
                    }
                    modalities += (modalities.empty() ? "" : ", ") + b.param(asciiUpper(alt));
                }
                if (!modalities.empty())
                    condition = "study_uid IN (SELECT study_uid FROM series WHERE upper(modality) IN (" + modalities + "))";
                break;
            }
            case KeyKind::PersonNameOfStudy: {
                bool ignored = false;
                const std::string inner = textCondition(b, "patient_name", key.value, true, query, ignored);
                if (!inner.empty()) condition = "study_uid IN (SELECT study_uid FROM studies WHERE " + inner + ")";
                break;
            }
        }
        if (condition.empty()) {
            b.rollback(mark);
            result.exact = false;
            continue;
        }
        if (!exact) result.exact = false;
        conditions.push_back(condition);
    }

    if (!conditions.empty()) {
        result.where.clear();
        for (std::size_t i = 0; i < conditions.size(); ++i) result.where += (i ? " AND " : "") + conditions[i];
    }
    result.params = std::move(b.params);
    return result;
}

}  // namespace bridge
