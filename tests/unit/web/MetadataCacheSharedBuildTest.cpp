// Issue 9, finding 10e: a shared series-metadata build used the first requester's context token,
// so that client's disconnect failed every other requester of the series. Now the build runs
// under its own token, cancelled only when every requester has gone. Issue 11: that decision is
// signalled (a stop_callback on each requester's token), not taken by a 100 ms watcher loop, so
// it is already made when the last requester's cancel() returns.
#include "web/MetadataCache.h"

#include "bridge/common/Error.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

using namespace bridge;
using namespace bridge::web;
using namespace std::chrono_literals;

namespace {

/// Polls `condition` until it holds or the deadline passes.
template <class F>
bool eventually(F condition, std::chrono::seconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(MetadataCacheSharedBuild)

BOOST_AUTO_TEST_CASE(first_requester_leaving_does_not_fail_the_others) {
    MetadataCache cache;
    RequestContext first, second;
    std::atomic<bool> started{false}, release{false}, sawCancel{false};
    std::atomic<int> builds{0};
    std::optional<RequestContext> sharedSeen;  // the build's own context (written before `started`)
    auto build = [&](const RequestContext& shared) -> std::pair<std::string, bool> {
        ++builds;
        sharedSeen = shared;
        started = true;
        while (!release) {
            if (shared.cancelled()) {
                sawCancel = true;
                throw BridgeError(ErrorCode::Cancelled, "cancelled");
            }
            std::this_thread::sleep_for(5ms);
        }
        return {"[1]", true};
    };
    std::string firstOutcome;
    std::thread builder([&] {
        try {
            cache.findOrBuild("k", build, first);
            firstOutcome = "ok";
        } catch (const BridgeError& e) {
            firstOutcome = e.what();
        }
    });
    BOOST_REQUIRE(eventually([&] { return started.load(); }));
    std::shared_ptr<const std::string> secondResult;
    std::string secondError;
    std::thread waiter([&] {
        try {
            secondResult = cache.findOrBuild("k", build, second);
        } catch (const std::exception& e) {
            secondError = e.what();
        }
    });
    BOOST_REQUIRE(eventually([&] { return cache.hits() == 1u; }));  // the waiter joined
    first.cancel();  // the first client disconnects
    // The second client still waits: the build's own context was not cancelled.
    BOOST_TEST(!sharedSeen->cancelled());
    BOOST_TEST(!sawCancel.load());
    release = true;
    builder.join();
    waiter.join();
    BOOST_TEST(secondError.empty());
    BOOST_REQUIRE(secondResult);
    BOOST_TEST(MetadataCache::gunzip(*secondResult) == "[1]");
    BOOST_TEST(builds.load() == 1);
    BOOST_TEST(cache.find("k") != nullptr);  // complete: stored
}

BOOST_AUTO_TEST_CASE(build_stops_when_every_requester_has_gone) {
    MetadataCache cache;
    RequestContext first, second;
    std::atomic<bool> started{false}, sawCancel{false};
    std::optional<RequestContext> sharedSeen;  // the build's own context (written before `started`)
    auto build = [&](const RequestContext& shared) -> std::pair<std::string, bool> {
        sharedSeen = shared;
        started = true;
        const auto deadline = std::chrono::steady_clock::now() + 30s;  // bounded even if broken
        while (std::chrono::steady_clock::now() < deadline) {
            if (shared.cancelled()) {
                sawCancel = true;
                throw BridgeError(ErrorCode::Cancelled, "cancelled");
            }
            std::this_thread::sleep_for(5ms);
        }
        return {"[]", true};
    };
    std::thread builder([&] {
        try {
            cache.findOrBuild("k", build, first);
        } catch (const std::exception&) {
        }
    });
    BOOST_REQUIRE(eventually([&] { return started.load(); }));
    std::string waiterError;
    std::thread waiter([&] {
        try {
            cache.findOrBuild("k", build, second);
        } catch (const BridgeError& e) {
            waiterError = e.code() == ErrorCode::Cancelled ? "cancelled" : e.what();
        }
    });
    BOOST_REQUIRE(eventually([&] { return cache.hits() == 1u; }));
    second.cancel();
    waiter.join();  // leaves promptly on its own token
    BOOST_TEST(waiterError == "cancelled");
    BOOST_TEST(!sawCancel.load());  // the first requester is still there
    BOOST_TEST(!sharedSeen->cancelled());
    first.cancel();
    // Signalled: the last requester's cancel() itself cancelled the build (no watcher round).
    BOOST_TEST(sharedSeen->cancelled());
    BOOST_TEST(eventually([&] { return sawCancel.load(); }, 10s));
    builder.join();
    BOOST_TEST(cache.find("k") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
