#include "bridge/common/Error.h"
#include "web/WebRoute.h"

#include <boost/test/unit_test.hpp>

using namespace bridge;
using namespace bridge::web;
using Kind = WebRoute::Kind;

BOOST_AUTO_TEST_SUITE(WebRouteTest)

BOOST_AUTO_TEST_CASE(table) {
    struct Row {
        std::string path;
        Kind kind;
        QueryLevel level;
        std::string study, series, sop;
    };
    const Row rows[] = {
        {"/studies", Kind::Search, QueryLevel::Study, "", "", ""},
        {"/series", Kind::Search, QueryLevel::Series, "", "", ""},
        {"/instances", Kind::Search, QueryLevel::Image, "", "", ""},
        {"/studies/1.2/series", Kind::Search, QueryLevel::Series, "1.2", "", ""},
        {"/studies/1.2/instances", Kind::Search, QueryLevel::Image, "1.2", "", ""},
        {"/studies/1.2/series/3.4/instances", Kind::Search, QueryLevel::Image, "1.2", "3.4", ""},
        {"/studies/1.2", Kind::Retrieve, QueryLevel::Study, "1.2", "", ""},
        {"/studies/1.2/series/3.4", Kind::Retrieve, QueryLevel::Series, "1.2", "3.4", ""},
        {"/studies/1.2/series/3.4/instances/5.6", Kind::Retrieve, QueryLevel::Image, "1.2", "3.4", "5.6"},
        {"/studies/1.2/metadata", Kind::Metadata, QueryLevel::Study, "1.2", "", ""},
        {"/studies/1.2/series/3.4/metadata", Kind::Metadata, QueryLevel::Series, "1.2", "3.4", ""},
        {"/studies/1.2/series/3.4/instances/5.6/metadata", Kind::Metadata, QueryLevel::Image, "1.2", "3.4", "5.6"},
        {"/studies/1.2/series/3.4/instances/5.6/frames/1,3", Kind::Frames, QueryLevel::Image, "1.2", "3.4", "5.6"},
        {"/studies/1.2/series/3.4/instances/5.6/frames/2/rendered", Kind::Rendered, QueryLevel::Image, "1.2", "3.4", "5.6"},
        {"/studies/1.2/series/3.4/thumbnail", Kind::Thumbnail, QueryLevel::Series, "1.2", "3.4", ""},
        {"/studies/1.2/rendered", Kind::Rendered, QueryLevel::Study, "1.2", "", ""},
        {"/studies/1.2/series/3.4/instances/5.6/bulkdata/7fe00010", Kind::BulkData, QueryLevel::Image, "1.2", "3.4", "5.6"},
        {"/studies/1.2/series/3.4/instances/5.6/", Kind::Retrieve, QueryLevel::Image, "1.2", "3.4", "5.6"},
    };
    for (const auto& row : rows) {
        auto r = parseWebRoute(row.path);
        BOOST_REQUIRE_MESSAGE(r.has_value(), row.path);
        BOOST_TEST((r->kind == row.kind), row.path);
        BOOST_TEST((r->level == row.level), row.path);
        BOOST_TEST(r->studyInstanceUid == row.study);
        BOOST_TEST(r->seriesInstanceUid == row.series);
        BOOST_TEST(r->sopInstanceUid == row.sop);
    }
    BOOST_TEST((parseWebRoute("/studies/1.2/series/3.4/instances/5.6/frames/1,3")->frames == std::vector<int>{1, 3}));
    BOOST_TEST(parseWebRoute("/studies/1.2/series/3.4/instances/5.6/bulkdata/7fe00010")->bulkDataTag == "7FE00010");
}

BOOST_AUTO_TEST_CASE(not_routes) {
    for (std::string p : {"/", "/patients", "/studies/1.2/foo", "/studies/1.2/series/3.4/bar/5", "/workitems"})
        BOOST_TEST(!parseWebRoute(p).has_value(), p);
}

BOOST_AUTO_TEST_CASE(malformed) {
    for (std::string p : {"/studies/1.2/series/3.4/instances/5.6/frames/0", "/studies/1.2/series/3.4/instances/5.6/frames/a",
                          "/studies/1.2/series/3.4/instances/5.6/frames/1,,2", "/studies/abc", "/studies/1.2/series/x y",
                          "/studies/1.2/series/3.4/instances/5.6/bulkdata/xyz"})
        BOOST_CHECK_THROW(parseWebRoute(p), BridgeError);
}

BOOST_AUTO_TEST_SUITE_END()
