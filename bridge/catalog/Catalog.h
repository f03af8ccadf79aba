#pragma once
// The catalog: a persistent copy of TCIA's metadata (collections, patients, studies, series,
// SOP Instance UIDs) in SQLite (default) or PostgreSQL, filled lazily by queries and wholesale
// by `tcia-bridge sync` (CatalogSync.h). It is the bridge's MetadataSource.
//
// Catalog is a facade over pieces named after their jobs (each internal to bridge/catalog):
// CatalogStore (database, clock, identity, query_cache, collections table; CatalogSql holds the
// SQL plumbing), FreshnessRule (the one TTL rule below), LazyFill, CollectionLists (lists per
// identity, restriction detection), CatalogScans, IncrementalRefresh and HarvestLedger (sync
// ledger, staged harvests, counts).
//
// Freshness rules (TTL = CatalogSettings::ttl; all decided by FreshnessRule.h):
//  * Lazy fill. Every TCIA filter call the catalog makes (getPatient, getPatientStudy,
//    getSeries, getSOPInstanceUIDs, getCollectionValues with their exact filter values,
//    case-insensitive) is recorded in query_cache with its time. The same call within TTL is
//    answered from the database; after TTL it goes to TCIA again and the rows are upserted.
//  * Harvested collections. A collection harvested completely by sync is answered from the
//    database without TCIA calls while its harvest or its last incremental refresh is younger
//    than TTL -- for filters naming the collection, or a Study/Series Instance UID that lies in
//    it. When every listed collection is harvested and fresh, any filter is answered locally.
//  * Broad scans (scanPatients/scanStudies/scanSeries) are answered whenever every requested
//    collection is harvested completely, however old: keeping a synced catalog current is the
//    job of refreshIncremental() (run it periodically) -- refusing would only turn a slightly
//    stale answer into QueryTooBroad.
//  * refreshIncremental() asks TCIA what changed since the previous refresh (getUpdatedSeries,
//    NewPatientsInCollection, NewStudiesInPatientCollection), upserts it, and invalidates the
//    query_cache entries of the affected collections and every entry not tied to a collection.
//  * Single flight: identical concurrent lazy fills that miss (same identity, same call key)
//    make one TCIA call; the others wait for its answer and leave at once when their own
//    RequestContext stops. A failed call is not remembered (the next caller asks TCIA again).
//  * Lazily filled rows are upserted, never deleted: a record TCIA withdrew stays until its
//    collection is harvested again (a harvest replaces the collection's rows) -- answers from
//    the catalog within TTL may still show it.
//  * Credential identity: every remembered call (query_cache) and every stored collections()
//    list is keyed by the identity of the credentials that made it (setIdentity: "anonymous",
//    or "token:<hash of token URL and user>"). Changing credentials on an existing cache
//    directory, or replicas with different credentials sharing one PostgreSQL catalog, never
//    answer one identity's call with another's answer. query_cache holds at most
//    CatalogSettings::maxCachedCalls rows (expired first, then oldest).
//  * Restricted collections: markRestricted() names them explicitly (persistent). When an
//    anonymous TciaApi is given (setAnonymousApi: the same TCIA without the token), the
//    catalog also compares the two identities' collections() lists and reports those only the
//    token sees; each list is cached for TTL. publicCollections() is the anonymous list
//    itself: AccessPolicy hides everything outside it that the caller was not granted, so
//    rows of a restricted collection (from a lazy fill, a harvest, another replica) are never
//    shown to the ungranted even if no comparison ever named the collection (fail closed).
//
// Thread-safe: any number of threads may query; writes are serialised. All calls block
// (database and, on a miss, TCIA). Errors are BridgeError: TCIA's own codes pass through,
// database failures are Internal.

#include "bridge/catalog/SqlDialect.h"
#include "bridge/common/RequestContext.h"
#include "bridge/common/Config.h"
#include "bridge/query/MetadataSource.h"
#include "bridge/tcia/TciaApi.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bridge {

class CatalogDatabase;

/// What refreshIncremental() changed.
struct RefreshResult {
    std::string fromDate;  ///< DA sent to TCIA
    std::size_t series = 0, studies = 0, patients = 0;
    std::set<std::string> collections;  ///< affected collections (caches invalidated)
    /// Series removed because the source's new release no longer lists them (IDC; see
    /// TciaApi::withdrawalCheckPending): gone from every answer, their cached instances dropped.
    std::vector<std::string> withdrawnSeries;
};

