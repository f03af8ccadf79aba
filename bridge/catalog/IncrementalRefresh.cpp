#include "bridge/catalog/IncrementalRefresh.h"

#include "bridge/catalog/Catalog.h"
#include "bridge/common/Text.h"

#include <map>

using namespace Poco::Data::Keywords;
using Poco::Data::Session;

namespace bridge::catalog {

RefreshResult IncrementalRefresh::run(const RequestContext& context) {
    RefreshResult result;
    const std::int64_t startedAt = store_.currentTime();
    result.fromDate = guarded("refresh", [&] {
        Session s = store_.session();
        std::string from = store_.meta(s, "last_refresh_date");
        if (from.empty()) {
            std::int64_t oldest = 0;
            for (const auto& c : store_.collectionStates(s))
                if (c.harvested && c.freshAt > 0 && (oldest == 0 || c.freshAt < oldest)) oldest = c.freshAt;
            from = epochToDa(oldest > 0 ? oldest : startedAt - store_.freshness().ttlSeconds());
        }
        return from;
    });

    // TCIA compares date_released > fromDate (API.md 2.5): DA granularity, so a refresh the
    // same day asks for the whole day again; upserts make that harmless.
    const auto updated = tcia_.updatedSeries(result.fromDate, context);
    std::map<std::string, std::string> affected;  // upper -> as spelled by TCIA
    for (const auto& s : updated)
        if (!trimSpaces(s.collection).empty()) affected.emplace(key(s.collection), s.collection);

    std::vector<tcia::PatientRecord> patients;
    std::vector<tcia::StudyRecord> studies;
    for (const auto& [upper, name] : affected) {
        context.throwIfCancelled();
        auto p = tcia_.newPatientsInCollection(name, result.fromDate, context);
        patients.insert(patients.end(), p.begin(), p.end());
        auto st = tcia_.newStudiesInPatientCollection(name, "", result.fromDate, context);
        studies.insert(studies.end(), st.begin(), st.end());
    }
    context.throwIfCancelled();

    guarded("refresh", [&] {
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        Transaction tx(s);
        store_.upsert(s, seriesUpsertSql(), updated);
        store_.upsert(s, patientUpsertSql(), patients);
        store_.upsert(s, studyUpsertSql(), studies);
        if (!affected.empty()) {
            // Calls tied to an affected collection, and calls tied to none (UID lookups, the
            // collection list, SOP lists), may now be out of date.
            s << "DELETE FROM query_cache WHERE collection = ''", now;
            for (const auto& [upper, name] : affected) {
                std::string u = upper;
                s << "DELETE FROM query_cache WHERE collection = $1", use(u), now;
            }
        }
        Poco::Int64 at = startedAt;
        s << "UPDATE collections SET refreshed_at = $1 WHERE harvested_complete = 1", use(at), now;
        store_.setMeta(s, "last_refresh_date", epochToDa(startedAt));
        tx.commit();
        store_.invalidateStates();
    });
    result.series = updated.size();
    result.patients = patients.size();
    result.studies = studies.size();
    for (const auto& [upper, name] : affected) result.collections.insert(name);
    return result;
}

}  // namespace bridge::catalog
