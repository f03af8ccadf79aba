#include "bridge/catalog/Catalog.h"

#include "bridge/catalog/CatalogScans.h"
#include "bridge/catalog/CatalogStore.h"
#include "bridge/catalog/CollectionLists.h"
#include "bridge/catalog/HarvestLedger.h"
#include "bridge/catalog/IncrementalRefresh.h"
#include "bridge/catalog/LazyFill.h"
#include "bridge/common/Text.h"

// The facade: each MetadataSource and harvest call goes to the piece that does that job.
//   CatalogStore       database, FreshnessRule + clock, identity, query_cache, collections table
//   LazyFill           patients/studies/series/SOP lists: local when fresh, else TCIA (single flight)
//   CollectionLists    collections() per identity, public and restricted collections
//   CatalogScans       broad scans and their incompleteness note
//   IncrementalRefresh refreshIncremental
//   HarvestLedger      whole-collection harvests, sync ledger, staged harvests, counts

namespace bridge {

struct Catalog::Impl {
    Impl(const CatalogSettings& s, const CacheSettings& c, tcia::TciaApi& api)
        : store(s, c), lazy(store, api), lists(store, api), scans(store), refresh(store, api), ledger(store) {}

    catalog::CatalogStore store;
    catalog::LazyFill lazy;
    catalog::CollectionLists lists;
    catalog::CatalogScans scans;
    catalog::IncrementalRefresh refresh;
    catalog::HarvestLedger ledger;
    std::function<void(const std::vector<std::string>&)> onWithdrawn;
};

Catalog::Catalog(const CatalogSettings& settings, const CacheSettings& cache, tcia::TciaApi& tcia)
    : impl_(std::make_unique<Impl>(settings, cache, tcia)) {}

Catalog::~Catalog() = default;

SqlDialect Catalog::dialect() const { return impl_->store.dialect(); }

std::optional<std::uint64_t> Catalog::generation() {
    // Bumped after every committed write of metadata in this process; another process's writes
    // (a `sync` next to the bridge) are seen by users of this number only through their own age
    // bound, as the collections table copy sees them after its maximum age.
    return impl_->store.generation();
}

void Catalog::setClock(std::function<std::int64_t()> nowSeconds) { impl_->store.freshness().setClock(std::move(nowSeconds)); }

void Catalog::setAnonymousApi(std::shared_ptr<tcia::TciaApi> anonymous) {
    impl_->lists.setAnonymousApi(std::move(anonymous));
    // The main TciaApi has credentials, then: it must not share the anonymous cache keys.
    if (impl_->store.identity() == catalog::kAnonymousIdentity) impl_->store.setIdentity("token");
}

void Catalog::setIdentity(const std::string& identity) {
    impl_->store.setIdentity(trimSpaces(identity).empty() ? std::string(catalog::kUnspecifiedIdentity) : identity);
}

const std::string& Catalog::identity() const { return impl_->store.identity(); }

// ---- collection lists and restrictions (CollectionLists)

std::vector<std::string> Catalog::collections(const RequestContext& context) { return impl_->lists.collections(context); }

void Catalog::storeCollectionList(const std::vector<std::string>& names) { impl_->lists.storeOwnList(names); }

std::optional<std::set<std::string>> Catalog::publicCollections(const RequestContext& context) {
    return impl_->lists.publicCollections(context);
}

std::set<std::string> Catalog::restrictedCollections(const RequestContext& context) { return impl_->lists.restrictedCollections(context); }

void Catalog::markRestricted(const std::string& collection, bool restricted) {
    impl_->lists.markRestricted(collection, restricted);
}

// ---- lazy fill (LazyFill)

std::vector<tcia::PatientRecord> Catalog::patients(const tcia::PatientFilter& filter, const RequestContext& context) {
    return impl_->lazy.patients(filter, context);
}

std::vector<tcia::StudyRecord> Catalog::studies(const tcia::StudyFilter& filter, const RequestContext& context) {
    return impl_->lazy.studies(filter, context);
}

std::vector<tcia::SeriesRecord> Catalog::series(const tcia::SeriesFilter& filter, const RequestContext& context) {
    return impl_->lazy.series(filter, context);
}

std::vector<std::string> Catalog::sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) {
    return impl_->lazy.sopInstanceUids(seriesInstanceUid, context);
}