/// Row counts, for tests, `sync` summaries and gauges.
struct CatalogCounts {
    std::int64_t collections = 0, harvestedCollections = 0, patients = 0, studies = 0, series = 0,
                 sopInstances = 0, cachedCalls = 0;
};

/// Harvest progress of one collection (CatalogHarvester, the `/status` route). Times are
/// epoch seconds, 0 = never.
struct CollectionHarvestState {
    std::string name;
    bool listed = false;      ///< in TCIA's current collection list
    std::int64_t studiesAt = 0;   ///< study level (patients + studies) last stored
    std::int64_t seriesAt = 0;    ///< series level last stored (the collection is then harvested completely)
    std::int64_t refreshedAt = 0; ///< last incremental refresh (CatalogRefresher)
    std::int64_t patients = 0, studies = 0, series = 0;  ///< rows stored by the last harvest of each level
    bool studyLevelFresh = false;   ///< study level stored (or series level refreshed) within catalog.ttl
    bool seriesLevelFresh = false;  ///< harvested completely and harvested/refreshed within catalog.ttl
    std::string lastError;          ///< of the last failed attempt, cleared by a success
};

class Catalog : public MetadataSource {
public:
    /// Opens or creates the database (see CatalogDatabase). Keeps a reference to `tcia`, which
    /// must outlive the catalog. Does not contact TCIA.
    Catalog(const CatalogSettings& settings, const CacheSettings& cache, tcia::TciaApi& tcia);
    ~Catalog() override;

