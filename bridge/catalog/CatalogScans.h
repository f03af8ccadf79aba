#pragma once
// Broad scans (internal to bridge/catalog): PATIENT/STUDY/SERIES queries over whole
// collections, answered in SQL (ScanFilter.h) when every requested collection is harvested at
// the level the scan needs (FreshnessRule::Use::Scan), or -- while partial scans are enabled
// during a harvest -- from those that are. Thread-safe; blocking (database only).

#include "bridge/catalog/CatalogStore.h"
#include "bridge/query/Query.h"
#include "bridge/tcia/Model.h"

#include <atomic>
#include <optional>
#include <string>
#include <vector>

namespace bridge::catalog {

class CatalogScans {
public:
    explicit CatalogScans(CatalogStore& store) : store_(store) {}

    /// As Catalog::scanPatients / scanStudies / scanSeries / scanIncompleteness.
    std::optional<std::vector<tcia::PatientRecord>> patients(const Query& query, const std::vector<std::string>& collections);
    std::optional<std::vector<tcia::StudyRecord>> studies(const Query& query, const std::vector<std::string>& collections);
    std::optional<std::vector<tcia::SeriesRecord>> series(const Query& query, const std::vector<std::string>& collections);
    std::string incompleteness(QueryLevel level, const std::vector<std::string>& collections);

    void setPartialScans(bool enabled) { partialScans_ = enabled; }

private:
    template <class R>
    std::optional<std::vector<R>> scan(const Query& query, QueryLevel level, const std::vector<std::string>& requested,
                                       const char* table, const char* columns, const std::vector<std::string>& orderBy,
                                       const char* orderIndex);
    /// Row count of an index's table as of the last ANALYZE (sqlite_stat1), 0 when unknown.
    static std::int64_t statRows(Poco::Data::Session& s, const char* index);

    CatalogStore& store_;
    std::atomic<bool> partialScans_{false};
};

}  // namespace bridge::catalog
