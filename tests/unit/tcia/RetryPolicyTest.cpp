// Backoff arithmetic and Retry-After parsing (bridge/tcia/RetryPolicy.h).
#include <boost/test/unit_test.hpp>

#include "bridge/tcia/RetryPolicy.h"

using bridge::tcia::RetryPolicy;
using namespace std::chrono;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(Retry)

BOOST_AUTO_TEST_CASE(ceilingDoublesUntilTheCap) {
    const struct {
        int attempt;
        long long expected;
    } cases[] = {{0, 500}, {1, 1000}, {2, 2000}, {3, 4000}, {5, 16000}, {6, 30000}, {60, 30000}, {-1, 500}};
    for (const auto& c : cases)
        BOOST_TEST(RetryPolicy::backoffCeiling(c.attempt, 500ms, 30s).count() == c.expected,
                   "attempt " << c.attempt);
    BOOST_TEST(RetryPolicy::backoffCeiling(3, 0ms, 30s).count() == 0);
}

BOOST_AUTO_TEST_CASE(fullJitterScalesTheCeiling) {
    BOOST_TEST(RetryPolicy::backoffDelay(2, 500ms, 30s, 0.0).count() == 0);
    BOOST_TEST(RetryPolicy::backoffDelay(2, 500ms, 30s, 0.5).count() == 1000);
    BOOST_TEST(RetryPolicy::backoffDelay(2, 500ms, 30s, 0.999).count() == 1998);
    BOOST_TEST(RetryPolicy::backoffDelay(10, 500ms, 30s, 0.5).count() == 15000);
    BOOST_TEST(RetryPolicy::backoffDelay(1, 500ms, 30s, 7.0).count() == 1000);  // clamped to [0,1]
}

BOOST_AUTO_TEST_CASE(retryAfterSecondsAndHttpDate) {
    auto now = system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
    BOOST_TEST(RetryPolicy::parseRetryAfter("120", now)->count() == 120000);
    BOOST_TEST(RetryPolicy::parseRetryAfter(" 0 ", now)->count() == 0);
    BOOST_TEST(RetryPolicy::parseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", now)->count() == 10000);
    BOOST_TEST(RetryPolicy::parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now)->count() == 0);  // past
    BOOST_TEST(!RetryPolicy::parseRetryAfter("", now).has_value());
    BOOST_TEST(!RetryPolicy::parseRetryAfter("soon", now).has_value());
    BOOST_TEST(!RetryPolicy::parseRetryAfter("-5", now).has_value());
}

BOOST_AUTO_TEST_CASE(retryableStatuses) {
    for (int s : {500, 502, 503, 504, 429, 408}) BOOST_TEST(RetryPolicy::isRetryableStatus(s), s);
    for (int s : {200, 204, 400, 401, 403, 404}) BOOST_TEST(!RetryPolicy::isRetryableStatus(s), s);
}

BOOST_AUTO_TEST_SUITE_END()
