// Regression (fuzz/accept, property "no range with q <= 0 or NaN"): "q=nan" was kept with a NaN
// quality, which std::stable_sort's comparison cannot order (NaN is neither greater nor smaller),
// so the preference order of the whole header became arbitrary; "q=inf" outranked every q=1.
#include <boost/test/unit_test.hpp>

#include "web/AcceptParser.h"

using namespace bridge::web;

BOOST_AUTO_TEST_CASE(accept_range_with_q_nan_is_dropped) {
    const auto ranges = parseAccept("image/png;q=nan, image/jpeg");
    BOOST_REQUIRE_EQUAL(ranges.size(), 1u);
    BOOST_TEST(ranges[0].mediaType == "image/jpeg");
    BOOST_TEST(negotiateRenderedType(ranges).value_or("") == "image/jpeg");
}

BOOST_AUTO_TEST_CASE(accept_q_above_one_counts_as_one) {
    const auto ranges = parseAccept("image/png;q=inf, image/jpeg;q=1");
    BOOST_REQUIRE_EQUAL(ranges.size(), 2u);
    BOOST_TEST(ranges[0].quality == 1.0);
    BOOST_TEST(ranges[1].quality == 1.0);
    // Equal qualities keep header order.
    BOOST_TEST(ranges[0].mediaType == "image/png");
}
