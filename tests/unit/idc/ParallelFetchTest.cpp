// parallelFetch (bridge/idc/ParallelFetch.h): every result handed over once, the first alone,
// later ones in batches of up to `batch` gathered for up to `gather`, a failure alone.

#include <Poco/ThreadPool.h>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <vector>

#include "bridge/idc/ParallelFetch.h"

using namespace bridge;
using namespace bridge::idc;
using Batch = std::vector<std::pair<std::size_t, std::size_t>>;

BOOST_AUTO_TEST_SUITE(ParallelFetchSuite)

BOOST_AUTO_TEST_CASE(results_ready_together_are_handed_over_together_the_first_alone) {
    Poco::ThreadPool pool(1, 16);
    std::vector<std::size_t> sizes;
    std::set<std::size_t> seen;
    // Every fetch returns at once, and the gather time is long: each batch after the first
    // waits for its eight (the window holds eight), so the sizes are exact.
    parallelFetch<std::size_t>(
        17, 8, pool, [](std::size_t i) { return i * 10; },
        [&](Batch&& got) {
            sizes.push_back(got.size());
            for (const auto& [i, r] : got) {
                BOOST_TEST(r == i * 10);
                BOOST_TEST(seen.insert(i).second, "index " << i << " handed over twice");
            }
        },
        nullptr, 8, std::chrono::seconds(30));
    BOOST_TEST(seen.size() == 17u);
    BOOST_TEST(sizes == (std::vector<std::size_t>{1, 8, 8}), "batch sizes " << sizes.size());
}

BOOST_AUTO_TEST_CASE(a_batch_larger_than_the_window_does_not_wait_for_what_cannot_come) {
    // Three workers, batches of eight: at most three results ever wait, so a batch is three --
    // waiting for eight would cost the whole (long) gather time on every batch.
    Poco::ThreadPool pool(1, 16);
    std::vector<std::size_t> sizes;
    const auto t0 = std::chrono::steady_clock::now();
    parallelFetch<std::size_t>(
        10, 3, pool, [](std::size_t i) { return i; }, [&](Batch&& got) { sizes.push_back(got.size()); },
        nullptr, 8, std::chrono::seconds(20));
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)));
    BOOST_TEST(sizes == (std::vector<std::size_t>{1, 3, 3, 3}));
}

BOOST_AUTO_TEST_CASE(without_a_batch_each_result_comes_alone) {
    Poco::ThreadPool pool(1, 16);
    std::vector<std::size_t> sizes;
    parallelFetch<std::size_t>(
        12, 4, pool, [](std::size_t i) { return i; }, [&](Batch&& got) { sizes.push_back(got.size()); },
        nullptr);
    BOOST_TEST(sizes == std::vector<std::size_t>(12, 1));
}

BOOST_AUTO_TEST_CASE(a_batch_waits_no_longer_than_the_gather_time) {
    Poco::ThreadPool pool(1, 16);
    // fetch(2) returns only once index 1 was handed over: the batch that holds 1 cannot wait
    // for it, so it must end at the gather time with 1 alone.
    std::promise<void> oneHandedOver;
    std::shared_future<void> released = oneHandedOver.get_future().share();
    std::vector<Batch> batches;
    std::vector<std::chrono::steady_clock::duration> waited;
    auto last = std::chrono::steady_clock::now();
    constexpr auto kGather = std::chrono::milliseconds(100);
    parallelFetch<std::size_t>(
        3, 2, pool,
        [&](std::size_t i) {
            if (i == 2 && released.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
                throw std::runtime_error("index 1 was never handed over");
            return i;
        },
        [&](Batch&& got) {
            const auto now = std::chrono::steady_clock::now();
            waited.push_back(now - last);
            last = now;
            for (const auto& [i, r] : got)
                if (i == 1) oneHandedOver.set_value();
            batches.push_back(std::move(got));
        },
        nullptr, 8, kGather);
    BOOST_REQUIRE_EQUAL(batches.size(), 3u);
    BOOST_TEST(batches[0] == (Batch{{0, 0}}));
    BOOST_TEST(batches[1] == (Batch{{1, 1}}));
    BOOST_TEST(batches[2] == (Batch{{2, 2}}));
    BOOST_TEST((waited[1] >= kGather), "the second batch waited for a partner up to the gather time");
    BOOST_TEST((waited[1] < std::chrono::seconds(10)), "and not much longer");
}

BOOST_AUTO_TEST_CASE(a_failed_fetch_is_thrown_after_the_results_before_it_and_is_never_consumed) {
    Poco::ThreadPool pool(1, 16);
    std::set<std::size_t> seen;
    bool threw = false;
    try {
        parallelFetch<std::size_t>(
            9, 8, pool,
            [](std::size_t i) -> std::size_t {
                if (i == 3) throw std::runtime_error("object 3 failed");
                return i;
            },
            [&](Batch&& got) {
                for (const auto& [i, r] : got) seen.insert(i);
            },
            nullptr, 8, std::chrono::seconds(30));
    } catch (const std::runtime_error& e) {
        threw = std::string(e.what()) == "object 3 failed";
    }
    BOOST_TEST(threw);
    BOOST_TEST(seen.count(3) == 0u);
    BOOST_TEST(seen.count(0) == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
