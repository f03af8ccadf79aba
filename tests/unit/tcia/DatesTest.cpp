// Table-driven tests of the TCIA <-> DICOM DA date functions (bridge/common/Dates.h).
#include <boost/test/unit_test.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bridge/common/Dates.h"
#include "bridge/common/Error.h"

using namespace bridge;

BOOST_AUTO_TEST_SUITE(Dates)

BOOST_AUTO_TEST_CASE(toDicomDateAcceptsEveryTciaSpelling) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"06-19-1990", "19900619"},             // v4 MM-dd-yyyy
        {"2014-11-06 00:00:00.0", "20141106"},  // v1 timestamp
        {"2011-11-08 08:08:01.0", "20111108"},
        {"2001-11-21", "20011121"},  // Bindaas
        {"20171120", "20171120"},    // already DA (swagger example)
        {"2010/08/16", "20100816"},  // v1 Date parameter
        {"  08-29-2017 ", "20170829"},
        {"02-29-2020", "20200229"},  // leap day
        {"2000-02-29", "20000229"},
        {"", ""},
        {"   ", ""},
        {"02-29-2019", ""},  // not a leap year
        {"13-01-2000", ""},
        {"2000-00-10", ""},
        {"2000-01-32", ""},
        {"yesterday", ""},
        {"2000-01-0a", ""},
        {"1990619", ""},
        {"2000-01-01X", ""},
        {"19900619 ", "19900619"},
    };
    for (const auto& [in, expected] : cases) BOOST_TEST(toDicomDate(in) == expected, "input '" << in << "'");
}

BOOST_AUTO_TEST_CASE(formattersProduceEachVersionsParameterFormat) {
    BOOST_TEST(formatV1NewDate("20100816") == "2010/08/16");
    BOOST_TEST(formatV1UpdatedDate("20100816") == "16/08/2010");
    BOOST_TEST(formatV4Date("20100816") == "08-16-2010");
    BOOST_TEST(formatV4Date("2010-08-16") == "08-16-2010");  // any accepted spelling
    BOOST_TEST(formatV1NewDate("08-16-2010") == "2010/08/16");
}

BOOST_AUTO_TEST_CASE(formattersRejectInvalidDates) {
    for (const char* bad : {"", "2010-13-01", "abc", "20100230"}) {
        BOOST_CHECK_EXCEPTION(formatV4Date(bad), BridgeError,
                              [](const BridgeError& e) { return e.code() == ErrorCode::InvalidArgument; });
        BOOST_CHECK_THROW(formatV1NewDate(bad), BridgeError);
        BOOST_CHECK_THROW(formatV1UpdatedDate(bad), BridgeError);
    }
}

BOOST_AUTO_TEST_SUITE_END()
