// HTTP-level resilience against the emulator's injected faults: 5xx and 429 retried with backoff
// (Retry-After honoured), dropped connections retried, retries bounded, the per-host
// concurrency limit, and one log line per request.
#include <boost/test/unit_test.hpp>
#include <thread>

#include "TciaTestHelpers.h"
#include "bridge/common/Error.h"
#include "bridge/tcia/TciaClient.h"

using namespace bridge;
using namespace bridge::tcia;
using namespace bridge::test;
using Clock = std::chrono::steady_clock;

namespace {
long long msSince(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}
const SeriesFilter kCtSeries{"TCGA-DEMO-CT", "", "", "", "", "", "", ""};
}  // namespace

BOOST_AUTO_TEST_SUITE(Resilience)

BOOST_AUTO_TEST_CASE(serverErrorsAreRetried) {
    EmulatorProcess emulator({"--quiet", "--fault", "getSeries:500:2", "--fault",
                              "getCollectionValues:drop:1", "--fault", "getImage:503:1"});
    TciaClient client(fastSettings(emulator));
    BOOST_TEST(!client.series(kCtSeries, RequestContext()).empty());
    BOOST_TEST(endpointCount(emulator, "getSeries") == 3);
    BOOST_TEST(!client.collections(RequestContext()).empty());
    auto series = client.series(kCtSeries, RequestContext());
    RequestContext context;
    std::size_t n = client.downloadSeries(
        series.front().seriesInstanceUid, {false, series.front().imageCount, {}}, [](DownloadedInstance&&) {},
        context);
    BOOST_TEST(static_cast<std::int64_t>(n) == series.front().imageCount.value_or(-1));
}

BOOST_AUTO_TEST_CASE(retryAfterIsHonoured) {
    EmulatorProcess emulator({"--quiet", "--fault", "getPatientStudy:429:1:retry-after=1"});
    TciaClient client(fastSettings(emulator));  // backoff alone would wait <= 20 ms
    auto started = Clock::now();
    BOOST_TEST(!client.studies({"TCGA-DEMO-CT", "", ""}, RequestContext()).empty());
    auto ms = msSince(started);
    BOOST_TEST(ms >= 950, "waited " << ms << " ms");
    BOOST_TEST(ms < 3000);
    BOOST_TEST(endpointCount(emulator, "getPatientStudy") == 2);
}

BOOST_AUTO_TEST_CASE(retriesAreBounded) {
    EmulatorProcess emulator({"--quiet", "--fault", "getSeries:503:50:retry-after=0", "--fault",
                              "getPatient:429:50:retry-after=0"});
    auto settings = fastSettings(emulator);
    settings.maxRetries = 2;
    TciaClient client(settings);
    BOOST_CHECK_EXCEPTION(client.series(kCtSeries, RequestContext()), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::UpstreamUnavailable; });
    BOOST_TEST(endpointCount(emulator, "getSeries") == 3);
    BOOST_CHECK_EXCEPTION(client.patients({"TCGA-DEMO-CT", ""}, RequestContext()), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::UpstreamUnavailable; });
    BOOST_TEST(endpointCount(emulator, "getPatient") == 3);
}

BOOST_AUTO_TEST_CASE(clientErrorsAreNotRetried) {
    EmulatorProcess emulator({"--quiet", "--fault", "getSeries:400:1", "--fault", "getPatient:403:1"});
    TciaClient client(fastSettings(emulator));
    BOOST_CHECK_EXCEPTION(client.series(kCtSeries, RequestContext()), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::InvalidArgument; });
    BOOST_TEST(endpointCount(emulator, "getSeries") == 1);
    BOOST_CHECK_EXCEPTION(client.patients({"TCGA-DEMO-CT", ""}, RequestContext()), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::Forbidden; });
    BOOST_TEST(endpointCount(emulator, "getPatient") == 1);
}

BOOST_AUTO_TEST_CASE(readTimeoutIsUpstreamTimeout) {
    EmulatorProcess emulator({"--quiet", "--fault", "getCollectionValues:slow:5:delay-ms=1500"});
    auto settings = fastSettings(emulator);
    settings.readTimeout = std::chrono::milliseconds(300);
    settings.maxRetries = 1;
    TciaClient client(settings);
    auto started = Clock::now();
    BOOST_CHECK_EXCEPTION(client.collections(RequestContext()), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::UpstreamTimeout; });
    BOOST_TEST(msSince(started) < 1500);
}

BOOST_AUTO_TEST_CASE(perHostConcurrencyLimit) {
    // Four slow getSeries calls from four threads: with one slot they queue, with four they overlap.
    for (int slots : {1, 4}) {
        EmulatorProcess emulator({"--quiet", "--fault", "getSeries:slow:4:delay-ms=400"});
        auto settings = fastSettings(emulator);
        settings.maxConcurrentRequests = slots;
        TciaClient client(settings);
        auto started = Clock::now();
        std::vector<std::thread> threads;
        std::atomic<int> ok{0};
        std::atomic<int> failed{0};
        for (int i = 0; i < 4; ++i)
            threads.emplace_back([&] {
                try {  // an exception must never leave a std::thread (std::terminate)
                    if (!client.series(kCtSeries, RequestContext()).empty()) ++ok;
                } catch (const std::exception&) {
                    ++failed;
                }
            });
        for (auto& t : threads) t.join();
        auto ms = msSince(started);
        BOOST_TEST_MESSAGE(slots << " slot(s): 4 slow calls took " << ms << " ms");
        BOOST_TEST(ok.load() == 4);
        BOOST_TEST(failed.load() == 0);
        if (slots == 1)
            BOOST_TEST(ms >= 1550, "serialised: " << ms << " ms");
        else
            BOOST_TEST(ms < 1200, "overlapped: " << ms << " ms");
    }
}

BOOST_AUTO_TEST_CASE(oneLogLinePerRequest) {
    EmulatorProcess emulator({"--quiet", "--fault", "getSeries:500:1"});
    auto capture = LogCapture::install();
    {
        TciaClient client(fastSettings(emulator));
        client.collections(RequestContext());
        client.series(kCtSeries, RequestContext());
    }
    capture->uninstall();
    auto lines = capture->lines();
    int collectionLines = 0, seriesLines = 0;
    for (const auto& l : lines) {
        if (l.find("getCollectionValues -> 200") != std::string::npos) ++collectionLines;
        if (l.find("getSeries -> 200") != std::string::npos) {
            ++seriesLines;
            BOOST_TEST(l.find("(1 retries)") != std::string::npos, l);
            BOOST_TEST(l.find(" ms") != std::string::npos, l);
        }
    }
    BOOST_TEST(collectionLines == 1);
    BOOST_TEST(seriesLines == 1);
}

BOOST_AUTO_TEST_SUITE_END()
