#include "bridge/retrieve/CacheReadAhead.h"

namespace bridge {

CacheReadAhead::CacheReadAhead(InstanceCache& cache, std::string seriesInstanceUid,
                               std::vector<CachedInstanceInfo> instances, std::size_t depth, std::uint64_t maxBytes)
    : cache_(cache),
      series_(std::move(seriesInstanceUid)),
      instances_(std::move(instances)),
      depth_(std::max<std::size_t>(depth, 1)),
      maxBytes_(maxBytes),
      reader_([this](std::stop_token stop) { run(std::move(stop)); }) {}

CacheReadAhead::~CacheReadAhead() {
    reader_.request_stop();  // wakes the reader's wait on changed_ (stop_token overload)
    if (reader_.joinable()) reader_.join();
}

void CacheReadAhead::run(std::stop_token stop) {
    for (const auto& info : instances_) {
        {
            std::unique_lock lock(mutex_);
            // Room for one more: fewer than depth_ held, and its bytes fit (or nothing is held).
            if (!changed_.wait(lock, stop, [&] {
                    return ready_.size() < depth_ && (ready_.empty() || readyBytes_ + info.size <= maxBytes_);
                }))
                return;  // stopped
        }
        Slot slot;
        slot.size = info.size;
        try {
            slot.bytes = cache_.read(series_, info.sopInstanceUid);
        } catch (...) {
            slot.error = std::current_exception();
        }
        {
            std::lock_guard lock(mutex_);
            readyBytes_ += slot.size;
            ready_.push_back(std::move(slot));
        }
        changed_.notify_all();
    }
}

std::optional<CacheReadAhead::Bytes> CacheReadAhead::next(const RequestContext& context,
                                                          std::chrono::steady_clock::time_point deadline) {
    Slot slot;
    {
        std::unique_lock lock(mutex_);
        if (!changed_.wait_until(lock, context.stopToken(), deadline, [&] { return !ready_.empty(); }))
            return std::nullopt;
        slot = std::move(ready_.front());
        ready_.pop_front();
        readyBytes_ -= slot.size;
    }
    changed_.notify_all();  // room for the reader
    if (slot.error) std::rethrow_exception(slot.error);
    return std::move(slot.bytes);
}

}  // namespace bridge
