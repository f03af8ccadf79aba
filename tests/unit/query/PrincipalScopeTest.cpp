// AccessPolicy::forPrincipal: the scope of an authenticated HTTP principal (grants from the auth
// config, an optional only-limit) on the same code path as forHttp (access.grantsByToken).
#include <boost/test/unit_test.hpp>

#include "InMemoryMetadataSource.h"
#include "bridge/query/AccessPolicy.h"

using namespace bridge;

BOOST_AUTO_TEST_SUITE(PrincipalScope)

BOOST_AUTO_TEST_CASE(grants_only_and_legacy_token_grants) {
    auto tcia = test::makeSampleTcia();  // restricts "Secret-Trial"
    Config c;
    c.access.restrictedCollections = {"Config-Restricted"};
    c.access.grantsByToken["Config-Restricted"] = {"token-456"};
    AccessPolicy policy(c, tcia);

    HttpPrincipal anonymous;
    BOOST_TEST(!policy.forPrincipal(anonymous).allows("Secret-Trial"));
    BOOST_TEST(policy.forPrincipal(anonymous).allows("LIDC-IDRI"));

    HttpPrincipal researcher;
    researcher.name = "researcher";
    researcher.grants = {"secret-trial"};  // collection names compare case-insensitively
    const auto r = policy.forPrincipal(researcher);
    BOOST_TEST(r.allows("Secret-Trial"));
    BOOST_TEST(!r.allows("Config-Restricted"));
    BOOST_TEST(!r.only);

    HttpPrincipal limited = researcher;
    limited.only = std::set<std::string>{"LIDC-IDRI"};
    const auto l = policy.forPrincipal(limited);
    BOOST_TEST(l.allows("LIDC-IDRI"));
    BOOST_TEST(!l.allows("Secret-Trial"));  // granted, but outside its only-limit
    BOOST_TEST(!l.allows("RIDER Lung CT"));

    // An authenticated principal presenting a grantsByToken token gets that grant too; forHttp
    // is the same decision for an anonymous caller with that token.
    HttpPrincipal withToken;
    withToken.name = "ci";
    withToken.bearerToken = "token-456";
    BOOST_TEST(policy.forPrincipal(withToken).allows("Config-Restricted"));
    BOOST_TEST(policy.forHttp(std::string("token-456")).allows("Config-Restricted"));
    BOOST_TEST(!policy.forHttp(std::string("token-456")).allows("Secret-Trial"));
}

BOOST_AUTO_TEST_SUITE_END()
