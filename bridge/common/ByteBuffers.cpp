#include "bridge/common/ByteBuffers.h"

#include <sys/mman.h>
#include <unistd.h>

namespace bridge {

namespace {

/// Populates the whole pages inside [data, data + size) for writing; errors are ignored.
void populate(std::uint8_t* data, std::size_t size) {
#ifdef MADV_POPULATE_WRITE
    static const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto begin = (reinterpret_cast<std::uintptr_t>(data) + page - 1) & ~(page - 1);
    const auto end = (reinterpret_cast<std::uintptr_t>(data) + size) & ~(page - 1);
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#else
    (void)data;
    (void)size;
#endif
}

/// `size` rounded up to kBufferCapacityGranule (`size` itself where that would pass max_size()).
std::size_t granuleCapacity(std::size_t size) {
    const std::size_t granules = size / kBufferCapacityGranule + (size % kBufferCapacityGranule != 0);
    static const std::size_t most = std::vector<std::uint8_t>().max_size();
    return granules <= most / kBufferCapacityGranule ? granules * kBufferCapacityGranule : size;
}

}  // namespace

void reserveForWrite(std::vector<std::uint8_t>& bytes, std::size_t capacity) {
    if (capacity <= bytes.capacity()) return;
    bytes.reserve(capacity);
    populate(bytes.data(), bytes.capacity());
}

void resizeForWrite(std::vector<std::uint8_t>& bytes, std::size_t size) {
    reserveForWrite(bytes, size);
    bytes.resize(size);
}

void resizeForOverwrite(std::vector<std::uint8_t>& bytes, std::size_t size) {
    if (size > bytes.capacity()) {
        std::vector<std::uint8_t>().swap(bytes);  // nothing to copy: free it first
        reserveForWrite(bytes, granuleCapacity(size));
    }
    bytes.resize(size);  // zero-fills only what lies beyond the old size
}

BufferPool::BufferPool(std::size_t maxBufferBytes, std::size_t maxTotalBytes, std::size_t maxBuffers)
    : maxBufferBytes_(maxBufferBytes), maxTotalBytes_(maxTotalBytes), maxBuffers_(maxBuffers) {}

std::vector<std::uint8_t> BufferPool::take() {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) return {};
    std::vector<std::uint8_t> out = std::move(idle_.back());
    idle_.pop_back();
    idleBytes_ -= out.capacity();
    return out;
}

bool BufferPool::keeps(std::size_t capacity) const {
    return capacity != 0 && capacity <= maxBufferBytes_ && idle_.size() < maxBuffers_ &&
           idleBytes_ + capacity <= maxTotalBytes_;
}

void BufferPool::give(std::vector<std::uint8_t>&& buffer) noexcept {
    const std::size_t capacity = buffer.capacity();
    try {
        std::lock_guard lock(mutex_);
        if (!keeps(capacity)) return;  // freed by the caller's vector
        idle_.push_back(std::move(buffer));
        idleBytes_ += capacity;
    } catch (...) {
        // no room for the entry: the buffer is simply freed
    }
}

std::shared_ptr<const std::vector<std::uint8_t>> BufferPool::share(std::vector<std::uint8_t>&& bytes) {
    auto owned = std::make_unique<std::vector<std::uint8_t>>(std::move(bytes));
    std::shared_ptr<BufferPool> self = shared_from_this();  // the deleter keeps the pool alive
    return {owned.release(), [self](const std::vector<std::uint8_t>* b) {
                std::unique_ptr<std::vector<std::uint8_t>> back(const_cast<std::vector<std::uint8_t>*>(b));
                self->give(std::move(*back));
            }};
}

std::size_t BufferPool::prefill(std::size_t bufferBytes) noexcept {
    const std::size_t capacity = granuleCapacity(bufferBytes);
    std::size_t added = 0;
    try {
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                if (!keeps(capacity)) return added;  // checked before allocating: a full pool costs nothing
            }
            std::vector<std::uint8_t> buffer;
            resizeForOverwrite(buffer, bufferBytes);  // the zero-fill writes every page
            const std::size_t held = buffer.capacity();  // what take() will subtract
            std::lock_guard lock(mutex_);
            if (!keeps(held)) return added;  // filled meanwhile by give(), or a larger block than asked for
            idle_.push_back(std::move(buffer));
            idleBytes_ += held;
            ++added;
        }
    } catch (...) {
        return added;  // out of memory: the pool stays as far as it got
    }
}

std::size_t BufferPool::idleBuffers() const {
    std::lock_guard lock(mutex_);
    return idle_.size();
}

std::size_t BufferPool::idleBytes() const {
    std::lock_guard lock(mutex_);
    return idleBytes_;
}

}  // namespace bridge
