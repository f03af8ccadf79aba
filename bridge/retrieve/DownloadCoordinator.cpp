#include "bridge/retrieve/DownloadCoordinator.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <deque>
#include <set>

#include "bridge/common/Error.h"
#include "bridge/common/Logging.h"

namespace bridge {

DownloadCoordinator::DownloadCoordinator(tcia::TciaApi& tcia, InstanceCache& cache,
                                         int maxConcurrentDownloads)
    : tcia_(tcia),
      cache_(cache),
      maxConcurrent_(maxConcurrentDownloads < 1 ? 1 : maxConcurrentDownloads),
      launch_([](std::function<void()> body) { return std::thread(std::move(body)); }) {}

void DownloadCoordinator::setLauncher(Launcher launcher) {
    std::lock_guard lock(mutex_);
    launch_ = std::move(launcher);
}

DownloadCoordinator::~DownloadCoordinator() {
    std::list<Worker> workers;
    {
        std::lock_guard lock(mutex_);
        shuttingDown_ = true;
        for (auto& [series, download] : inFlight_) download->cancelToken().cancel();
        for (const auto& download : draining_) download->releaseDrainWait();  // persist now
        workers.swap(workers_);
    }
    slotFreed_.notify_all();
    for (auto& worker : workers)
        if (worker.thread.joinable()) worker.thread.join();
}

DownloadCoordinator::Subscription::Subscription(DownloadCoordinator& owner,
                                                std::shared_ptr<SeriesDownload> download, int id)
    : owner_(owner), download_(std::move(download)), id_(id) {}

DownloadCoordinator::Subscription::~Subscription() { owner_.unsubscribe(download_, id_); }

SeriesDownload::Poll DownloadCoordinator::Subscription::next(
    PublishedInstance& instance, std::shared_ptr<const std::vector<std::uint8_t>>& bytes,
    std::chrono::milliseconds wait) {
    return download_->next(id_, instance, bytes, wait);
}

SeriesDownload::Poll DownloadCoordinator::Subscription::next(
    PublishedInstance& instance, std::shared_ptr<const std::vector<std::uint8_t>>& bytes,
    std::chrono::milliseconds wait, const RequestContext& caller) {
    return download_->next(id_, instance, bytes, wait, caller);
}

namespace {
std::optional<std::set<std::string>> wantedOf(const SeriesLocator& locator) {
    if (!locator.sopInstanceUids) return std::nullopt;
    return std::set<std::string>(locator.sopInstanceUids->begin(), locator.sopInstanceUids->end());
}
}  // namespace

std::unique_ptr<DownloadCoordinator::Subscription> DownloadCoordinator::subscribe(
    const SeriesLocator& locator) {
    std::lock_guard lock(mutex_);
    if (shuttingDown_) throw BridgeError(ErrorCode::Cancelled, "the bridge is shutting down");
    reapLocked();
    auto found = inFlight_.find(locator.seriesInstanceUid);
    if (found != inFlight_.end() && !found->second->cancelToken().cancelled()) {
        joined_++;
        const int id = found->second->addSubscriber(wantedOf(locator));
        return std::make_unique<Subscription>(*this, found->second, id);
    }
    auto download = std::make_shared<SeriesDownload>(locator);
    const int id = download->addSubscriber(wantedOf(locator));
    inFlight_[locator.seriesInstanceUid] = download;
    started_++;
    Worker worker;
    worker.done = std::make_shared<std::atomic<bool>>(false);
    auto done = worker.done;
    try {
        // The download's log lines carry the id of the request/association that started it.
        worker.thread = launch_([this, download, done, context = currentLogContext()] {
            LogScope scope(context);
            run(download);
            done->store(true);
        });
    } catch (const std::exception& e) {
        // No thread, no download: whoever joins must not wait for it (nor this subscriber).
        inFlight_.erase(locator.seriesInstanceUid);
        download->cancelToken().cancel();
        const std::string reason = std::string("cannot start a download thread: ") + e.what();
        download->finish(reason, ErrorCode::Overloaded);
        failed_++;
        throw BridgeError(ErrorCode::Overloaded, reason);
    }
    workers_.push_back(std::move(worker));
    return std::make_unique<Subscription>(*this, download, id);
}

void DownloadCoordinator::unsubscribe(const std::shared_ptr<SeriesDownload>& download, int id) {
    bool cancelled = false;
    {
        std::lock_guard lock(mutex_);
        if (download->removeSubscriber(id) == 0 && !download->finished()) {
            // Nobody needs the rest: stop talking to TCIA (the instances already written stay cached).
            download->cancelToken().cancel();
            auto found = inFlight_.find(download->locator().seriesInstanceUid);
            if (found != inFlight_.end() && found->second == download) inFlight_.erase(found);
            cancelled_++;
            cancelled = true;
        }
    }
    if (cancelled) slotFreed_.notify_all();  // (its stop token already woke it; harmless)
}

void DownloadCoordinator::reapLocked() {
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (it->done->load()) {
            it->thread.join();
            it = workers_.erase(it);
        } else {
            ++it;
        }
    }
}

