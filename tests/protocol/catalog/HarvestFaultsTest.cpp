// Faults during a harvest (issue 9, "Faults and load as tests"): the catalog over the real
// TciaClient over the TCIA emulator, whose faults (500, 429, truncate, slow, drop) are set at
// run time through POST /emulator/faults.
//
// "A harvest" is today's `tcia-bridge sync` (runSync). The checks take the harvest as a function
// (`Harvest`), so the same table can drive the background harvest of serve mode once it lands:
// give it a Harvest that starts the background harvest and waits (with a deadline) for its
// SyncResult.
//
// Contract: a transient fault (within the client's retries) changes nothing -- every collection
// is harvested with every series; a persistent one fails only the collections it hits, each
// reported in SyncResult::failures and stored NOT AT ALL (never half a collection marked
// harvested); the run stays resumable, and the next harvest without the fault fetches only the
// unfinished collections and ends with exactly the series TCIA has, without duplicates.
#include <boost/test/unit_test.hpp>
#include <functional>
#include <memory>
#include <set>

#include "bridge/catalog/Catalog.h"
#include "bridge/catalog/CatalogSync.h"
#include "bridge/common/Error.h"
#include "bridge/tcia/TciaClient.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;

namespace {

struct HarvestFixture {
    EmulatorProcess emulator{{"--quiet"}};
    TempDir dir;
    tcia::TciaClient client{singleRetrySettings(emulator)};
    CatalogSettings settings;
    CacheSettings cache;
    std::unique_ptr<Catalog> catalog;

    HarvestFixture() {
        cache.directory = dir.path();
        settings.ttl = std::chrono::seconds(3600);
        catalog = std::make_unique<Catalog>(settings, cache, client);
    }

    void setFault(const std::string& spec) {
        BOOST_REQUIRE_NO_THROW(httpBody(emulator.port(), "DELETE", "/emulator/faults"));
        if (!spec.empty())
            BOOST_REQUIRE_NO_THROW(httpBody(emulator.port(), "POST", "/emulator/faults?spec=" + spec));
    }
};

/// Runs one harvest to its end. Today: runSync (what `tcia-bridge sync` runs).
using Harvest = std::function<SyncResult(HarvestFixture&)>;

SyncResult syncHarvest(HarvestFixture& f) {
    return runSync(*f.catalog, f.client, SyncOptions{}, RequestContext());
}

/// Series per collection, straight from the emulator (no fault set).
std::map<std::string, std::size_t> truth(HarvestFixture& f) {
    std::map<std::string, std::size_t> out;
    for (const auto& c : f.client.collections(RequestContext())) {
        tcia::SeriesFilter sf;
        sf.collection = c;
        out[c] = f.client.series(sf, RequestContext()).size();
    }
    return out;
}

std::size_t total(const std::map<std::string, std::size_t>& m) {
    std::size_t n = 0;
    for (const auto& [c, s] : m) n += s;
    return n;
}

struct FaultCase {
    const char* spec;
    bool transient;  ///< within singleRetrySettings' one retry
};

const FaultCase kCases[] = {
    {"getSeries:500:1", true},
    {"getPatientStudy:429:1:retry-after=1", true},
    {"getSeries:truncate:1", true},
    {"getPatient:drop:1", true},
    {"getSeries:slow:2:delay-ms=500", true},
    {"getSeries:500:2", false},          // two collections' getSeries fail after their one retry
    {"getPatientStudy:drop:20", false},  // a drop on a reused connection is retried at once: count high
    {"getSeries:truncate:20", false},    // half the JSON, then a reset: a cut answer, never an empty one
    {"getSeries:503:2:retry-after=1", false},
    {"getPatient:429:20:retry-after=1", false},  // every collection fails; resume fetches all
};

void checkHarvestUnderFault(const Harvest& harvest, const FaultCase& c) {
    BOOST_TEST_CONTEXT("harvest with fault " << c.spec) {
        HarvestFixture f;
        const auto expected = truth(f);
        BOOST_REQUIRE(expected.size() >= 3u);
        f.setFault(c.spec);
        const SyncResult first = harvest(f);
        for (const auto& failure : first.failures)
            BOOST_TEST_MESSAGE("failed: " << failure.collection << ": " << failure.message);
        if (c.transient)
            BOOST_TEST(first.failures.empty());
        else
            BOOST_TEST(!first.failures.empty());
        BOOST_TEST(first.collectionsHarvested + first.failures.size() == expected.size());
        std::size_t harvestedSeries = 0;
        std::set<std::string> failed;
        for (const auto& failure : first.failures) failed.insert(failure.collection);
        for (const auto& [collection, n] : expected)
            if (!failed.count(collection)) harvestedSeries += n;
        // Only whole collections are stored: the failed ones contribute nothing.
        BOOST_TEST(first.series == static_cast<std::int64_t>(harvestedSeries));
        const auto counts = f.catalog->counts();
        BOOST_TEST(counts.series == static_cast<std::int64_t>(harvestedSeries));
        BOOST_TEST(counts.harvestedCollections == static_cast<std::int64_t>(expected.size() - failed.size()));

        // The fault is gone: an unfinished run resumes with the unfinished collections only (a
        // finished one starts over: every collection again, replacing rows, no duplicates).
        f.setFault("");
        resetStats(f.emulator);
        const SyncResult second = harvest(f);
        const std::size_t refetched = failed.empty() ? expected.size() : failed.size();
        BOOST_TEST(second.failures.empty());
        BOOST_TEST(second.collectionsHarvested == refetched);
        BOOST_TEST(second.collectionsSkipped + second.collectionsHarvested == expected.size());
        BOOST_TEST(endpointCount(f.emulator, "getSeries") == static_cast<int>(refetched));
        const auto after = f.catalog->counts();
        BOOST_TEST(after.series == static_cast<std::int64_t>(total(expected)));
        BOOST_TEST(after.harvestedCollections == static_cast<std::int64_t>(expected.size()));
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(HarvestFaults)

BOOST_AUTO_TEST_CASE(sync_under_every_emulator_fault_stores_whole_collections_and_resumes) {
    for (const auto& c : kCases) checkHarvestUnderFault(syncHarvest, c);
}

BOOST_AUTO_TEST_CASE(sync_whose_collection_list_fails_throws_and_resumes_later) {
    HarvestFixture f;
    const auto expected = truth(f);
    f.setFault("getCollectionValues:500:5");
    BOOST_CHECK_THROW(syncHarvest(f), BridgeError);
    BOOST_TEST(f.catalog->counts().harvestedCollections == 0);
    f.setFault("");
    const SyncResult r = syncHarvest(f);
    BOOST_TEST(r.failures.empty());
    BOOST_TEST(f.catalog->counts().series == static_cast<std::int64_t>(total(expected)));
}

BOOST_AUTO_TEST_SUITE_END()
