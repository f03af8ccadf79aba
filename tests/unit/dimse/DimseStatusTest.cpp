// Status word rules: error table per operation, final retrieve status, ErrorComment shape.
#include <boost/test/unit_test.hpp>

#include "dimse/DimseStatus.h"

using namespace bridge;
using namespace bridge::dimse;

BOOST_AUTO_TEST_SUITE(DimseStatus)

BOOST_AUTO_TEST_CASE(failure_status_per_operation) {
    struct Row {
        ErrorCode code;
        std::uint16_t find;
        std::uint16_t move;
    };
    const Row rows[] = {
        {ErrorCode::InvalidArgument, 0xA900, 0xA900}, {ErrorCode::UnknownDestination, 0xA801, 0xA801},
        {ErrorCode::QueryTooBroad, 0xA700, 0xA701},   {ErrorCode::UpstreamUnavailable, 0xC001, 0xC001},
        {ErrorCode::UpstreamTimeout, 0xC002, 0xC002}, {ErrorCode::Cancelled, 0xFE00, 0xFE00},
        {ErrorCode::NotFound, 0xC000, 0xA701},        {ErrorCode::Overloaded, 0xA700, 0xA700},
    };
    for (const auto& r : rows) {
        BOOST_TEST(failureStatus(r.code, DimseOperation::Find) == r.find);
        BOOST_TEST(failureStatus(r.code, DimseOperation::Move) == r.move);
        BOOST_TEST(failureStatus(r.code, DimseOperation::Get) == r.move);
    }
}

BOOST_AUTO_TEST_CASE(final_retrieve_status) {
    struct Row {
        std::size_t planned, completed, failed, warning;
        bool cancelled;
        std::uint16_t expected;
    };
    const Row rows[] = {
        {0, 0, 0, 0, false, 0x0000},  // nothing to do
        {5, 5, 0, 0, false, 0x0000},  // all stored
        {5, 3, 2, 0, false, 0xB000},  // some failed
        {5, 4, 0, 1, false, 0xB000},  // a warning sub-operation
        {5, 0, 5, 0, false, 0xA702},  // all failed
        {5, 0, 0, 5, false, 0xB000},  // all warnings
        {5, 2, 0, 0, true, 0xFE00},   // cancelled
        {5, 2, 0, 0, false, 0xB000},  // stream ended early: remaining count as not done
    };
    for (const auto& r : rows) {
        SubOperationCounts c{r.planned, r.completed, r.failed, r.warning};
        BOOST_TEST(retrieveFinalStatus(c, r.cancelled) == r.expected);
    }
}

BOOST_AUTO_TEST_CASE(remaining_never_negative) {
    SubOperationCounts c{2, 2, 1, 0};
    BOOST_TEST(c.remaining() == 0u);
    SubOperationCounts d{10, 3, 1, 1};
    BOOST_TEST(d.remaining() == 5u);
}

BOOST_AUTO_TEST_CASE(error_comment_is_a_valid_lo) {
    std::string longText(100, 'x');
    BOOST_TEST(errorComment(longText).size() == 64u);
    BOOST_TEST(errorComment("a\\b\nc") == "a b c");
    BOOST_TEST(truncationComment(10000) == "more than 10000 matches; narrow the query");
}

BOOST_AUTO_TEST_CASE(incomplete_comment_fits_lo_and_names_the_progress) {
    struct Case {
        const char* note;
        const char* comment;
    };
    const Case cases[] = {
        {"catalog harvest in progress: 37 of 135 collections; results may be incomplete",
         "harvest in progress: 37 of 135 collections; results incomplete"},
        {"catalog harvest in progress: 0 of 5 collections (series level); results may be incomplete",
         "harvest in progress: 0 of 5 collections; results incomplete"},
        {"catalog harvest in progress: 1234 of 99999 collections; results may be incomplete",
         "harvest in progress: 1234 of 99999 collections; results incomple"},  // cut at 64
    };
    for (const auto& c : cases) {
        BOOST_TEST(incompleteComment(c.note) == c.comment);
        BOOST_TEST(incompleteComment(c.note).size() <= 64u);
    }
}

BOOST_AUTO_TEST_SUITE_END()
