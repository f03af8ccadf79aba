#include "bridge/retrieve/SeriesDownload.h"

namespace bridge {

void SeriesDownload::publish(PublishedInstance instance,
                             std::shared_ptr<const std::vector<std::uint8_t>> bytes) {
    {
        std::lock_guard lock(mutex_);
        const std::size_t index = log_.size();
        for (auto& [id, subscriber] : subscribers_) {
            // A subscriber that fell behind reads this one from disk later -- unless it never
            // reached the disk, in which case it must be buffered whatever the bound.
            if (subscriber.wanted && !subscriber.wanted->count(instance.sopInstanceUid)) continue;
            if (!instance.cached || subscriber.buffered.size() < kMaxBufferedPerSubscriber)
                subscriber.buffered.emplace(index, bytes);
        }
        log_.push_back(std::move(instance));
    }
    changed_.notify_all();
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
    subscribers_.emplace(id, std::move(subscriber));
    return id;
}

std::size_t SeriesDownload::removeSubscriber(int id) {
    std::lock_guard lock(mutex_);
    subscribers_.erase(id);
    return subscribers_.size();
}

SeriesDownload::Poll SeriesDownload::next(int id, PublishedInstance& instance,
                                          std::shared_ptr<const std::vector<std::uint8_t>>& bytes,
                                          std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
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
    if (!changed_.wait_until(lock, deadline, ready)) return Poll::Waiting;
    if (subscriber.cursor >= log_.size()) return Poll::End;  // finished (or cancelled) and drained
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
