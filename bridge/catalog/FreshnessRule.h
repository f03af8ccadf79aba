#pragma once
// The catalog's one freshness rule (internal to bridge/catalog), and the clock it reads.
//
// THE RULE: a fact the catalog recorded at time `at` (epoch seconds) -- a remembered TCIA call
// (query_cache.answered_at), a stored collections() list, a collection's harvest or its last
// incremental refresh (max(harvested_at, refreshed_at)), a harvested study level -- is fresh
// while  at > 0  and  TTL > 0  and  at + TTL > now. Everything that asks "is this still good?"
// asks isFresh(); SQL that drops stale rows uses staleUpTo(), the same bound.
//
// How lazy fills and broad scans use the rule (harvestAnswers):
//  * A lazy fill (patients/studies/series/SOP lists) answers from a collection's harvest when
//    the collection is harvested completely and that harvest is fresh.
//  * A broad scan answers from a collection's harvest when it covers the scan's level, at any
//    age: the refresh (Catalog::refreshIncremental) is what keeps a synced catalog current, and
//    refusing would only turn a slightly stale answer into QueryTooBroad (Catalog.h). This is
//    the one place that says so.

#include "bridge/query/Query.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace bridge::catalog {

/// One row of the collections table as the rule sees it.
struct CollectionState {
    std::string name;
    bool harvested = false;      ///< harvested completely (series level)
    std::int64_t freshAt = 0;    ///< max(harvested_at, refreshed_at), 0 = never
    bool listed = false;         ///< in the catalog identity's collections() list
    std::int64_t studiesAt = 0;  ///< study level harvested (harvest_state), 0 = never
};

class FreshnessRule {
public:
    /// Who asks: a lazy fill needs a fresh complete harvest, a scan the level covered.
    enum class Use { LazyFill, Scan };

    explicit FreshnessRule(std::chrono::seconds ttl);

    std::int64_t ttlSeconds() const noexcept { return ttl_; }
    /// The catalog's clock (epoch seconds); thread-safe.
    std::int64_t now() const;
    /// Replaces the clock. For tests.
    void setClock(std::function<std::int64_t()> nowSeconds);

    /// The rule: `at` > 0, TTL > 0 and at + TTL > now.
    bool isFresh(std::int64_t at) const;
    /// Rows recorded at or before the returned time are stale; nullopt when TTL is 0 (nothing
    /// is fresh, and nothing is dropped for age).
    std::optional<std::int64_t> staleUpTo() const;

    /// Whether collection `c`'s stored rows answer a `use` at `level` (see the file comment).
    bool harvestAnswers(const CollectionState& c, QueryLevel level, Use use) const;
    /// PATIENT and STUDY need the study level (patients + studies); SERIES and IMAGE the series
    /// level (harvested completely).
    static bool coversLevel(const CollectionState& c, QueryLevel level);

private:
    std::int64_t ttl_;
    mutable std::mutex clockMutex_;
    std::function<std::int64_t()> clock_;
};

}  // namespace bridge::catalog
