#include "web/LandingPage.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>

using namespace bridge::web;

BOOST_AUTO_TEST_SUITE(LandingPageTest)

BOOST_AUTO_TEST_CASE(html_lists_license_citation_and_policy) {
    std::vector<CollectionInfo> c{{"LIDC-IDRI", "CC BY 3.0", "https://creativecommons.org/licenses/by/3.0/", "https://doi.org/10.7937/K9/TCIA.2015.LO9QL9SX"},
                                  {"<script>x</script>", "", "javascript:alert(1)", ""}};
    auto page = renderLandingHtml(c, "http://h/dicom-web");
    BOOST_TEST(page.find("<a href=\"https://creativecommons.org/licenses/by/3.0/\">CC BY 3.0</a>") != std::string::npos);
    BOOST_TEST(page.find("https://doi.org/10.7937/K9/TCIA.2015.LO9QL9SX") != std::string::npos);
    BOOST_TEST(page.find(kTciaDataUsagePolicyUrl) != std::string::npos);
    BOOST_TEST(page.find("<script>") == std::string::npos);           // names are escaped
    BOOST_TEST(page.find("&lt;script&gt;") != std::string::npos);
    BOOST_TEST(page.find("href=\"javascript:") == std::string::npos);  // only http(s) links
    BOOST_TEST(renderLandingHtml({}, "x").find("No collections") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_twin) {
    std::vector<CollectionInfo> c{{"A \"quoted\" name", "L", "https://l", "https://doi.org/x"}};
    Poco::JSON::Parser parser;
    auto obj = parser.parse(renderCollectionsJson(c, "http://h/dicom-web")).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(obj->getValue<std::string>("dataUsagePolicy") == kTciaDataUsagePolicyUrl);
    auto first = obj->getArray("collections")->getObject(0);
    BOOST_TEST(first->getValue<std::string>("name") == "A \"quoted\" name");
    BOOST_TEST(first->getValue<std::string>("dataDescriptionURI") == "https://doi.org/x");
}

BOOST_AUTO_TEST_SUITE_END()
