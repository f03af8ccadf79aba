// runSync: one call per level per collection, resumable after a context or a failure, no
// duplicates, progress reports; and the progress-bar renderer.
#include "FakeTciaApi.h"
#include "bridge/catalog/CatalogSync.h"
#include "bridge/catalog/SyncProgressBar.h"
#include "tests/support/TestSupport.h"

#include <boost/test/unit_test.hpp>

using namespace bridge;

namespace {

struct Fixture {
    test::TempDir dir;
    test::FakeTciaApi fake;
    std::unique_ptr<Catalog> catalog;

    Fixture() {
        fake.generate(3, 6, 8);
        CatalogSettings settings;
        CacheSettings cache;
        cache.directory = dir.path();
        catalog = std::make_unique<Catalog>(settings, cache, fake);
    }
    std::int64_t expectedSeries() const { return static_cast<std::int64_t>(fake.seriesRows.size()); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(Sync)

BOOST_AUTO_TEST_CASE(full_sync_makes_one_call_per_level_per_collection) {
    Fixture f;
    std::vector<SyncProgress> reports;
    SyncOptions options;
    options.progress = [&](const SyncProgress& p) { reports.push_back(p); };
    const auto result = runSync(*f.catalog, f.fake, options, RequestContext());
    BOOST_TEST(result.collectionsHarvested == 6u);
    BOOST_TEST(result.failures.empty());
    BOOST_TEST(!result.cancelled);
    BOOST_TEST(result.series == f.expectedSeries());
    BOOST_TEST(f.fake.calls("collections") == 1);
    BOOST_TEST(f.fake.calls("patients") == 6);
    BOOST_TEST(f.fake.calls("studies") == 6);
    BOOST_TEST(f.fake.calls("series") == 6);
    const auto counts = f.catalog->counts();
    BOOST_TEST(counts.series == f.expectedSeries());
    BOOST_TEST(counts.studies == static_cast<std::int64_t>(f.fake.studyRows.size()));
    BOOST_TEST(counts.patients == static_cast<std::int64_t>(f.fake.patientRows.size()));
    BOOST_TEST(counts.harvestedCollections == 6);
    BOOST_REQUIRE(!reports.empty());
    BOOST_TEST(reports.back().collectionsDone == 6u);
    BOOST_TEST(reports.back().collectionsTotal == 6u);
    BOOST_TEST(reports.back().seriesStored == f.expectedSeries());
    // The collection list was recorded: collections() needs no TCIA call now.
    f.catalog->collections(RequestContext());
    BOOST_TEST(f.fake.calls("collections") == 1);
    // A finished run is not resumed: the next sync fetches everything again, without duplicates.
    const auto again = runSync(*f.catalog, f.fake, options, RequestContext());
    BOOST_TEST(again.collectionsHarvested == 6u);
    BOOST_TEST(again.collectionsSkipped == 0u);
    BOOST_TEST(f.catalog->counts().series == f.expectedSeries());
}

BOOST_AUTO_TEST_CASE(cancelled_sync_resumes_at_the_next_unfinished_collection) {
    Fixture f;
    RequestContext context;
    int seriesCalls = 0;
    // Cancel while the third collection's series are being fetched.
    f.fake.hook = [&](const std::string& endpoint, const std::string&) {
        if (endpoint == "series" && ++seriesCalls == 3) context.cancel();
    };
    const auto first = runSync(*f.catalog, f.fake, SyncOptions{}, context);
    BOOST_TEST(first.cancelled);
    BOOST_TEST(first.collectionsHarvested == 2u);
    const auto afterCancel = f.catalog->counts();
    BOOST_TEST(afterCancel.harvestedCollections == 2);

    f.fake.hook = nullptr;
    const int seriesCallsBefore = f.fake.calls("series");
    const auto second = runSync(*f.catalog, f.fake, SyncOptions{}, RequestContext());
    BOOST_TEST(!second.cancelled);
    BOOST_TEST(second.collectionsSkipped == 2u);
    BOOST_TEST(second.collectionsHarvested == 4u);
    BOOST_TEST(f.fake.calls("series") - seriesCallsBefore == 4);  // the two finished ones are not fetched again
    const auto counts = f.catalog->counts();
    BOOST_TEST(counts.series == f.expectedSeries());  // no duplicates
    BOOST_TEST(counts.studies == static_cast<std::int64_t>(f.fake.studyRows.size()));
    BOOST_TEST(counts.harvestedCollections == 6);

    // resume = false starts over.
    SyncOptions fresh;
    fresh.resume = false;
    BOOST_TEST(runSync(*f.catalog, f.fake, fresh, RequestContext()).collectionsHarvested == 6u);
}

BOOST_AUTO_TEST_CASE(a_failing_collection_is_reported_and_retried_on_resume) {
    Fixture f;
    f.fake.hook = [](const std::string& endpoint, const std::string& collection) {
        if (endpoint == "studies" && collection == "Coll-3") throw BridgeError(ErrorCode::UpstreamTimeout, "slow TCIA");
    };
    const auto first = runSync(*f.catalog, f.fake, SyncOptions{}, RequestContext());
    BOOST_REQUIRE_EQUAL(first.failures.size(), 1u);
    BOOST_TEST(first.failures.front().collection == "Coll-3");
    BOOST_TEST(first.collectionsHarvested == 5u);
    BOOST_TEST(!f.catalog->isHarvested("Coll-3"));
    f.fake.hook = nullptr;
    const auto second = runSync(*f.catalog, f.fake, SyncOptions{}, RequestContext());
    BOOST_TEST(second.collectionsHarvested == 1u);
    BOOST_TEST(second.collectionsSkipped == 5u);
    BOOST_TEST(f.catalog->counts().series == f.expectedSeries());
}

BOOST_AUTO_TEST_CASE(named_collections_only) {
    Fixture f;
    SyncOptions options;
    options.collections = {"COLL-0", "Coll-5"};
    const auto r = runSync(*f.catalog, f.fake, options, RequestContext());
    BOOST_TEST(r.collectionsHarvested == 2u);
    BOOST_TEST(f.fake.calls("collections") == 0);
    BOOST_TEST(f.catalog->isHarvested("COLL-0"));
    BOOST_TEST(!f.catalog->isHarvested("COLL-2"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(SyncProgressRendering)

BOOST_AUTO_TEST_CASE(renders_bar_count_collection_and_rate) {
    struct Row {
        std::size_t done, total;
        std::string current;
        double rate;
        std::string expected;
    };
    const std::vector<Row> rows = {
        {12, 135, "TCGA-BRCA", 3210, "[.........] 12/135 collections  TCGA-BRCA  3.2k series/s"},
        {0, 0, "", 0, "[.........] 0/0 collections  0 series/s"},
        {135, 135, "", 950.4, "[#########] 135/135 collections  950 series/s"},
        {5, 10, "LIDC-IDRI", 1.5e6, "[####.....] 5/10 collections  LIDC-IDRI  1.5M series/s"},
        {11, 10, "", 0, "[#########] 10/10 collections  0 series/s"},  // over-count is clamped
    };
    for (const auto& r : rows) {
        SyncProgress p;
        p.collectionsDone = r.done;
        p.collectionsTotal = r.total;
        p.currentCollection = r.current;
        p.seriesPerSecond = r.rate;
        BOOST_TEST(renderSyncProgress(p, 9) == r.expected);
    }
    SyncProgress half;
    half.collectionsDone = 1;
    half.collectionsTotal = 2;
    BOOST_TEST(renderSyncProgress(half).substr(0, 12) == "[#####.....]");
}

BOOST_AUTO_TEST_CASE(rates_are_compact) {
    BOOST_TEST(formatRate(0) == "0");
    BOOST_TEST(formatRate(-5) == "0");
    BOOST_TEST(formatRate(999) == "999");
    BOOST_TEST(formatRate(1000) == "1.0k");
    BOOST_TEST(formatRate(999949) == "999.9k");
    BOOST_TEST(formatRate(2.5e6) == "2.5M");
}

BOOST_AUTO_TEST_SUITE_END()
