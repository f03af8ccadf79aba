#include "bridge/catalog/HarvestLedger.h"

#include "bridge/catalog/Catalog.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include <unistd.h>

using namespace Poco::Data::Keywords;
using Poco::Data::Session;

namespace bridge::catalog {

namespace {

/// The collection (by upper-case name) is harvested down to series level at `at`: its series
/// count and the license and DOI found on its series. Inside the caller's transaction.
void markSeriesLevelHarvested(Session& s, std::string upper, Poco::Int64 at, Poco::Int64 count,
                              std::string licenseName, std::string licenseUri, std::string doi) {
    s << "UPDATE collections SET harvested_complete = 1, harvested_at = $1, refreshed_at = $2, series_count = $3,"
         " license_name = $4, license_uri = $5, doi = $6 WHERE upper(name) = $7",
        use(at), use(at), use(count), use(licenseName), use(licenseUri), use(doi), use(upper), now;
}

}  // namespace

void HarvestLedger::storeCollectionHarvest(const std::string& collection,
                                           const std::vector<tcia::PatientRecord>& patients,
                                           const std::vector<tcia::StudyRecord>& studies,
                                           const std::vector<tcia::SeriesRecord>& series) {
    guarded("store harvest", [&] {
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        Transaction tx(s);
        std::string upper = key(collection);
        // Replace, so that what TCIA withdrew disappears and a re-run adds no duplicates.
        s << "DELETE FROM series WHERE upper(collection) = $1", use(upper), now;
        s << "DELETE FROM studies WHERE upper(collection) = $1", use(upper), now;
        s << "DELETE FROM patients WHERE upper(collection) = $1", use(upper), now;
        store_.ensureCollections(s, {collection});
        store_.upsert(s, patientUpsertSql(), patients);
        store_.upsert(s, studyUpsertSql(), studies);
        store_.upsert(s, seriesUpsertSql(), series);
        std::string licenseName, licenseUri, doi;
        for (const auto& r : series) {
            if (licenseName.empty()) licenseName = r.licenseName;
            if (licenseUri.empty()) licenseUri = r.licenseUri;
            if (doi.empty()) doi = r.dataDescriptionUri;
        }
        Poco::Int64 at = store_.currentTime(), count = static_cast<Poco::Int64>(series.size());
        markSeriesLevelHarvested(s, upper, at, count, licenseName, licenseUri, doi);
        store_.recordLevel(s, collection, true, true);
        tx.commit();
        store_.invalidateStates();
    });
}

bool HarvestLedger::isHarvested(const std::string& collection) {
    return guarded("harvest state", [&] {
        Session s = store_.session();
        const std::string k = key(collection);
        for (const auto& c : store_.collectionStates(s))
            if (key(c.name) == k) return c.harvested;
        return false;
    });
}

std::string HarvestLedger::beginSyncRun(bool resume) {
    return guarded("sync state", [&] {
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        std::string run = resume ? store_.meta(s, "sync_run") : std::string();
        if (run.empty()) {
            run = std::to_string(store_.currentTime()) + "-" +
                  std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
            store_.setMeta(s, "sync_run", run);
        }
        return run;
    });
}

std::set<std::string> HarvestLedger::collectionsDoneInRun(const std::string& runId) {
    return guarded("sync state", [&] {
        Session s = store_.session();
        std::vector<std::string> params{runId};
        std::set<std::string> out;
        for (const auto& c : selectStrings(s, "SELECT collection FROM sync_state WHERE run_id = $1", params))
            out.insert(key(c));
        return out;
    });
}

void HarvestLedger::markCollectionDone(const std::string& runId, const std::string& collection,
                                       std::int64_t seriesCount) {
    guarded("sync state", [&] {
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        std::string run = runId, name = collection;
        Poco::Int64 at = store_.currentTime(), count = seriesCount;
        s << "INSERT INTO sync_state (run_id, collection, finished_at, series_count) VALUES ($1, $2, $3, $4)"
             " ON CONFLICT (run_id, collection) DO UPDATE SET finished_at = excluded.finished_at,"
             " series_count = excluded.series_count",
            use(run), use(name), use(at), use(count), now;
    });
}

void HarvestLedger::finishSyncRun(const std::string& runId) {
    guarded("sync state", [&] {
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        std::string run = runId;
        s << "DELETE FROM catalog_meta WHERE name = 'sync_run' AND value = $1", use(run), now;
        s << "DELETE FROM sync_state WHERE run_id <> $1", use(run), now;
        // Fresh statistics so the planner picks the name/UID indexes for scans.
        s << "ANALYZE", now;
    });
}

CatalogCounts HarvestLedger::counts() {
    return guarded("counts", [&] {
        Session s = store_.session();
        CatalogCounts c;
        Poco::Int64 v = 0;
        s << "SELECT count(*) FROM collections", into(v), now;
        c.collections = v;
        s << "SELECT count(*) FROM collections WHERE harvested_complete = 1", into(v), now;
        c.harvestedCollections = v;
        s << "SELECT count(*) FROM patients", into(v), now;
        c.patients = v;
        s << "SELECT count(*) FROM studies", into(v), now;
        c.studies = v;
        s << "SELECT count(*) FROM series", into(v), now;
        c.series = v;
        s << "SELECT count(*) FROM sop_instances", into(v), now;
        c.sopInstances = v;
        s << "SELECT count(*) FROM query_cache", into(v), now;
        c.cachedCalls = v;
        return c;
    });
}

std::vector<CollectionHarvestState> HarvestLedger::harvestStates() {
    return guarded("harvest state", [&] {
        Session s = store_.session();
        const auto& rule = store_.freshness();
        std::vector<std::string> names, errors;
        std::vector<int> listed, complete;
        std::vector<Poco::Int64> harvestedAt, refreshedAt, studiesAt, seriesAt, patients, studies, series;
        s << "SELECT c.name, c.listed, c.harvested_complete, c.harvested_at, c.refreshed_at,"
             " coalesce(h.studies_at, 0), coalesce(h.series_at, 0), coalesce(h.patients, 0), coalesce(h.studies, 0),"
             " coalesce(h.series, c.series_count), coalesce(h.error, '')"
             " FROM collections c LEFT JOIN harvest_state h ON h.collection = upper(c.name) ORDER BY c.name",
            into(names), into(listed), into(complete), into(harvestedAt), into(refreshedAt), into(studiesAt),
            into(seriesAt), into(patients), into(studies), into(series), into(errors), now;
        std::vector<CollectionHarvestState> out(names.size());
        for (std::size_t i = 0; i < names.size(); ++i) {
            auto& o = out[i];
            o.name = names[i];
            o.listed = listed[i] != 0;
            o.seriesAt = complete[i] != 0 ? std::max<std::int64_t>(seriesAt[i], harvestedAt[i]) : 0;
            o.studiesAt = std::max<std::int64_t>(studiesAt[i], o.seriesAt);
            o.refreshedAt = refreshedAt[i];
            o.patients = patients[i];
            o.studies = studies[i];
            o.series = series[i];
            o.lastError = errors[i];
            const std::int64_t freshAt = std::max<std::int64_t>(o.seriesAt, o.refreshedAt);
            o.seriesLevelFresh = complete[i] != 0 && rule.isFresh(freshAt);
            o.studyLevelFresh = o.seriesLevelFresh || rule.isFresh(o.studiesAt);
        }
        return out;
    });
}

std::string HarvestLedger::beginStaging() {
    static std::atomic<std::uint64_t> sequence{0};
    return std::to_string(store_.currentTime()) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++sequence);
}

