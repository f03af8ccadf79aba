// Issue 9, finding 10d: when a download's thread could not start, the download stayed in
// flight with nobody to run it: its first subscriber got a raw std::system_error and everyone
// who joined later waited forever. Now the subscribe fails with Overloaded and the next caller
// starts a fresh download.
#include "RetrieveTestDoubles.h"
#include "bridge/common/Error.h"
#include "bridge/retrieve/DownloadCoordinator.h"
#include "bridge/retrieve/InstanceCache.h"
#include "tests/support/TestSupport.h"

#include <boost/test/unit_test.hpp>

#include <system_error>

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(DownloadThreadStart)

BOOST_AUTO_TEST_CASE(a_thread_that_cannot_start_fails_the_subscriber_and_strands_nobody) {
    TempDir dir;
    CacheSettings settings;
    settings.directory = dir.path();
    InstanceCache cache(settings);
    FakeTcia tcia;
    const FakeSeries series = makeSeries("thread", 3);
    tcia.add(series);
    DownloadCoordinator downloads(tcia, cache, 2);
    int launches = 0;
    downloads.setLauncher([&](std::function<void()> body) {
        if (launches++ == 0)
            throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                                    "pthread_create");
        return std::thread(std::move(body));
    });

    SeriesLocator locator;
    locator.collection = series.record.collection;
    locator.seriesInstanceUid = series.record.seriesInstanceUid;
    locator.imageCount = 3;
    BOOST_CHECK_EXCEPTION(downloads.subscribe(locator), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::Overloaded; });

    // The next caller must not join the download that never ran: it gets every instance.
    auto subscription = downloads.subscribe(locator);
    std::size_t got = 0;
    bool ended = false;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!ended && std::chrono::steady_clock::now() < deadline) {
        PublishedInstance instance;
        std::shared_ptr<const std::vector<std::uint8_t>> bytes;
        switch (subscription->next(instance, bytes, 200ms)) {
            case SeriesDownload::Poll::Instance: ++got; break;
            case SeriesDownload::Poll::Waiting: break;
            case SeriesDownload::Poll::End: ended = true; break;
        }
    }
    BOOST_TEST(ended);
    BOOST_TEST(got == 3u);
    BOOST_TEST(!subscription->download().failureReason().has_value());
    BOOST_TEST(launches == 2);
}

BOOST_AUTO_TEST_SUITE_END()
