// CatalogHarvester against the in-memory FakeTciaApi: levels in order, partial scans that say
// so, failures retried, resume after a restart, staged rows never visible.
#include "FakeTciaApi.h"
#include "bridge/catalog/Catalog.h"
#include "bridge/catalog/CatalogHarvester.h"
#include "bridge/query/Query.h"
#include "tests/support/TestSupport.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace bridge;
using namespace std::chrono_literals;

namespace {

bool eventually(const std::function<bool()>& condition, std::chrono::seconds deadline = 60s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
        if (condition()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return condition();
}

/// Holds every call of one endpoint at its start until released.
struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    int waiting = 0;
    void pass() {
        std::unique_lock<std::mutex> lock(mutex);
        ++waiting;
        cv.notify_all();
        cv.wait(lock, [&] { return open; });
    }
    void release() {
        std::lock_guard<std::mutex> lock(mutex);
        open = true;
        cv.notify_all();
    }
    bool hasWaiter() {
        std::lock_guard<std::mutex> lock(mutex);
        return waiting > 0;
    }
};

struct Fixture {
    test::TempDir dir;
    test::FakeTciaApi fake;
    CatalogSettings settings;
    CacheSettings cache;
    std::unique_ptr<Catalog> catalog;
    HarvestOptions options;

