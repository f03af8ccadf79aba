// A JSON answer cut by the connection (the emulator's "truncate" fault on a search endpoint:
// half the chunked body, then a reset) is a failed attempt, retried -- never a short or empty
// result. Before the fix, istream swallowed the read error and libstdc++ reported 0 bytes: an
// empty body, which TCIA uses for "no results" (API.md 2.3), so a harvest stored the collection
// as empty and marked it harvested (issue 9, tests/protocol/catalog/HarvestFaultsTest.cpp).
#include <boost/test/unit_test.hpp>

#include "TciaTestHelpers.h"
#include "bridge/common/Error.h"
#include "bridge/tcia/TciaClient.h"

using namespace bridge;
using namespace bridge::tcia;
using namespace bridge::test;

namespace {
const SeriesFilter kCtSeries{"TCGA-DEMO-CT", "", "", "", "", "", "", ""};
}

BOOST_AUTO_TEST_SUITE(CutBody)

BOOST_AUTO_TEST_CASE(a_cut_json_answer_is_retried_not_taken_as_short) {
    std::size_t whole = 0;
    {
        EmulatorProcess clean({"--quiet"});
        whole = TciaClient(fastSettings(clean)).series(kCtSeries, RequestContext()).size();
    }
    BOOST_REQUIRE(whole > 1u);
    EmulatorProcess emulator({"--quiet", "--fault", "getSeries:truncate:1"});
    TciaClient client(fastSettings(emulator));
    BOOST_TEST(client.series(kCtSeries, RequestContext()).size() == whole);
    BOOST_TEST(endpointCount(emulator, "getSeries") == 2);
}

BOOST_AUTO_TEST_CASE(an_answer_cut_on_every_attempt_is_an_error_not_an_empty_result) {
    EmulatorProcess emulator({"--quiet", "--fault", "getSeries:truncate:50"});
    TciaClient client(fastSettings(emulator));
    BOOST_CHECK_THROW(client.series(kCtSeries, RequestContext()), BridgeError);
}

BOOST_AUTO_TEST_SUITE_END()
