#include "bridge/query/FindAnswerCache.h"

#include "bridge/query/Query.h"

#include <Poco/String.h>

#include <cstdio>
#include <set>

namespace bridge {
namespace {

// Length-prefixed fields: no value can be mistaken for a separator.
void put(std::string& out, const std::string& field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

// CollectionScope::allows compares case-insensitively; so does the key (sorted upper-case set).
void putCollections(std::string& out, const std::set<std::string>& names) {
    std::set<std::string> keys;
    for (const auto& n : names) keys.insert(Poco::toUpper(n));
    out += std::to_string(keys.size());
    out += '{';
    for (const auto& k : keys) put(out, k);
    out += '}';
}

}  // namespace

std::string queryCacheKey(const Query& query) {
    std::string out;
    out.reserve(256);
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

FindAnswerCache::FindAnswerCache(std::size_t maxBytes, std::chrono::milliseconds maxAge)
    : maxBytes_(maxBytes), maxAge_(maxAge), clock_([] { return std::chrono::steady_clock::now(); }), entries_(maxBytes) {}

std::size_t FindAnswerCache::estimateBytes(const DicomRecord& record) {
    // A vector slot, then per value a std::map node (~64 bytes with key and SSO string) plus
    // the string's characters (counted whether or not they fit the small-string buffer).
    std::size_t bytes = sizeof(DicomRecord);
    for (const auto& [tag, value] : record.values()) bytes += 64 + value.size();
    return bytes;
}

std::size_t FindAnswerCache::estimateBytes(const Records& records) {
    std::size_t bytes = sizeof(Records);
    for (const auto& r : records) bytes += estimateBytes(r);
    return bytes;
}

std::shared_ptr<const FindAnswerCache::Records> FindAnswerCache::find(const std::string& key,
                                                                      std::uint64_t generation) {
    if (!enabled()) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = clock_();
    Entry* entry = entries_.find(key);
    if (entry == nullptr) {
        ++misses_;
        return nullptr;
    }
    if (entry->generation != generation || now - entry->storedAt >= maxAge_) {
        entries_.erase(key);
        ++misses_;
        return nullptr;
    }
    ++hits_;
    return entry->records;
}

void FindAnswerCache::store(const std::string& key, std::uint64_t generation, std::shared_ptr<const Records> records) {
    if (!records || !enabled()) return;
    const std::size_t bytes = key.size() + estimateBytes(*records) + 128;
    if (bytes > maxAnswerBytes()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.insert(key, Entry{std::move(records), generation, clock_()}, bytes);
}

std::size_t FindAnswerCache::hits() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return hits_;
}

std::size_t FindAnswerCache::misses() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return misses_;
}

std::size_t FindAnswerCache::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

std::size_t FindAnswerCache::bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.bytes();
}

void FindAnswerCache::setClock(Clock clock) {
    std::lock_guard<std::mutex> lock(mutex_);
    clock_ = std::move(clock);
}

}  // namespace bridge
