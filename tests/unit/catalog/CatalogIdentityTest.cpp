// Issue 9: cached TCIA answers are keyed by the identity of the credentials that fetched them
// (finding 1), and query_cache is bounded (finding 6: one request left 302 rows).
#include "FakeTciaApi.h"
#include "bridge/catalog/Catalog.h"
#include "tests/support/TestSupport.h"

#include <boost/test/unit_test.hpp>

using namespace bridge;

namespace {

struct Fixture {
    test::TempDir dir;
    test::FakeTciaApi anonymousView;  // what TCIA shows without a token
    test::FakeTciaApi tokenView;      // ... and with one: one more collection
    std::int64_t clock = 1'700'000'000;
    CatalogSettings settings;
    CacheSettings cache;

    Fixture() {
        tokenView.generate(3, 3, 2);
        anonymousView.collectionNames = {"COLL-0", "Coll-1"};
        tokenView.collectionNames = {"COLL-0", "Coll-1", "COLL-2"};
        settings.ttl = std::chrono::seconds(3600);
        cache.directory = dir.path();
    }
    std::unique_ptr<Catalog> open(tcia::TciaApi& api) {
        auto c = std::make_unique<Catalog>(settings, cache, api);
        c->setClock([this] { return clock; });
        return c;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(CatalogIdentity)

BOOST_AUTO_TEST_CASE(an_anonymous_list_in_the_cache_never_answers_for_the_token) {
    Fixture f;
    {
        auto anonymous = f.open(f.anonymousView);
        anonymous->setIdentity("anonymous");
        BOOST_TEST(anonymous->collections(RequestContext()).size() == 2u);
    }
    auto credentialed = f.open(f.tokenView);
    credentialed->setIdentity("token:test");
    auto anonymousApi = std::make_shared<test::FakeTciaApi>();
    anonymousApi->collectionNames = f.anonymousView.collectionNames;
    credentialed->setAnonymousApi(anonymousApi);
    // Within TTL of the anonymous run, yet asked again with the token.
    BOOST_TEST(credentialed->collections(RequestContext()) == (std::vector<std::string>{"COLL-0", "COLL-2", "Coll-1"}));
    BOOST_TEST(f.tokenView.calls("collections") == 1);
    BOOST_TEST(credentialed->restrictedCollections(RequestContext()) == std::set<std::string>{"COLL-2"});
    BOOST_TEST(*credentialed->publicCollections(RequestContext()) == (std::set<std::string>{"COLL-0", "Coll-1"}));
    // The anonymous list the first run stored is the anonymous identity's: reused, not refetched.
    BOOST_TEST(anonymousApi->calls("collections") == 0);
}

BOOST_AUTO_TEST_CASE(lazy_fill_answers_are_not_shared_across_identities) {
    Fixture f;
    tcia::SeriesFilter restricted;
    restricted.collection = "COLL-2";
    {
        auto anonymous = f.open(f.anonymousView);  // has no rows: TCIA shows nothing anonymously
        anonymous->setIdentity("anonymous");
        BOOST_TEST(anonymous->series(restricted, RequestContext()).empty());
    }
    auto credentialed = f.open(f.tokenView);
    credentialed->setIdentity("token:test");
    BOOST_TEST(!credentialed->series(restricted, RequestContext()).empty());  // asked TCIA with the token
    BOOST_TEST(f.tokenView.calls("series") == 1);
}

BOOST_AUTO_TEST_CASE(public_collections_fail_closed_before_any_anonymous_list) {
    Fixture f;
    auto credentialed = f.open(f.tokenView);
    credentialed->setIdentity("token:test");
    BOOST_TEST(!credentialed->publicCollections(RequestContext()).has_value());  // no anonymous API: cannot tell
    auto down = std::make_shared<test::FakeTciaApi>();
    down->hook = [](const std::string&, const std::string&) { throw BridgeError(ErrorCode::UpstreamUnavailable, "down"); };
    credentialed->setAnonymousApi(down);
    BOOST_CHECK_THROW(credentialed->publicCollections(RequestContext()), BridgeError);
}

BOOST_AUTO_TEST_CASE(query_cache_rows_are_bounded) {
    Fixture f;
    f.settings.maxCachedCalls = 5;
    auto catalog = f.open(f.tokenView);
    for (int i = 0; i < 30; ++i) {
        f.clock += 1;  // answers a second apart: "oldest" is well defined
        tcia::PatientFilter p;
        p.patientId = "NOBODY-" + std::to_string(i);
        catalog->patients(p, RequestContext());
        BOOST_TEST(catalog->counts().cachedCalls <= 5);
    }
    BOOST_TEST(catalog->counts().cachedCalls == 5);
    // The newest answers stay: the last call is still answered locally.
    const int before = f.tokenView.calls("patients");
    tcia::PatientFilter last;
    last.patientId = "NOBODY-29";
    catalog->patients(last, RequestContext());
    BOOST_TEST(f.tokenView.calls("patients") == before);
    // Expired rows go first.
    f.clock += 3601;
    tcia::PatientFilter fresh;
    fresh.patientId = "SOMEONE";
    catalog->patients(fresh, RequestContext());
    BOOST_TEST(catalog->counts().cachedCalls == 1);
}

BOOST_AUTO_TEST_SUITE_END()