    // MetadataSource
    std::vector<std::string> collections(const RequestContext& context) override;
    std::set<std::string> restrictedCollections(const RequestContext& context) override;
    /// The anonymous identity's collection list: from the anonymous TciaApi when one is set,
    /// else from the catalog's own TciaApi when its identity is "anonymous", else nullopt.
    /// When TCIA cannot be asked, the last stored anonymous list; none stored -> throws.
    std::optional<std::set<std::string>> publicCollections(const RequestContext& context) override;
    std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter& filter, const RequestContext& context) override;
    std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter& filter, const RequestContext& context) override;
    std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& filter, const RequestContext& context) override;
    std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) override;
    /// Scans: nullopt unless every listed collection is harvested; rows pre-filtered in SQL
    /// (ScanFilter.h). When the filter is exact and Query::limit is set, PATIENT and STUDY scans
    /// return only the first offset+limit+1 rows in the query engine's order (PatientID,
    /// collection / PatientID, StudyDate, StudyInstanceUID); SERIES scans are never cut.
    std::optional<std::vector<tcia::PatientRecord>> scanPatients(const Query& query,
                                                                 const std::vector<std::string>& collections) override;
    std::optional<std::vector<tcia::StudyRecord>> scanStudies(const Query& query,
                                                              const std::vector<std::string>& collections) override;
    std::optional<std::vector<tcia::SeriesRecord>> scanSeries(const Query& query,
                                                              const std::vector<std::string>& collections) override;
    /// Empty unless partial scans are enabled (setPartialScans) and some of `collections` are
    /// not harvested at the level the scan needs (study level for PATIENT/STUDY, series level
    /// for SERIES/IMAGE); then "catalog harvest in progress: N of M collections; results may
    /// be incomplete" with N = those harvested.
    std::string scanIncompleteness(QueryLevel level, const std::vector<std::string>& collections) override;
    /// Changes after every committed write of metadata by this process (lazy fill, harvest,
    /// refresh, restriction mark). Non-blocking apart from a short mutex.
    std::optional<std::uint64_t> generation() override;

    /// The same TCIA without credentials, for the restricted-collection comparison. Optional;
    /// the composition root passes one when a token URL is configured. Call before the catalog
    /// is shared between threads. When either list cannot be fetched, the restrictions found
    /// by the previous comparison stay in force and the comparison is retried on the next call;
    /// before any comparison succeeded, restrictedCollections() throws (fails closed).
    void setAnonymousApi(std::shared_ptr<tcia::TciaApi> anonymous);
    /// Who the catalog's own TciaApi is to TCIA: "anonymous" or an opaque id of its credentials
    /// (tcia::TciaClient::credentialIdentity). Until set it is "unspecified": the own answers
    /// are then never taken for the anonymous ones (publicCollections() needs an anonymous API).
    /// Setting an anonymous API while the identity is "anonymous" turns it into "token". Call
    /// before sharing the catalog.
    void setIdentity(const std::string& identity);
    const std::string& identity() const;
    /// Marks (or unmarks) a collection restricted, persistently.
    void markRestricted(const std::string& collection, bool restricted = true);

    /// Pulls what changed in TCIA since the previous refresh (or since the oldest harvest, or
    /// TTL ago) and invalidates affected caches. Blocking; one TCIA call for the series plus two
    /// per affected collection.
    RefreshResult refreshIncremental(const RequestContext& context = RequestContext());
    /// Called by refreshIncremental() with the series a new release withdrew (after they left
    /// the catalog): the composition root drops their cached instances. Set before sharing.
    void setWithdrawalListener(std::function<void(const std::vector<std::string>& seriesUids)> listener);

    // ---- Harvest support (used by runSync, CatalogSync.h) ----
    /// Replaces everything stored for `collection` by the given records, in one transaction,
    /// and marks the collection harvested completely now.
    void storeCollectionHarvest(const std::string& collection, const std::vector<tcia::PatientRecord>& patients,
                                const std::vector<tcia::StudyRecord>& studies,
                                const std::vector<tcia::SeriesRecord>& series);
    /// Records a collections() answer as if the catalog had made the call itself.
    void storeCollectionList(const std::vector<std::string>& names);
    bool isHarvested(const std::string& collection);
    /// Starts a sync run, or with `resume` continues the unfinished one. Returns its id.
    std::string beginSyncRun(bool resume);
    /// Collections already finished in that run (upper-cased names).
    std::set<std::string> collectionsDoneInRun(const std::string& runId);
    void markCollectionDone(const std::string& runId, const std::string& collection, std::int64_t seriesCount);
    void finishSyncRun(const std::string& runId);

    // ---- Harvest on start (CatalogHarvester.h): staged, batched, atomically committed ----
    /// While enabled, broad scans answer from the collections harvested at the needed level
    /// instead of returning nullopt, and scanIncompleteness() names what is missing.
    void setPartialScans(bool enabled);
    /// Progress of every collection the catalog knows, ordered by name.
    std::vector<CollectionHarvestState> harvestStates();
    /// A new staging id for one collection level. Rows staged under it are invisible to
    /// queries until committed.
    std::string beginStaging();
    /// Appends rows under a staging id, each call its own short transaction (bounded memory:
    /// the caller hands batches as TCIA's answer streams in).
    void stagePatients(const std::string& stagingId, const std::vector<tcia::PatientRecord>& rows);
    void stageStudies(const std::string& stagingId, const std::vector<tcia::StudyRecord>& rows);
    void stageSeries(const std::string& stagingId, const std::vector<tcia::SeriesRecord>& rows);
    /// In one transaction: replaces the collection's patients and studies by the staged ones,
    /// drops the staging rows and records the study level as harvested now.
    void commitStudyLevel(const std::string& stagingId, const std::string& collection);
    /// In one transaction: replaces the collection's series by the staged ones, drops the
    /// staging rows, marks the collection harvested completely now (as storeCollectionHarvest).
    void commitSeriesLevel(const std::string& stagingId, const std::string& collection);
    /// Drops staged rows: of one id, or with an empty id all of them (a harvest killed midway
    /// leaves some; one harvester per database).
    void discardStaging(const std::string& stagingId);
    /// Remembers why the last attempt on `collection` failed (shown by harvestStates()).
    void recordHarvestError(const std::string& collection, const std::string& message);
    /// catalog.ttl in seconds, and the catalog's clock (epoch seconds).
    std::int64_t ttlSeconds() const;
    std::int64_t nowSeconds();

    CatalogCounts counts();
    SqlDialect dialect() const;
    /// Replaces the clock (epoch seconds) used for TTLs. For tests.
    void setClock(std::function<std::int64_t()> nowSeconds);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace bridge