    Fixture() {
        fake.generate(7, 4, 6);
        settings.ttl = std::chrono::seconds(3600);
        cache.directory = dir.path();
        catalog = std::make_unique<Catalog>(settings, cache, fake);
        options.batchSize = 3;
        options.retryDelay = 50ms;
    }
    std::size_t studiesOf(const std::vector<std::string>& collections) {
        std::size_t n = 0;
        for (const auto& s : fake.studyRows)
            for (const auto& c : collections) n += test::upperAscii(s.collection) == test::upperAscii(c);
        return n;
    }
};

Query broad(QueryLevel level) {
    Query q;
    q.level = level;
    return q;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(CatalogHarvesterTest)

BOOST_AUTO_TEST_CASE(harvests_every_collection_at_both_levels_in_batches) {
    Fixture f;
    CatalogHarvester harvester(*f.catalog, f.fake, f.options);
    BOOST_REQUIRE(eventually([&] { return harvester.status().complete; }));
    const auto names = f.fake.collectionNames;
    BOOST_TEST(harvester.status().collections == names.size());
    BOOST_TEST(harvester.status().studyLevelComplete);
    // One call per level per collection (the collection, never per patient).
    BOOST_TEST(f.fake.calls("patients") == static_cast<int>(names.size()));
    BOOST_TEST(f.fake.calls("studies") == static_cast<int>(names.size()));
    BOOST_TEST(f.fake.calls("series") == static_cast<int>(names.size()));
    const auto counts = f.catalog->counts();
    BOOST_TEST(counts.studies == static_cast<std::int64_t>(f.fake.studyRows.size()));
    BOOST_TEST(counts.series == static_cast<std::int64_t>(f.fake.seriesRows.size()));
    BOOST_TEST(counts.patients == static_cast<std::int64_t>(f.fake.patientRows.size()));
    BOOST_TEST(counts.harvestedCollections == static_cast<std::int64_t>(names.size()));
    for (const auto& s : f.catalog->harvestStates()) {
        BOOST_TEST(s.studyLevelFresh);
        BOOST_TEST(s.seriesLevelFresh);
        BOOST_TEST(s.studies > 0);
    }
    BOOST_TEST(f.catalog->scanIncompleteness(QueryLevel::Series, names) == "");
    BOOST_TEST(f.catalog->scanSeries(broad(QueryLevel::Series), names)->size() == f.fake.seriesRows.size());
}

BOOST_AUTO_TEST_CASE(study_level_first_and_partial_scans_say_so) {
    Fixture f;
    Gate seriesGate;
    f.fake.hook = [&](const std::string& endpoint, const std::string&) {
        if (endpoint == "series") seriesGate.pass();
    };
    const auto names = f.fake.collectionNames;
    {
        CatalogHarvester harvester(*f.catalog, f.fake, f.options);
        BOOST_REQUIRE(eventually([&] { return seriesGate.hasWaiter(); }));
        // Every collection at study level before any at series level.
        BOOST_TEST(harvester.status().studyLevelComplete);
        BOOST_TEST(!harvester.status().complete);
        BOOST_TEST(f.catalog->scanIncompleteness(QueryLevel::Study, names) == "");
        BOOST_TEST(f.catalog->scanStudies(broad(QueryLevel::Study), names)->size() == f.fake.studyRows.size());
        const auto note = f.catalog->scanIncompleteness(QueryLevel::Series, names);
        BOOST_TEST(note == "catalog harvest in progress: 0 of " + std::to_string(names.size()) +
                               " collections (series level); results may be incomplete");
        // Partial, not refused: answered from what is there (nothing at series level yet).
        BOOST_REQUIRE(f.catalog->scanSeries(broad(QueryLevel::Series), names).has_value());
        BOOST_TEST(f.catalog->scanSeries(broad(QueryLevel::Series), names)->empty());
        seriesGate.release();
        BOOST_REQUIRE(eventually([&] { return harvester.status().complete; }));
        BOOST_TEST(f.catalog->scanIncompleteness(QueryLevel::Series, names) == "");
    }
    // Without a harvester a fresh catalog still refuses rather than answering partially.
    test::TempDir other;
    CacheSettings otherCache;
    otherCache.directory = other.path();
    Catalog plain(f.settings, otherCache, f.fake);
    plain.storeCollectionList(names);
    BOOST_TEST(!plain.scanStudies(broad(QueryLevel::Study), names).has_value());
    BOOST_TEST(plain.scanIncompleteness(QueryLevel::Study, names) == "");
}

// Serve mode hangs BridgeServices::afterHarvest here (the freed heap back to the system, IDC's
// buffers filled): after the last level is committed, before the status says complete -- so a
// client that saw "complete" finds it done -- and not again on rechecks that harvest nothing.
BOOST_AUTO_TEST_CASE(on_complete_runs_after_the_harvest_before_the_status_says_so) {
    Fixture f;
    Gate start;  // the first TCIA call waits until `self` is set
    f.fake.hook = [&](const std::string& endpoint, const std::string&) {
        if (endpoint == "collections") start.pass();
    };
    std::atomic<CatalogHarvester*> self{nullptr};
    std::atomic<int> calls{0};
    std::atomic<bool> statusSaidComplete{false}, allCommitted{true};
    f.options.recheckInterval = 20ms;
    f.options.onComplete = [&] {
        if (self.load()->status().complete) statusSaidComplete = true;
        for (const auto& s : f.catalog->harvestStates())
            if (!s.seriesLevelFresh) allCommitted = false;
        ++calls;
    };
    auto harvester = std::make_unique<CatalogHarvester>(*f.catalog, f.fake, f.options);
    self = harvester.get();
    start.release();
    BOOST_REQUIRE(eventually([&] { return harvester->status().passes >= 4; }));
    harvester.reset();  // joined: no call in flight
    BOOST_TEST(calls.load() == 1);  // the rechecks found nothing to harvest
    BOOST_TEST(!statusSaidComplete.load());
    BOOST_TEST(allCommitted.load());

    // A restart on the complete catalog: its first pass harvests nothing and still runs it.
    calls = 0;
    self = nullptr;
    f.options.onComplete = [&] { ++calls; };
    CatalogHarvester again(*f.catalog, f.fake, f.options);
    BOOST_REQUIRE(eventually([&] { return again.status().passes >= 2; }));
    BOOST_TEST(calls.load() == 1);
}

BOOST_AUTO_TEST_CASE(an_on_complete_that_throws_is_logged_and_the_harvest_goes_on) {
    Fixture f;
    std::mutex m;
    std::vector<std::string> lines;
    f.options.onComplete = [] { throw std::runtime_error("no memory for the buffers"); };
    f.options.recheckInterval = 3600s;
    CatalogHarvester harvester(*f.catalog, f.fake, f.options, [&](const std::string& line) {
        std::lock_guard<std::mutex> lock(m);
        lines.push_back(line);
    });
    BOOST_REQUIRE(eventually([&] { return harvester.status().complete; }));
    BOOST_TEST(harvester.status().failures == 0u);
    std::lock_guard<std::mutex> lock(m);
    BOOST_TEST(std::count(lines.begin(), lines.end(),
                          "catalog harvest: after the harvest: no memory for the buffers") == 1);
}

BOOST_AUTO_TEST_CASE(a_failing_collection_is_recorded_and_retried) {
    Fixture f;
    int failuresLeft = 2;
    std::mutex m;
    const std::string victim = f.fake.collectionNames.at(1);
    f.fake.hook = [&](const std::string& endpoint, const std::string& collection) {
        std::lock_guard<std::mutex> lock(m);
        if (endpoint == "studies" && collection == victim && failuresLeft > 0) {
            --failuresLeft;
            throw BridgeError(ErrorCode::UpstreamUnavailable, "TCIA getPatientStudy answered HTTP 503");
        }
    };
    CatalogHarvester harvester(*f.catalog, f.fake, f.options);
    BOOST_REQUIRE(eventually([&] { return harvester.status().complete; }));
    BOOST_TEST(harvester.status().failures == 2u);
    BOOST_TEST(harvester.status().lastError.find("503") != std::string::npos);
    BOOST_TEST(f.catalog->counts().studies == static_cast<std::int64_t>(f.fake.studyRows.size()));
    for (const auto& s : f.catalog->harvestStates()) BOOST_TEST(s.lastError == "");  // cleared by success
}

BOOST_AUTO_TEST_CASE(restart_resumes_and_rows_are_replaced_atomically) {
    Fixture f;
    const auto names = f.fake.collectionNames;
    {
        CatalogHarvester harvester(*f.catalog, f.fake, f.options);
        BOOST_REQUIRE(eventually([&] { return harvester.status().complete; }));
    }
    const int seriesCalls = f.fake.calls("series"), studyCalls = f.fake.calls("studies");
    {
        // A restart finds everything fresh: only the collection list is asked again.
        CatalogHarvester harvester(*f.catalog, f.fake, f.options);
        BOOST_REQUIRE(eventually([&] { return harvester.status().passes >= 1; }));
        BOOST_TEST(harvester.status().complete);
        BOOST_TEST(f.fake.calls("series") == seriesCalls);
        BOOST_TEST(f.fake.calls("studies") == studyCalls);
    }
    // Stale (older than TTL): harvested again; while the new series stream in, queries keep
    // seeing the previous rows in full, never half a collection.
    f.catalog->setClock([] {
        return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                   .count() +
               7200;
    });
    Gate seriesGate;
    f.fake.hook = [&](const std::string& endpoint, const std::string&) {
        if (endpoint == "series") seriesGate.pass();
    };
    CatalogHarvester harvester(*f.catalog, f.fake, f.options);
    BOOST_REQUIRE(eventually([&] { return seriesGate.hasWaiter(); }));
    BOOST_TEST(f.fake.calls("studies") == studyCalls + static_cast<int>(names.size()));
    BOOST_TEST(f.catalog->scanSeries(broad(QueryLevel::Series), names)->size() == f.fake.seriesRows.size());
    seriesGate.release();
    BOOST_REQUIRE(eventually([&] { return harvester.status().complete; }));
    BOOST_TEST(f.catalog->counts().series == static_cast<std::int64_t>(f.fake.seriesRows.size()));
}

BOOST_AUTO_TEST_SUITE_END()
