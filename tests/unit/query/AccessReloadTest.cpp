// AccessPolicy::reload (SIGHUP): new grants apply to the next scope computed; scopes already
// computed stay as they were.
#include "InMemoryMetadataSource.h"

#include "bridge/query/AccessPolicy.h"

#include <boost/test/unit_test.hpp>

using namespace bridge;

BOOST_AUTO_TEST_SUITE(AccessReload)

BOOST_AUTO_TEST_CASE(reload_grants_and_revokes) {
    auto tcia = test::makeSampleTcia();  // restricts "Secret-Trial"
    Config c;
    c.dimse.aeTitle = "TCIA";
    c.access.grantsByAet["Secret-Trial"] = {"OLD_PACS"};
    AccessPolicy policy(c, tcia);
    const auto before = policy.forDimse("OLD_PACS", "TCIA");
    BOOST_TEST(before.allows("Secret-Trial"));
    BOOST_TEST(!policy.forDimse("NEW_PACS", "TCIA").allows("Secret-Trial"));
    BOOST_TEST(!policy.forHttp(std::string("tok")).allows("Secret-Trial"));

    AccessSettings fresh;
    fresh.grantsByAet["Secret-Trial"] = {"NEW_PACS"};
    fresh.grantsByToken["secret-trial"] = {"tok"};
    fresh.restrictedCollections = {"Extra-Restricted"};
    policy.reload(fresh);
    BOOST_TEST(policy.forDimse("NEW_PACS", "TCIA").allows("Secret-Trial"));
    BOOST_TEST(!policy.forDimse("OLD_PACS", "TCIA").allows("Secret-Trial"));  // revoked
    BOOST_TEST(policy.forHttp(std::string("tok")).allows("Secret-Trial"));
    BOOST_TEST(!policy.forHttp(std::nullopt).allows("Extra-Restricted"));
    BOOST_TEST(before.allows("Secret-Trial"));  // a scope already handed out is a value
}

BOOST_AUTO_TEST_SUITE_END()
