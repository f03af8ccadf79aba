#pragma once
// Harvests and their ledger (internal to bridge/catalog): whole-collection stores (`sync`),
// the sync run ledger (sync_state, resumable runs), the staged harvest on start (rows staged
// per level, committed atomically), harvest progress and errors (harvest_state), row counts.
// Thread-safe; writes serialise on the store's write mutex.

#include "bridge/catalog/CatalogStore.h"
#include "bridge/tcia/Model.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace bridge {
struct CatalogCounts;
struct CollectionHarvestState;
}  // namespace bridge

namespace bridge::catalog {

class HarvestLedger {
public:
    explicit HarvestLedger(CatalogStore& store) : store_(store) {}

    // Each as the Catalog method of the same name (Catalog.h).
    void storeCollectionHarvest(const std::string& collection, const std::vector<tcia::PatientRecord>& patients,
                                const std::vector<tcia::StudyRecord>& studies,
                                const std::vector<tcia::SeriesRecord>& series);
    bool isHarvested(const std::string& collection);
    std::string beginSyncRun(bool resume);
    std::set<std::string> collectionsDoneInRun(const std::string& runId);
    void markCollectionDone(const std::string& runId, const std::string& collection, std::int64_t seriesCount);
    void finishSyncRun(const std::string& runId);

    std::vector<CollectionHarvestState> harvestStates();
    std::string beginStaging();
    void stagePatients(const std::string& stagingId, const std::vector<tcia::PatientRecord>& rows);
    void stageStudies(const std::string& stagingId, const std::vector<tcia::StudyRecord>& rows);
    void stageSeries(const std::string& stagingId, const std::vector<tcia::SeriesRecord>& rows);
    void commitStudyLevel(const std::string& stagingId, const std::string& collection);
    void commitSeriesLevel(const std::string& stagingId, const std::string& collection);
    void discardStaging(const std::string& stagingId);
    void recordHarvestError(const std::string& collection, const std::string& message);

    CatalogCounts counts();

private:
    template <class R>
    void stage(const char* what, const char* table, const char* columns, std::size_t count,
               const std::string& stagingId, const std::vector<R>& rows);

    CatalogStore& store_;
};

}  // namespace bridge::catalog
