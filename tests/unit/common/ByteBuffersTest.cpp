// reserveForWrite / resizeForWrite: the same contents as reserve() / resize() -- kept bytes kept,
// new bytes zero -- whether the memory was populated or not (the speed is bench/run's business).
// resizeForOverwrite: the size asked, a capacity in whole granules, and a reused buffer that fits
// the next object of about the same size without moving.

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <memory>
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

// BufferPool: what comes back is what goes out next, and nothing beyond its three bounds stays.
BOOST_AUTO_TEST_SUITE(BufferPoolSuite)

namespace {
std::vector<std::uint8_t> buffer(std::size_t capacity) {
    std::vector<std::uint8_t> b;
    b.reserve(capacity);
    b.resize(10, 0x5A);
    return b;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_buffer_given_back_is_the_next_one_taken_with_its_contents) {
    BufferPool pool(1 << 20, 4 << 20, 8);
    BOOST_TEST(pool.take().capacity() == 0u);  // none idle: an empty one
    std::vector<std::uint8_t> b = buffer(1000);
    const auto* data = b.data();
    pool.give(std::move(b));
    BOOST_TEST(pool.idleBuffers() == 1u);
    BOOST_TEST(pool.idleBytes() == 1000u);
    std::vector<std::uint8_t> again = pool.take();
    BOOST_TEST((again.data() == data));
    BOOST_TEST(again.size() == 10u);  // as it came back: the taker resizes it
    BOOST_TEST(again[9] == 0x5A);
    BOOST_TEST(pool.idleBytes() == 0u);
}

BOOST_AUTO_TEST_CASE(no_buffer_beyond_a_bound_is_kept) {
    BufferPool pool(1000, 2500, 2);
    pool.give(buffer(1001));  // larger than one buffer may be
    pool.give(std::vector<std::uint8_t>{});  // no capacity
    BOOST_TEST(pool.idleBuffers() == 0u);
    pool.give(buffer(1000));
    pool.give(buffer(1000));
    pool.give(buffer(400));  // a third: over the count
    BOOST_TEST(pool.idleBuffers() == 2u);
    BOOST_TEST(pool.idleBytes() == 2000u);
    BufferPool bytesBound(1000, 2500, 100);
    bytesBound.give(buffer(1000));
    bytesBound.give(buffer(1000));
    bytesBound.give(buffer(600));  // 2600 > 2500
    bytesBound.give(buffer(500));  // 2500: fits
    BOOST_TEST(bytesBound.idleBuffers() == 3u);
    BOOST_TEST(bytesBound.idleBytes() == 2500u);
}

// prefill (IdcClient's pool at start): buffers of the asked size, as many as the bounds allow.
BOOST_AUTO_TEST_CASE(prefill_adds_buffers_of_the_asked_size_up_to_each_bound) {
    BufferPool byBytes(1 << 20, 5 * kBufferCapacityGranule + 100, 100);
    BOOST_TEST(byBytes.prefill(2 * kBufferCapacityGranule - 5) == 2u);  // 2 granules each; a third passes the total
    BOOST_TEST(byBytes.idleBuffers() == 2u);
    BOOST_TEST(byBytes.idleBytes() == 4 * kBufferCapacityGranule);
    std::vector<std::uint8_t> taken = byBytes.take();
    BOOST_TEST(taken.capacity() == 2 * kBufferCapacityGranule);
    taken.resize(2 * kBufferCapacityGranule, 7);  // fits without a reallocation
    BOOST_TEST(taken.capacity() == 2 * kBufferCapacityGranule);
    BOOST_TEST(byBytes.prefill(kBufferCapacityGranule) == 3u);  // tops up: 2 + 3 granules
    BOOST_TEST(byBytes.idleBuffers() == 4u);

    BufferPool byCount(1 << 20, 64 << 20, 3);
    BOOST_TEST(byCount.prefill(1000) == 3u);
    BOOST_TEST(byCount.prefill(1000) == 0u);  // full
    BOOST_TEST(byCount.idleBytes() == 3 * kBufferCapacityGranule);

    BufferPool bySize(kBufferCapacityGranule, 64 << 20, 100);
    BOOST_TEST(bySize.prefill(kBufferCapacityGranule + 1) == 0u);  // larger than one buffer may be
    BOOST_TEST(bySize.prefill(0) == 0u);
    BOOST_TEST(bySize.idleBuffers() == 0u);
}

BOOST_AUTO_TEST_CASE(a_shared_buffer_comes_back_with_its_last_holder_even_after_the_pool_is_dropped) {
    auto pool = std::make_shared<BufferPool>(1 << 20, 4 << 20, 8);
    pool->share(buffer(3000)).reset();  // its only holder lets go: back in the pool
    BOOST_TEST(pool->idleBuffers() == 1u);
    BOOST_TEST(pool->take().capacity() == 3000u);
    std::shared_ptr<const std::vector<std::uint8_t>> first = pool->share(buffer(2000));
    auto second = first;
    std::weak_ptr<BufferPool> watch = pool;
    pool.reset();  // the shared buffer keeps its pool alive
    BOOST_REQUIRE(!watch.expired());
    first.reset();
    BOOST_TEST(watch.lock()->idleBuffers() == 0u);  // still held by `second`
    second.reset();
    BOOST_TEST(watch.expired());  // the last holder gave it back, and the pool went with it
}

BOOST_AUTO_TEST_SUITE_END()
