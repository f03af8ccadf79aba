// RequestContext (issue 11 item 1): a stop wakes waiters at once, the deadline requests stop by
// itself, a child follows its parent and never the reverse. Timing bounds are generous (a loaded
// machine); each wait would otherwise last far longer than its bound.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "bridge/common/Error.h"
#include "bridge/common/RequestContext.h"
#include "tests/support/Elapsed.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

BOOST_AUTO_TEST_SUITE(request_context)

BOOST_AUTO_TEST_CASE(cancel_wakes_a_waiter_on_a_condition_variable) {
    RequestContext context;
    std::mutex mutex;
    std::condition_variable_any cv;
    std::thread canceller([&] {
        std::this_thread::sleep_for(100ms);  // the waiter is (most likely) waiting by then
        context.cancel();
    });
    const auto start = Clock::now();
    bool satisfied = true;
    {
        std::unique_lock lock(mutex);
        satisfied = context.waitFor(cv, lock, 30s, [] { return false; });  // nobody notifies cv
    }
    canceller.join();
    BOOST_TEST(!satisfied);
    BOOST_TEST(context.cancelled());
    BOOST_TEST((context.stopReason() == RequestContext::StopReason::Cancelled));
    BOOST_TEST(since(start) < 10s, "the wait ended " << since(start).count() << " ms after it began");
}

BOOST_AUTO_TEST_CASE(cancel_wakes_sleep_for_which_throws_cancelled) {
    RequestContext context;
    std::thread canceller([&] {
        std::this_thread::sleep_for(100ms);
        context.cancel();
    });
    const auto start = Clock::now();
    ErrorCode code = ErrorCode::Internal;
    try {
        context.sleepFor(30s);
    } catch (const BridgeError& e) {
        code = e.code();
    }
    canceller.join();
    BOOST_TEST((code == ErrorCode::Cancelled));
    BOOST_TEST(since(start) < 10s);
}

BOOST_AUTO_TEST_CASE(deadline_requests_stop_by_itself) {
    RequestContext context;
    context.setTimeout(200ms);
    BOOST_TEST(!context.cancelled());
    const auto start = Clock::now();
    ErrorCode code = ErrorCode::Internal;
    try {
        context.sleepFor(30s);
    } catch (const BridgeError& e) {
        code = e.code();
    }
    BOOST_TEST((code == ErrorCode::UpstreamTimeout));
    BOOST_TEST((context.stopReason() == RequestContext::StopReason::DeadlineExceeded));
    BOOST_TEST(since(start) >= 150ms);
    BOOST_TEST(since(start) < 10s);
}

BOOST_AUTO_TEST_CASE(deadlines_only_tighten) {
    RequestContext context;
    const auto soon = Clock::now() + 1h;
    context.setDeadline(soon);
    context.setDeadline(soon + 1h);
    BOOST_REQUIRE(context.deadline().has_value());
    BOOST_TEST((*context.deadline() == soon));
}

BOOST_AUTO_TEST_CASE(child_follows_its_parent_not_the_reverse) {
    RequestContext parent("h-1", "principal alice");
    RequestContext child = parent.child();
    BOOST_TEST(child.requestId() == "h-1");
    BOOST_TEST(child.caller() == "principal alice");

    child.cancel();
    BOOST_TEST(child.cancelled());
    BOOST_TEST(!parent.cancelled(), "cancelling a child stopped its parent");

    RequestContext second = parent.child();
    std::mutex mutex;
    std::condition_variable_any cv;
    std::thread canceller([&] {
        std::this_thread::sleep_for(100ms);
        parent.cancel();
    });
    bool satisfied = true;
    {
        std::unique_lock lock(mutex);
        satisfied = second.waitFor(cv, lock, 30s, [] { return false; });
    }
    canceller.join();
    BOOST_TEST(!satisfied);
    BOOST_TEST(second.cancelled(), "the parent's cancel did not reach its child");
}

BOOST_AUTO_TEST_CASE(copies_share_one_stop_signal) {
    RequestContext a;
    RequestContext b = a;
    b.cancel();
    BOOST_TEST(a.cancelled());
    BOOST_CHECK_THROW(a.throwIfCancelled(), BridgeError);
}

BOOST_AUTO_TEST_SUITE_END()
