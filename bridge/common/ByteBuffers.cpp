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
        const std::size_t granules = size / kBufferCapacityGranule + (size % kBufferCapacityGranule != 0);
        const bool fits = granules <= bytes.max_size() / kBufferCapacityGranule;
        reserveForWrite(bytes, fits ? granules * kBufferCapacityGranule : size);
    }
    bytes.resize(size);  // zero-fills only what lies beyond the old size
}

}  // namespace bridge
