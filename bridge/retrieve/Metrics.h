#pragma once
// Gauges and counters of retrieval (TCIA downloads, single flight, instance cache), for a
// /metrics endpoint or logs. A Metrics value is a snapshot; collecting one is cheap and
// thread-safe (it takes the coordinator's and the cache's locks briefly).

#include <cstdint>
#include <string>

namespace bridge {

struct BridgeServices;
class DownloadCoordinator;
class InstanceCache;

struct Metrics {
    // TCIA downloads (single flight, see DownloadCoordinator).
    std::uint64_t downloadsActive = 0;     ///< gauge: getImage downloads talking to TCIA
    std::uint64_t downloadsWaiting = 0;    ///< gauge: downloads waiting for a slot
    std::uint64_t downloadsMax = 0;        ///< the slot limit
    std::uint64_t downloadsStarted = 0;    ///< counter
    std::uint64_t downloadsJoined = 0;     ///< counter: callers that shared a running download
    std::uint64_t downloadsFailed = 0;     ///< counter
    std::uint64_t downloadsCancelled = 0;  ///< counter: abandoned by every caller
    // Instance cache.
    std::uint64_t cacheBytes = 0;  ///< gauge
    std::uint64_t cacheMaxBytes = 0;
    std::uint64_t cacheInstances = 0;       ///< gauge
    std::uint64_t cacheSeries = 0;          ///< gauge
    std::uint64_t cacheHits = 0;            ///< counter: instances served from disk
    std::uint64_t cacheMisses = 0;          ///< counter
    std::uint64_t cacheVerifyFailures = 0;  ///< counter: files deleted after a size/MD5 mismatch
    std::uint64_t cacheEvictedSeries = 0;   ///< counter
    std::uint64_t cacheStores = 0;          ///< counter

    /// Prometheus text exposition format (version 0.0.4), metric names prefixed "tcia_bridge_".
    std::string toPrometheusText() const;
};

/// Either pointer may be null (its fields stay 0).
Metrics collectMetrics(const DownloadCoordinator* downloads, const InstanceCache* cache);
/// From the composition root (the RetrieveEngine's coordinator and the instance cache).
Metrics collectMetrics(const BridgeServices& services);

}  // namespace bridge
