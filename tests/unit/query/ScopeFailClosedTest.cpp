// Issue 9: the collection scope fails closed. Finding 10a: a record with an empty Collection
// passed every scope (CollectionScope::allows("") was true). Finding 1: visibility is decided
// by what TCIA lists anonymously plus the caller's grants, so a collection that no comparison
// ever marked restricted (stale or foreign cache) is still hidden from the ungranted.
#include "InMemoryMetadataSource.h"

#include "bridge/query/AccessPolicy.h"
#include "bridge/query/Query.h"

#include <boost/test/unit_test.hpp>

using namespace bridge;

BOOST_AUTO_TEST_SUITE(ScopeFailClosed)

BOOST_AUTO_TEST_CASE(empty_collection_passes_only_an_unrestricted_scope) {
    struct Row {
        CollectionScope scope;
        bool allowsEmpty;
    };
    CollectionScope denied;
    denied.denied = {"Secret-Trial"};
    CollectionScope only;
    only.only = std::set<std::string>{"LIDC-IDRI"};
    CollectionScope visible;
    visible.visible = std::set<std::string>{"LIDC-IDRI"};
    const std::vector<Row> rows{{CollectionScope{}, true}, {denied, false}, {only, false}, {visible, false}};
    for (const auto& row : rows) {
        BOOST_TEST(row.scope.allows("") == row.allowsEmpty);
        BOOST_TEST(row.scope.allows("   ") == row.allowsEmpty);
    }
}

BOOST_AUTO_TEST_CASE(visible_set_hides_everything_else_case_insensitively) {
    CollectionScope s;
    s.visible = std::set<std::string>{"LIDC-IDRI", "Secret-Trial"};
    s.denied = {"secret-trial"};
    BOOST_TEST(s.allows("lidc-idri "));
    BOOST_TEST(!s.allows("Secret-Trial"));   // denied wins
    BOOST_TEST(!s.allows("Never-Listed"));   // not public, not granted
}

BOOST_AUTO_TEST_CASE(policy_shows_public_plus_granted_and_nothing_unlisted) {
    auto tcia = test::makeSampleTcia();
    tcia.restricted.clear();  // as if no comparison ever marked anything (the stale-cache case)
    tcia.publicList = std::set<std::string>{"LIDC-IDRI", "RIDER Lung CT", "CPTAC-LUAD"};
    Config c;
    c.dimse.aeTitle = "TCIA";
    c.access.grantsByAet["Secret-Trial"] = {"RESEARCH_PACS"};
    c.access.grantsByToken["Secret-Trial"] = {"token-123"};
    AccessPolicy policy(c, tcia);

    for (const auto& scope : {policy.forHttp(std::nullopt), policy.forHttp(std::string("wrong")),
                              policy.forDimse("SOME_PACS", "TCIA")}) {
        BOOST_TEST(scope.allows("LIDC-IDRI"));
        BOOST_TEST(!scope.allows("Secret-Trial"));
        BOOST_TEST(!scope.allows(""));
    }
    for (const auto& scope : {policy.forHttp(std::string("token-123")), policy.forDimse("RESEARCH_PACS", "TCIA")}) {
        BOOST_TEST(scope.allows("LIDC-IDRI"));
        BOOST_TEST(scope.allows("Secret-Trial"));
    }
}

BOOST_AUTO_TEST_CASE(source_that_cannot_tell_keeps_the_denied_list_semantics) {
    auto tcia = test::makeSampleTcia();  // restricts Secret-Trial, publicList unset
    AccessPolicy policy(Config{}, tcia);
    const auto scope = policy.forHttp(std::nullopt);
    BOOST_TEST(!scope.visible.has_value());
    BOOST_TEST(scope.allows("LIDC-IDRI"));
    BOOST_TEST(!scope.allows("Secret-Trial"));
}

BOOST_AUTO_TEST_SUITE_END()
