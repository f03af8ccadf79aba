#include "bridge/catalog/LazyFill.h"

#include "bridge/common/Text.h"

using namespace Poco::Data::Keywords;
using Poco::Data::Session;

namespace bridge::catalog {

template <class T>
T LazyFill::answer(SingleFlight<T>& flights, const std::string& callKey, const RequestContext& context,
                   const std::function<std::optional<T>()>& readLocal, const std::function<T()>& fetchAndStore) {
    if (auto local = readLocal()) return std::move(*local);
    return flights.run(store_.identity() + "|" + callKey, context, [&]() -> T {
        if (auto local = readLocal()) return std::move(*local);
        return fetchAndStore();
    });
}

template <class R>
std::vector<R> LazyFill::fillRecords(SingleFlight<std::vector<R>>& flights, const char* what, const char* storeWhat,
                                     const std::string& callKey, const std::string& collection,
                                     const std::function<bool(Session&)>& uidFresh, Conditions c,
                                     const std::string& select, const std::string& orderBy,
                                     const std::string& upsertSql, const RequestContext& context,
                                     const std::function<std::vector<R>()>& fetch) {
    const std::function<std::optional<std::vector<R>>()> readLocal = [&] {
        return guarded(what, [&]() -> std::optional<std::vector<R>> {
            Session s = store_.session();
            const bool answerable = store_.freshCall(s, store_.identity(), callKey) ||
                                    (!trimSpaces(collection).empty() && harvestedFresh(s, collection)) ||
                                    uidFresh(s) || allHarvestedFresh(s);
            if (!answerable) return std::nullopt;
            auto params = c.params;
            return selectRecords<R>(s, select + c.where() + orderBy, params);
        });
    };
    const std::function<std::vector<R>()> fetchAndStore = [&] {
        auto rows = fetch();
        guarded(storeWhat, [&] {
            Session s = store_.session();
            std::lock_guard<std::mutex> lock(store_.writeMutex());
            Transaction tx(s);
            store_.upsert(s, upsertSql, rows);
            store_.recordCall(s, store_.identity(), callKey, collection);
            tx.commit();
            store_.invalidateStates();
        });
        return rows;
    };
    return answer<std::vector<R>>(flights, callKey, context, readLocal, fetchAndStore);
}

bool LazyFill::harvestedFresh(Session& s, const std::string& collection) {
    const std::string k = key(collection);
    for (const auto& c : store_.collectionStates(s))
        if (key(c.name) == k)
            return store_.freshness().harvestAnswers(c, QueryLevel::Series, FreshnessRule::Use::LazyFill);
    return false;
}

bool LazyFill::allHarvestedFresh(Session& s) {
    if (!store_.freshCall(s, store_.identity(), "collections")) return false;
    bool any = false;
    for (const auto& c : store_.collectionStates(s)) {
        if (!c.listed) continue;
        any = true;
        if (!store_.freshness().harvestAnswers(c, QueryLevel::Series, FreshnessRule::Use::LazyFill)) return false;
    }
    return any;
}

bool LazyFill::uidInFreshHarvest(Session& s, const char* table, const char* column, const std::string& uid) {
    if (trimSpaces(uid).empty()) return false;
    std::vector<std::string> params{trimSpaces(uid)};
    const auto collections = selectStrings(
        s, std::string("SELECT DISTINCT collection FROM ") + table + " WHERE " + column + " = $1", params);
    if (collections.empty()) return false;
    for (const auto& c : collections)
        if (!harvestedFresh(s, c)) return false;
    return true;
}

std::vector<tcia::PatientRecord> LazyFill::patients(const tcia::PatientFilter& filter, const RequestContext& context) {
    const std::string callKey = "patients|" + key(filter.collection) + "|" + key(filter.patientId);
    Conditions c;
    c.addCaseInsensitive("collection", filter.collection);
    c.addCaseInsensitive("patient_id", filter.patientId);
    return fillRecords<tcia::PatientRecord>(
        patientFlights_, "patients", "store patients", callKey, filter.collection, [](Session&) { return false; },
        std::move(c), std::string("SELECT ") + kPatientColumns + " FROM patients", " ORDER BY collection, patient_id",
        patientUpsertSql(), context, [&] { return tcia_.patients(filter, context); });
}

std::vector<tcia::StudyRecord> LazyFill::studies(const tcia::StudyFilter& filter, const RequestContext& context) {
    const std::string callKey = "studies|" + key(filter.collection) + "|" + key(filter.patientId) + "|" +
                                trimSpaces(filter.studyInstanceUid);
    Conditions c;
    c.addCaseInsensitive("collection", filter.collection);
    c.addCaseInsensitive("patient_id", filter.patientId);
    c.addExact("study_uid", filter.studyInstanceUid);
    return fillRecords<tcia::StudyRecord>(
        studyFlights_, "studies", "store studies", callKey, filter.collection,
        [&](Session& s) { return uidInFreshHarvest(s, "studies", "study_uid", filter.studyInstanceUid); },
        std::move(c), std::string("SELECT ") + kStudyColumns + " FROM studies", " ORDER BY study_uid",
        studyUpsertSql(), context, [&] { return tcia_.studies(filter, context); });
}

std::vector<tcia::SeriesRecord> LazyFill::series(const tcia::SeriesFilter& filter, const RequestContext& context) {
    const std::string callKey = "series|" + key(filter.collection) + "|" + key(filter.patientId) + "|" +
                                trimSpaces(filter.studyInstanceUid) + "|" + trimSpaces(filter.seriesInstanceUid) + "|" +
                                key(filter.modality) + "|" + key(filter.bodyPartExamined) + "|" +
                                key(filter.manufacturer) + "|" + key(filter.manufacturerModelName);
    Conditions c;
    c.addCaseInsensitive("collection", filter.collection);
    c.addCaseInsensitive("patient_id", filter.patientId);
    c.addExact("study_uid", filter.studyInstanceUid);
    c.addExact("series_uid", filter.seriesInstanceUid);
    c.addCaseInsensitive("modality", filter.modality);
    c.addCaseInsensitive("body_part", filter.bodyPartExamined);
    c.addCaseInsensitive("manufacturer", filter.manufacturer);
    c.addCaseInsensitive("manufacturer_model", filter.manufacturerModelName);
    return fillRecords<tcia::SeriesRecord>(
        seriesFlights_, "series", "store series", callKey, filter.collection,
        [&](Session& s) {
            return uidInFreshHarvest(s, "series", "series_uid", filter.seriesInstanceUid) ||
                   uidInFreshHarvest(s, "studies", "study_uid", filter.studyInstanceUid);
        },
        std::move(c), std::string("SELECT ") + kSeriesColumns + " FROM series", " ORDER BY series_uid",
        seriesUpsertSql(), context, [&] { return tcia_.series(filter, context); });
}

std::vector<std::string> LazyFill::sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) {
    const std::string uid = trimSpaces(seriesInstanceUid);
    const std::string callKey = "sop|" + uid;
    const std::function<std::optional<std::vector<std::string>>()> readLocal = [&] {
        return guarded("SOP instances", [&]() -> std::optional<std::vector<std::string>> {
            Session s = store_.session();
            if (!store_.freshCall(s, store_.identity(), callKey)) return std::nullopt;
            std::vector<std::string> params{uid};
            return selectStrings(s, "SELECT sop_uid FROM sop_instances WHERE series_uid = $1 ORDER BY ordinal", params);
        });
    };
    const std::function<std::vector<std::string>()> fetchAndStore = [&] {
        auto uids = tcia_.sopInstanceUids(uid, context);
        guarded("store SOP instances", [&] {
            Session s = store_.session();
            std::lock_guard<std::mutex> lock(store_.writeMutex());
            Transaction tx(s);
            std::string series = uid;
            s << "DELETE FROM sop_instances WHERE series_uid = $1", use(series), now;
            if (!uids.empty()) {
                std::vector<std::string> seriesColumn(uids.size(), uid);
                std::vector<int> ordinals(uids.size());
                for (std::size_t i = 0; i < ordinals.size(); ++i) ordinals[i] = static_cast<int>(i);
                s << "INSERT INTO sop_instances (series_uid, ordinal, sop_uid) VALUES ($1, $2, $3)", use(seriesColumn),
                    use(ordinals), use(uids), now;
            }
            // Tied to no collection: invalidated by any incremental refresh that changes something.
            store_.recordCall(s, store_.identity(), callKey, "");
            tx.commit();
            store_.invalidateStates();
        });
        return uids;
    };
    return answer<std::vector<std::string>>(sopFlights_, callKey, context, readLocal, fetchAndStore);
}

}  // namespace bridge::catalog
