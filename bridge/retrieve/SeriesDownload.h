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
    /// Fired when no subscriber is left before the download ended.
    const RequestContext& cancelToken() const noexcept { return context_; }

    // Producer side (the downloading thread).
    void publish(PublishedInstance instance, std::shared_ptr<const std::vector<std::uint8_t>> bytes);
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
    Poll next(int id, PublishedInstance& instance, std::shared_ptr<const std::vector<std::uint8_t>>& bytes,
              std::chrono::milliseconds wait);
    /// Wakes all waiting subscribers (used after a context).
    void wakeAll();

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
    };

    SeriesLocator locator_;
    RequestContext context_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<PublishedInstance> log_;
    std::map<int, Subscriber> subscribers_;
    int nextId_ = 0;
    bool finished_ = false;
    std::optional<std::string> failure_;
    ErrorCode failureCode_ = ErrorCode::Internal;
    std::set<std::string> rejected_;
};

}  // namespace bridge