void DownloadCoordinator::run(const std::shared_ptr<SeriesDownload>& download) {
    const SeriesLocator& locator = download->locator();
    const RequestContext& context = download->cancelToken();
    {
        std::unique_lock lock(mutex_);
        waiting_++;
        // Wakes when a slot frees, at shutdown (notify) or when the download is cancelled (stop token).
        context.wait(slotFreed_, lock, [&] { return active_ < maxConcurrent_ || shuttingDown_; });
        waiting_--;
        if (shuttingDown_ || context.cancelled()) {
            lock.unlock();
            finish(download, std::string("download cancelled"), ErrorCode::Cancelled);
            return;
        }
        active_++;
    }

    std::optional<std::string> failure;
    ErrorCode code = ErrorCode::Internal;
    std::set<std::string> delivered;  // SOP Instance UIDs published; guarded by queueMutex until the writer is joined
    std::vector<std::string> corrupt;  // delivered, then found not to match md5hashes.csv
    bool persist = false;              // complete: fsync the series and write its marker after finish()
    try {
        InstanceCache::Pin pin = cache_.pin(locator.seriesInstanceUid);
        tcia::DownloadOptions options;
        if (locator.imageCount > 0) options.expectedCount = locator.imageCount;
        // MD5s (on by default) can only be checked after the last entry: the instances named
        // here were already stored and published; they are dropped below, never complete.
        options.onMd5Mismatch = [&](const std::vector<std::string>& sops) {
            corrupt.insert(corrupt.end(), sops.begin(), sops.end());
        };

        // Two-stage pipeline: this thread reads the ZIP, a writer thread stores each instance
        // in the cache (header parse, write, rename; the MD5 comes from the ZIP reader, the fsync
        // once per series in markComplete) and then publishes it. A download
        // therefore costs max(network, disk) rather than their sum; the queue between the two
        // is bounded (back-pressure slows the socket read, so memory stays bounded).
        struct Pending {
            PublishedInstance published;
            std::shared_ptr<const std::vector<std::uint8_t>> bytes;
            InstanceCache::StoreHints hints;                 ///< the ZIP reader's MD5 (hash once)
            std::chrono::steady_clock::time_point received;  ///< out of the ZIP (timeline)
            std::optional<std::size_t> publishedAt;  ///< already published (index), else after the store
        };
        // Per-instance timeline at debug level (issue 11: where a cold C-MOVE spends its time):
        // ms since the download started when each instance left the ZIP, entered the writer,
        // was cached and was published.
        Poco::Logger& timeline = Poco::Logger::get("bridge.retrieve.timeline");
        const auto started = std::chrono::steady_clock::now();
        const auto sinceStart = [&](std::chrono::steady_clock::time_point t) {
            return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(t - started).count());
        };
        std::mutex queueMutex;
        std::condition_variable_any queueChanged;
        std::deque<Pending> queue;
        bool closed = false;

        std::thread writer([&] {
            while (true) {
                Pending item;
                {
                    std::unique_lock lock(queueMutex);
                    queueChanged.wait(lock, [&] { return !queue.empty() || closed; });
                    if (queue.empty()) return;
                    item = std::move(queue.front());
                    queue.pop_front();
                }
                queueChanged.notify_all();
                const auto dequeued = std::chrono::steady_clock::now();
                if (item.publishedAt) {
                    // Already with the subscribers (C-STORE runs beside this write): cache it.
                    try {
                        cache_.store(locator.seriesInstanceUid, *item.bytes, item.hints);
                        download->markCached(*item.publishedAt);
                    } catch (const std::exception& e) {
                        // Stays buffered for the subscribers (SeriesDownload); only the cache misses it.
                        Poco::Logger::get("bridge.retrieve")
                            .warning("not cached: %s/%s: %s", locator.seriesInstanceUid,
                                     item.published.sopInstanceUid, std::string(e.what()));
                    }
                    if (timeline.debug())
                        timeline.debug("%s %s zip %ld published %ld writer %ld cached %ld", locator.seriesInstanceUid,
                                       item.published.sopInstanceUid, sinceStart(item.received),
                                       sinceStart(item.received), sinceStart(dequeued),
                                       sinceStart(std::chrono::steady_clock::now()));
                    continue;
                }
                try {
                    const CachedInstanceInfo info =
                        cache_.store(locator.seriesInstanceUid, *item.bytes, item.hints);
                    item.published.cached = true;
                    if (item.published.sopInstanceUid.empty())
                        item.published.sopInstanceUid = info.sopInstanceUid;
                } catch (const std::exception& e) {
                    // Still handed to the subscribers (buffered, see SeriesDownload); only the cache misses
                    // it.
                    Poco::Logger::get("bridge.retrieve")
                        .warning("not cached: %s/%s: %s", locator.seriesInstanceUid,
                                 item.published.sopInstanceUid, std::string(e.what()));
                }
                // Nothing may escape this thread (std::terminate): an instance that cannot be
                // published is simply not delivered, and the stream reports it failed.
                try {
                    const std::string sop = item.published.sopInstanceUid;
                    const auto cachedAt = std::chrono::steady_clock::now();
                    download->publish(std::move(item.published), std::move(item.bytes));
                    std::lock_guard lock(queueMutex);
                    delivered.insert(sop);
                    if (timeline.debug())
                        timeline.debug("%s %s zip %ld writer %ld cached %ld published %ld", locator.seriesInstanceUid, sop,
                                       sinceStart(item.received), sinceStart(dequeued), sinceStart(cachedAt),
                                       sinceStart(std::chrono::steady_clock::now()));
                } catch (const std::exception& e) {
                    Poco::Logger::get("retrieve")
                        .error("not delivered: %s: %s", locator.seriesInstanceUid, std::string(e.what()));
                } catch (...) {
                    Poco::Logger::get("retrieve").error("not delivered: %s", locator.seriesInstanceUid);
                }
            }
        });
        const auto closeAndJoin = [&] {
            {
                std::lock_guard lock(queueMutex);
                closed = true;
            }
            queueChanged.notify_all();
            writer.join();
        };

        auto sink = [&](tcia::DownloadedInstance&& instance) {
            Pending item;
            item.published.sopInstanceUid = instance.sopInstanceUid;
            item.published.sopClassUid = instance.sopClassUid;
            item.published.transferSyntaxUid = instance.transferSyntaxUid;
            if (instance.recycle) {
                // The buffer goes back to its source (IdcClient's pool) when the last subscriber
                // and the cache writer are done with it.
                item.bytes = std::shared_ptr<std::vector<std::uint8_t>>(
                    new std::vector<std::uint8_t>(std::move(instance.bytes)),
                    [recycle = std::move(instance.recycle)](std::vector<std::uint8_t>* bytes) {
                        std::unique_ptr<std::vector<std::uint8_t>> owned(bytes);
                        recycle(std::move(*owned));
                    });
            } else {
                item.bytes = std::make_shared<const std::vector<std::uint8_t>>(std::move(instance.bytes));
            }
            item.hints.md5 = std::move(instance.md5);
            item.received = std::chrono::steady_clock::now();
            if (!item.published.sopInstanceUid.empty()) {
                // Issue 11 item 2: hand it to the subscribers (C-STORE) now, uncached (buffered for
                // every subscriber until the writer has stored it, see SeriesDownload::markCached);
                // the cache write runs beside the send instead of before it. The write queue
                // bound still limits how many uncached instances exist at once.
                context.throwIfCancelled();
                item.publishedAt = download->publish(item.published, item.bytes);
            }
            std::unique_lock lock(queueMutex);
            if (item.publishedAt) delivered.insert(item.published.sopInstanceUid);
            // Back-pressure: wakes when the writer takes one (notify) or the download is cancelled.
            context.wait(queueChanged, lock, [&] { return queue.size() < kWriteQueueDepth; });
            context.throwIfCancelled();
            queue.push_back(std::move(item));
            lock.unlock();
            queueChanged.notify_all();
        };
        const auto dropCorrupt = [&] {
            // After the writer is joined: nothing re-stores them. Out of the cache (a later
            // request downloads them again), out of `delivered` (never complete), and failed for
            // every subscriber (SeriesDownload::reject) -- before finish() wakes them for End.
            for (const auto& sop : corrupt) {
                cache_.removeInstance(locator.seriesInstanceUid, sop);
                delivered.erase(sop);
            }
            if (!corrupt.empty()) download->reject(corrupt);
        };
        try {
            tcia_.downloadSeries(locator.seriesInstanceUid, options, sink, context);
        } catch (...) {
            closeAndJoin();  // what arrived before the failure is still stored and published
            dropCorrupt();
            throw;
        }
        closeAndJoin();  // before dropCorrupt: the writer may still be storing a corrupt one
        dropCorrupt();
        if (timeline.debug())
            timeline.debug("%s download done %ld ms: %z instances published and cached",
                           locator.seriesInstanceUid, sinceStart(std::chrono::steady_clock::now()),
                           delivered.size());
        // The series is complete in the cache when TCIA delivered all ImageCount instances
        // (or, when ImageCount is unknown, whatever the full getImage ZIP held).
        if (!delivered.empty() &&
            (locator.imageCount <= 0 || delivered.size() >= std::size_t(locator.imageCount))) {
            cache_.recordComplete(locator.seriesInstanceUid, delivered.size());
            persist = true;
        }
    } catch (const BridgeError& e) {
        failure = e.what();
        code = e.code();
    } catch (const std::exception& e) {
        failure = e.what();
        code = classifyException(e);
    }
    if (failure && !context.cancelled() && code != ErrorCode::Cancelled && !delivered.empty()) {
        // TCIA's ImageCount can be stale: the client then retries for instances that do not
        // exist and gives up. If every SOP Instance UID TCIA lists did arrive, the series is whole.
        try {
            const auto listed = tcia_.sopInstanceUids(locator.seriesInstanceUid, context);
            const bool whole = !listed.empty() &&
                               std::all_of(listed.begin(), listed.end(),
                                           [&](const std::string& uid) { return delivered.count(uid) != 0; });
            if (whole) {
                Poco::Logger::get("bridge.retrieve")
                    .warning("series %s: %s; but all %z listed instances arrived", locator.seriesInstanceUid,
                             *failure, listed.size());
                cache_.recordComplete(locator.seriesInstanceUid, delivered.size());
                persist = true;
                failure.reset();
            }
        } catch (const std::exception&) {
            // keep the original failure
        }
    }
    if (failure && context.cancelled()) code = ErrorCode::Cancelled;
    {
        std::lock_guard lock(mutex_);
        active_--;
        if (failure && code != ErrorCode::Cancelled) failed_++;
    }
    slotFreed_.notify_all();
    finish(download, failure, code);
    // Issue 11: one fsync pass per series, after the subscribers learnt the download ended (a
    // C-MOVE's final response does not wait for the disk). The series is complete in memory
    // already; a crash before the marker leaves it verify-on-read (InstanceCache header).
    // Issue 12: and only once every subscriber has been handed End (or left): a subscriber that
    // trails the download (C-STOREs are slower than the GETs) would otherwise send its last
    // instances beside the writeback of the whole series (measured: the 300-slice IDC move's
    // fsync pass, ~250 ms, overlapped its last ~90 ms of C-STOREs).
    if (persist) {
        try {
            const auto t0 = std::chrono::steady_clock::now();
            bool shuttingDown = false;
            {
                std::lock_guard lock(mutex_);
                shuttingDown = shuttingDown_;
                if (!shuttingDown) draining_.insert(download);
            }
            if (!shuttingDown) {
                download->waitDrained(
                    std::chrono::duration_cast<std::chrono::milliseconds>(kMaxDurabilityDelay));
                std::lock_guard lock(mutex_);
                draining_.erase(download);
            }
            const auto t1 = std::chrono::steady_clock::now();
            cache_.persistComplete(locator.seriesInstanceUid);
            Poco::Logger& timeline = Poco::Logger::get("bridge.retrieve.timeline");
            const auto ms = [](auto d) {
                return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
            };
            if (timeline.debug())
                timeline.debug(
                    "%s durable in %ld ms (one fsync pass, started %ld ms after the download's "
                    "end, once its subscribers were done)",
                    locator.seriesInstanceUid, ms(std::chrono::steady_clock::now() - t1), ms(t1 - t0));
        } catch (const std::exception& e) {
            Poco::Logger::get("bridge.retrieve")
                .warning("series %s: not made durable: %s", locator.seriesInstanceUid, std::string(e.what()));
        }
    }
}

void DownloadCoordinator::finish(const std::shared_ptr<SeriesDownload>& download,
                                 std::optional<std::string> failure, ErrorCode code) {
    {
        std::lock_guard lock(mutex_);
        auto found = inFlight_.find(download->locator().seriesInstanceUid);
        if (found != inFlight_.end() && found->second == download) inFlight_.erase(found);
    }
    download->finish(std::move(failure), code);
}

DownloadCoordinator::Stats DownloadCoordinator::stats() const {
    std::lock_guard lock(mutex_);
    Stats s;
    s.active = static_cast<std::uint64_t>(active_);
    s.waiting = static_cast<std::uint64_t>(waiting_);
    s.started = started_;
    s.joined = joined_;
    s.failed = failed_;
    s.cancelled = cancelled_;
    return s;
}

}  // namespace bridge