template <class R>
void HarvestLedger::stage(const char* what, const char* table, const char* columns, std::size_t count,
                          const std::string& stagingId, const std::vector<R>& rows) {
    if (rows.empty()) return;
    guarded(what, [&] {
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        HarvestCacheBound bound(s, store_.dialect());
        Transaction tx(s);
        s << stagingInsertSql(table, columns, count, stagingId), use(const_cast<std::vector<R>&>(rows)), now;
        tx.commit();
    });
}

void HarvestLedger::stagePatients(const std::string& stagingId, const std::vector<tcia::PatientRecord>& rows) {
    stage("stage patients", "patients", kPatientColumns, kPatientColumnCount, stagingId, rows);
}

void HarvestLedger::stageStudies(const std::string& stagingId, const std::vector<tcia::StudyRecord>& rows) {
    stage("stage studies", "studies", kStudyColumns, kStudyColumnCount, stagingId, rows);
}

void HarvestLedger::stageSeries(const std::string& stagingId, const std::vector<tcia::SeriesRecord>& rows) {
    stage("stage series", "series", kSeriesColumns, kSeriesColumnCount, stagingId, rows);
}

void HarvestLedger::commitStudyLevel(const std::string& stagingId, const std::string& collection) {
    guarded("commit study level", [&] {
        static const std::string patientsSql = upsertFromStagingSql("patients", kPatientColumns, "collection, patient_id");
        static const std::string studiesSql = upsertFromStagingSql("studies", kStudyColumns, "study_uid");
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        HarvestCacheBound bound(s, store_.dialect());
        Transaction tx(s);
        std::string upper = key(collection), id = stagingId;
        s << "DELETE FROM studies WHERE upper(collection) = $1", use(upper), now;
        s << "DELETE FROM patients WHERE upper(collection) = $1", use(upper), now;
        store_.ensureCollections(s, {collection});
        s << patientsSql, use(id), now;
        s << studiesSql, use(id), now;
        s << "DELETE FROM patients_staging WHERE harvest = $1", use(id), now;
        s << "DELETE FROM studies_staging WHERE harvest = $1", use(id), now;
        store_.recordLevel(s, collection, true, false);
        tx.commit();
        store_.invalidateStates();
    });
}

