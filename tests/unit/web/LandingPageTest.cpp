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

BOOST_AUTO_TEST_CASE(idc_source_cites_idc_and_marks_non_commercial_licences) {
    std::vector<CollectionInfo> c{{"CPTAC-SAR", "CC BY-NC 4.0", "https://creativecommons.org/licenses/by-nc/4.0/", "https://doi.org/x"},
                                  {"LIDC-IDRI", "CC BY 3.0", "https://creativecommons.org/licenses/by/3.0/", "https://doi.org/y"}};
    const auto nbia = renderLandingHtml(c, "http://h/dicom-web");
    const auto idc = renderLandingHtml(c, "http://h/dicom-web", true);
    BOOST_TEST(nbia.find("rg.230180") == std::string::npos);
    BOOST_TEST(idc.find("https://doi.org/10.1148/rg.230180") != std::string::npos);
    BOOST_TEST(idc.find(kTciaDataUsagePolicyUrl) != std::string::npos);  // TCIA's terms still apply
    // Exactly one row (the BY-NC one) is marked, on either source.
    for (const auto* page : {&nbia, &idc}) {
        const auto first = page->find("(non-commercial use only)");
        BOOST_TEST(first != std::string::npos);
        BOOST_TEST(page->find("(non-commercial use only)", first + 1) == std::string::npos);
        BOOST_TEST(first < page->find("LIDC-IDRI"));
    }
    Poco::JSON::Parser parser;
    auto obj = parser.parse(renderCollectionsJson(c, "http://h/dicom-web", true)).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(obj->getValue<std::string>("source") == "idc");
    BOOST_TEST(obj->getValue<std::string>("idcCitation").find("rg.230180") != std::string::npos);
    BOOST_TEST(obj->getArray("collections")->getObject(0)->getValue<bool>("nonCommercial"));
    BOOST_TEST(!obj->getArray("collections")->getObject(1)->getValue<bool>("nonCommercial"));
    const struct {
        const char* name;
        bool nc;
    } cases[] = {{"CC BY-NC 4.0", true}, {"CC BY-NC-SA 3.0", true}, {"cc by-nc 3.0", true}, {"CC BY 4.0", false},
                 {"", false}, {"Custom non-commercial license", true}};
    for (const auto& k : cases) BOOST_TEST(isNonCommercialLicence(k.name) == k.nc, k.name);
}

BOOST_AUTO_TEST_SUITE_END()