// ---- broad scans (CatalogScans)

std::optional<std::vector<tcia::PatientRecord>> Catalog::scanPatients(const Query& query,
                                                                      const std::vector<std::string>& collections) {
    return impl_->scans.patients(query, collections);
}

std::optional<std::vector<tcia::StudyRecord>> Catalog::scanStudies(const Query& query,
                                                                   const std::vector<std::string>& collections) {
    return impl_->scans.studies(query, collections);
}

std::optional<std::vector<tcia::SeriesRecord>> Catalog::scanSeries(const Query& query,
                                                                   const std::vector<std::string>& collections) {
    return impl_->scans.series(query, collections);
}

std::string Catalog::scanIncompleteness(QueryLevel level, const std::vector<std::string>& collections) {
    return impl_->scans.incompleteness(level, collections);
}

void Catalog::setPartialScans(bool enabled) { impl_->scans.setPartialScans(enabled); }

// ---- incremental refresh (IncrementalRefresh)

RefreshResult Catalog::refreshIncremental(const RequestContext& context) {
    RefreshResult result = impl_->refresh.run(context);
    if (!result.withdrawnSeries.empty() && impl_->onWithdrawn) impl_->onWithdrawn(result.withdrawnSeries);
    return result;
}

void Catalog::setWithdrawalListener(std::function<void(const std::vector<std::string>&)> listener) {
    impl_->onWithdrawn = std::move(listener);
}

// ---- harvests and their ledger (HarvestLedger)

void Catalog::storeCollectionHarvest(const std::string& collection, const std::vector<tcia::PatientRecord>& patients,
                                     const std::vector<tcia::StudyRecord>& studies,
                                     const std::vector<tcia::SeriesRecord>& series) {
    impl_->ledger.storeCollectionHarvest(collection, patients, studies, series);
}

bool Catalog::isHarvested(const std::string& collection) { return impl_->ledger.isHarvested(collection); }

std::string Catalog::beginSyncRun(bool resume) { return impl_->ledger.beginSyncRun(resume); }

std::set<std::string> Catalog::collectionsDoneInRun(const std::string& runId) {
    return impl_->ledger.collectionsDoneInRun(runId);
}

void Catalog::markCollectionDone(const std::string& runId, const std::string& collection, std::int64_t seriesCount) {
    impl_->ledger.markCollectionDone(runId, collection, seriesCount);
}

void Catalog::finishSyncRun(const std::string& runId) { impl_->ledger.finishSyncRun(runId); }

CatalogCounts Catalog::counts() { return impl_->ledger.counts(); }

std::int64_t Catalog::ttlSeconds() const { return impl_->store.freshness().ttlSeconds(); }

std::int64_t Catalog::nowSeconds() { return impl_->store.currentTime(); }

std::vector<CollectionHarvestState> Catalog::harvestStates() { return impl_->ledger.harvestStates(); }

std::string Catalog::beginStaging() { return impl_->ledger.beginStaging(); }

void Catalog::stagePatients(const std::string& stagingId, const std::vector<tcia::PatientRecord>& rows) {
    impl_->ledger.stagePatients(stagingId, rows);
}

void Catalog::stageStudies(const std::string& stagingId, const std::vector<tcia::StudyRecord>& rows) {
    impl_->ledger.stageStudies(stagingId, rows);
}

void Catalog::stageSeries(const std::string& stagingId, const std::vector<tcia::SeriesRecord>& rows) {
    impl_->ledger.stageSeries(stagingId, rows);
}

void Catalog::commitStudyLevel(const std::string& stagingId, const std::string& collection) {
    impl_->ledger.commitStudyLevel(stagingId, collection);
}

void Catalog::commitSeriesLevel(const std::string& stagingId, const std::string& collection) {
    impl_->ledger.commitSeriesLevel(stagingId, collection);
}

void Catalog::discardStaging(const std::string& stagingId) { impl_->ledger.discardStaging(stagingId); }

void Catalog::recordHarvestError(const std::string& collection, const std::string& message) {
    impl_->ledger.recordHarvestError(collection, message);
}

}  // namespace bridge
