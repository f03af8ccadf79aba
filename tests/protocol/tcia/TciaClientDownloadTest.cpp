// getImage streaming against the emulator: instances reach the sink while the ZIP is still
// arriving; truncated downloads are repeated without duplicates; MD5s are checked; context works.
#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <set>
#include <thread>

#include "TciaTestHelpers.h"
#include "bridge/common/Error.h"
#include "bridge/tcia/TciaClient.h"

using namespace bridge;
using namespace bridge::tcia;
using namespace bridge::test;
using Clock = std::chrono::steady_clock;

namespace {

SeriesRecord largestSeries(TciaClient& client) {
    auto series = client.series({"TCGA-DEMO-CT", "", "", "", "", "", "", ""}, RequestContext());
    BOOST_REQUIRE(!series.empty());
    return *std::max_element(series.begin(), series.end(), [](const auto& a, const auto& b) {
        return a.imageCount.value_or(0) < b.imageCount.value_or(0);
    });
}

int imageCalls(const EmulatorProcess& emulator, const std::string& uid) {
    return emulatorStats(emulator)["getImageBySeries"].get(uid, 0).asInt();
}

struct Collected {
    std::vector<std::string> uids;
    std::vector<Clock::time_point> times;
    InstanceSink sink() {
        return [this](DownloadedInstance&& i) {
            uids.push_back(i.sopInstanceUid);
            times.push_back(Clock::now());
        };
    }
    bool unique() const { return std::set<std::string>(uids.begin(), uids.end()).size() == uids.size(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(Download)

BOOST_AUTO_TEST_CASE(firstInstanceArrivesBeforeTheDownloadEnds) {
    // The slow fault spreads 2 s of delay between the ZIP entries of one getImage.
    EmulatorProcess emulator({"--quiet", "--fault", "getImage:slow:1:delay-ms=2000"});
    TciaClient client(fastSettings(emulator));
    auto target = largestSeries(client);
    BOOST_REQUIRE(target.imageCount.value_or(0) >= 3);
    Collected got;
    RequestContext context;
    auto started = Clock::now();
    std::size_t n =
        client.downloadSeries(target.seriesInstanceUid, {false, target.imageCount, {}}, got.sink(), context);
    auto ended = Clock::now();
    BOOST_TEST(static_cast<std::int64_t>(n) == *target.imageCount);
    BOOST_REQUIRE(!got.times.empty());
    auto firstMs = std::chrono::duration_cast<std::chrono::milliseconds>(got.times.front() - started).count();
    auto totalMs = std::chrono::duration_cast<std::chrono::milliseconds>(ended - started).count();
    BOOST_TEST_MESSAGE("first instance after " << firstMs << " ms, download took " << totalMs << " ms");
    BOOST_TEST(totalMs >= 1500);
    BOOST_TEST(firstMs < totalMs - 1000, "first instance at " << firstMs << " ms of " << totalMs);
    // Sink calls are spread over the download, not bunched at its end.
    for (std::size_t i = 1; i < got.times.size(); ++i) BOOST_TEST((got.times[i] >= got.times[i - 1]));
    BOOST_TEST(
        std::chrono::duration_cast<std::chrono::milliseconds>(got.times.back() - got.times.front()).count() >=
        1000);
}

BOOST_AUTO_TEST_CASE(truncatedDownloadIsRepeatedWithoutDuplicates) {
    for (const char* fault :
         {"getImage:truncate:1", "getImage:truncate:1:mode=reset", "getImage:truncate:2:bytes=3000"}) {
        BOOST_TEST_CONTEXT(fault) {
            EmulatorProcess emulator({"--quiet", "--fault", fault});
            TciaClient client(fastSettings(emulator));
            auto target = largestSeries(client);
            auto expected = client.sopInstanceUids(target.seriesInstanceUid, RequestContext());
            Collected got;
            RequestContext context;
            std::size_t n = client.downloadSeries(target.seriesInstanceUid, {false, target.imageCount, {}},
                                                  got.sink(), context);
            BOOST_TEST(n == expected.size());
            BOOST_TEST(got.unique());
            BOOST_TEST((std::set<std::string>(got.uids.begin(), got.uids.end()) ==
                        std::set<std::string>(expected.begin(), expected.end())));
            BOOST_TEST(imageCalls(emulator, target.seriesInstanceUid) >= 2);
        }
    }
}

BOOST_AUTO_TEST_CASE(persistentTruncationFailsAfterTheRetries) {
    EmulatorProcess emulator({"--quiet", "--fault", "getImage:truncate:20"});
    auto settings = fastSettings(emulator);
    settings.maxRetries = 2;
    TciaClient client(settings);
    auto target = largestSeries(client);
    Collected got;
    RequestContext context;
    BOOST_CHECK_EXCEPTION(
        client.downloadSeries(target.seriesInstanceUid, {false, target.imageCount, {}}, got.sink(), context),
        BridgeError, [](const BridgeError& e) { return e.code() == ErrorCode::UpstreamBadResponse; });
    BOOST_TEST(imageCalls(emulator, target.seriesInstanceUid) == 3);
    BOOST_TEST(got.unique());
    BOOST_TEST(static_cast<std::int64_t>(got.uids.size()) < *target.imageCount);
}

BOOST_AUTO_TEST_CASE(md5VerifiedInBothVersions) {
    EmulatorProcess emulator({"--quiet"});
    for (const char* version : {"v4", "v1"}) {
        BOOST_TEST_CONTEXT(version) {
            TciaClient client(fastSettings(emulator, version));
            auto target = largestSeries(client);
            Collected got;
            RequestContext context;
            std::size_t n = client.downloadSeries(target.seriesInstanceUid, {true, target.imageCount, {}},
                                                  got.sink(), context);
            BOOST_TEST(static_cast<std::int64_t>(n) == *target.imageCount);
            BOOST_TEST(got.unique());
        }
    }
    // v4 asked getImage with IncludeMD5, v1 used getImageWithMD5Hash.
    BOOST_TEST(endpointCount(emulator, "getImage") >= 1);
    BOOST_TEST(endpointCount(emulator, "getImageWithMD5Hash") >= 1);
}

BOOST_AUTO_TEST_CASE(cancelMidDownload) {
    EmulatorProcess emulator({"--quiet", "--fault", "getImage:slow:1:delay-ms=4000"});
    TciaClient client(fastSettings(emulator));
    auto target = largestSeries(client);
    RequestContext context;
    std::atomic<int> delivered{0};
    auto started = Clock::now();
    BOOST_CHECK_EXCEPTION(client.downloadSeries(
                              target.seriesInstanceUid, {false, target.imageCount, {}},
                              [&](DownloadedInstance&&) {
                                  if (++delivered == 1) {
                                      // Cancel from another thread, as a C-CANCEL would.
                                      std::thread([context] { context.cancel(); }).detach();
                                  }
                              },
                              context),
                          BridgeError, [](const BridgeError& e) { return e.code() == ErrorCode::Cancelled; });
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    BOOST_TEST(delivered.load() >= 1);
    BOOST_TEST(delivered.load() < *target.imageCount);
    BOOST_TEST(ms < 3500, "context took effect after " << ms << " ms");
}

BOOST_AUTO_TEST_CASE(sinkExceptionAbortsWithoutRetry) {
    EmulatorProcess emulator({"--quiet"});
    TciaClient client(fastSettings(emulator));
    auto target = largestSeries(client);
    RequestContext context;
    BOOST_CHECK_EXCEPTION(
        client.downloadSeries(
            target.seriesInstanceUid, {},
            [](DownloadedInstance&&) {
                throw BridgeError(ErrorCode::UpstreamBadResponse, "the sink's own failure");
            },
            context),
        BridgeError, [](const BridgeError& e) { return std::string(e.what()) == "the sink's own failure"; });
    BOOST_TEST(imageCalls(emulator, target.seriesInstanceUid) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
