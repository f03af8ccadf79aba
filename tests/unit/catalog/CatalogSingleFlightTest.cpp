// Single flight for identical concurrent lazy fills (bridge/catalog/SingleFlight.h, LazyFill):
// N concurrent identical misses make one TCIA call; a cancelled follower leaves at once while
// the leader finishes; a leader's failure is not cached; a cancelled leader hands over.
#include "CatalogFixture.h"
#include "bridge/catalog/SingleFlight.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace bridge;
using test::seriesOf;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

/// Polls `done` until it is true or `limit` passes; returns done().
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 10000ms) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

/// A gate the fake's hook blocks on until opened (bounded, so a broken build cannot hang).
struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    int arrivals = 0;

    /// Counts an arrival, then waits until opened, a second arrival (`untilSecond`) or `limit`.
    void arrive(bool untilSecond, std::chrono::milliseconds limit) {
        std::unique_lock<std::mutex> lock(mutex);
        ++arrivals;
        cv.notify_all();
        cv.wait_for(lock, limit, [&] { return open || (untilSecond && arrivals >= 2); });
    }
    void release() {
        std::lock_guard<std::mutex> lock(mutex);
        open = true;
        cv.notify_all();
    }
    int count() {
        std::lock_guard<std::mutex> lock(mutex);
        return arrivals;
    }
};

using Fixture = test::CatalogFixture;

}  // namespace

BOOST_AUTO_TEST_SUITE(CatalogSingleFlight)

BOOST_AUTO_TEST_CASE(concurrent_identical_lazy_fills_make_one_tcia_call) {
    Fixture f;
    Gate gate;
    // The first TCIA call stays open until a second identical call reaches TCIA (which single
    // flight must prevent) or 2 s pass: ample time for every thread to be in its lazy fill.
    f.fake.hook = [&](const std::string& endpoint, const std::string&) {
        if (endpoint == "series") gate.arrive(true, 2000ms);
    };
    constexpr int kThreads = 8;
    std::vector<std::size_t> sizes(kThreads, 0);
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back([&, i] {
            try {
                sizes[i] = f.catalog->series(seriesOf(i % 2 ? "coll-0" : "COLL-0"), RequestContext()).size();
            } catch (const std::exception& e) {
                errors[i] = e.what();
            }
        });
    for (auto& t : threads) t.join();
    BOOST_TEST(f.fake.calls("series") == 1);
    std::size_t expected = 0;
    for (const auto& s : f.fake.seriesRows) expected += s.collection == "COLL-0";
    BOOST_REQUIRE(expected > 0u);
    for (int i = 0; i < kThreads; ++i) {
        BOOST_TEST(errors[i] == "");
        BOOST_TEST(sizes[i] == expected);
    }
    // A different filter is a different flight.
    f.fake.hook = nullptr;
    f.catalog->series(seriesOf("Coll-1"), RequestContext());
    BOOST_TEST(f.fake.calls("series") == 2);
}

BOOST_AUTO_TEST_CASE(cancelled_follower_returns_cancelled_promptly_while_the_leader_finishes) {
    Fixture f;
    Gate gate;
    f.fake.hook = [&](const std::string& endpoint, const std::string&) {
        if (endpoint == "patients") gate.arrive(false, 20000ms);
    };
    std::atomic<bool> leaderDone{false};
    std::size_t leaderRows = 0;
    std::string leaderError;
    std::thread leader([&] {
        try {
            leaderRows = f.catalog->patients({"COLL-1", ""}, RequestContext()).size();
        } catch (const std::exception& e) {
            leaderError = e.what();
        }
        leaderDone = true;
    });
    BOOST_REQUIRE(eventually([&] { return gate.count() == 1; }));

    RequestContext followerContext;
    std::atomic<bool> followerDone{false};
    std::optional<ErrorCode> followerCode;
    std::thread follower([&] {
        try {
            f.catalog->patients({"coll-1", ""}, followerContext);
        } catch (const BridgeError& e) {
            followerCode = e.code();
        }
        followerDone = true;
    });
    // Give the follower time to join the flight (it must not reach TCIA: the gate counts).
    BOOST_TEST(!eventually([&] { return gate.count() > 1 || followerDone.load(); }, 300ms));
    const auto cancelledAt = Clock::now();
    followerContext.cancel();
    BOOST_TEST(eventually([&] { return followerDone.load(); }, 3000ms));
    const auto took = Clock::now() - cancelledAt;
    BOOST_TEST(!leaderDone.load());  // the leader is still inside TCIA
    BOOST_TEST((followerCode && *followerCode == ErrorCode::Cancelled));
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() < 3000);

    gate.release();
    leader.join();
    follower.join();
    BOOST_TEST(leaderError == "");
    BOOST_TEST(leaderRows == 5u);
    BOOST_TEST(f.fake.calls("patients") == 1);
    // The leader's answer was stored: the same call is now local.
    BOOST_TEST(f.catalog->patients({"COLL-1", ""}, RequestContext()).size() == 5u);
    BOOST_TEST(f.fake.calls("patients") == 1);
}

