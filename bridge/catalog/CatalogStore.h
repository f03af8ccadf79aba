#pragma once
// The catalog's shared state (internal to bridge/catalog): the database, the freshness rule and
// clock, the credential identity, the remembered calls (query_cache), the in-memory copy of the
// collections table, catalog_meta, and the record writes every piece uses. The job classes
// (LazyFill, CollectionLists, CatalogScans, IncrementalRefresh, HarvestLedger) hold a
// reference to one store. Thread-safe as CatalogDatabase: writers hold writeMutex().

#include "bridge/catalog/CatalogDatabase.h"
#include "bridge/catalog/CatalogSql.h"
#include "bridge/catalog/FreshnessRule.h"
#include "bridge/common/Config.h"

#include <Poco/Data/Session.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace bridge::catalog {

/// The identity of calls made without credentials (Catalog::setIdentity).
inline constexpr const char* kAnonymousIdentity = "anonymous";
/// Until setIdentity: the catalog's own answers are never taken for the anonymous ones.
inline constexpr const char* kUnspecifiedIdentity = "unspecified";

class CatalogStore {
public:
    /// Opens the database (CatalogDatabase).
    CatalogStore(const CatalogSettings& settings, const CacheSettings& cache);

    Poco::Data::Session session() { return database_.session(); }
    std::mutex& writeMutex() noexcept { return database_.writeMutex(); }
    SqlDialect dialect() const noexcept { return database_.dialect(); }
    FreshnessRule& freshness() noexcept { return freshness_; }
    const FreshnessRule& freshness() const noexcept { return freshness_; }
    std::int64_t currentTime() const { return freshness_.now(); }

    /// Who the catalog's own TciaApi is to TCIA (Catalog::setIdentity). Set before sharing.
    const std::string& identity() const noexcept { return identity_; }
    void setIdentity(std::string identity) { identity_ = std::move(identity); }

    // ---- query_cache ----
    // Every key is "<identity>|<call>": an answer fetched with one set of credentials never
    // answers the same call made with another (anonymous vs token, or two accounts).
    /// The call `callKey` made as `who` was answered within TTL.
    bool freshCall(Poco::Data::Session& s, const std::string& who, const std::string& callKey);
    /// Caller holds the write mutex. Remembers the call now, tied to `collection` (or none)
    /// for the refresh's invalidation, and keeps query_cache within settings.maxCachedCalls
    /// rows: stale rows go first, then the oldest answers (they are merely asked again).
    void recordCall(Poco::Data::Session& s, const std::string& who, const std::string& callKey,
                    const std::string& collection);

    // ---- collections table ----
    /// The collections table, from memory when loaded after our last write and less than
    /// kStatesMaxAge ago (another process's writes, e.g. a `sync` next to the bridge).
    std::vector<CollectionState> collectionStates(Poco::Data::Session& s);
    /// After every committed metadata write of this process: reload the states, bump generation().
    void invalidateStates();
    std::uint64_t generation();

    // ---- writes (caller holds the write mutex) ----
    /// Adds collection rows for record collections not known yet, so that the collections
    /// table lists every collection present in the record tables.
    void ensureCollections(Poco::Data::Session& s, const std::set<std::string>& names);
    /// Upserts records (and their collections) with one of the *UpsertSql() statements.
    template <class R>
    void upsert(Poco::Data::Session& s, const std::string& sql, const std::vector<R>& rows) {
        if (rows.empty()) return;
        std::set<std::string> names;
        for (const auto& r : rows) names.insert(r.collection);
        ensureCollections(s, names);
        // use() wants a non-const container to pick the row-by-row Binding<std::vector<T>>
        // (useRef would select bulk binding); the binding only reads it.
        s << sql, Poco::Data::Keywords::use(const_cast<std::vector<R>&>(rows)), Poco::Data::Keywords::now;
    }
    /// Records a level of a collection's harvest in harvest_state (now, with row counts).
    void recordLevel(Poco::Data::Session& s, const std::string& collection, bool studyLevel, bool seriesLevel);

    // ---- catalog_meta ----
    std::string meta(Poco::Data::Session& s, const std::string& name);
    void setMeta(Poco::Data::Session& s, const std::string& name, const std::string& value);

private:
    static constexpr std::chrono::seconds kStatesMaxAge{2};

    CatalogSettings settings_;
    CatalogDatabase database_;
    FreshnessRule freshness_;
    std::string identity_ = kUnspecifiedIdentity;

    std::mutex statesMutex_;
    std::vector<CollectionState> states_;
    std::chrono::steady_clock::time_point statesLoadedAt_;
    bool statesValid_ = false;
    std::uint64_t statesGeneration_ = 0;  ///< bumped by each invalidation
};

}  // namespace bridge::catalog