void HarvestLedger::commitSeriesLevel(const std::string& stagingId, const std::string& collection) {
    guarded("commit series level", [&] {
        static const std::string seriesSql = upsertFromStagingSql("series", kSeriesColumns, "series_uid");
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        HarvestCacheBound bound(s, store_.dialect());
        Transaction tx(s);
        std::string upper = key(collection), id = stagingId;
        s << "DELETE FROM series WHERE upper(collection) = $1", use(upper), now;
        store_.ensureCollections(s, {collection});
        s << seriesSql, use(id), now;
        s << "DELETE FROM series_staging WHERE harvest = $1", use(id), now;
        auto first = [&](const char* column) {
            std::vector<std::string> params{upper};
            const auto v = selectStrings(s,
                                         std::string("SELECT ") + column + " FROM series WHERE upper(collection) = $1 AND " +
                                             column + " IS NOT NULL AND " + column + " <> '' LIMIT 1",
                                         params);
            return v.empty() ? std::string() : v.front();
        };
        std::string licenseName = first("license_name"), licenseUri = first("license_uri"),
                    doi = first("data_description_uri");
        Poco::Int64 at = store_.currentTime(), count = 0;
        s << "SELECT count(*) FROM series WHERE upper(collection) = $1", use(upper), into(count), now;
        markSeriesLevelHarvested(s, upper, at, count, licenseName, licenseUri, doi);
        store_.recordLevel(s, collection, false, true);
        tx.commit();
        store_.invalidateStates();
    });
}

void HarvestLedger::discardStaging(const std::string& stagingId) {
    guarded("discard staging", [&] {
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        Transaction tx(s);
        std::string id = stagingId;
        for (const char* table : {"patients_staging", "studies_staging", "series_staging"}) {
            if (id.empty())
                s << std::string("DELETE FROM ") + table, now;
            else
                s << std::string("DELETE FROM ") + table + " WHERE harvest = $1", use(id), now;
        }
        tx.commit();
    });
}

void HarvestLedger::recordHarvestError(const std::string& collection, const std::string& message) {
    guarded("harvest state", [&] {
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        std::string upper = key(collection), text = message.substr(0, 500);
        s << "INSERT INTO harvest_state (collection, error) VALUES ($1, $2)"
             " ON CONFLICT (collection) DO UPDATE SET error = excluded.error",
            use(upper), use(text), now;
    });
}

}  // namespace bridge::catalog
