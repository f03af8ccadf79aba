#include "web/MetadataCache.h"

#include <Poco/DeflatingStream.h>
#include <Poco/InflatingStream.h>
#include <Poco/StreamCopier.h>

#include <sstream>

#include "bridge/common/Error.h"

namespace bridge::web {

std::shared_ptr<const std::string> MetadataCache::find(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        ++misses_;
        return nullptr;
    }
    ++hits_;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.gz;
}

std::shared_ptr<const std::string> MetadataCache::store(const std::string& key, const std::string& json) {
    auto gz = std::make_shared<const std::string>(gzip(json));
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        bytes_ -= it->second.gz->size();
        lru_.erase(it->second.lru);
        entries_.erase(it);
    }
    if (gz->size() > maxBytes_) return gz;  // too big to keep; still usable by the caller
    lru_.push_front(key);
    entries_[key] = Entry{gz, lru_.begin()};
    bytes_ += gz->size();
    while (bytes_ > maxBytes_ && !lru_.empty()) {
        auto victim = entries_.find(lru_.back());
        bytes_ -= victim->second.gz->size();
        entries_.erase(victim);
        lru_.pop_back();
    }
    return gz;
}

std::shared_ptr<const std::string> MetadataCache::findOrBuild(const std::string& key,
                                                             const std::function<std::pair<std::string, bool>()>& build) {
    std::promise<std::shared_ptr<const std::string>> promise;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        auto it = entries_.find(key);
        if (it != entries_.end()) {
            ++hits_;
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            return it->second.gz;
        }
        auto running = building_.find(key);
        if (running != building_.end()) {
            ++hits_;
            auto future = running->second;
            lock.unlock();
            return future.get();  // rethrows the builder's exception
        }
        ++misses_;
        building_.emplace(key, promise.get_future().share());
    }
    try {
        auto [json, complete] = build();
        std::shared_ptr<const std::string> gz =
            complete ? store(key, json) : std::make_shared<const std::string>(gzip(json));
        promise.set_value(gz);
        std::lock_guard<std::mutex> lock(mutex_);
        building_.erase(key);
        return gz;
    } catch (...) {
        promise.set_exception(std::current_exception());
        std::lock_guard<std::mutex> lock(mutex_);
        building_.erase(key);
        throw;
    }
}

MetadataCache::~MetadataCache() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    watcherWake_.notify_all();
    if (watcher_.joinable()) watcher_.join();
}

void MetadataCache::watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        watcherWake_.wait_for(lock, kPollInterval);
        for (auto& [key, build] : sharedBuilding_) {
            bool anyone = false;
            for (const auto& [id, token] : build->requesters) anyone = anyone || !token.cancelled();
            if (!anyone) build->shared.cancel();
        }
    }
}

std::shared_ptr<const std::string> MetadataCache::findOrBuild(
    const std::string& key, const std::function<std::pair<std::string, bool>(const RequestContext& shared)>& build,
    const RequestContext& requester) {
    std::promise<std::shared_ptr<const std::string>> promise;
    std::shared_ptr<SharedBuild> mine;
    int id = 0;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        auto it = entries_.find(key);
        if (it != entries_.end()) {
            ++hits_;
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            return it->second.gz;
        }
        if (!watcher_.joinable()) watcher_ = std::thread([this] { watch(); });
        id = nextRequester_++;
        auto running = sharedBuilding_.find(key);
        if (running != sharedBuilding_.end() && !running->second->shared.cancelled()) {
            ++hits_;
            auto build = running->second;
            build->requesters.emplace(id, requester);
            auto future = build->future;
            lock.unlock();
            const auto leave = [&] {
                std::lock_guard<std::mutex> relock(mutex_);
                build->requesters.erase(id);
            };
            while (future.wait_for(kPollInterval) != std::future_status::ready) {
                if (requester.cancelled()) {
                    leave();
                    throw BridgeError(ErrorCode::Cancelled, "request cancelled");
                }
            }
            leave();
            return future.get();  // rethrows the builder's exception
        }
        ++misses_;
        mine = std::make_shared<SharedBuild>();
        mine->future = promise.get_future().share();
        mine->requesters.emplace(id, requester);
        sharedBuilding_[key] = mine;
    }
    const auto done = [&] {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = sharedBuilding_.find(key);
        if (it != sharedBuilding_.end() && it->second == mine) sharedBuilding_.erase(it);
    };
    try {
        auto [json, complete] = build(mine->shared);
        std::shared_ptr<const std::string> gz =
            complete ? store(key, json) : std::make_shared<const std::string>(gzip(json));
        promise.set_value(gz);
        done();
        return gz;
    } catch (...) {
        promise.set_exception(std::current_exception());
        done();
        throw;
    }
}

std::size_t MetadataCache::hits() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return hits_;
}

std::size_t MetadataCache::misses() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return misses_;
}

std::string MetadataCache::gzip(const std::string& data) {
    std::ostringstream out;
    Poco::DeflatingOutputStream deflater(out, Poco::DeflatingStreamBuf::STREAM_GZIP, 6);
    deflater.write(data.data(), static_cast<std::streamsize>(data.size()));
    deflater.close();
    return out.str();
}

std::string MetadataCache::gunzip(const std::string& data) {
    std::istringstream in(data);
    Poco::InflatingInputStream inflater(in, Poco::InflatingStreamBuf::STREAM_GZIP);
    std::string out;
    Poco::StreamCopier::copyToString(inflater, out);
    return out;
}

}  // namespace bridge::web
