#include "web/MetadataCache.h"

#include <Poco/DeflatingStream.h>
#include <Poco/InflatingStream.h>
#include <Poco/StreamCopier.h>

#include <sstream>

#include "bridge/common/Error.h"

namespace bridge::web {

std::shared_ptr<const std::string> MetadataCache::find(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto* gz = entries_.find(key);
    if (!gz) {
        ++misses_;
        return nullptr;
    }
    ++hits_;
    return *gz;
}

std::shared_ptr<const std::string> MetadataCache::store(const std::string& key, const std::string& json) {
    auto gz = std::make_shared<const std::string>(gzip(json));
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.insert(key, gz, gz->size());  // too big to keep: not kept, still usable by the caller
    return gz;
}

std::shared_ptr<const std::string> MetadataCache::findOrBuild(const std::string& key,
                                                             const std::function<std::pair<std::string, bool>()>& build) {
    std::promise<std::shared_ptr<const std::string>> promise;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        if (auto* gz = entries_.find(key)) {
            ++hits_;
            return *gz;
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

MetadataCache::~MetadataCache() = default;

void MetadataCache::abandonIfNobodyWaits(const std::shared_ptr<SharedBuild>& build) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (build->finished) return;
    for (const auto& [id, requester] : build->requesters)
        if (!requester.cancelled()) return;
    build->shared.cancel();  // wakes whatever the build waits on (its TCIA call)
}

std::shared_ptr<const std::string> MetadataCache::findOrBuild(
    const std::string& key, const std::function<std::pair<std::string, bool>(const RequestContext& shared)>& build,
    const RequestContext& requester) {
    std::promise<std::shared_ptr<const std::string>> promise;
    std::shared_ptr<SharedBuild> mine;
    int id = 0;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        if (auto* gz = entries_.find(key)) {
            ++hits_;
            return *gz;
        }
        id = nextRequester_++;
        auto running = sharedBuilding_.find(key);
        if (running != sharedBuilding_.end() && !running->second->shared.cancelled()) {
            ++hits_;
            auto build = running->second;
            build->requesters.emplace(id, requester);
            auto future = build->future;
            lock.unlock();
            // Registered without the lock: it runs at once (taking the lock) if already stopped.
            std::stop_callback stillWaiting(requester.stopToken(), [this, build] { abandonIfNobodyWaits(build); });
            lock.lock();
            const bool finished = requester.wait(build->finishedCv, lock, [&] { return build->finished; });
            build->requesters.erase(id);
            lock.unlock();
            if (!finished) throw BridgeError(ErrorCode::Cancelled, "request cancelled");
            return future.get();  // rethrows the builder's exception
        }
        ++misses_;
        mine = std::make_shared<SharedBuild>();
        mine->future = promise.get_future().share();
        mine->requesters.emplace(id, requester);
        sharedBuilding_[key] = mine;
    }
    const auto done = [&] {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            mine->finished = true;
            auto it = sharedBuilding_.find(key);
            if (it != sharedBuilding_.end() && it->second == mine) sharedBuilding_.erase(it);
        }
        mine->finishedCv.notify_all();
    };
    // The builder is a requester too: when it stops and nobody else waits, the build stops.
    std::stop_callback stillWaiting(requester.stopToken(), [this, mine] { abandonIfNobodyWaits(mine); });
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
