#pragma once
// Growing a byte buffer that is about to be written whole (a body read from a socket, a file
// read, an inflated ZIP entry) with its new pages populated in one madvise(MADV_POPULATE_WRITE)
// call instead of one page fault each. On the virtual machines this project is measured on, a
// fresh 0.5 MB buffer cost 1.4 ms of page faults, populated 0.8 ms; on memory that is already
// there the call costs ~5 us. Best effort: where the kernel lacks MADV_POPULATE_WRITE (before
// Linux 5.14) the pages fault in as before.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bridge {

/// bytes.reserve(capacity), populating the memory when that reallocated.
void reserveForWrite(std::vector<std::uint8_t>& bytes, std::size_t capacity);

/// bytes.resize(size) (new bytes zero), populating the memory first when that reallocates.
void resizeForWrite(std::vector<std::uint8_t>& bytes, std::size_t size);

}  // namespace bridge
