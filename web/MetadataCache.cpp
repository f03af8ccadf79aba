#include "web/MetadataCache.h"

#include <Poco/DeflatingStream.h>
#include <Poco/InflatingStream.h>
#include <Poco/StreamCopier.h>

#include <sstream>

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
