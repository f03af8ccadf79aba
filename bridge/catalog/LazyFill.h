#pragma once
// The catalog's lazy fill (internal to bridge/catalog): patients/studies/series/SOP lists are
// answered from the database when FreshnessRule says the stored rows are good -- this exact
// call (same identity, same filter values, case-insensitive) was answered within TTL, or the
// filter's collection, a filtered Study/Series UID's collection, or every listed collection is
// harvested completely and fresh -- and otherwise fetched from TCIA and upserted with the call
// remembered. Identical concurrent misses share one TCIA call (SingleFlight.h).
// Thread-safe; blocking (database, then maybe TCIA).

#include "bridge/catalog/CatalogStore.h"
#include "bridge/catalog/SingleFlight.h"
#include "bridge/common/RequestContext.h"
#include "bridge/tcia/TciaApi.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bridge::catalog {

class LazyFill {
public:
    /// Keeps references to both; they must outlive the fill.
    LazyFill(CatalogStore& store, tcia::TciaApi& tcia) : store_(store), tcia_(tcia) {}

    std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter& filter, const RequestContext& context);
    std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter& filter, const RequestContext& context);
    std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& filter, const RequestContext& context);
    std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context);

private:
    /// Answers from readLocal() when it has an answer; otherwise joins the flight of
    /// identity|callKey, whose leader reads locally once more (a flight that just landed)
    /// before fetchAndStore().
    template <class T>
    T answer(SingleFlight<T>& flights, const std::string& callKey, const RequestContext& context,
             const std::function<std::optional<T>()>& readLocal, const std::function<T()>& fetchAndStore);
    template <class R>
    std::vector<R> fillRecords(SingleFlight<std::vector<R>>& flights, const char* what, const char* storeWhat,
                               const std::string& callKey, const std::string& collection,
                               const std::function<bool(Poco::Data::Session&)>& uidFresh, Conditions c,
                               const std::string& select, const std::string& orderBy, const std::string& upsertSql,
                               const RequestContext& context, const std::function<std::vector<R>()>& fetch);

    bool harvestedFresh(Poco::Data::Session& s, const std::string& collection);
    bool allHarvestedFresh(Poco::Data::Session& s);
    /// Every collection the rows with `column = uid` belong to is harvested and fresh (and
    /// there is at least one such row): the catalog holds the complete answer for that UID.
    bool uidInFreshHarvest(Poco::Data::Session& s, const char* table, const char* column, const std::string& uid);

    CatalogStore& store_;
    tcia::TciaApi& tcia_;
    SingleFlight<std::vector<tcia::PatientRecord>> patientFlights_;
    SingleFlight<std::vector<tcia::StudyRecord>> studyFlights_;
    SingleFlight<std::vector<tcia::SeriesRecord>> seriesFlights_;
    SingleFlight<std::vector<std::string>> sopFlights_;
};

}  // namespace bridge::catalog
