#pragma once
// In-memory cache of finished QIDO-RS answers (the JSON array, plain and gzip-compressed), for
// searches answered from the catalog: OHIF's study list asks the same search on every visit and
// its answer only changes when the catalog does.
//
// Correctness rules (the cache must never answer what a fresh search would not):
//  * The key holds everything the answer depends on: the normalised Query (level, keys with VR
//    and value in request order, limit, offset, fuzzy and PN case flags), the caller's
//    CollectionScope (allowed and denied collections: restricted collections never cross
//    scopes) and the DICOMweb root that RetrieveURLs are built from (key()).
//  * Each entry remembers the MetadataSource::generation() read BEFORE its search ran; a lookup
//    under any other generation misses (and drops the entry). Every catalog write (lazy fill,
//    harvest, refresh, restriction change) bumps the generation.
//  * Each entry also expires after maxAge: writes by another process (a `sync` next to the
//    bridge) and TTL-driven refetches are then seen within that bound, like the catalog's own
//    in-memory collection states (Catalog.cpp kStatesMaxAge).
//  * Bounded by bytes (plain + gzip), least recently used first out.
// Thread-safe; never blocks beyond a short mutex.

#include "bridge/common/BoundedLruCache.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace bridge {
struct Query;
}

namespace bridge::web {

class QidoResponseCache {
public:
    /// One finished answer; immutable once built, shared with the requests sending it.
    struct Answer {
        std::string json;  ///< the JSON array
        bool truncated = false;
        std::size_t matches = 0;  ///< elements of the array (metrics, audit)
        /// FindCursor::incompleteness(): the catalog harvest was still running. Such answers
        /// are never stored (QidoResource), so none is served after the harvest completed.
        std::string incomplete;
        /// gzip of json, compressed on first use (only gzip-accepting clients pay for it) and
        /// kept; thread-safe.
        const std::string& gzip() const;

    private:
        mutable std::once_flag gzipOnce_;
        mutable std::string gzip_;
    };
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    explicit QidoResponseCache(std::size_t maxBytes = 64u << 20,
                               std::chrono::milliseconds maxAge = std::chrono::milliseconds(2000));

    /// The cache key of `query` (with its scope) answered under `dicomWebRoot`.
    static std::string key(const Query& query, const std::string& dicomWebRoot);

    /// The answer stored for `key` under `generation` and younger than maxAge, or nullptr.
    std::shared_ptr<const Answer> find(const std::string& key, std::uint64_t generation);
    /// Stores an answer built under `generation` (read before the search ran). Answers larger
    /// than a quarter of the budget are not kept. The budget counts each JSON body twice (room
    /// for its gzip, which is usually far smaller).
    void store(const std::string& key, std::uint64_t generation, std::shared_ptr<const Answer> answer);

    std::size_t hits() const;
    std::size_t misses() const;
    std::size_t size() const;
    /// Replaces the clock used for maxAge. For tests.
    void setClock(Clock clock);

private:
    struct Entry {
        std::shared_ptr<const Answer> answer;
        std::uint64_t generation = 0;
        std::chrono::steady_clock::time_point storedAt;
    };

    mutable std::mutex mutex_;
    std::size_t maxBytes_;
    std::chrono::milliseconds maxAge_;
    Clock clock_;
    std::size_t hits_ = 0, misses_ = 0;
    BoundedLruCache<std::string, Entry> entries_;  ///< byte budget maxBytes_ (the shared LRU)
};

}  // namespace bridge::web
