#include "web/QidoResponseCache.h"

#include "bridge/query/Query.h"
#include "web/MetadataCache.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace bridge::web {
namespace {

// Length-prefixed fields: no value can be mistaken for a separator.
void put(std::string& out, const std::string& field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

// CollectionScope::allows compares case-insensitively; so does the key (sorted upper-case set).
void putCollections(std::string& out, const std::set<std::string>& names) {
    std::set<std::string> keys;
    for (const auto& n : names) keys.insert(upper(n));
    out += std::to_string(keys.size());
    out += '{';
    for (const auto& k : keys) put(out, k);
    out += '}';
}

}  // namespace

const std::string& QidoResponseCache::Answer::gzip() const {
    std::call_once(gzipOnce_, [this] { gzip_ = MetadataCache::gzip(json); });
    return gzip_;
}

QidoResponseCache::QidoResponseCache(std::size_t maxBytes, std::chrono::milliseconds maxAge)
    : maxBytes_(maxBytes), maxAge_(maxAge), clock_([] { return std::chrono::steady_clock::now(); }) {}

std::string QidoResponseCache::key(const Query& query, const std::string& dicomWebRoot) {
    std::string out;
    out.reserve(256);
    put(out, dicomWebRoot);
    out += toString(query.level);
    out += query.model == InformationModel::StudyRoot ? "|S" : "|P";
    out += query.fuzzyMatching ? "F" : "f";
    out += query.caseSensitivePersonNames ? "C" : "c";
    out += '|';
    out += query.limit ? std::to_string(*query.limit) : std::string("-");
    out += '|';
    out += std::to_string(query.offset);
    out += '|';
    for (const auto& k : query.keys) {
        char tag[16];
        std::snprintf(tag, sizeof tag, "%04x%04x/%d=", k.tag.getGroup(), k.tag.getElement(), static_cast<int>(k.vr));
        out += tag;
        put(out, k.value);
    }
    out += "|only";
    if (query.scope.only)
        putCollections(out, *query.scope.only);
    else
        out += '*';
    out += "|denied";
    putCollections(out, query.scope.denied);
    out += "|visible";
    if (query.scope.visible)
        putCollections(out, *query.scope.visible);
    else
        out += '*';
    return out;
}

std::shared_ptr<const QidoResponseCache::Answer> QidoResponseCache::find(const std::string& key,
                                                                         std::uint64_t generation) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = clock_();
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        ++misses_;
        return nullptr;
    }
    if (it->second.generation != generation || now - it->second.storedAt >= maxAge_) {
        eraseLocked(it);
        ++misses_;
        return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    ++hits_;
    return it->second.answer;
}

void QidoResponseCache::store(const std::string& key, std::uint64_t generation, std::shared_ptr<const Answer> answer) {
    if (!answer) return;
    const std::size_t bytes = key.size() + 2 * answer->json.size() + 128;
    if (bytes > maxBytes_ / 4) return;
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = clock_();
    if (auto it = entries_.find(key); it != entries_.end()) eraseLocked(it);
    lru_.push_front(key);
    entries_.emplace(key, Entry{std::move(answer), generation, now, bytes, lru_.begin()});
    bytes_ += bytes;
    while (bytes_ > maxBytes_ && !lru_.empty()) eraseLocked(entries_.find(lru_.back()));
}

void QidoResponseCache::eraseLocked(std::unordered_map<std::string, Entry>::iterator it) {
    bytes_ -= it->second.bytes;
    lru_.erase(it->second.lru);
    entries_.erase(it);
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
