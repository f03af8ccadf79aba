#include "bridge/catalog/CatalogScans.h"

#include "bridge/catalog/ScanFilter.h"

#include <Poco/Data/Statement.h>

#include <algorithm>
#include <map>
#include <set>

using namespace Poco::Data::Keywords;
using Poco::Data::Session;
using Poco::Data::Statement;

namespace bridge::catalog {

std::int64_t CatalogScans::statRows(Session& s, const char* index) {
    try {
        std::vector<std::string> params{index};
        const auto stat = selectStrings(s, "SELECT stat FROM sqlite_stat1 WHERE idx = $1", params);
        return stat.empty() ? 0 : std::stoll(stat.front());
    } catch (const std::exception&) {
        return 0;  // no ANALYZE yet: sqlite_stat1 does not exist
    }
}

template <class R>
std::optional<std::vector<R>> CatalogScans::scan(const Query& query, QueryLevel level,
                                                 const std::vector<std::string>& requested, const char* table,
                                                 const char* columns, const std::vector<std::string>& orderBy,
                                                 const char* orderIndex) {
    return guarded("scan", [&]() -> std::optional<std::vector<R>> {
        if (requested.empty()) return std::vector<R>{};
        Session s = store_.session();
        const auto dialect = store_.dialect();
        std::map<std::string, bool> harvested;  // upper name -> answers a scan at this level
        for (const auto& c : store_.collectionStates(s))
            harvested[key(c.name)] = store_.freshness().harvestAnswers(c, level, FreshnessRule::Use::Scan);
        std::set<std::string> wanted;
        for (const auto& c : requested) {
            const auto it = harvested.find(key(c));
            if (it == harvested.end() || !it->second) {
                // While a harvest runs, answer from what is there (scanIncompleteness()
                // told the engine so); otherwise refuse rather than answer partially.
                if (!partialScans_) return std::nullopt;
                continue;
            }
            wanted.insert(key(c));
        }
        if (wanted.empty()) return std::vector<R>{};
        // The collections table lists every collection present in the record tables
        // (ensureCollections), so when all of them are wanted the IN list can go.
        std::vector<std::string> restrict;
        if (wanted.size() < harvested.size()) restrict.assign(wanted.begin(), wanted.end());
        ScanFilter filter = buildScanFilter(query, level, restrict, dialect);
        std::string from = table;
        std::string suffix;
        if (filter.exact && query.limit && orderBy.size() > 0) {
            // Exact filter: the engine keeps every row, so the first offset+limit+1 rows in
            // the engine's own order (QueryEngine.cpp sortRecords: byte-wise) are enough for
            // the page and its "truncated" flag. PostgreSQL sorts text in the database
            // collation unless told to compare bytes.
            const std::size_t wanted = query.offset + *query.limit + 1;
            std::string order;
            for (std::size_t i = 0; i < orderBy.size(); ++i) {
                order += (i ? ", " : "") + orderBy[i];
                if (dialect == SqlDialect::PostgreSql) order += " COLLATE \"C\"";
            }
            suffix = " ORDER BY " + order + " LIMIT " + std::to_string(wanted);
            if (dialect == SqlDialect::Sqlite && orderIndex) {
                // SQLite (no STAT4) prefers a name range index even when the range holds
                // most of the table ("S*"), then sorts all of it. Walking the engine-order
                // index instead stops at the page, but visits the whole table in the worst
                // case (names correlate with PatientIDs: matches may all sit at the end).
                // So walk only when the range holds at least half of the table: then the
                // walk costs at most twice the range scan, and usually far less.
                const std::int64_t tableRows = statRows(s, orderIndex);
                if (tableRows > 0) {
                    const std::size_t threshold =
                        std::max<std::size_t>({2000, 20 * wanted, static_cast<std::size_t>(tableRows / 2)});
                    Poco::Int64 inRange = 0;
                    Statement probe(s);
                    probe << "SELECT count(*) FROM (SELECT 1 FROM " << table << " WHERE " << filter.where << " LIMIT "
                          << threshold << ") AS probe";
                    for (auto& p : filter.params) probe.addBind(useRef(p));
                    probe.addExtract(into(inRange));
                    probe.execute();
                    if (static_cast<std::size_t>(inRange) >= threshold) from += std::string(" INDEXED BY ") + orderIndex;
                }
            }
        }
        std::string sql = std::string("SELECT ") + columns + " FROM " + from + " WHERE " + filter.where + suffix;
        return selectRecords<R>(s, sql, filter.params);
    });
}

std::optional<std::vector<tcia::PatientRecord>> CatalogScans::patients(const Query& query,
                                                                       const std::vector<std::string>& collections) {
    return scan<tcia::PatientRecord>(query, QueryLevel::Patient, collections, "patients", kPatientColumns,
                                     {"patient_id", "collection"}, "patients_order");
}

std::optional<std::vector<tcia::StudyRecord>> CatalogScans::studies(const Query& query,
                                                                    const std::vector<std::string>& collections) {
    return scan<tcia::StudyRecord>(query, QueryLevel::Study, collections, "studies", kStudyColumns,
                                   {"patient_id", "study_date", "study_uid"}, "studies_order");
}

std::optional<std::vector<tcia::SeriesRecord>> CatalogScans::series(const Query& query,
                                                                    const std::vector<std::string>& collections) {
    return scan<tcia::SeriesRecord>(query, QueryLevel::Series, collections, "series", kSeriesColumns,
                                    // The engine orders series by SeriesNumber numerically
                                    // within a study, which SQL cannot mirror portably:
                                    // series scans are never cut by LIMIT.
                                    {}, nullptr);
}

std::string CatalogScans::incompleteness(QueryLevel level, const std::vector<std::string>& collections) {
    if (!partialScans_ || collections.empty()) return {};
    return guarded("scan coverage", [&]() -> std::string {
        Session s = store_.session();
        std::map<std::string, bool> covered;
        for (const auto& c : store_.collectionStates(s))
            covered[key(c.name)] = store_.freshness().harvestAnswers(c, level, FreshnessRule::Use::Scan);
        std::size_t done = 0;
        for (const auto& c : collections) {
            const auto it = covered.find(key(c));
            if (it != covered.end() && it->second) ++done;
        }
        if (done == collections.size()) return {};
        return "catalog harvest in progress: " + std::to_string(done) + " of " + std::to_string(collections.size()) +
               " collections" + (level == QueryLevel::Series || level == QueryLevel::Image ? " (series level)" : "") +
               "; results may be incomplete";
    });
}

}  // namespace bridge::catalog
