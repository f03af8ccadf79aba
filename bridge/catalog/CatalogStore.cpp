#include "bridge/catalog/CatalogStore.h"

#include "bridge/common/Text.h"

#include <Poco/Data/Statement.h>

#include <algorithm>

using namespace Poco::Data::Keywords;
using Poco::Data::Session;
using Poco::Data::Statement;

namespace bridge::catalog {

CatalogStore::CatalogStore(const CatalogSettings& settings, const CacheSettings& cache)
    : settings_(settings), database_(settings, cache), freshness_(settings.ttl) {}

bool CatalogStore::freshCall(Session& s, const std::string& who, const std::string& callKey) {
    std::vector<std::string> params{who + "|" + callKey};
    std::vector<Poco::Int64> at;
    Statement st(s);
    st << "SELECT answered_at FROM query_cache WHERE call_key = $1", useRef(params[0]), into(at);
    st.execute();
    return !at.empty() && freshness_.isFresh(at.front());
}

void CatalogStore::recordCall(Session& s, const std::string& who, const std::string& callKey,
                              const std::string& collection) {
    std::string k = who + "|" + callKey, c = key(collection);
    Poco::Int64 t = currentTime();
    s << "INSERT INTO query_cache (call_key, collection, answered_at) VALUES ($1, $2, $3)"
         " ON CONFLICT (call_key) DO UPDATE SET collection = excluded.collection, answered_at = excluded.answered_at",
        use(k), use(c), use(t), now;
    if (const auto staleUpTo = freshness_.staleUpTo()) {
        Poco::Int64 expired = *staleUpTo;
        s << "DELETE FROM query_cache WHERE answered_at <= $1", use(expired), now;
    }
    Poco::Int64 rows = 0;
    s << "SELECT count(*) FROM query_cache", into(rows), now;
    const auto max = static_cast<Poco::Int64>(std::max<std::size_t>(1, settings_.maxCachedCalls));
    if (rows <= max) return;
    Poco::Int64 excess = rows - max;
    s << "DELETE FROM query_cache WHERE call_key IN"
         " (SELECT call_key FROM query_cache ORDER BY answered_at, call_key LIMIT $1)",
        use(excess), now;
}

void CatalogStore::invalidateStates() {
    std::lock_guard<std::mutex> lock(statesMutex_);
    statesValid_ = false;
    ++statesGeneration_;
}

std::uint64_t CatalogStore::generation() {
    std::lock_guard<std::mutex> lock(statesMutex_);
    return statesGeneration_;
}

std::vector<CollectionState> CatalogStore::collectionStates(Session& s) {
    std::uint64_t generation;
    {
        std::lock_guard<std::mutex> lock(statesMutex_);
        if (statesValid_ && std::chrono::steady_clock::now() - statesLoadedAt_ < kStatesMaxAge) return states_;
        generation = statesGeneration_;
    }
    const auto loadedAt = std::chrono::steady_clock::now();
    std::vector<std::string> names;
    std::vector<int> harvested, listed;
    std::vector<Poco::Int64> harvestedAt, refreshedAt, studiesAt;
    s << "SELECT c.name, c.harvested_complete, c.harvested_at, c.refreshed_at, c.listed,"
         " coalesce(h.studies_at, 0) FROM collections c LEFT JOIN harvest_state h ON h.collection = upper(c.name)",
        into(names), into(harvested), into(harvestedAt), into(refreshedAt), into(listed), into(studiesAt), now;
    std::vector<CollectionState> out(names.size());
    for (std::size_t i = 0; i < names.size(); ++i)
        out[i] = {names[i], harvested[i] != 0, std::max(harvestedAt[i], refreshedAt[i]), listed[i] != 0, studiesAt[i]};
    std::lock_guard<std::mutex> lock(statesMutex_);
    if (generation == statesGeneration_) {  // no write committed while we read: keep it
        states_ = out;
        statesLoadedAt_ = loadedAt;
        statesValid_ = true;
    }
    return out;
}

void CatalogStore::ensureCollections(Session& s, const std::set<std::string>& names) {
    for (const auto& n : names) {
        if (trimSpaces(n).empty()) continue;
        std::string name = n, upper = key(n);
        s << "INSERT INTO collections (name) SELECT $1 WHERE NOT EXISTS"
             " (SELECT 1 FROM collections WHERE upper(name) = $2)",
            use(name), use(upper), now;
    }
}

void CatalogStore::recordLevel(Session& s, const std::string& collection, bool studyLevel, bool seriesLevel) {
    std::string upper = key(collection);
    Poco::Int64 at = currentTime();
    s << "INSERT INTO harvest_state (collection) VALUES ($1) ON CONFLICT (collection) DO NOTHING", use(upper), now;
    if (studyLevel) {
        Poco::Int64 patients = 0, studies = 0;
        s << "SELECT count(*) FROM patients WHERE upper(collection) = $1", use(upper), into(patients), now;
        s << "SELECT count(*) FROM studies WHERE upper(collection) = $1", use(upper), into(studies), now;
        s << "UPDATE harvest_state SET studies_at = $1, patients = $2, studies = $3, error = '' WHERE collection = $4",
            use(at), use(patients), use(studies), use(upper), now;
    }
    if (seriesLevel) {
        Poco::Int64 series = 0;
        s << "SELECT count(*) FROM series WHERE upper(collection) = $1", use(upper), into(series), now;
        s << "UPDATE harvest_state SET series_at = $1, series = $2, error = '' WHERE collection = $3", use(at),
            use(series), use(upper), now;
    }
}

std::string CatalogStore::meta(Session& s, const std::string& name) {
    std::vector<std::string> params{name};
    const auto v = selectStrings(s, "SELECT value FROM catalog_meta WHERE name = $1", params);
    return v.empty() ? std::string() : v.front();
}

void CatalogStore::setMeta(Session& s, const std::string& name, const std::string& value) {
    std::string n = name, v = value;
    s << "INSERT INTO catalog_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        use(n), use(v), now;
}

}  // namespace bridge::catalog
