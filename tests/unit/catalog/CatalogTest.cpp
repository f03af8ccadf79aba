// Lazy fill, TTL, upsert idempotence, harvested answers, restricted collections and the
// incremental refresh of the catalog, against the in-memory FakeTciaApi.
#include "CatalogFixture.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

using namespace bridge;
using test::seriesOf;

namespace {

using Fixture = test::CatalogFixture;

}  // namespace

BOOST_AUTO_TEST_SUITE(CatalogLazyFill)

BOOST_AUTO_TEST_CASE(same_call_within_ttl_is_answered_locally) {
    Fixture f;
    const auto first = f.catalog->series(seriesOf("coll-1"), RequestContext());
    BOOST_TEST(f.fake.calls("series") == 1);
    BOOST_TEST(!first.empty());
    f.clock += 3599;
    const auto second = f.catalog->series(seriesOf("COLL-1 "), RequestContext());  // case and padding do not matter
    BOOST_TEST(f.fake.calls("series") == 1);
    BOOST_REQUIRE_EQUAL(second.size(), first.size());
    // Every field survives the round trip through the database, optionals included.
    auto byUid = [](std::vector<tcia::SeriesRecord> v) {
        std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.seriesInstanceUid < b.seriesInstanceUid; });
        return v;
    };
    const auto a = byUid(first), b = byUid(second);
    for (std::size_t i = 0; i < a.size(); ++i) {
        BOOST_TEST(a[i].seriesInstanceUid == b[i].seriesInstanceUid);
        BOOST_TEST(a[i].modality == b[i].modality);
        BOOST_TEST(a[i].imageCount.value() == b[i].imageCount.value());
        BOOST_TEST(!b[i].fileSize.has_value());
        BOOST_TEST(!b[i].annotationsFlag.has_value());
        BOOST_TEST(a[i].dataDescriptionUri == b[i].dataDescriptionUri);
    }
}

BOOST_AUTO_TEST_CASE(after_ttl_tcia_is_asked_again_and_rows_are_not_duplicated) {
    Fixture f;
    const auto first = f.catalog->studies({"Coll-1", "", ""}, RequestContext());
    f.clock += 3601;
    const auto second = f.catalog->studies({"Coll-1", "", ""}, RequestContext());
    BOOST_TEST(f.fake.calls("studies") == 2);
    BOOST_TEST(second.size() == first.size());
    BOOST_TEST(f.catalog->counts().studies == static_cast<std::int64_t>(first.size()));
    // A changed value upserts in place.
    for (auto& s : f.fake.studyRows)
        if (s.collection == "Coll-1") s.studyDescription = "CHANGED";
    f.clock += 3601;
    f.catalog->studies({"Coll-1", "", ""}, RequestContext());
    f.clock += 10;
    for (const auto& s : f.catalog->studies({"Coll-1", "", ""}, RequestContext())) BOOST_TEST(s.studyDescription == "CHANGED");
    BOOST_TEST(f.fake.calls("studies") == 3);
    BOOST_TEST(f.catalog->counts().studies == static_cast<std::int64_t>(first.size()));
}

BOOST_AUTO_TEST_CASE(the_cache_survives_reopening_the_database) {
    Fixture f;
    f.catalog->patients({"COLL-0", ""}, RequestContext());
    f.catalog->sopInstanceUids("1.2.3.1.1", RequestContext());
    f.open();
    f.catalog->patients({"COLL-0", ""}, RequestContext());
    f.catalog->sopInstanceUids("1.2.3.1.1", RequestContext());
    BOOST_TEST(f.fake.calls("patients") == 1);
    BOOST_TEST(f.fake.calls("sop") == 1);
}

BOOST_AUTO_TEST_CASE(sop_instance_uids_keep_their_order) {
    Fixture f;
    f.fake.sops["1.2.3.1.1"] = {"9.9.3", "9.9.1", "9.9.2"};
    const auto first = f.catalog->sopInstanceUids("1.2.3.1.1", RequestContext());
    const auto second = f.catalog->sopInstanceUids("1.2.3.1.1", RequestContext());
    BOOST_TEST(first == f.fake.sops["1.2.3.1.1"]);
    BOOST_TEST(second == first);
    BOOST_TEST(f.fake.calls("sop") == 1);
    f.clock += 4000;
    f.fake.sops["1.2.3.1.1"] = {"9.9.1"};
    BOOST_TEST(f.catalog->sopInstanceUids("1.2.3.1.1", RequestContext()) == std::vector<std::string>{"9.9.1"});
    BOOST_TEST(f.catalog->counts().sopInstances == 1);
}

