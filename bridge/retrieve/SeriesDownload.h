#pragma once
// The shared state of one in-flight TCIA download of one series (see DownloadCoordinator).
//
// The downloading thread publishes each instance as it arrives; every subscriber sees every
// published instance, in order, from the first one (a late joiner starts at the beginning: the
// instances published before it joined are read back from the instance cache). Memory stays
// bounded: each subscriber buffers at most kMaxBufferedPerSubscriber instance buffers; an
// instance published while a subscriber's buffer is full is read back from the cache when that
// subscriber reaches it. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bridge/common/RequestContext.h"
#include "bridge/common/Error.h"
#include "bridge/retrieve/RetrieveService.h"

namespace bridge {

/// What subscribers learn about each published instance.
struct PublishedInstance {
    std::string sopInstanceUid;
    std::string sopClassUid;
    std::string transferSyntaxUid;
    bool cached = false;  ///< written to the instance cache (else its bytes are always buffered)
};

class SeriesDownload {
public:
    static constexpr std::size_t kMaxBufferedPerSubscriber = 8;

    explicit SeriesDownload(SeriesLocator locator) : locator_(std::move(locator)) {}

    const SeriesLocator& locator() const noexcept { return locator_; }
    /// The download's own context: stopped when no subscriber is left before the download ended
    /// (or at shutdown). Its waits (slot, write queue, TCIA) wake on that stop.
    const RequestContext& cancelToken() const noexcept { return context_; }

    // Producer side (the downloading thread).
    /// Returns the instance's index (for markCached). An instance published with cached = false
    /// is buffered for every subscriber, whatever the bound, until markCached().
    std::size_t publish(PublishedInstance instance, std::shared_ptr<const std::vector<std::uint8_t>> bytes);
    /// The instance at `index` reached the cache: subscribers over their buffer bound drop their
    /// copy and read it back from the cache when they get there (memory stays bounded).
    void markCached(std::size_t index);
    /// Ends the download: no failure = success. Wakes every subscriber.
    void finish(std::optional<std::string> failureReason, ErrorCode code = ErrorCode::Internal);
    /// Instances published earlier that turned out bad (MD5 mismatch): not handed out from now
    /// on; a subscriber that already got one must report it failed (see rejected()). Call
    /// before finish().
    void reject(const std::vector<std::string>& sopInstanceUids);
    std::set<std::string> rejected() const;

    // Consumer side.
    enum class Poll { Instance, Waiting, End };
    /// `wanted`: the only SOP Instance UIDs this subscriber wants (IMAGE level), nullopt = all.
    /// Unwanted instances are neither buffered for it nor handed to it.
    int addSubscriber(std::optional<std::set<std::string>> wanted = std::nullopt);
    /// Returns how many subscribers remain.
    std::size_t removeSubscriber(int id);
    /// The subscriber's next instance. Instance: `instance` is set and `bytes` holds the buffer,
    /// or nullptr when the subscriber must read it from the cache. Waiting: nothing within
    /// `wait`. End: everything published was handed out and the download finished.
    /// `caller`: the subscriber's request context -- its stop wakes the wait at once (no
    /// polling); next() then returns Waiting (the caller sees cancelled() and stops).
    Poll next(int id, PublishedInstance& instance, std::shared_ptr<const std::vector<std::uint8_t>>& bytes,
              std::chrono::milliseconds wait, const RequestContext& caller);
    Poll next(int id, PublishedInstance& instance, std::shared_ptr<const std::vector<std::uint8_t>>& bytes,
              std::chrono::milliseconds wait) {
        return next(id, instance, bytes, wait, context_);
    }
    /// Wakes all waiting subscribers.
    void wakeAll();

    /// After finish(): blocks until every subscriber has been handed End or has left (a C-MOVE
    /// has then sent its last C-STORE), `timeout` passed, or releaseDrainWait() was called.
    /// True when drained. Used to keep the series' fsync pass off the subscribers' critical path.
    bool waitDrained(std::chrono::milliseconds timeout);
    /// Ends every waitDrained() at once, now and later (shutdown).
    void releaseDrainWait();

    bool finished() const;
    /// Set once finished with a failure.
    std::optional<std::string> failureReason() const;
    ErrorCode failureCode() const;
    std::size_t publishedCount() const;

private:
    struct Subscriber {
        std::optional<std::set<std::string>> wanted;
        std::size_t cursor = 0;
        std::map<std::size_t, std::shared_ptr<const std::vector<std::uint8_t>>> buffered;
        bool ended = false;  ///< next() has returned End to it
    };

    SeriesLocator locator_;
    RequestContext context_;
    mutable std::mutex mutex_;
    std::condition_variable_any changed_;  ///< waits wake on a stop token too
    std::vector<PublishedInstance> log_;
    /// Bytes of published instances not yet in the cache (index -> bytes): a late joiner
    /// buffers them too. At most the write-queue depth (+1) entries.
    std::map<std::size_t, std::shared_ptr<const std::vector<std::uint8_t>>> uncached_;
    std::map<int, Subscriber> subscribers_;
    int nextId_ = 0;
    bool finished_ = false;
    std::optional<std::string> failure_;
    ErrorCode failureCode_ = ErrorCode::Internal;
    std::set<std::string> rejected_;
    bool drainReleased_ = false;
};

}  // namespace bridge
