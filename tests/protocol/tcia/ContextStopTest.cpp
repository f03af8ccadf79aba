// HttpTransport stops a TCIA call when its RequestContext stops (issue 11 item 1), wherever the
// call waits: in the retry backoff (Retry-After: 5 from the server), in a read the server never
// answers, and in the per-host slot queue. A real Poco server on loopback (FakeTciaServer).
// Before the change the backoff and the slot wait polled the flag (25/50 ms) and a blocked read
// ran to the read timeout. Bounds are generous; every wait would otherwise last 5 s or more.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "FakeTciaServer.h"
#include "bridge/common/Error.h"
#include "bridge/common/RequestContext.h"
#include "bridge/tcia/HttpTransport.h"
#include "tests/support/ErrorCodeOf.h"
#include "tests/support/Elapsed.h"

using namespace bridge;
using namespace bridge::tcia;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

TciaSettings slowRetrySettings() {
    TciaSettings s;
    s.connectTimeout = 2s;
    s.readTimeout = 20s;
    s.maxRetries = 5;
    s.retryBaseDelay = 10ms;
    s.retryMaxDelay = 10s;  // Retry-After: 5 honoured whole
    return s;
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
        if (condition()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

/// A server whose handler holds every request until release() (or 30 s), then answers 200.
struct HoldingServer {
    std::mutex mutex;
    std::condition_variable cv;
    bool released = false;
    std::atomic<int> requests{0};
    FakeTciaServer server{[this](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& resp) {
        ++requests;
        {
            std::unique_lock lock(mutex);
            cv.wait_for(lock, 30s, [this] { return released; });
        }
        resp.setContentLength(2);
        resp.send() << "[]";
    }};
    void release() {
        {
            std::lock_guard lock(mutex);
            released = true;
        }
        cv.notify_all();
    }
    ~HoldingServer() { release(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(context_stop)

BOOST_AUTO_TEST_CASE(deadline_stops_a_call_mid_backoff) {
    std::atomic<int> requests{0};
    FakeTciaServer server([&](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& resp) {
        ++requests;
        resp.setStatus(Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
        resp.set("Retry-After", "5");
        resp.setContentLength(0);
        resp.send();
    });
    HttpTransport transport(slowRetrySettings());
    RequestContext context("h-test");
    context.setTimeout(500ms);
    const auto start = Clock::now();
    const auto code = thrownCode([&] { transport.get(server.url("/getSeries"), {}, &context); });
    const auto took = since(start);
    BOOST_TEST_MESSAGE("deadline 500 ms, call ended after " << took.count() << " ms");
    BOOST_TEST((code == ErrorCode::UpstreamTimeout), "the deadline is reported as a timeout");
    BOOST_TEST(took < 2500ms, "the call outlived its 500 ms deadline: " << took.count() << " ms");
    BOOST_TEST(requests.load() == 1, "a retry ran after the deadline");
}

BOOST_AUTO_TEST_CASE(cancel_wakes_a_read_the_server_never_answers) {
    HoldingServer holding;
    HttpTransport transport(slowRetrySettings());
    RequestContext context;
    auto call = std::async(std::launch::async, [&] {
        return thrownCode([&] { transport.get(holding.server.url("/getSeries"), {}, &context); });
    });
    BOOST_REQUIRE(waitUntil([&] { return holding.requests.load() >= 1; }, 10s));
    const auto cancelledAt = Clock::now();
    context.cancel();
    BOOST_REQUIRE_MESSAGE(call.wait_for(10s) == std::future_status::ready, "the blocked read did not wake");
    const auto took = since(cancelledAt);
    BOOST_TEST_MESSAGE("cancel to return: " << took.count() << " ms (read timeout 20 s)");
    BOOST_TEST((call.get() == ErrorCode::Cancelled));
    BOOST_TEST(took < 1000ms);
    BOOST_TEST(holding.requests.load() == 1, "the cancelled call was retried");
}

BOOST_AUTO_TEST_CASE(cancel_wakes_a_caller_waiting_for_a_slot) {
    HoldingServer holding;
    TciaSettings settings = slowRetrySettings();
    settings.maxConcurrentRequests = 1;
    HttpTransport transport(settings);
    RequestContext first;
    RequestContext second;
    auto holder = std::async(std::launch::async, [&] {
        return thrownCode([&] { transport.get(holding.server.url("/getSeries"), {}, &first); });
    });
    BOOST_REQUIRE(waitUntil([&] { return holding.requests.load() >= 1; }, 10s));
    auto waiter = std::async(std::launch::async, [&] {
        return thrownCode([&] { transport.get(holding.server.url("/getSeries"), {}, &second); });
    });
    BOOST_TEST((waiter.wait_for(300ms) == std::future_status::timeout), "the slot limit did not hold");
    const auto cancelledAt = Clock::now();
    second.cancel();
    BOOST_REQUIRE_MESSAGE(waiter.wait_for(10s) == std::future_status::ready, "the slot wait did not wake");
    BOOST_TEST((waiter.get() == ErrorCode::Cancelled));
    BOOST_TEST(since(cancelledAt) < 1000ms);
    BOOST_TEST(holding.requests.load() == 1, "the cancelled caller reached the server");
    holding.release();
    BOOST_TEST(!holder.get().has_value(), "the first call should have succeeded");
}

BOOST_AUTO_TEST_SUITE_END()
