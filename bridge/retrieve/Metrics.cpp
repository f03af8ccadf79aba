#include "bridge/retrieve/Metrics.h"

#include <sstream>

#include "bridge/retrieve/BridgeServices.h"
#include "bridge/retrieve/DownloadCoordinator.h"
#include "bridge/retrieve/InstanceCache.h"
#include "bridge/retrieve/RetrieveEngine.h"

namespace bridge {

Metrics collectMetrics(const DownloadCoordinator* downloads, const InstanceCache* cache) {
    Metrics m;
    if (downloads) {
        const auto s = downloads->stats();
        m.downloadsActive = s.active;
        m.downloadsWaiting = s.waiting;
        m.downloadsMax = static_cast<std::uint64_t>(downloads->maxConcurrentDownloads());
        m.downloadsStarted = s.started;
        m.downloadsJoined = s.joined;
        m.downloadsFailed = s.failed;
        m.downloadsCancelled = s.cancelled;
    }
    if (cache) {
        const auto s = cache->stats();
        m.cacheBytes = s.bytes;
        m.cacheMaxBytes = s.maxBytes;
        m.cacheInstances = s.instances;
        m.cacheSeries = s.series;
        m.cacheHits = s.hits;
        m.cacheMisses = s.misses;
        m.cacheVerifyFailures = s.verifyFailures;
        m.cacheEvictedSeries = s.evictedSeries;
        m.cacheStores = s.stores;
    }
    return m;
}

Metrics collectMetrics(const BridgeServices& services) {
    auto* engine = dynamic_cast<RetrieveEngine*>(services.retrieve.get());
    return collectMetrics(engine ? &engine->downloads() : nullptr, services.instanceCache.get());
}

std::string Metrics::toPrometheusText() const {
    std::ostringstream out;
    const auto metric = [&](const char* name, const char* type, const char* help, std::uint64_t value) {
        out << "# HELP tcia_bridge_" << name << ' ' << help << "\n# TYPE tcia_bridge_" << name << ' ' << type
            << "\ntcia_bridge_" << name << ' ' << value << '\n';
    };
    metric("downloads_active", "gauge", "TCIA series downloads in progress", downloadsActive);
    metric("downloads_waiting", "gauge", "TCIA series downloads waiting for a slot", downloadsWaiting);
    metric("downloads_max", "gauge", "Maximum concurrent TCIA series downloads", downloadsMax);
    metric("downloads_started_total", "counter", "TCIA series downloads started", downloadsStarted);
    metric("downloads_joined_total", "counter", "Retrievals that shared a running download", downloadsJoined);
    metric("downloads_failed_total", "counter", "TCIA series downloads that failed", downloadsFailed);
    metric("downloads_cancelled_total", "counter", "TCIA series downloads abandoned by all callers",
           downloadsCancelled);
    metric("cache_bytes", "gauge", "Bytes in the instance cache", cacheBytes);
    metric("cache_max_bytes", "gauge", "Instance cache size bound", cacheMaxBytes);
    metric("cache_instances", "gauge", "Instances in the instance cache", cacheInstances);
    metric("cache_series", "gauge", "Series in the instance cache", cacheSeries);
    metric("cache_hits_total", "counter", "Instances served from the cache", cacheHits);
    metric("cache_misses_total", "counter", "Cache reads that found nothing usable", cacheMisses);
    metric("cache_verify_failures_total", "counter", "Cached files deleted after a size/MD5 mismatch",
           cacheVerifyFailures);
    metric("cache_evicted_series_total", "counter", "Series evicted from the cache", cacheEvictedSeries);
    metric("cache_stores_total", "counter", "Instances written to the cache", cacheStores);
    return out.str();
}

}  // namespace bridge
