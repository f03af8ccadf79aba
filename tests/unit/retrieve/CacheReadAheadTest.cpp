// CacheReadAhead: a cached series is read ahead of its consumer, in order, within its bounds;
// a damaged file is a miss in its own slot; a stop wakes the consumer; destruction joins.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "bridge/retrieve/CacheReadAhead.h"
#include "tests/support/TestSupport.h"
#include "tests/unit/retrieve/CacheTestSupport.h"
#include "tests/unit/retrieve/RetrieveTestDoubles.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// Polls `pred` until true or `limit` passes (no fixed sleep as synchronisation).
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(2ms);
    }
    return pred();
}

auto far() { return std::chrono::steady_clock::now() + 30s; }

}  // namespace

BOOST_AUTO_TEST_SUITE(CacheReadAheadTests)

BOOST_AUTO_TEST_CASE(delivers_every_instance_in_order_and_a_damaged_one_as_a_miss) {
    TempDir dir;
    InstanceCache cache(settingsFor(dir));
    auto s = makeSeries("ra1", 12);
    for (const auto& f : s.files) cache.store(s.record.seriesInstanceUid, f);
    const auto list = cache.instances(s.record.seriesInstanceUid);
    BOOST_REQUIRE_EQUAL(list.size(), 12u);
    fs::resize_file(cache.directory() + "/" + s.record.seriesInstanceUid + "/" + list[5].sopInstanceUid + ".dcm", 50);

    RequestContext context;
    CacheReadAhead ahead(cache, s.record.seriesInstanceUid, list, 3);
    for (std::size_t i = 0; i < list.size(); ++i) {
        auto bytes = ahead.next(context, far());
        BOOST_REQUIRE(bytes.has_value());
        if (i == 5) {
            BOOST_TEST(!*bytes, "the truncated file must be a miss");
            continue;
        }
        BOOST_REQUIRE(*bytes);
        const auto pos = std::find(s.sopUids.begin(), s.sopUids.end(), list[i].sopInstanceUid);
        BOOST_REQUIRE(pos != s.sopUids.end());
        BOOST_TEST((**bytes == s.files[static_cast<std::size_t>(pos - s.sopUids.begin())]), "instance " << i);
    }
    BOOST_TEST(cache.stats().verifyFailures == 1u);
}

BOOST_AUTO_TEST_CASE(reads_no_further_than_its_depth_ahead) {
    TempDir dir;
    InstanceCache cache(settingsFor(dir));
    auto s = makeSeries("ra2", 10);
    for (const auto& f : s.files) cache.store(s.record.seriesInstanceUid, f);
    const auto hitsBefore = cache.stats().hits;
    const auto list = cache.instances(s.record.seriesInstanceUid);

    RequestContext context;
    CacheReadAhead ahead(cache, s.record.seriesInstanceUid, list, 2);
    // Before anything is taken it reads exactly two, then waits for room.
    BOOST_REQUIRE(eventually([&] { return cache.stats().hits - hitsBefore >= 2; }));
    const auto end = std::chrono::steady_clock::now() + 200ms;  // observation window, not a sync point
    while (std::chrono::steady_clock::now() < end) BOOST_REQUIRE_EQUAL(cache.stats().hits - hitsBefore, 2u);
    // Taking one makes room for exactly one more.
    BOOST_REQUIRE(ahead.next(context, far()).value());
    BOOST_TEST(eventually([&] { return cache.stats().hits - hitsBefore == 3; }));
}

BOOST_AUTO_TEST_CASE(a_byte_bound_smaller_than_one_instance_still_reads_one_at_a_time) {
    TempDir dir;
    InstanceCache cache(settingsFor(dir));
    auto s = makeSeries("ra3", 4, "TEST-COLL", 4096);
    for (const auto& f : s.files) cache.store(s.record.seriesInstanceUid, f);
    const auto hitsBefore = cache.stats().hits;
    const auto list = cache.instances(s.record.seriesInstanceUid);
    RequestContext context;
    CacheReadAhead ahead(cache, s.record.seriesInstanceUid, list, 8, 100);  // 100 bytes < one instance
    BOOST_REQUIRE(eventually([&] { return cache.stats().hits - hitsBefore >= 1; }));
    const auto end = std::chrono::steady_clock::now() + 200ms;
    while (std::chrono::steady_clock::now() < end) BOOST_REQUIRE_EQUAL(cache.stats().hits - hitsBefore, 1u);
    for (std::size_t i = 0; i < list.size(); ++i) BOOST_TEST((ahead.next(context, far()).value() != nullptr));
}

BOOST_AUTO_TEST_CASE(a_stop_wakes_the_consumer_and_destruction_joins_a_full_window) {
    TempDir dir;
    InstanceCache cache(settingsFor(dir));
    auto s = makeSeries("ra4", 6);
    for (const auto& f : s.files) cache.store(s.record.seriesInstanceUid, f);
    auto list = cache.instances(s.record.seriesInstanceUid);
    RequestContext context;
    {
        auto ahead = std::make_unique<CacheReadAhead>(cache, s.record.seriesInstanceUid, list, 2);
        for (std::size_t i = 0; i < list.size(); ++i) BOOST_REQUIRE(ahead->next(context, far()).has_value());
        // Nothing left to read: a wait ends at its deadline, or at once on a stop.
        BOOST_TEST(!ahead->next(context, std::chrono::steady_clock::now() + 20ms).has_value());
        std::thread stopper([&] {
            std::this_thread::sleep_for(50ms);
            context.cancel();
        });
        const auto t0 = std::chrono::steady_clock::now();
        BOOST_TEST(!ahead->next(context, far()).has_value());
        BOOST_TEST((std::chrono::steady_clock::now() - t0 < 10s));
        stopper.join();
    }
    // A reader blocked on a full window is stopped and joined by the destructor.
    const auto t0 = std::chrono::steady_clock::now();
    { CacheReadAhead ahead(cache, s.record.seriesInstanceUid, list, 1); }
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 10s));
}

BOOST_AUTO_TEST_SUITE_END()
