#include "bridge/catalog/IncrementalRefresh.h"

#include "bridge/catalog/Catalog.h"
#include "bridge/common/Text.h"

#include <map>
#include <set>
#include <vector>

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

    // A source with releases (IDC) published a new one: what the catalog holds and the new
    // release no longer lists was withdrawn. Compared one collection at a time (memory bound:
    // the largest collection's UIDs).
    std::vector<std::string> withdrawn;
    std::set<std::string> cleanup;  // upper-case collections that lost series
    const bool checkWithdrawals = tcia_.withdrawalCheckPending();
    bool undecided = false;  // a collection the source could not answer for: checked again next time
    if (checkWithdrawals) {
        std::set<std::string> revised;
        for (const auto& s : updated) revised.insert(s.seriesInstanceUid);
        const auto held = guarded("refresh", [&] {
            Session s = store_.session();
            std::vector<std::string> names;
            s << "SELECT DISTINCT collection FROM series", into(names), now;
            return names;
        });
        for (const auto& name : held) {
            context.throwIfCancelled();
            const auto listedNow = tcia_.listedSeriesUids(name, context);
            if (!listedNow) {
                undecided = true;  // unknown is not "withdrawn": nothing of it is removed
                continue;
            }
            const std::set<std::string> listed(listedNow->begin(), listedNow->end());
            std::vector<std::string> mine = guarded("refresh", [&] {
                Session s = store_.session();
                std::vector<std::string> uids;
                std::string n = name;
                s << "SELECT series_uid FROM series WHERE collection = $1", use(n), into(uids), now;
                return uids;
            });
            for (auto& uid : mine)
                if (!listed.count(uid) && !revised.count(uid)) {
                    withdrawn.push_back(std::move(uid));
                    cleanup.insert(key(name));
                    affected.emplace(key(name), name);
                }
        }
    }

    guarded("refresh", [&] {
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        Transaction tx(s);
        store_.upsert(s, seriesUpsertSql(), updated);
        store_.upsert(s, patientUpsertSql(), patients);
        store_.upsert(s, studyUpsertSql(), studies);
        for (const auto& uid : withdrawn) {
            std::string u = uid;
            s << "DELETE FROM series WHERE series_uid = $1", use(u), now;
            s << "DELETE FROM sop_instances WHERE series_uid = $1", use(u), now;
        }
        for (const auto& upper : cleanup) {
            // Studies and patients left without series, in collections whose series level is
            // complete (there the series table is the whole truth).
            std::string u = upper, v = upper, w = upper, x = upper;
            s << "DELETE FROM studies WHERE upper(collection) = $1 AND study_uid NOT IN (SELECT study_uid FROM series "
                 "WHERE study_uid IS NOT NULL) AND upper(collection) IN (SELECT upper(name) FROM collections WHERE "
                 "harvested_complete = 1 AND upper(name) = $2)",
                use(u), use(v), now;
            std::string y = upper;
            s << "DELETE FROM patients WHERE upper(collection) = $1 AND patient_id NOT IN (SELECT patient_id FROM "
                 "studies WHERE upper(collection) = $2 AND patient_id IS NOT NULL) AND upper(collection) IN (SELECT "
                 "upper(name) FROM collections WHERE harvested_complete = 1 AND upper(name) = $3)",
                use(w), use(x), use(y), now;
        }
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
    if (checkWithdrawals && !undecided) tcia_.withdrawalsApplied();
    result.withdrawnSeries = std::move(withdrawn);
    result.series = updated.size();
    result.patients = patients.size();
    result.studies = studies.size();
    for (const auto& [upper, name] : affected) result.collections.insert(name);
    return result;
}

}  // namespace bridge::catalog
