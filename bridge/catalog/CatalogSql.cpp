#include "bridge/catalog/CatalogSql.h"

#include "bridge/catalog/ScanFilter.h"
#include "bridge/common/Text.h"

#include <ctime>
#include <sstream>

using namespace Poco::Data::Keywords;
using Poco::Data::Session;
using Poco::Data::Statement;

namespace bridge::catalog {

std::string key(const std::string& s) { return asciiUpper(trimSpaces(s)); }

std::string epochToDa(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
    return buf;
}

void Conditions::addCaseInsensitive(const char* column, const std::string& value) {
    if (trimSpaces(value).empty()) return;
    params.push_back(key(value));
    sql.push_back(std::string("upper(") + column + ") = $" + std::to_string(params.size()));
}

void Conditions::addExact(const char* column, const std::string& value) {
    if (trimSpaces(value).empty()) return;
    params.push_back(trimSpaces(value));
    sql.push_back(std::string(column) + " = $" + std::to_string(params.size()));
}

std::string Conditions::where() const {
    if (sql.empty()) return "";
    std::string out = " WHERE ";
    for (std::size_t i = 0; i < sql.size(); ++i) out += (i ? " AND " : "") + sql[i];
    return out;
}

std::vector<std::string> selectStrings(Session& s, const std::string& sql, std::vector<std::string>& params) {
    std::vector<std::string> rows;
    Statement st(s);
    st << sql;
    for (auto& p : params) st.addBind(useRef(p));
    st.addExtract(into(rows));
    st.execute();
    return rows;
}

std::string upsertSql(const std::string& table, const std::string& columns, const std::string& conflict) {
    std::vector<std::string> names;
    std::stringstream in(columns);
    std::string c;
    while (std::getline(in, c, ',')) names.push_back(trimSpaces(c));
    std::string sql = "INSERT INTO " + table + " (" + columns + ") VALUES (";
    for (std::size_t i = 0; i < names.size(); ++i) sql += (i ? ", $" : "$") + std::to_string(i + 1);
    sql += ") ON CONFLICT (" + conflict + ") DO UPDATE SET ";
    bool first = true;
    for (const auto& n : names) {
        if (conflict.find(n) != std::string::npos) continue;
        sql += (first ? "" : ", ") + n + " = excluded." + n;
        first = false;
    }
    return sql;
}

const std::string& patientUpsertSql() {
    static const std::string sql = upsertSql("patients", kPatientColumns, "collection, patient_id");
    return sql;
}
const std::string& studyUpsertSql() {
    static const std::string sql = upsertSql("studies", kStudyColumns, "study_uid");
    return sql;
}
const std::string& seriesUpsertSql() {
    static const std::string sql = upsertSql("series", kSeriesColumns, "series_uid");
    return sql;
}

std::string upsertFromStagingSql(const std::string& table, const std::string& columns, const std::string& conflict) {
    const std::string upsert = upsertSql(table, columns, conflict);
    const std::string onConflict = upsert.substr(upsert.find(" ON CONFLICT"));
    return "INSERT INTO " + table + " (" + columns + ") SELECT " + columns + " FROM " + table +
           "_staging WHERE harvest = $1" + onConflict;
}

std::string stagingInsertSql(const std::string& table, const std::string& columns, std::size_t count,
                             const std::string& stagingId) {
    std::string sql = "INSERT INTO " + table + "_staging (harvest, " + columns + ") VALUES ('" + stagingId + "'";
    for (std::size_t i = 1; i <= count; ++i) sql += ", $" + std::to_string(i);
    return sql + ")";
}

Transaction::~Transaction() {
    if (!done_) {
        try {
            session_.rollback();
        } catch (...) {
        }
    }
}

void Transaction::commit() {
    session_.commit();
    done_ = true;
}

HarvestCacheBound::HarvestCacheBound(Session& s, SqlDialect dialect)
    : session_(s), active_(dialect == SqlDialect::Sqlite) {
    if (active_) session_ << "PRAGMA cache_size=-16384", now;
}

HarvestCacheBound::~HarvestCacheBound() {
    if (!active_) return;
    try {
        session_ << "PRAGMA cache_size=-65536", now;  // CatalogDatabase's value
    } catch (...) {
    }
}

}  // namespace bridge::catalog
