#pragma once
// Reads a cached series' instances ahead of their consumer, in order, on one thread of its own:
// while the C-STORE sub-operation of instance N is on the wire, instances N+1.. are read (and,
// on their first read in this process, MD5-verified) by InstanceCache::read, so the sender
// never waits for the disk or the hash.
//
// Bounds: at most `depth` instances and `maxBytes` bytes (by the sizes the cache recorded) are
// held ahead of the consumer; one instance larger than maxBytes is still read alone.
// Threading: next() from one thread; the reader thread is stopped and joined by the destructor
// (at most one read in flight then finishes first).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "bridge/common/RequestContext.h"
#include "bridge/retrieve/InstanceCache.h"

namespace bridge {

class CacheReadAhead {
public:
    /// Starts reading `instances` (in this order) of `seriesInstanceUid` at once.
    CacheReadAhead(InstanceCache& cache, std::string seriesInstanceUid, std::vector<CachedInstanceInfo> instances,
                   std::size_t depth = 4, std::uint64_t maxBytes = 64ull << 20);
    ~CacheReadAhead();
    CacheReadAhead(const CacheReadAhead&) = delete;
    CacheReadAhead& operator=(const CacheReadAhead&) = delete;

    using Bytes = std::shared_ptr<const std::vector<std::uint8_t>>;
    /// The next instance's bytes as InstanceCache::read returned them (nullptr: a miss); nullopt
    /// when `deadline` passed or `context` stopped first (call again). Rethrows what read threw.
    /// Past the last instance it only waits (nullopt).
    std::optional<Bytes> next(const RequestContext& context, std::chrono::steady_clock::time_point deadline);

private:
    void run(std::stop_token stop);

    InstanceCache& cache_;
    const std::string series_;
    const std::vector<CachedInstanceInfo> instances_;
    const std::size_t depth_;
    const std::uint64_t maxBytes_;

    std::mutex mutex_;
    std::condition_variable_any changed_;
    struct Slot {
        Bytes bytes;
        std::exception_ptr error;
        std::uint64_t size = 0;
    };
    std::deque<Slot> ready_;       ///< read, not yet taken (in order)
    std::uint64_t readyBytes_ = 0;
    std::jthread reader_;          ///< last member: started once everything above exists
};

}  // namespace bridge
