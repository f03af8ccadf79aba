// reserveForWrite / resizeForWrite: the same contents as reserve() / resize() -- kept bytes kept,
// new bytes zero -- whether the memory was populated or not (the speed is bench/run's business).
// resizeForOverwrite: the size asked, a capacity in whole granules, and a reused buffer that fits
// the next object of about the same size without moving.

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <vector>

#include "bridge/common/ByteBuffers.h"

using namespace bridge;

BOOST_AUTO_TEST_SUITE(ByteBuffers)

BOOST_AUTO_TEST_CASE(a_grown_buffer_keeps_its_bytes_and_zeroes_the_new_ones) {
    std::vector<std::uint8_t> bytes{1, 2, 3};
    resizeForWrite(bytes, 3 << 20);  // reallocates: populated, then resized
    BOOST_REQUIRE_EQUAL(bytes.size(), std::size_t(3) << 20);
    BOOST_TEST(bytes[0] == 1);
    BOOST_TEST(bytes[2] == 3);
    std::size_t nonZero = 0;
    for (std::size_t i = 3; i < bytes.size(); ++i) nonZero += bytes[i] != 0;
    BOOST_TEST(nonZero == 0u);
    for (auto& b : bytes) b = 0xAB;  // the populated pages are writable
    resizeForWrite(bytes, 100);      // shrinking: no reallocation
    BOOST_TEST(bytes.size() == 100u);
    BOOST_TEST(bytes[99] == 0xAB);
}

BOOST_AUTO_TEST_CASE(reserving_changes_the_capacity_only) {
    std::vector<std::uint8_t> bytes(10, 7);
    reserveForWrite(bytes, 1 << 20);
    BOOST_TEST(bytes.size() == 10u);
    BOOST_TEST(bytes.capacity() >= std::size_t(1) << 20);
    BOOST_TEST(bytes[9] == 7);
    const auto* before = bytes.data();
    reserveForWrite(bytes, 1000);  // already enough: nothing moves
    BOOST_TEST((bytes.data() == before));
    std::vector<std::uint8_t> empty;
    reserveForWrite(empty, 0);
    BOOST_TEST(empty.capacity() == 0u);
}

BOOST_AUTO_TEST_CASE(a_buffer_sized_for_overwrite_fits_the_next_object_of_about_its_size) {
    // Two slices of one CT series (bench data): 525,752 and 525,758 bytes.
    std::vector<std::uint8_t> bytes;
    resizeForOverwrite(bytes, 525752);
    BOOST_TEST(bytes.size() == 525752u);
    BOOST_TEST(bytes.capacity() == 9 * kBufferCapacityGranule);  // 589,824: rounded up
    for (auto& b : bytes) b = 0xCD;
    const auto* before = bytes.data();
    resizeForOverwrite(bytes, 525758);  // reused from a pool for the next, slightly larger slice
    BOOST_TEST((bytes.data() == before));  // no reallocation (and so no fresh pages)
    BOOST_TEST(bytes.size() == 525758u);
    BOOST_TEST(bytes[525751] == 0xCD);  // untouched: resize() only initialises the growth
    BOOST_TEST(bytes[525752] == 0);
    resizeForOverwrite(bytes, 100);  // smaller: same buffer
    BOOST_TEST((bytes.data() == before));
    BOOST_TEST(bytes.size() == 100u);
    resizeForOverwrite(bytes, 2 * 589824 + 1);  // larger than the capacity: a new buffer
    BOOST_TEST(bytes.size() == 2u * 589824 + 1);
    BOOST_TEST(bytes.capacity() == 19 * kBufferCapacityGranule);
    for (auto& b : bytes) b = 1;  // the whole of it is writable
    std::vector<std::uint8_t> exact;
    resizeForOverwrite(exact, 2 * kBufferCapacityGranule);  // a multiple stays as it is
    BOOST_TEST(exact.capacity() == 2 * kBufferCapacityGranule);
    std::vector<std::uint8_t> none;
    resizeForOverwrite(none, 0);
    BOOST_TEST(none.capacity() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
