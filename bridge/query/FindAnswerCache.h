#pragma once
// In-memory cache of finished C-FIND answers (the matching DicomRecords, in cursor order), for
// searches answered from a MetadataSource that tracks its generation (the catalog): a PACS
// repeats the same worklist-like STUDY search on every refresh, and its answer only changes when
// the catalog does. The QIDO adapter keeps its own cache of RENDERED answers
// (web/QidoResponseCache: JSON + gzip, keyed with the DICOMweb root as well); both share the
// query part of the key, queryCacheKey(), and the rules below.
//
// Why two stores and not one: what is worth keeping differs per adapter. QIDO's hit serves the
// finished JSON bytes (re-rendering records per hit would throw away most of its gain); a
// C-FIND hit must still build one DcmDataset per match (RetrieveAETitle is the called AE), so
// the records are the adapter-neutral thing to keep. One key function, one rule set.
//
// Correctness rules (the cache never answers what a fresh search would not):
//  * The key (queryCacheKey) holds everything the answer depends on: level, model, the keys
//    with VR and value in request order, limit, offset, fuzzy and PN case flags, and the
//    caller's CollectionScope (only / denied / visible, case-insensitive): restricted
//    collections never cross scopes.
//  * Each entry remembers the MetadataSource::generation() read BEFORE its search ran; a lookup
//    under any other generation misses (and drops the entry).
//  * Each entry expires after maxAge (writes by another process, TTL-driven refetches).
//  * The CALLER stores only complete answers: never a partial one (harvest in progress,
//    FindCursor::incompleteness()), never a truncated one, never one of a cancelled or failed
//    search, never IMAGE level (the instance cache has no generation).
//  * Bounded by (estimated) bytes, least recently used first out; an answer larger than a
//    quarter of the budget is not kept. maxBytes 0 disables the cache.
// Thread-safe; never blocks beyond a short mutex.

#include "bridge/common/BoundedLruCache.h"
#include "bridge/common/DicomRecord.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace bridge {

struct Query;

/// The normalised cache key of `query` including its scope (length-prefixed fields: no value
/// can be mistaken for a separator). Equal for two queries exactly when every field an answer
/// depends on is equal (collection names compared case-insensitively, like CollectionScope).
std::string queryCacheKey(const Query& query);

class FindAnswerCache {
public:
    using Records = std::vector<DicomRecord>;
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    explicit FindAnswerCache(std::size_t maxBytes = 64u << 20,
                             std::chrono::milliseconds maxAge = std::chrono::milliseconds(2000));

    /// False when built with maxBytes 0: find() always misses, store() keeps nothing.
    bool enabled() const noexcept { return maxBytes_ != 0; }

    /// The records stored for `key` under `generation` and younger than maxAge, or nullptr.
    std::shared_ptr<const Records> find(const std::string& key, std::uint64_t generation);
    /// Stores a COMPLETE answer built under `generation` (read before the search ran).
    void store(const std::string& key, std::uint64_t generation, std::shared_ptr<const Records> records);

    /// Estimated bytes of `records` as the budget counts them (and of one record alone).
    static std::size_t estimateBytes(const Records& records);
    static std::size_t estimateBytes(const DicomRecord& record);
    /// Most bytes one answer may take to be kept (a quarter of the budget).
    std::size_t maxAnswerBytes() const noexcept { return maxBytes_ / 4; }

    std::size_t hits() const;
    std::size_t misses() const;
    std::size_t size() const;
    std::size_t bytes() const;
    /// Replaces the clock used for maxAge. For tests.
    void setClock(Clock clock);

private:
    struct Entry {
        std::shared_ptr<const Records> records;
        std::uint64_t generation = 0;
        std::chrono::steady_clock::time_point storedAt;
    };

    mutable std::mutex mutex_;
    std::size_t maxBytes_;
    std::chrono::milliseconds maxAge_;
    Clock clock_;
    std::size_t hits_ = 0, misses_ = 0;
    BoundedLruCache<std::string, Entry> entries_;  ///< byte budget maxBytes_
};

}  // namespace bridge
