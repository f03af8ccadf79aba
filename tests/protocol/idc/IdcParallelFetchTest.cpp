// IdcClient's object fetch path against a real tcia-emulator (/v3 and /s3/{bucket}) on loopback:
//  * a series really gets idc.maxParallelGets object GETs in flight, even when the NBIA-sized
//    per-host limit (tcia.maxConcurrentRequests) is lower -- the buckets have their own
//    transport (before, every GET took one of the API host's 4 slots: 8 configured, 4 used);
//  * slow start: the first object is fetched alone, so the first instance is not slowed by the
//    other N-1 objects sharing the bandwidth (then N in flight);
//  * the GET workers come from one bounded pool per client: more concurrent downloads than
//    the pool has threads all complete, each instance delivered exactly once.
// The emulator's `slow` fault holds object GETs open, so GETs in flight are counted by its
// request counter (GET /emulator/stats counts a request when it arrives, before the delay).
#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bridge/common/Error.h"
#include "bridge/idc/IdcClient.h"
#include "bridge/tcia/TciaClient.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;

namespace {

const RequestContext& ctx() {
    static const RequestContext context;
    return context;
}

IdcSettings idcSettings(const EmulatorProcess& emulator, int maxParallelGets) {
    IdcSettings s;
    const std::string base = "http://127.0.0.1:" + std::to_string(emulator.port());
    s.apiUrl = base + "/v3";
    s.bucketUrl = base + "/s3/{bucket}";
    s.maxParallelGets = maxParallelGets;
    return s;
}

/// The series with the most instances.
tcia::SeriesRecord largestSeries(idc::IdcClient& client) {
    std::vector<tcia::SeriesRecord> all;
    for (const auto& name : client.collections(ctx())) {
        tcia::SeriesFilter f;
        f.collection = name;
        auto rows = client.series(f, ctx());
        all.insert(all.end(), rows.begin(), rows.end());
    }
    BOOST_REQUIRE(!all.empty());
    return *std::max_element(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return a.imageCount.value_or(0) < b.imageCount.value_or(0);
    });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(IdcParallelFetch)

BOOST_AUTO_TEST_CASE(a_series_gets_max_parallel_gets_in_flight_above_the_per_host_limit) {
    EmulatorProcess emulator;
    TciaSettings http = faultRetrySettings(emulator);
    http.maxConcurrentRequests = 2;  // the API host's limit: below maxParallelGets
    constexpr int kParallel = 6;
    idc::IdcClient client(http, idcSettings(emulator, kParallel));
    const auto series = largestSeries(client);
    BOOST_REQUIRE_GE(series.imageCount.value_or(0), kParallel);

    // The first object GET (fetched alone: slow start) is answered at once, every later one is
    // held open for 8 s: within that, GETs can only be counted as they start.
    replaceFaults(emulator, "GetObject:slow:1:delay-ms=1");
    httpBody(emulator.port(), "POST", "/emulator/faults?spec=GetObject:slow:1000:delay-ms=8000");
    resetStats(emulator);
    RequestContext cancel;
    std::thread download([&] {
        try {
            client.downloadSeries(
                series.seriesInstanceUid, {}, [](tcia::DownloadedInstance&&) {}, cancel);
        } catch (const BridgeError&) {
            // Cancelled below: expected
        }
    });
    int inFlight = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(6);  // < the 8 s delay
    while (std::chrono::steady_clock::now() < deadline) {
        inFlight = endpointCount(emulator, "GetObject") - 1;  // the first one is done
        if (inFlight >= kParallel) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    cancel.cancel();
    download.join();
    replaceFaults(emulator, "");
    BOOST_TEST(inFlight == kParallel, "object GETs in flight: " << inFlight << ", maxParallelGets "
                                                                << kParallel << ", per-host limit 2");
}

BOOST_AUTO_TEST_CASE(the_first_object_is_fetched_alone_then_the_rest_in_parallel) {
    EmulatorProcess emulator;
    constexpr int kParallel = 4;
    idc::IdcClient client(faultRetrySettings(emulator), idcSettings(emulator, kParallel));
    const auto series = largestSeries(client);
    BOOST_REQUIRE_GT(series.imageCount.value_or(0), kParallel);

    // The first object GET is held for 3 s. While it is, no other object GET may start (before,
    // all kParallel started at once and the first instance waited for its share of them all).
    replaceFaults(emulator, "GetObject:slow:1:delay-ms=3000");
    resetStats(emulator);
    std::atomic<int> delivered{0};
    std::thread download([&] {
        try {
            tcia::DownloadOptions options;
            options.expectedCount = series.imageCount;
            client.downloadSeries(
                series.seriesInstanceUid, options, [&](tcia::DownloadedInstance&&) { ++delivered; }, ctx());
        } catch (const std::exception&) {
            // counted below: delivered stays short
        }
    });
    int maxWhileHeld = 0;
    const auto held = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);  // < 3 s
    while (std::chrono::steady_clock::now() < held && delivered == 0) {
        maxWhileHeld = std::max(maxWhileHeld, endpointCount(emulator, "GetObject"));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    download.join();
    replaceFaults(emulator, "");
    BOOST_TEST(maxWhileHeld == 1, "object GETs started while the first was held: " << maxWhileHeld);
    BOOST_TEST(delivered.load() == series.imageCount.value_or(0), "then every instance arrives");
    BOOST_TEST(endpointCount(emulator, "GetObject") == series.imageCount.value_or(0));
}

BOOST_AUTO_TEST_CASE(more_concurrent_downloads_than_pool_threads_all_complete) {
    EmulatorProcess emulator;
    idc::IdcClient client(faultRetrySettings(emulator), idcSettings(emulator, 2));  // pool: 4 threads
    const auto series = largestSeries(client);
    tcia::TciaClient nbia(faultRetrySettings(emulator));
    const auto listed = nbia.sopInstanceUids(series.seriesInstanceUid, ctx());
    const std::set<std::string> expected(listed.begin(), listed.end());
    BOOST_REQUIRE_GT(expected.size(), 1u);

    // The first GETs are slow, so the first downloads hold their pool threads while the later
    // ones start: 6 downloads x 2 workers want 12 threads of 4.
    replaceFaults(emulator, "GetObject:slow:8:delay-ms=500");
    constexpr int kDownloads = 6;
    std::mutex mutex;
    std::vector<std::vector<std::string>> got(kDownloads);
    std::vector<std::string> errors;
    std::vector<std::thread> threads;
    for (int d = 0; d < kDownloads; ++d) {
        threads.emplace_back([&, d] {
            try {
                tcia::DownloadOptions options;
                options.expectedCount = series.imageCount;
                client.downloadSeries(
                    series.seriesInstanceUid, options,
                    [&](tcia::DownloadedInstance&& i) {
                        std::lock_guard lock(mutex);  // Boost.Test is not thread-safe: check later
                        got[d].push_back(i.bytes.empty() ? std::string("(empty)") : i.sopInstanceUid);
                    },
                    ctx());
            } catch (const std::exception& e) {
                std::lock_guard lock(mutex);
                errors.push_back(e.what());
            }
        });
    }
    for (auto& t : threads) t.join();
    replaceFaults(emulator, "");
    BOOST_TEST(errors.empty(), (errors.empty() ? std::string() : errors.front()));
    for (int d = 0; d < kDownloads; ++d) {
        BOOST_TEST(got[d].size() == expected.size(), "download " << d << ": each instance once");
        BOOST_TEST((std::set<std::string>(got[d].begin(), got[d].end()) == expected));
    }
}

BOOST_AUTO_TEST_SUITE_END()