BOOST_AUTO_TEST_CASE(a_failed_lazy_fill_is_not_cached) {
    Fixture f;
    std::atomic<bool> failing{true};
    f.fake.hook = [&](const std::string& endpoint, const std::string&) {
        if (endpoint == "sop" && failing) throw BridgeError(ErrorCode::UpstreamUnavailable, "down");
    };
    f.fake.sops["1.2.3"] = {"1.2.3.1", "1.2.3.2"};
    BOOST_CHECK_THROW(f.catalog->sopInstanceUids("1.2.3", RequestContext()), BridgeError);
    failing = false;
    BOOST_TEST(f.catalog->sopInstanceUids("1.2.3", RequestContext()).size() == 2u);
    BOOST_TEST(f.fake.calls("sop") == 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(SingleFlightUnit)

/// Runs a leader whose work blocks on `gate`, and followers that join it.
struct FlightFixture {
    catalog::SingleFlight<int> flight;
    Gate gate;
    std::atomic<int> runs{0};
};

BOOST_AUTO_TEST_CASE(followers_get_the_leaders_value_and_a_cancelled_one_leaves) {
    FlightFixture x;
    auto work = [&] {
        ++x.runs;
        x.gate.arrive(false, 20000ms);
        return 42;
    };
    int leaderValue = 0, followerValue = 0;
    std::thread leader([&] { leaderValue = x.flight.run("k", RequestContext(), work); });
    BOOST_REQUIRE(eventually([&] { return x.gate.count() == 1; }));
    std::thread follower([&] { followerValue = x.flight.run("k", RequestContext(), work); });
    RequestContext cancelled;
    std::optional<ErrorCode> cancelledCode;
    std::atomic<bool> cancelledDone{false};
    std::thread quitter([&] {
        try {
            x.flight.run("k", cancelled, work);
        } catch (const BridgeError& e) {
            cancelledCode = e.code();
        }
        cancelledDone = true;
    });
    BOOST_REQUIRE(eventually([&] { return x.flight.followers() == 2; }));
    cancelled.cancel();
    BOOST_TEST(eventually([&] { return cancelledDone.load(); }, 3000ms));
    BOOST_TEST((cancelledCode && *cancelledCode == ErrorCode::Cancelled));
    BOOST_TEST(x.flight.followers() == 1u);
    BOOST_TEST(x.flight.inFlight() == 1u);
    x.gate.release();
    leader.join();
    follower.join();
    quitter.join();
    BOOST_TEST(leaderValue == 42);
    BOOST_TEST(followerValue == 42);
    BOOST_TEST(x.runs.load() == 1);
    BOOST_TEST(x.flight.inFlight() == 0u);
}

BOOST_AUTO_TEST_CASE(a_leaders_failure_reaches_its_followers_but_is_not_kept) {
    FlightFixture x;
    auto failing = [&]() -> int {
        ++x.runs;
        x.gate.arrive(false, 20000ms);
        throw BridgeError(ErrorCode::UpstreamUnavailable, "down");
    };
    std::optional<ErrorCode> leaderCode, followerCode;
    std::thread leader([&] {
        try {
            x.flight.run("k", RequestContext(), failing);
        } catch (const BridgeError& e) {
            leaderCode = e.code();
        }
    });
    BOOST_REQUIRE(eventually([&] { return x.gate.count() == 1; }));
    std::thread follower([&] {
        try {
            x.flight.run("k", RequestContext(), failing);
        } catch (const BridgeError& e) {
            followerCode = e.code();
        }
    });
    BOOST_REQUIRE(eventually([&] { return x.flight.followers() == 1; }));
    x.gate.release();
    leader.join();
    follower.join();
    BOOST_TEST((leaderCode && *leaderCode == ErrorCode::UpstreamUnavailable));
    BOOST_TEST((followerCode && *followerCode == ErrorCode::UpstreamUnavailable));
    BOOST_TEST(x.runs.load() == 1);
    // Not cached: the next caller runs the work again.
    BOOST_TEST(x.flight.run("k", RequestContext(), [] { return 7; }) == 7);
}

BOOST_AUTO_TEST_CASE(a_cancelled_leader_hands_over_to_a_follower) {
    FlightFixture x;
    RequestContext leaderContext;
    auto leaderWork = [&]() -> int {
        ++x.runs;
        x.gate.arrive(false, 20000ms);
        leaderContext.throwIfCancelled();
        return 1;
    };
    std::optional<ErrorCode> leaderCode;
    std::thread leader([&] {
        try {
            x.flight.run("k", leaderContext, leaderWork);
        } catch (const BridgeError& e) {
            leaderCode = e.code();
        }
    });
    BOOST_REQUIRE(eventually([&] { return x.gate.count() == 1; }));
    int followerValue = 0;
    std::thread follower([&] { followerValue = x.flight.run("k", RequestContext(), [&] { ++x.runs; return 2; }); });
    BOOST_REQUIRE(eventually([&] { return x.flight.followers() == 1; }));
    leaderContext.cancel();
    x.gate.release();
    leader.join();
    follower.join();
    BOOST_TEST((leaderCode && *leaderCode == ErrorCode::Cancelled));
    BOOST_TEST(followerValue == 2);
    BOOST_TEST(x.runs.load() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
