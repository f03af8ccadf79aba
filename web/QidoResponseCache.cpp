#include "web/QidoResponseCache.h"

#include "bridge/query/FindAnswerCache.h"
#include "bridge/query/Query.h"
#include "web/MetadataCache.h"

namespace bridge::web {

const std::string& QidoResponseCache::Answer::gzip() const {
    std::call_once(gzipOnce_, [this] { gzip_ = MetadataCache::gzip(json); });
    return gzip_;
}

QidoResponseCache::QidoResponseCache(std::size_t maxBytes, std::chrono::milliseconds maxAge)
    : maxBytes_(maxBytes),
      maxAge_(maxAge),
      clock_([] { return std::chrono::steady_clock::now(); }),
      entries_(maxBytes) {}

std::string QidoResponseCache::key(const Query& query, const std::string& dicomWebRoot) {
    // The root (RetrieveURLs are built from it), then the query part C-FIND's cache shares.
    std::string out = std::to_string(dicomWebRoot.size());
    out += ':';
    out += dicomWebRoot;
    out += queryCacheKey(query);
    return out;
}

std::shared_ptr<const QidoResponseCache::Answer> QidoResponseCache::find(const std::string& key,
                                                                         std::uint64_t generation) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = clock_();
    Entry* entry = entries_.find(key);
    if (!entry) {
        ++misses_;
        return nullptr;
    }
    if (entry->generation != generation || now - entry->storedAt >= maxAge_) {
        entries_.erase(key);
        ++misses_;
        return nullptr;
    }
    ++hits_;
    return entry->answer;
}

void QidoResponseCache::store(const std::string& key, std::uint64_t generation, std::shared_ptr<const Answer> answer) {
    if (!answer) return;
    const std::size_t bytes = key.size() + 2 * answer->json.size() + 128;
    if (bytes > maxBytes_ / 4) return;
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.insert(key, Entry{std::move(answer), generation, clock_()}, bytes);
}

std::size_t QidoResponseCache::hits() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return hits_;
}

std::size_t QidoResponseCache::misses() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return misses_;
}

std::size_t QidoResponseCache::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

void QidoResponseCache::setClock(Clock clock) {
    std::lock_guard<std::mutex> lock(mutex_);
    clock_ = std::move(clock);
}

}  // namespace bridge::web