BOOST_AUTO_TEST_CASE(zero_ttl_always_asks_tcia) {
    Fixture f;
    f.settings.ttl = std::chrono::seconds(0);
    f.open();
    f.catalog->collections(RequestContext());
    f.catalog->collections(RequestContext());
    BOOST_TEST(f.fake.calls("collections") == 2);
}

BOOST_AUTO_TEST_CASE(tcia_errors_pass_through_and_store_nothing) {
    Fixture f;
    f.fake.hook = [](const std::string&, const std::string&) {
        throw BridgeError(ErrorCode::UpstreamUnavailable, "TCIA down");
    };
    BOOST_CHECK_EXCEPTION(f.catalog->series(seriesOf("COLL-0"), RequestContext()), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::UpstreamUnavailable; });
    BOOST_TEST(f.catalog->counts().cachedCalls == 0);
}

BOOST_AUTO_TEST_CASE(concurrent_queries_are_safe) {
    Fixture f;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            try {
                for (int i = 0; i < 20; ++i) {
                    f.catalog->series(seriesOf(f.fake.collectionNames[(t + i) % 3]), RequestContext());
                    f.catalog->studies({"", "", "1.2.3." + std::to_string(1 + i)}, RequestContext());
                }
            } catch (...) {
                ++failures;
            }
        });
    for (auto& t : threads) t.join();
    BOOST_TEST(failures == 0);
    BOOST_TEST(f.catalog->counts().series == static_cast<std::int64_t>(f.fake.seriesRows.size()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(CatalogHarvest)

BOOST_AUTO_TEST_CASE(harvested_collection_answers_without_tcia_while_fresh) {
    Fixture f;
    f.harvest("COLL-0");
    const int before = f.fake.totalCalls();
    BOOST_TEST(!f.catalog->series(seriesOf("coll-0"), RequestContext()).empty());
    BOOST_TEST(!f.catalog->patients({"COLL-0", ""}, RequestContext()).empty());
    // A UID inside the harvested collection needs no collection filter.
    const auto& study = f.fake.studyRows.front();
    BOOST_REQUIRE(study.collection == "COLL-0");
    BOOST_TEST(f.catalog->studies({"", "", study.studyInstanceUid}, RequestContext()).size() == 1u);
    tcia::SeriesFilter byStudy;
    byStudy.studyInstanceUid = study.studyInstanceUid;
    BOOST_TEST(f.catalog->series(byStudy, RequestContext()).size() == static_cast<std::size_t>(*study.seriesCount));
    BOOST_TEST(f.fake.totalCalls() == before);
    // Another collection still goes to TCIA.
    f.catalog->series(seriesOf("Coll-1"), RequestContext());
    BOOST_TEST(f.fake.totalCalls() == before + 1);
    // After TTL without refresh, the harvest no longer short-cuts lazy calls.
    f.clock += 3601;
    f.catalog->series(seriesOf("coll-0"), RequestContext());
    BOOST_TEST(f.fake.totalCalls() == before + 2);
}

BOOST_AUTO_TEST_CASE(reharvest_replaces_rows) {
    Fixture f;
    f.harvest("COLL-0");
    f.harvest("COLL-0");
    std::int64_t expected = 0;
    for (const auto& s : f.fake.seriesRows) expected += s.collection == "COLL-0";
    BOOST_TEST(f.catalog->counts().series == expected);
    // A series TCIA withdrew disappears on the next harvest.
    f.fake.seriesRows.erase(std::find_if(f.fake.seriesRows.begin(), f.fake.seriesRows.end(),
                                         [](auto& s) { return s.collection == "COLL-0"; }));
    f.harvest("COLL-0");
    BOOST_TEST(f.catalog->counts().series == expected - 1);
    BOOST_TEST(f.catalog->isHarvested("coll-0"));
    BOOST_TEST(!f.catalog->isHarvested("Coll-1"));
}

BOOST_AUTO_TEST_CASE(all_collections_harvested_answers_any_filter) {
    Fixture f;
    f.catalog->collections(RequestContext());
    for (const auto& c : f.fake.collectionNames) f.harvest(c);
    const int before = f.fake.totalCalls();
    tcia::SeriesFilter byModality;
    byModality.modality = "ct";
    std::size_t expected = 0;
    for (const auto& s : f.fake.seriesRows) expected += test::upperAscii(s.modality) == "CT";
    BOOST_TEST(f.catalog->series(byModality, RequestContext()).size() == expected);
    BOOST_TEST(f.fake.totalCalls() == before);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(CatalogRestricted)

BOOST_AUTO_TEST_CASE(marked_and_compared_restrictions) {
    Fixture f;
    f.catalog->markRestricted("Secret-Trial");
    BOOST_TEST(f.catalog->restrictedCollections(RequestContext()) == std::set<std::string>{"Secret-Trial"});

    auto anonymous = std::make_shared<test::FakeTciaApi>();
    anonymous->collectionNames = {"COLL-0", "coll-2"};  // Coll-1 is visible only with the token
    f.catalog->setAnonymousApi(anonymous);
    BOOST_TEST(f.catalog->restrictedCollections(RequestContext()) == (std::set<std::string>{"Coll-1", "Secret-Trial"}));
    // Cached for TTL.
    f.catalog->restrictedCollections(RequestContext());
    BOOST_TEST(anonymous->calls("collections") == 1);
    // Recomputed after TTL: Coll-1 became public; the explicit mark stays.
    anonymous->collectionNames.push_back("Coll-1");
    f.clock += 3601;
    BOOST_TEST(f.catalog->restrictedCollections(RequestContext()) == std::set<std::string>{"Secret-Trial"});
    // TCIA down: the last comparison stays in force (here: nothing restricted by comparison).
    anonymous->collectionNames.pop_back();  // Coll-1 restricted again, but we cannot know
    anonymous->hook = [](const std::string&, const std::string&) {
        throw BridgeError(ErrorCode::UpstreamUnavailable, "down");
    };
    f.clock += 3601;
    BOOST_TEST(f.catalog->restrictedCollections(RequestContext()) == std::set<std::string>{"Secret-Trial"});
    anonymous->hook = nullptr;
    BOOST_TEST(f.catalog->restrictedCollections(RequestContext()) == (std::set<std::string>{"Coll-1", "Secret-Trial"}));
    f.catalog->markRestricted("secret-trial", false);
    BOOST_TEST(f.catalog->restrictedCollections(RequestContext()) == std::set<std::string>{"Coll-1"});
}

BOOST_AUTO_TEST_CASE(never_compared_and_tcia_down_fails_closed) {
    Fixture f;
    auto anonymous = std::make_shared<test::FakeTciaApi>();
    anonymous->hook = [](const std::string&, const std::string&) {
        throw BridgeError(ErrorCode::UpstreamUnavailable, "down");
    };
    f.catalog->setAnonymousApi(anonymous);
    BOOST_CHECK_EXCEPTION(f.catalog->restrictedCollections(RequestContext()), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::UpstreamUnavailable; });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(CatalogRefresh)

BOOST_AUTO_TEST_CASE(incremental_refresh_upserts_changes_and_invalidates) {
    Fixture f;
    for (auto& s : f.fake.seriesRows) s.dateReleased = "20231101";
    f.catalog->collections(RequestContext());
    for (const auto& c : f.fake.collectionNames) f.harvest(c);
    f.catalog->sopInstanceUids(f.fake.seriesRows.front().seriesInstanceUid, RequestContext());

    // Nothing released since: nothing changes, nothing is invalidated.
    f.clock += 600;
    auto r = f.catalog->refreshIncremental();
    BOOST_TEST(r.fromDate == "20231114");
    BOOST_TEST(r.series == 0u);
    BOOST_TEST(r.collections.empty());
    const auto cachedBefore = f.catalog->counts().cachedCalls;
    BOOST_TEST(cachedBefore >= 2);

    // A new series in Coll-1, released on the 15th.
    tcia::SeriesRecord added = f.fake.seriesRows.back();
    added.collection = "Coll-1";
    added.seriesInstanceUid = "1.2.3.999.1";
    added.dateReleased = "20231115";
    f.fake.seriesRows.push_back(added);
    f.clock += 86400;
    r = f.catalog->refreshIncremental();
    BOOST_TEST(r.fromDate == "20231114");
    BOOST_TEST(r.series == 1u);
    BOOST_TEST(r.collections == std::set<std::string>{"Coll-1"});
    BOOST_TEST(f.fake.calls("newPatients") == 1);
    BOOST_TEST(f.fake.calls("newStudies") == 1);
    // Calls not tied to a collection (collection list, SOP lists) are invalidated.
    BOOST_TEST(f.catalog->counts().cachedCalls < cachedBefore);
    // The harvested collection answers locally and includes the new series.
    const int before = f.fake.totalCalls();
    tcia::SeriesFilter byUid;
    byUid.seriesInstanceUid = "1.2.3.999.1";
    BOOST_TEST(f.catalog->series(byUid, RequestContext()).size() == 1u);
    BOOST_TEST(f.fake.totalCalls() == before);
    // The refresh keeps harvested collections fresh beyond the harvest's TTL.
    f.clock += 3000;
    f.catalog->refreshIncremental();
    f.clock += 3000;
    const int before2 = f.fake.totalCalls();
    f.catalog->series(seriesOf("COLL-0"), RequestContext());
    BOOST_TEST(f.fake.totalCalls() == before2);
}

BOOST_AUTO_TEST_SUITE_END()

#include "bridge/catalog/CatalogRefresher.h"

BOOST_AUTO_TEST_SUITE(CatalogPeriodicRefresh)

BOOST_AUTO_TEST_CASE(refreshes_periodically_survives_failures_and_stops_promptly) {
    Fixture f;
    std::atomic<bool> failing{true};
    f.fake.hook = [&](const std::string& endpoint, const std::string&) {
        if (endpoint == "updatedSeries" && failing) throw BridgeError(ErrorCode::UpstreamUnavailable, "down");
    };
    std::vector<std::string> logged;
    std::mutex logMutex;
    auto refresher = std::make_unique<CatalogRefresher>(*f.catalog, std::chrono::milliseconds(20), [&](const std::string& m) {
        std::lock_guard<std::mutex> lock(logMutex);
        logged.push_back(m);
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (refresher->failures() < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    BOOST_TEST(refresher->failures() >= 2u);
    failing = false;
    while (refresher->refreshes() < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    BOOST_TEST(refresher->refreshes() >= 2u);
    BOOST_TEST(!refresher->lastResult().fromDate.empty());
    const auto stopStarted = std::chrono::steady_clock::now();
    refresher.reset();
    BOOST_TEST((std::chrono::steady_clock::now() - stopStarted < std::chrono::seconds(1)));
    std::lock_guard<std::mutex> lock(logMutex);
    BOOST_REQUIRE(!logged.empty());
    BOOST_TEST(logged.front().find("failed: down") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

BOOST_AUTO_TEST_SUITE(CatalogConcurrentWriters)

BOOST_AUTO_TEST_CASE(a_writer_in_another_connection_is_waited_for_not_failed) {
    // Another process (a `tcia-bridge sync` next to the running bridge) holding the write lock:
    // the catalog's writes wait (busy timeout) instead of failing with "database is locked".
    Fixture f;
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session other("SQLite", f.dir.path() + "/catalog.db");
    using namespace Poco::Data::Keywords;
    other << "BEGIN IMMEDIATE", now;
    other << "INSERT INTO catalog_meta (name, value) VALUES ('lock-holder', 'x')", now;
    std::thread release([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        other << "COMMIT", now;
    });
    const auto started = std::chrono::steady_clock::now();
    BOOST_CHECK_NO_THROW(f.catalog->markRestricted("Waited"));
    const auto waited = std::chrono::steady_clock::now() - started;
    release.join();
    BOOST_TEST((waited >= std::chrono::milliseconds(300)));
    BOOST_TEST(f.catalog->restrictedCollections(RequestContext()) == std::set<std::string>{"Waited"});
}

BOOST_AUTO_TEST_SUITE_END()
