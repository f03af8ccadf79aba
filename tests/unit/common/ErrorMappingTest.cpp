#include "bridge/common/Error.h"

#include <boost/test/unit_test.hpp>

using namespace bridge;

BOOST_AUTO_TEST_SUITE(ErrorMapping)

BOOST_AUTO_TEST_CASE(every_code_has_its_own_row) {
    for (int c = 0; c <= static_cast<int>(ErrorCode::Internal); ++c) {
        const auto code = static_cast<ErrorCode>(c);
        BOOST_TEST(static_cast<int>(errorMapping(code).code) == c);
    }
}

BOOST_AUTO_TEST_CASE(wire_values_follow_the_standards) {
    BOOST_TEST(errorMapping(ErrorCode::UnknownDestination).moveStatus == 0xA801);
    BOOST_TEST(errorMapping(ErrorCode::Cancelled).findStatus == 0xFE00);
    BOOST_TEST(errorMapping(ErrorCode::InvalidArgument).httpStatus == 400);
    BOOST_TEST(errorMapping(ErrorCode::InvalidArgument).findStatus == 0xA900);
    BOOST_TEST(errorMapping(ErrorCode::UpstreamTimeout).httpStatus == 504);
}

BOOST_AUTO_TEST_CASE(unknown_exceptions_are_internal) {
    BOOST_TEST(static_cast<int>(classifyException(std::runtime_error("x"))) == static_cast<int>(ErrorCode::Internal));
    BOOST_TEST(static_cast<int>(classifyException(BridgeError(ErrorCode::NotFound, "y"))) ==
               static_cast<int>(ErrorCode::NotFound));
}

BOOST_AUTO_TEST_SUITE_END()
