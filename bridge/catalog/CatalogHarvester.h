#pragma once
// Harvest on start: fills the catalog by itself, in the background, while the bridge serves.
//
// One thread, one TCIA call at a time (well inside the client's per-host limit; the client's
// retries with backoff apply to every call). Each pass:
//   1. the collection list (getCollectionValues), stored as the catalog's list;
//   2. every listed collection whose study level is missing or older than catalog.ttl:
//      getPatient + getPatientStudy filtered by the collection -- so study lists and
//      PATIENT/STUDY C-FINDs are answered early;
//   3. every listed collection not harvested completely within catalog.ttl: getSeries filtered
//      by the collection.
// Answers are streamed (TciaApi::*Batches) into the catalog's staging tables in batches, and
// each collection level is then committed in one transaction (Catalog::commit*Level): memory
// is bounded by one batch, and queries never see half a collection. Progress is persisted per
// collection and level (harvest_state), so a restart resumes where the previous run stopped;
// a collection that failed is recorded (lastError) and retried after retryDelay. Once every
// collection is done the thread rechecks every recheckInterval (new collections, stale ones);
// in between, CatalogRefresher keeps harvested collections fresh.
//
// While it runs, the catalog answers broad scans partially and says so
// (Catalog::setPartialScans, MetadataSource::scanIncompleteness). Narrow queries never wait
// for it: they go to TCIA through the catalog's lazy fill as before.
//
// Destruction cancels the pass (between TCIA calls or mid-stream; staged rows are discarded)
// and joins the thread. The catalog and the TciaApi must outlive the harvester. Thread-safe
// accessors.

#include "bridge/catalog/Catalog.h"
#include "bridge/common/RequestContext.h"
#include "bridge/tcia/TciaApi.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace bridge {

struct HarvestOptions {
    std::size_t batchSize = 1000;                   ///< records per streamed batch / staging insert
    std::chrono::milliseconds retryDelay{60'000};  ///< after a failed collection or collection list
    /// After a complete pass, look again this often (0 = derived: catalog.ttl / 4, between
    /// 1 minute and 1 hour).
    std::chrono::milliseconds recheckInterval{0};
    /// Called on the harvester's thread, just before the status says complete, by a pass that
    /// leaves every listed collection complete -- the first such pass of the process, and any
    /// later one that harvested something (serve mode: BridgeServices::afterHarvest). An
    /// exception from it is logged; the harvest goes on.
    std::function<void()> onComplete;
};

/// A snapshot of the harvester (the `/status` route and the landing page).
struct HarvestStatus {
    std::string phase = "starting";  ///< starting, collections, study level, series level, complete, retrying
    std::string current;             ///< collection being harvested now, if any
    std::size_t collections = 0;     ///< listed by TCIA in the current pass
    std::size_t studyLevelDone = 0;  ///< of those, harvested at study level (fresh)
    std::size_t seriesLevelDone = 0; ///< of those, harvested completely (fresh)
    std::size_t passes = 0;          ///< passes finished
    std::size_t failures = 0;        ///< collection levels (or lists) that failed so far
    std::string lastError;
    bool studyLevelComplete = false; ///< every listed collection is harvested at study level
    bool complete = false;           ///< every listed collection is harvested completely
    std::int64_t startedAt = 0;      ///< epoch seconds
    std::int64_t studyLevelCompleteAt = 0, completeAt = 0;  ///< first time reached, 0 = not yet
};

class CatalogHarvester {
public:
    using Log = std::function<void(const std::string& message)>;

    /// Starts the thread at once.
    CatalogHarvester(Catalog& catalog, tcia::TciaApi& tcia, HarvestOptions options = {}, Log log = {});
    ~CatalogHarvester();
    CatalogHarvester(const CatalogHarvester&) = delete;
    CatalogHarvester& operator=(const CatalogHarvester&) = delete;

    HarvestStatus status() const;

private:
    void run();
    /// One pass; returns true when every listed collection is harvested completely.
    bool pass();
    void harvestStudyLevel(const std::string& collection);
    void harvestSeriesLevel(const std::string& collection);
    void setPhase(const std::string& phase, const std::string& current = {});
    void noteFailure(const std::string& what, const std::exception& e);
    bool waitFor(std::chrono::milliseconds delay);  ///< false when stopping

    Catalog& catalog_;
    tcia::TciaApi& tcia_;
    HarvestOptions options_;
    Log log_;
    RequestContext context_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool completedOnce_ = false;  ///< a pass completed (harvester thread only)
    HarvestStatus status_;
    std::thread thread_;
};

}  // namespace bridge
