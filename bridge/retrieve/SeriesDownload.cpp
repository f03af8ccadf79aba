#include "bridge/retrieve/SeriesDownload.h"

namespace bridge {

std::size_t SeriesDownload::publish(PublishedInstance instance,
                                    std::shared_ptr<const std::vector<std::uint8_t>> bytes) {
    std::size_t index = 0;
    {
        std::lock_guard lock(mutex_);
        index = log_.size();
        for (auto& [id, subscriber] : subscribers_) {
            // A subscriber that fell behind reads this one from disk later -- unless it never
            // reached the disk, in which case it must be buffered whatever the bound.
            if (subscriber.wanted && !subscriber.wanted->count(instance.sopInstanceUid)) continue;
            if (!instance.cached || subscriber.buffered.size() < kMaxBufferedPerSubscriber)
                subscriber.buffered.emplace(index, bytes);
        }
        if (!instance.cached) uncached_.emplace(index, bytes);
        log_.push_back(std::move(instance));
    }
    changed_.notify_all();
    return index;
}

void SeriesDownload::markCached(std::size_t index) {
    std::lock_guard lock(mutex_);
    if (index >= log_.size()) return;
    log_[index].cached = true;
    uncached_.erase(index);
    for (auto& [id, subscriber] : subscribers_) {
        if (subscriber.buffered.size() <= kMaxBufferedPerSubscriber) continue;
        subscriber.buffered.erase(index);  // read back from the cache when this subscriber gets there
    }
}

void SeriesDownload::finish(std::optional<std::string> failureReason, ErrorCode code) {
    {
        std::lock_guard lock(mutex_);
        if (finished_) return;
        finished_ = true;
        failure_ = std::move(failureReason);
        failureCode_ = code;
    }
    changed_.notify_all();
}

void SeriesDownload::reject(const std::vector<std::string>& sopInstanceUids) {
    {
        std::lock_guard lock(mutex_);
        rejected_.insert(sopInstanceUids.begin(), sopInstanceUids.end());
    }
    changed_.notify_all();
}

std::set<std::string> SeriesDownload::rejected() const {
    std::lock_guard lock(mutex_);
    return rejected_;
}

int SeriesDownload::addSubscriber(std::optional<std::set<std::string>> wanted) {
    std::lock_guard lock(mutex_);
    const int id = nextId_++;
    Subscriber subscriber;
    subscriber.wanted = std::move(wanted);
    // Published but not cached yet: it cannot be read back from the cache, so buffer it.
    for (const auto& [index, bytes] : uncached_)
        if (!subscriber.wanted || subscriber.wanted->count(log_[index].sopInstanceUid))
            subscriber.buffered.emplace(index, bytes);
    subscribers_.emplace(id, std::move(subscriber));
    return id;
}

std::size_t SeriesDownload::removeSubscriber(int id) {
    std::size_t left = 0;
    {
        std::lock_guard lock(mutex_);
        subscribers_.erase(id);
        left = subscribers_.size();
    }
    changed_.notify_all();  // waitDrained
    return left;
}

SeriesDownload::Poll SeriesDownload::next(int id, PublishedInstance& instance,
                                          std::shared_ptr<const std::vector<std::uint8_t>>& bytes,
                                          std::chrono::milliseconds wait, const RequestContext& caller) {
    std::unique_lock lock(mutex_);
    auto found = subscribers_.find(id);
    if (found == subscribers_.end()) return Poll::End;
    Subscriber& subscriber = found->second;
    const auto skipUnwanted = [&] {
        while (subscriber.cursor < log_.size() &&
               ((subscriber.wanted && !subscriber.wanted->count(log_[subscriber.cursor].sopInstanceUid)) ||
                rejected_.count(log_[subscriber.cursor].sopInstanceUid))) {
            subscriber.buffered.erase(subscriber.cursor);
            ++subscriber.cursor;
        }
    };
    const auto ready = [&] {
        skipUnwanted();
        return subscriber.cursor < log_.size() || finished_ || context_.cancelled();
    };
    // Wakes on a publish/finish (notify), on the caller's stop (its stop token) or at `wait`.
    if (!caller.waitFor(changed_, lock, wait, ready)) return Poll::Waiting;
    if (subscriber.cursor >= log_.size()) {  // finished (or cancelled) and drained
        if (!subscriber.ended) {
            subscriber.ended = true;
            changed_.notify_all();  // waitDrained
        }
        return Poll::End;
    }
    const std::size_t index = subscriber.cursor++;
    instance = log_[index];
    auto buffered = subscriber.buffered.find(index);
    if (buffered != subscriber.buffered.end()) {
        bytes = std::move(buffered->second);
        subscriber.buffered.erase(buffered);
    } else {
        bytes.reset();
    }
    return Poll::Instance;
}

void SeriesDownload::wakeAll() { changed_.notify_all(); }

bool SeriesDownload::waitDrained(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
        if (drainReleased_) return true;
        for (const auto& [id, subscriber] : subscribers_)
            if (!subscriber.ended) return false;
        return true;
    });
}

void SeriesDownload::releaseDrainWait() {
    {
        std::lock_guard lock(mutex_);
        drainReleased_ = true;
    }
    changed_.notify_all();
}

bool SeriesDownload::finished() const {
    std::lock_guard lock(mutex_);
    return finished_;
}
std::optional<std::string> SeriesDownload::failureReason() const {
    std::lock_guard lock(mutex_);
    return failure_;
}
ErrorCode SeriesDownload::failureCode() const {
    std::lock_guard lock(mutex_);
    return failureCode_;
}
std::size_t SeriesDownload::publishedCount() const {
    std::lock_guard lock(mutex_);
    return log_.size();
}

}  // namespace bridge
