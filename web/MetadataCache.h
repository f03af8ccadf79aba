#pragma once
// In-memory cache of generated WADO-RS series metadata, stored gzip-compressed (the idea of
// ORT-DW 1.15: OHIF asks for series metadata on every study open, and building it means
// parsing every instance). LRU, bounded by compressed bytes (bridge/common/BoundedLruCache).
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "bridge/common/BoundedLruCache.h"
#include "bridge/common/RequestContext.h"

namespace bridge::web {

class MetadataCache {
public:
    explicit MetadataCache(std::size_t maxBytes = 256u << 20) : entries_(maxBytes) {}
    ~MetadataCache();
    MetadataCache(const MetadataCache&) = delete;
    MetadataCache& operator=(const MetadataCache&) = delete;

    /// The gzip bytes of a JSON array for `key` (base URL + series UID), or nullptr.
    std::shared_ptr<const std::string> find(const std::string& key);
    /// Stores JSON text (compressed here). Returns the stored gzip bytes.
    std::shared_ptr<const std::string> store(const std::string& key, const std::string& json);

    /// The gzip bytes for `key`: from the cache, or from a build already running for the same
    /// key (request coalescing: concurrent viewers opening one series parse it once), or by
    /// running `build` on this thread. `build` returns the JSON text and whether it is complete;
    /// only complete results are stored. A build's exception reaches every waiter.
    std::shared_ptr<const std::string> findOrBuild(const std::string& key,
                                                   const std::function<std::pair<std::string, bool>()>& build);
    /// The same, for requesters that can go away (issue 9, finding 10e). `build` gets the
    /// build's own token, not any requester's: it is cancelled only when EVERY requester of the
    /// key (the builder's and each waiter's `requester`) has been cancelled, so one client's
    /// disconnect never fails the others. A waiter whose own token is cancelled stops waiting
    /// (BridgeError Cancelled) and no longer counts. Signalled, never polled: a std::stop_callback
    /// on each requester's token re-counts the requesters when it stops (so the build's token
    /// is cancelled inside the last requester's cancel()), and a waiter sleeps on a condition
    /// variable that wakes on the build's end or its own stop.
    std::shared_ptr<const std::string> findOrBuild(
        const std::string& key, const std::function<std::pair<std::string, bool>(const RequestContext& shared)>& build,
        const RequestContext& requester);

    std::size_t hits() const;
    std::size_t misses() const;

    /// gzip / gunzip helpers (Poco Deflating/InflatingStream, STREAM_GZIP).
    static std::string gzip(const std::string& data);
    static std::string gunzip(const std::string& data);

private:
    mutable std::mutex mutex_;
    std::size_t hits_ = 0, misses_ = 0;
    BoundedLruCache<std::string, std::shared_ptr<const std::string>> entries_;  ///< gzip bytes by key
    std::map<std::string, std::shared_future<std::shared_ptr<const std::string>>> building_;

    /// A build with cancellable requesters (second findOrBuild).
    struct SharedBuild {
        std::shared_future<std::shared_ptr<const std::string>> future;
        RequestContext shared;                  ///< handed to build(); cancelled when nobody waits
        std::map<int, RequestContext> requesters;
        bool finished = false;                  ///< the future is ready (guarded by mutex_)
        std::condition_variable_any finishedCv;  ///< notified when `finished` is set
    };
    std::map<std::string, std::shared_ptr<SharedBuild>> sharedBuilding_;
    int nextRequester_ = 0;
    /// Cancels build->shared when none of its requesters is still waiting (takes mutex_).
    void abandonIfNobodyWaits(const std::shared_ptr<SharedBuild>& build);
};

}  // namespace bridge::web
