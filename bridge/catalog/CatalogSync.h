#pragma once
// `tcia-bridge sync`: harvest whole collections from TCIA into the catalog, resumably.
//
// Per collection three TCIA calls -- getPatient, getPatientStudy and getSeries, each filtered by
// the collection only (one call per collection, never per patient) -- then one database
// transaction replaces the collection's rows and marks it harvested completely. Progress is
// recorded per collection: a sync killed or cancelled midway, run again with resume = true,
// continues at the next unfinished collection (finished ones are not fetched again); with
// resume = false every collection is fetched again. Re-harvesting never duplicates rows.
//
// README lines for the operator (TTL + invalidation, see Catalog.h):
//   tcia-bridge sync [--collection NAME ...] [--no-resume]   harvest collections into the catalog
//   * Harvested collections are answered locally (no TCIA calls) and enable broad C-FIND/QIDO
//     searches (e.g. PatientName=SMITH* across all collections).
//   * Lazily fetched metadata is reused for catalog.ttl (default 24 h), then fetched again.
//   * Run `sync` again (or the periodic incremental refresh) to pick up TCIA changes; a refresh
//     invalidates cached answers of the collections that changed.

#include "bridge/catalog/Catalog.h"
#include "bridge/common/RequestContext.h"
#include "bridge/tcia/TciaApi.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bridge {

/// A snapshot handed to SyncOptions::progress after each step.
struct SyncProgress {
    std::size_t collectionsDone = 0;   ///< finished (including skipped as already done)
    std::size_t collectionsTotal = 0;
    std::string currentCollection;     ///< being fetched, or the one just stored
    std::int64_t seriesStored = 0;     ///< series stored by this run so far
    double elapsedSeconds = 0;         ///< since the run started
    double seriesPerSecond = 0;        ///< seriesStored / elapsedSeconds (0 at the start)
};

struct SyncOptions {
    std::vector<std::string> collections;  ///< empty = every collection TCIA lists
    bool resume = true;                    ///< continue an unfinished run
    std::function<void(const SyncProgress&)> progress;  ///< called on the syncing thread; may be empty
};

struct SyncFailure {
    std::string collection;
    std::string message;
};

struct SyncResult {
    std::size_t collectionsHarvested = 0;  ///< fetched and stored by this call
    std::size_t collectionsSkipped = 0;    ///< already finished in the resumed run
    std::int64_t patients = 0, studies = 0, series = 0;  ///< stored by this call
    std::vector<SyncFailure> failures;     ///< collections whose TCIA calls failed (others continue)
    bool cancelled = false;                ///< stopped by the token; run again to resume
    double elapsedSeconds = 0;
};

/// Harvests per SyncOptions. Blocking; checks `context` between TCIA calls (an interrupted
/// collection is left unfinished and stored nothing). A TCIA failure on one collection is
/// recorded in SyncResult::failures and the run goes on; the run stays open (resumable) when
/// anything failed or was cancelled. Throws BridgeError only for database failures or when the
/// collection list itself cannot be fetched.
SyncResult runSync(Catalog& catalog, tcia::TciaApi& tcia, const SyncOptions& options, const RequestContext& context);

}  // namespace bridge
