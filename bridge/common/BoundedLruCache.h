#pragma once
// A least-recently-used map bounded by the bytes its entries declare, for the in-memory answer
// caches (web/MetadataCache; web/QidoResponseCache and a C-FIND answer cache can take it too).
// Why not Poco::LRUCache / AccessExpireLRUCache: they bound the number of entries, and these
// caches hold answers from a few hundred bytes to megabytes, so only a byte budget bounds their
// memory. Not thread-safe: the owner holds its own lock around every call. Header-only.

#include <cstddef>
#include <functional>
#include <list>
#include <unordered_map>
#include <utility>

namespace bridge {

template <class Key, class Value, class Hash = std::hash<Key>>
class BoundedLruCache {
public:
    /// At most `maxBytes` in total, as declared by insert().
    explicit BoundedLruCache(std::size_t maxBytes) : maxBytes_(maxBytes) {}
    BoundedLruCache(const BoundedLruCache&) = delete;  // the index points into the list
    BoundedLruCache& operator=(const BoundedLruCache&) = delete;

    /// The value stored for `key`, now the most recent; nullptr when absent. The pointer is
    /// valid until the next insert() or erase().
    Value* find(const Key& key) {
        auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        order_.splice(order_.begin(), order_, it->second);
        return &it->second->value;
    }

    /// Stores `value` for `key` (replacing what was there) as the most recent entry, then drops
    /// the least recent ones until the total is within the budget. An entry larger than the
    /// whole budget is not kept (the old value of `key` is gone all the same): false.
    bool insert(const Key& key, Value value, std::size_t bytes) {
        erase(key);
        if (bytes > maxBytes_) return false;
        order_.push_front(Node{key, std::move(value), bytes});
        index_.emplace(key, order_.begin());
        bytes_ += bytes;
        while (bytes_ > maxBytes_ && !order_.empty()) erase(order_.back().key);
        return true;
    }

    /// Drops `key`; false when it was not there.
    bool erase(const Key& key) {
        auto it = index_.find(key);
        if (it == index_.end()) return false;
        bytes_ -= it->second->bytes;
        order_.erase(it->second);
        index_.erase(it);
        return true;
    }

    /// Calls f(key, value, bytes) for every entry, most recent first, without reordering.
    template <class F>
    void forEach(F&& f) const {
        for (const auto& node : order_) f(node.key, node.value, node.bytes);
    }

    std::size_t size() const noexcept { return index_.size(); }
    std::size_t bytes() const noexcept { return bytes_; }
    std::size_t maxBytes() const noexcept { return maxBytes_; }

private:
    struct Node {
        Key key;
        Value value;
        std::size_t bytes;
    };
    std::size_t maxBytes_;
    std::size_t bytes_ = 0;
    std::list<Node> order_;  ///< front = most recent
    std::unordered_map<Key, typename std::list<Node>::iterator, Hash> index_;
};

}  // namespace bridge
