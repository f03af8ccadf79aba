#include "InMemoryMetadataSource.h"

#include "bridge/query/AccessPolicy.h"

#include <boost/test/unit_test.hpp>

using namespace bridge;

namespace {

Config sampleConfig() {
    Config c;
    c.dimse.aeTitle = "TCIA";
    c.dimse.collectionAets["LIDC"] = {"LIDC-IDRI"};
    c.dimse.collectionAets["SECRET"] = {"Secret-Trial"};
    c.access.restrictedCollections = {"Config-Restricted"};
    c.access.grantsByAet["secret-trial"] = {"RESEARCH_PACS"};
    c.access.grantsByToken["Secret-Trial"] = {"token-123"};
    c.access.grantsByToken["Config-Restricted"] = {"token-456"};
    return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(AccessPolicyTests)

BOOST_AUTO_TEST_CASE(dimse_main_ae_denies_ungranted_restricted_collections) {
    auto tcia = test::makeSampleTcia();  // restricts "Secret-Trial"
    AccessPolicy policy(sampleConfig(), tcia);
    const auto scope = policy.forDimse("SOME_PACS", "TCIA");
    BOOST_TEST(!scope.only);
    BOOST_TEST(!scope.allows("Secret-Trial"));
    BOOST_TEST(!scope.allows("Config-Restricted"));
    BOOST_TEST(scope.allows("LIDC-IDRI"));
}

BOOST_AUTO_TEST_CASE(dimse_grant_by_calling_ae_with_padding) {
    auto tcia = test::makeSampleTcia();
    AccessPolicy policy(sampleConfig(), tcia);
    const auto scope = policy.forDimse("RESEARCH_PACS  ", "TCIA ");
    BOOST_TEST(scope.allows("Secret-Trial"));
    BOOST_TEST(!scope.allows("Config-Restricted"));
    BOOST_TEST(!policy.forDimse("research_pacs", "TCIA").allows("Secret-Trial"));  // AE titles are case-sensitive
    // ... collection names are not: the grant names "secret-trial", TCIA says "Secret-Trial".
    BOOST_TEST(policy.forDimse("RESEARCH_PACS", "TCIA").allows("Secret-Trial"));
}

BOOST_AUTO_TEST_CASE(dimse_collection_ae_limits_scope) {
    auto tcia = test::makeSampleTcia();
    AccessPolicy policy(sampleConfig(), tcia);
    const auto lidc = policy.forDimse("SOME_PACS", "LIDC");
    BOOST_REQUIRE(lidc.only);
    BOOST_TEST(lidc.allows("LIDC-IDRI"));
    BOOST_TEST(!lidc.allows("RIDER Lung CT"));
    // A collection AE for a restricted collection still needs the grant.
    BOOST_TEST(!policy.forDimse("SOME_PACS", "SECRET").allows("Secret-Trial"));
    BOOST_TEST(policy.forDimse("RESEARCH_PACS", "SECRET").allows("Secret-Trial"));
}

BOOST_AUTO_TEST_CASE(http_tokens) {
    auto tcia = test::makeSampleTcia();
    AccessPolicy policy(sampleConfig(), tcia);
    BOOST_TEST(!policy.forHttp(std::nullopt).allows("Secret-Trial"));
    BOOST_TEST(!policy.forHttp(std::string("")).allows("Secret-Trial"));
    BOOST_TEST(!policy.forHttp(std::string("wrong")).allows("Secret-Trial"));
    const auto granted = policy.forHttp(std::string("token-123"));
    BOOST_TEST(granted.allows("Secret-Trial"));
    BOOST_TEST(!granted.allows("Config-Restricted"));
    BOOST_TEST(granted.allows("LIDC-IDRI"));
    BOOST_TEST(!granted.only);
}

BOOST_AUTO_TEST_CASE(known_called_aets) {
    auto tcia = test::makeSampleTcia();
    AccessPolicy policy(sampleConfig(), tcia);
    BOOST_TEST(policy.isKnownCalledAet("TCIA"));
    BOOST_TEST(policy.isKnownCalledAet("TCIA    "));
    BOOST_TEST(policy.isKnownCalledAet("LIDC"));
    BOOST_TEST(!policy.isKnownCalledAet("ORTHANC"));
}

BOOST_AUTO_TEST_SUITE_END()
