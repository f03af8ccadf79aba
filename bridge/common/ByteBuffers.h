#pragma once
// Growing a byte buffer that is about to be written whole (a body read from a socket, a file
// read, an inflated ZIP entry) with its new pages populated in one madvise(MADV_POPULATE_WRITE)
// call instead of one page fault each. On the virtual machines this project is measured on, a
// fresh 0.5 MB buffer cost 1.4 ms of page faults, populated 0.8 ms; on memory that is already
// there the call costs ~5 us. Best effort: where the kernel lacks MADV_POPULATE_WRITE (before
// Linux 5.14) the pages fault in as before.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace bridge {

/// bytes.reserve(capacity), populating the memory when that reallocated.
void reserveForWrite(std::vector<std::uint8_t>& bytes, std::size_t capacity);

/// bytes.resize(size) (new bytes zero), populating the memory first when that reallocates.
void resizeForWrite(std::vector<std::uint8_t>& bytes, std::size_t size);

/// Capacity granule of resizeForOverwrite.
inline constexpr std::size_t kBufferCapacityGranule = 64 * 1024;

/// Sizes `bytes` to `size` for a buffer about to be overwritten whole (a body of known length,
/// a whole file): its old contents are not kept. A buffer too small is freed first and replaced
/// (not grown by copying bytes nobody reads); the new capacity is `size` rounded up to
/// kBufferCapacityGranule, so that a reused buffer (IdcClient's and the instance cache's pools)
/// also fits the next object of about the same size -- the slices of one series differ by a few
/// bytes, and each reallocation cost a fresh buffer's page faults.
void resizeForOverwrite(std::vector<std::uint8_t>& bytes, std::size_t size);

/// Byte buffers kept for reuse: a fresh buffer costs the page faults (and zero-fill) of its whole
/// size, a reused one nothing. Bounded three ways: buffers larger than `maxBufferBytes` are not
/// kept, nor more than `maxBuffers` of them, nor more than `maxTotalBytes` of capacity in all.
/// IdcClient keeps its object buffers here, InstanceCache its whole-file reads. Thread-safe; make
/// it with std::make_shared when share() is used (the buffers it shares keep it alive).
class BufferPool : public std::enable_shared_from_this<BufferPool> {
public:
    BufferPool(std::size_t maxBufferBytes, std::size_t maxTotalBytes, std::size_t maxBuffers);

    /// An idle buffer (its old size and contents: resize it) or, with none, an empty one.
    std::vector<std::uint8_t> take();
    /// Keeps `buffer` for a later take() when the bounds allow; frees it otherwise. Never throws.
    void give(std::vector<std::uint8_t>&& buffer) noexcept;
    /// `bytes` shared read-only; the buffer comes back here (give) when its last holder lets go.
    std::shared_ptr<const std::vector<std::uint8_t>> share(std::vector<std::uint8_t>&& bytes);

    /// Fills the pool ahead of use: adds idle buffers of `bufferBytes` (capacity rounded up to
    /// kBufferCapacityGranule, every page written once) until one of the three bounds would be
    /// passed, and returns how many it added (0 when such a buffer is over `maxBufferBytes`, the
    /// pool is full, or memory runs out). The first requests after a start then find buffers
    /// whose pages this process has already mapped, as every later request does once the pool
    /// has filled itself.
    std::size_t prefill(std::size_t bufferBytes) noexcept;

    std::size_t idleBuffers() const;
    std::size_t idleBytes() const;  ///< capacity of the idle buffers

private:
    /// With mutex_ held: one more idle buffer of `capacity` stays within the three bounds.
    bool keeps(std::size_t capacity) const;

    const std::size_t maxBufferBytes_, maxTotalBytes_, maxBuffers_;
    mutable std::mutex mutex_;
    std::vector<std::vector<std::uint8_t>> idle_;
    std::size_t idleBytes_ = 0;
};

}  // namespace bridge
