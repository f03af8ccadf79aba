// The catalog over the real TciaClient over the real TCIA emulator (a child process on
// 127.0.0.1): sync the sample data, then prove with /emulator/stats that repeated queries
// within TTL make no TCIA calls, that broad queries through the real QueryEngine are answered
// from the catalog, and that an incremental refresh of unchanged data changes nothing.
#include "bridge/catalog/Catalog.h"
#include "bridge/catalog/CatalogSync.h"
#include "bridge/catalog/SyncProgressBar.h"
#include "bridge/common/Error.h"
#include "bridge/query/QueryEngine.h"
#include "bridge/tcia/TciaClient.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/QueryBuilders.h"
#include "tests/support/TestSupport.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <memory>
#include <set>

using namespace bridge;
using namespace bridge::test;

namespace {

struct Fixture {
    EmulatorProcess emulator{{"--quiet"}};
    TempDir dir;
    tcia::TciaClient client{singleRetrySettings(emulator)};
    CatalogSettings settings;
    CacheSettings cache;
    std::unique_ptr<Catalog> catalog;
    std::int64_t clock = 0;

    Fixture() {
        cache.directory = dir.path();
        settings.ttl = std::chrono::seconds(3600);
        catalog = std::make_unique<Catalog>(settings, cache, client);
        clock = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        catalog->setClock([this] { return clock; });
    }
};

std::vector<DicomRecord> drain(FindCursor& cursor) {
    std::vector<DicomRecord> out;
    while (auto r = cursor.next()) out.push_back(std::move(*r));
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(CatalogOverEmulator)

BOOST_AUTO_TEST_CASE(sync_then_repeated_queries_make_no_tcia_calls) {
    Fixture f;
    const auto names = f.client.collections(RequestContext());
    BOOST_REQUIRE(!names.empty());
    std::size_t expectedSeries = 0;
    for (const auto& c : names) {
        tcia::SeriesFilter sf;
        sf.collection = c;
        expectedSeries += f.client.series(sf, RequestContext()).size();
    }
    resetStats(f.emulator);

    std::vector<std::string> lines;
    SyncOptions options;
    options.progress = [&](const SyncProgress& p) { lines.push_back(renderSyncProgress(p)); };
    const auto result = runSync(*f.catalog, f.client, options, RequestContext());
    BOOST_TEST(result.failures.empty());
    BOOST_TEST(result.collectionsHarvested == names.size());
    BOOST_TEST(result.series == static_cast<std::int64_t>(expectedSeries));
    BOOST_TEST(f.catalog->counts().series == static_cast<std::int64_t>(expectedSeries));
    // One call per level per collection, plus the collection list.
    BOOST_TEST(endpointCount(f.emulator, "getSeries") == static_cast<int>(names.size()));
    BOOST_TEST(endpointCount(f.emulator, "getPatientStudy") == static_cast<int>(names.size()));
    BOOST_TEST(endpointCount(f.emulator, "getPatient") == static_cast<int>(names.size()));
    BOOST_TEST(endpointCount(f.emulator, "getCollectionValues") == 1);
    BOOST_TEST(emulatorStats(f.emulator)["unfilteredGetSeries"].asInt() == 0);
    BOOST_REQUIRE(!lines.empty());
    BOOST_TEST(lines.back().find(std::to_string(names.size()) + "/" + std::to_string(names.size()) + " collections") !=
               std::string::npos);

    resetStats(f.emulator);
    for (int round = 0; round < 3; ++round) {
        BOOST_TEST(f.catalog->collections(RequestContext()).size() == names.size());
        for (const auto& c : names) {
            tcia::SeriesFilter sf;
            sf.collection = c;
            const auto series = f.catalog->series(sf, RequestContext());
            BOOST_TEST(!series.empty());
            BOOST_TEST(!f.catalog->studies({c, "", ""}, RequestContext()).empty());
            BOOST_TEST(!f.catalog->patients({c, ""}, RequestContext()).empty());
            // UID lookups without a collection are answered from the harvest too.
            BOOST_TEST(f.catalog->studies({"", "", series.front().studyInstanceUid}, RequestContext()).size() == 1u);
            tcia::SeriesFilter byUid;
            byUid.seriesInstanceUid = series.front().seriesInstanceUid;
            BOOST_TEST(f.catalog->series(byUid, RequestContext()).size() == 1u);
        }
    }
    BOOST_TEST(totalCalls(f.emulator) == 0);

    // A resumed sync of a finished run fetches everything again, without duplicates.
    runSync(*f.catalog, f.client, SyncOptions{}, RequestContext());
    BOOST_TEST(f.catalog->counts().series == static_cast<std::int64_t>(expectedSeries));
}

BOOST_AUTO_TEST_CASE(broad_queries_through_the_engine_come_from_the_catalog) {
    Fixture f;
    runSync(*f.catalog, f.client, SyncOptions{}, RequestContext());
    QueryEngine engine(*f.catalog, nullptr, QuerySettings{});

    // Expected from TCIA directly: every study, then filter with a trivially checkable rule.
    std::vector<tcia::StudyRecord> all;
    for (const auto& c : f.client.collections(RequestContext())) {
        auto s = f.client.studies({c, "", ""}, RequestContext());
        all.insert(all.end(), s.begin(), s.end());
    }
    BOOST_REQUIRE(!all.empty());
    // A name prefix that some (not all) studies have: the first character of one name.
    const std::string name = all.front().patientName;
    BOOST_REQUIRE(!name.empty());
    const std::string prefix = name.substr(0, 1);
    std::set<std::string> expected;
    for (const auto& s : all)
        if (!s.patientName.empty() && std::toupper(static_cast<unsigned char>(s.patientName[0])) ==
                                          std::toupper(static_cast<unsigned char>(prefix[0])))
            expected.insert(s.studyInstanceUid);

    resetStats(f.emulator);
    Query q;
    q.level = QueryLevel::Study;
    q.keys = {K(DCM_PatientName, prefix + "*"), K(DCM_StudyInstanceUID), K(DCM_PatientID)};
    auto cursor = engine.find(q, RequestContext());
    std::set<std::string> got;
    for (const auto& r : drain(*cursor)) got.insert(r.get(DCM_StudyInstanceUID));
    BOOST_TEST(got == expected);

    // Paged (OHIF: limit=101): the same first page as without the catalog's LIMIT.
    q.keys = {K(DCM_PatientName, "*"), K(DCM_StudyInstanceUID), K(DCM_PatientID), K(DCM_StudyDate)};
    q.limit = 2;
    q.offset = 1;
    auto paged = engine.find(q, RequestContext());
    const auto page = drain(*paged);
    BOOST_TEST(page.size() == std::min<std::size_t>(2, all.size() - 1));
    BOOST_TEST(paged->truncated() == (all.size() > 3));
    Query unlimited = q;
    unlimited.limit.reset();
    unlimited.offset = 0;
    auto full = engine.find(unlimited, RequestContext());
    const auto everything = drain(*full);
    BOOST_TEST(everything.size() == all.size());
    for (std::size_t i = 0; i < page.size(); ++i)
        BOOST_TEST(page[i].get(DCM_StudyInstanceUID) == everything[i + 1].get(DCM_StudyInstanceUID));

    // Series level, all collections, by modality: no TCIA calls either.
    Query sq;
    sq.level = QueryLevel::Series;
    sq.keys = {K(DCM_Modality, "MR"), K(DCM_SeriesInstanceUID)};
    auto series = engine.find(sq, RequestContext());
    const auto seriesRows = drain(*series);
    BOOST_TEST(totalCalls(f.emulator) == 0);
    std::size_t mr = 0;
    for (const auto& c : f.client.collections(RequestContext())) {
        tcia::SeriesFilter sf;
        sf.collection = c;
        for (const auto& s : f.client.series(sf, RequestContext())) mr += s.modality == "MR";
    }
    BOOST_TEST(seriesRows.size() == mr);
}

BOOST_AUTO_TEST_CASE(lazy_calls_respect_ttl_against_the_emulator) {
    Fixture f;
    const auto names = f.client.collections(RequestContext());
    resetStats(f.emulator);
    tcia::SeriesFilter sf;
    sf.collection = names.front();
    const auto first = f.catalog->series(sf, RequestContext());
    f.catalog->series(sf, RequestContext());
    f.clock += 3599;
    const auto third = f.catalog->series(sf, RequestContext());
    BOOST_TEST(endpointCount(f.emulator, "getSeries") == 1);
    BOOST_TEST(third.size() == first.size());
    f.clock += 2;
    f.catalog->series(sf, RequestContext());
    BOOST_TEST(endpointCount(f.emulator, "getSeries") == 2);
    // SOP lists likewise.
    f.catalog->sopInstanceUids(first.front().seriesInstanceUid, RequestContext());
    const auto sops = f.catalog->sopInstanceUids(first.front().seriesInstanceUid, RequestContext());
    BOOST_TEST(endpointCount(f.emulator, "getSOPInstanceUIDs") == 1);
    BOOST_TEST(sops.size() == static_cast<std::size_t>(first.front().imageCount.value_or(sops.size())));
}

BOOST_AUTO_TEST_CASE(incremental_refresh_of_unchanged_data_picks_up_nothing) {
    Fixture f;
    runSync(*f.catalog, f.client, SyncOptions{}, RequestContext());
    const auto before = f.catalog->counts();
    resetStats(f.emulator);
    const auto r = f.catalog->refreshIncremental();
    BOOST_TEST(r.series == 0u);
    BOOST_TEST(r.collections.empty());
    BOOST_TEST(endpointCount(f.emulator, "getUpdatedSeries") == 1);
    BOOST_TEST(totalCalls(f.emulator) == 1);
    const auto after = f.catalog->counts();
    BOOST_TEST(after.series == before.series);
    BOOST_TEST(after.cachedCalls == before.cachedCalls);  // nothing invalidated
    // Refreshing from long ago (a fresh database, no harvest) upserts what exists, without duplicates.
    f.catalog->refreshIncremental();
    BOOST_TEST(f.catalog->counts().series == before.series);
}

BOOST_AUTO_TEST_SUITE_END()
