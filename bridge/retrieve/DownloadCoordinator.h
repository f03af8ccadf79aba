#pragma once
// Single flight for TCIA series downloads.
//
// However many callers (C-MOVE, C-GET, WADO-RS...) want one series at once, ONE
// TciaApi::downloadSeries runs for it; each caller holds a Subscription and receives every
// instance as it arrives (late joiners first get the ones already downloaded, read back from the
// instance cache). Each instance is published to the subscribers as it leaves the ZIP and
// written to the InstanceCache beside the send (with the ZIP reader's MD5, no fsync); a download
// that delivered the whole series marks it complete there before its subscribers see End, and
// fsyncs it once (InstanceCache::persistComplete) after every subscriber has been handed End or
// left (at most kMaxDurabilityDelay later; at once at shutdown): the fsync pass -- writeback of
// the whole series -- then never competes with C-STOREs still being sent. A failure is propagated to every
// subscriber. When the last subscriber leaves before the end, the download is cancelled.
// MD5s are verified (TciaApi DownloadOptions::verifyMd5): an instance that fails is removed from
// the cache, reported failed to every subscriber (SeriesDownload::rejected) and the series is not
// marked complete. A download thread that cannot start fails its subscribers at once.
//
// At most maxConcurrentDownloads downloads talk to TCIA at a time; further ones wait for a slot
// (their subscribers see Waiting meanwhile). Each download runs on its own thread, joined by the
// destructor (which cancels whatever still runs). Thread-safe.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "bridge/retrieve/InstanceCache.h"
#include "bridge/retrieve/SeriesDownload.h"
#include "bridge/tcia/TciaApi.h"

namespace bridge {

class DownloadCoordinator {
public:
    static constexpr int kDefaultMaxConcurrentDownloads = 3;
    /// Instances read from TCIA but not yet written to the cache, per download.
    static constexpr std::size_t kWriteQueueDepth = 4;
    /// Longest wait of a complete download's fsync pass for its subscribers to drain (a slow
    /// destination): then the series is made durable anyway.
    static constexpr std::chrono::seconds kMaxDurabilityDelay{120};

    /// `tcia` and `cache` must outlive the coordinator.
    DownloadCoordinator(tcia::TciaApi& tcia, InstanceCache& cache,
                        int maxConcurrentDownloads = kDefaultMaxConcurrentDownloads);
    ~DownloadCoordinator();
    DownloadCoordinator(const DownloadCoordinator&) = delete;
    DownloadCoordinator& operator=(const DownloadCoordinator&) = delete;

    /// One caller's view of a download. Destroying it unsubscribes (and cancels the download
    /// when it was the last subscriber). Not thread-safe itself: one consumer thread.
    class Subscription {
    public:
        Subscription(DownloadCoordinator& owner, std::shared_ptr<SeriesDownload> download, int id);
        ~Subscription();
        Subscription(const Subscription&) = delete;
        Subscription& operator=(const Subscription&) = delete;

        /// See SeriesDownload::next. `bytes` is nullptr when the instance is to be read from the cache.
        SeriesDownload::Poll next(PublishedInstance& instance,
                                  std::shared_ptr<const std::vector<std::uint8_t>>& bytes,
                                  std::chrono::milliseconds wait);
        /// As above; the wait also ends at once when `caller` is stopped (Waiting is returned).
        SeriesDownload::Poll next(PublishedInstance& instance,
                                  std::shared_ptr<const std::vector<std::uint8_t>>& bytes,
                                  std::chrono::milliseconds wait, const RequestContext& caller);
        const SeriesDownload& download() const { return *download_; }

    private:
        DownloadCoordinator& owner_;
        std::shared_ptr<SeriesDownload> download_;
        int id_;
    };

    /// Joins the running download of locator.seriesInstanceUid or starts one. Never blocks on TCIA.
    /// With locator.sopInstanceUids set (IMAGE level) the subscription sees, and buffers, only those.
    std::unique_ptr<Subscription> subscribe(const SeriesLocator& locator);

    /// Gauges and counters (for Metrics).
    struct Stats {
        std::uint64_t active = 0;     ///< downloads talking to TCIA now
        std::uint64_t waiting = 0;    ///< downloads waiting for a slot
        std::uint64_t started = 0;    ///< downloads started since start-up
        std::uint64_t joined = 0;     ///< subscriptions that joined a running download (coalesced)
        std::uint64_t failed = 0;     ///< downloads that ended with a failure (not counting cancels)
        std::uint64_t cancelled = 0;  ///< downloads cancelled because nobody wanted them any more
    };
    Stats stats() const;
    int maxConcurrentDownloads() const noexcept { return maxConcurrent_; }

    /// Starts a download's thread. The default is std::thread; tests replace it to prove that a
    /// thread that cannot start fails the subscribe (BridgeError Overloaded) and every joiner,
    /// rather than leaving them waiting forever.
    using Launcher = std::function<std::thread(std::function<void()>)>;
    void setLauncher(Launcher launcher);

private:
    struct Worker {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };

    void unsubscribe(const std::shared_ptr<SeriesDownload>& download, int id);
    void run(const std::shared_ptr<SeriesDownload>& download);
    void finish(const std::shared_ptr<SeriesDownload>& download, std::optional<std::string> failure,
                ErrorCode code);
    void reapLocked();

    tcia::TciaApi& tcia_;
    InstanceCache& cache_;
    const int maxConcurrent_;
    Launcher launch_;

    mutable std::mutex mutex_;
    std::condition_variable_any slotFreed_;  ///< waits also wake on the download's stop
    std::map<std::string, std::shared_ptr<SeriesDownload>> inFlight_;
    std::list<Worker> workers_;
    /// Complete downloads whose fsync pass waits for their subscribers (released at shutdown).
    std::set<std::shared_ptr<SeriesDownload>> draining_;
    bool shuttingDown_ = false;
    int active_ = 0;
    int waiting_ = 0;
    std::uint64_t started_ = 0, joined_ = 0, failed_ = 0, cancelled_ = 0;
};

}  // namespace bridge
