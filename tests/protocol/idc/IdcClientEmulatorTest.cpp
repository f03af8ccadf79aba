// IdcClient against a real tcia-emulator's IDC face (/v3 and /s3/{bucket}) on loopback, cross-
// checked with the emulator's NBIA face (TciaClient) over the same generated data: the same
// collections, series and SOP Instance UIDs must come out of both sources. Faults: S3 503
// SlowDown retried, an object whose bytes no longer match its ETag rejected, a listing shorter
// than the expected count failing the count check.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "bridge/common/Error.h"
#include "bridge/idc/IdcClient.h"
#include "bridge/tcia/InstanceMetaReader.h"
#include "bridge/tcia/Md5.h"
#include "bridge/tcia/TciaClient.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/ErrorCodeOf.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
namespace fs = std::filesystem;

namespace {

/// A request context for calls that are never cancelled.
const RequestContext& ctx() {
    static const RequestContext context;
    return context;
}

IdcSettings idcSettings(const EmulatorProcess& emulator) {
    IdcSettings s;
    const std::string base = "http://127.0.0.1:" + std::to_string(emulator.port());
    s.apiUrl = base + "/v3";
    s.bucketUrl = base + "/s3/{bucket}";
    s.maxParallelGets = 3;
    s.sqlPageRows = 4;  // several /sql pages per answer: the paging and study carry-over are exercised
    return s;
}

/// Every series of every collection, as the IDC source lists them.
std::vector<tcia::SeriesRecord> allSeries(idc::IdcClient& client) {
    std::vector<tcia::SeriesRecord> out;
    for (const auto& name : client.collections(ctx())) {
        tcia::SeriesFilter f;
        f.collection = name;
        auto rows = client.series(f, ctx());
        out.insert(out.end(), rows.begin(), rows.end());
    }
    return out;
}

/// The collection with the most series (several /sql pages when pages are small).
std::string busiestCollection(idc::IdcClient& client) {
    std::map<std::string, int> series;
    for (const auto& s : allSeries(client)) ++series[s.collection];
    BOOST_REQUIRE(!series.empty());
    return std::max_element(series.begin(), series.end(), [](const auto& a, const auto& b) {
               return a.second < b.second;
           })->first;
}

/// The series with the most instances (several objects, so parallel GETs overlap).
tcia::SeriesRecord largestSeries(idc::IdcClient& client) {
    auto series = allSeries(client);
    BOOST_REQUIRE(!series.empty());
    return *std::max_element(series.begin(), series.end(), [](const auto& a, const auto& b) {
        return a.imageCount.value_or(0) < b.imageCount.value_or(0);
    });
}

struct Received {
    std::vector<std::string> sops;
    std::size_t bytes = 0;
};

Received download(idc::IdcClient& client, const std::string& series, tcia::DownloadOptions options = {}) {
    Received r;
    RequestContext cancel;
    client.downloadSeries(
        series, options,
        [&](tcia::DownloadedInstance&& i) {
            BOOST_TEST(tcia::InstanceMetaReader::read(i.bytes.data(), i.bytes.size()).has_value());
            r.sops.push_back(i.sopInstanceUid);
            r.bytes += i.bytes.size();
        },
        cancel);
    return r;
}

std::set<std::string> asSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(IdcClientEmulator)

BOOST_AUTO_TEST_CASE(metadata_matches_the_nbia_face_of_the_same_data) {
    EmulatorProcess emulator;
    tcia::TciaClient nbia(faultRetrySettings(emulator));
    // TCIA's names and DOIs (the NBIA face): the emulator's IDC face names one collection
    // differently, and the client joins it on its DOI.
    IdcSettings settings = idcSettings(emulator);
    for (const auto& name : nbia.collections(ctx())) {
        tcia::SeriesFilter f;
        f.collection = name;
        const auto rows = nbia.series(f, ctx());
        if (!rows.empty() && !rows.front().dataDescriptionUri.empty())
            settings.tciaNames[name] = rows.front().dataDescriptionUri;
    }
    idc::IdcClient client(faultRetrySettings(emulator), settings);

    const auto names = client.collections(ctx());
    BOOST_REQUIRE(!names.empty());
    const auto nbiaNames = asSet(nbia.collections(ctx()));
    for (const auto& n : names) BOOST_TEST(nbiaNames.count(n) == 1u, n << " is a TCIA collection name");

    for (const auto& n : names) {
        BOOST_TEST_CONTEXT(n) {
            tcia::SeriesFilter f;
            f.collection = n;
            const auto idcSeries = client.series(f, ctx());
            std::map<std::string, tcia::SeriesRecord> nbiaSeries;
            for (auto& s : nbia.series(f, ctx())) nbiaSeries[s.seriesInstanceUid] = s;
            BOOST_TEST(!idcSeries.empty());
            for (const auto& s : idcSeries) {
                BOOST_TEST(s.collection == n);
                auto it = nbiaSeries.find(s.seriesInstanceUid);
                BOOST_REQUIRE_MESSAGE(it != nbiaSeries.end(), s.seriesInstanceUid << " unknown to NBIA");
                BOOST_TEST(s.studyInstanceUid == it->second.studyInstanceUid);
                BOOST_TEST(s.patientId == it->second.patientId);
                BOOST_TEST(s.modality == it->second.modality);
                BOOST_TEST(s.imageCount.value_or(-1) == it->second.imageCount.value_or(-2));
            }
            // Studies are folded from series rows over several /sql pages (4 rows each).
            std::map<std::string, int> seriesPerStudy;
            for (const auto& s : idcSeries) ++seriesPerStudy[s.studyInstanceUid];
            std::size_t batches = 0;
            std::map<std::string, int> folded;
            RequestContext cancel;
            client.studyBatches(
                tcia::StudyFilter{n, "", ""}, 2,
                [&](std::vector<tcia::StudyRecord>&& rows) {
                    ++batches;
                    BOOST_TEST(rows.size() <= 2u);
                    for (const auto& st : rows) {
                        BOOST_TEST(folded.count(st.studyInstanceUid) == 0u, "study listed twice");
                        folded[st.studyInstanceUid] = st.seriesCount.value_or(-1);
                        BOOST_TEST(st.collection == n);
                    }
                },
                cancel);
            BOOST_TEST(folded == seriesPerStudy);
            BOOST_TEST(batches >= 1u);
        }
    }
    // Literals are quoted: a quote in a filter value is a value, not SQL.
    tcia::SeriesFilter evil;
    evil.patientId = "x' OR '1'='1";
    BOOST_TEST(client.series(evil, ctx()).empty());
    // No filter at all would list all of IDC.
    BOOST_TEST(int(codeOf([&] { client.series(tcia::SeriesFilter{}, ctx()); })) == int(ErrorCode::QueryTooBroad));
}

BOOST_AUTO_TEST_CASE(download_delivers_every_instance_once_and_matches_nbia) {
    EmulatorProcess emulator;
    idc::IdcClient client(faultRetrySettings(emulator), idcSettings(emulator));
    tcia::TciaClient nbia(faultRetrySettings(emulator));
    const auto series = largestSeries(client);
    const auto expected = asSet(nbia.sopInstanceUids(series.seriesInstanceUid, ctx()));
    BOOST_REQUIRE(expected.size() > 1u);

    tcia::DownloadOptions options;
    options.expectedCount = series.imageCount;
    const auto got = download(client, series.seriesInstanceUid, options);
    BOOST_TEST(got.sops.size() == expected.size());
    BOOST_TEST(asSet(got.sops) == expected);
    // IMAGE-level keys from header Range GETs (no whole object fetched), then cached.
    resetStats(emulator);
    idc::IdcClient fresh(faultRetrySettings(emulator), idcSettings(emulator));
    BOOST_TEST(asSet(fresh.sopInstanceUids(series.seriesInstanceUid, ctx())) == expected);
    const int afterFirst = totalCalls(emulator);
    BOOST_TEST(endpointCount(emulator, "GetObject") == int(expected.size()));
    BOOST_TEST(asSet(fresh.sopInstanceUids(series.seriesInstanceUid, ctx())) == expected);
    BOOST_TEST(totalCalls(emulator) == afterFirst, "the second call is answered from the cache");
    // singleImage fetches the right object.
    const std::string sop = *expected.begin();
    const auto bytes = fresh.singleImage(series.seriesInstanceUid, sop, ctx());
    const auto uids = tcia::InstanceMetaReader::read(bytes.data(), bytes.size());
    BOOST_REQUIRE(uids.has_value());
    BOOST_TEST(uids->sopInstanceUid == sop);
    BOOST_TEST(int(codeOf([&] { fresh.singleImage(series.seriesInstanceUid, "1.2.3.999", ctx()); })) ==
               int(ErrorCode::NotFound));
}

// Issue 12: object buffers handed back through DownloadedInstance::recycle are reused by the next
// GETs (no zero-fill, no fresh pages); a reused buffer -- larger or smaller than the next object,
// holding another object's bytes -- must carry exactly the next object.
BOOST_AUTO_TEST_CASE(recycled_buffers_carry_the_next_objects_whole) {
    EmulatorProcess emulator;
    idc::IdcClient client(faultRetrySettings(emulator), idcSettings(emulator));
    const auto series = largestSeries(client);
    tcia::DownloadOptions options;
    options.expectedCount = series.imageCount;
    const auto digests = [&](bool recycle) {
        std::map<std::string, std::string> out;
        RequestContext context;
        client.downloadSeries(
            series.seriesInstanceUid, options,
            [&](tcia::DownloadedInstance&& i) {
                BOOST_TEST(static_cast<bool>(i.recycle));
                out[i.sopInstanceUid] = tcia::Md5::hex(i.bytes.data(), i.bytes.size());
                BOOST_TEST(i.md5 == out[i.sopInstanceUid]);
                if (recycle && i.recycle) i.recycle(std::move(i.bytes));
            },
            context);
        return out;
    };
    const auto fresh = digests(false);
    BOOST_REQUIRE(fresh.size() > 1u);
    BOOST_TEST((digests(true) == fresh));
    BOOST_TEST((digests(true) == fresh), "every buffer of this download was recycled");

    // The pool filled at start (makeBridgeServices): zero-filled buffers larger than most
    // objects, taken by the first GETs, carry each object whole too.
    idc::IdcClient prefilled(faultRetrySettings(emulator), idcSettings(emulator));
    BOOST_TEST(prefilled.prefillObjectBuffers() == 56u);  // 32 MiB of 576 KiB buffers
    std::map<std::string, std::string> again;
    RequestContext context;
    prefilled.downloadSeries(
        series.seriesInstanceUid, options,
        [&](tcia::DownloadedInstance&& i) { again[i.sopInstanceUid] = tcia::Md5::hex(i.bytes.data(), i.bytes.size()); },
        context);
    BOOST_TEST((again == fresh));
}

BOOST_AUTO_TEST_CASE(s3_slowdown_is_retried) {
    EmulatorProcess emulator;
    idc::IdcClient client(faultRetrySettings(emulator), idcSettings(emulator));
    const auto series = largestSeries(client);
    replaceFaults(emulator, "ListObjectsV2:503:1");
    httpBody(emulator.port(), "POST", "/emulator/faults?spec=GetObject:503:2");
    resetStats(emulator);
    const auto got = download(client, series.seriesInstanceUid);
    BOOST_TEST(got.sops.size() == std::size_t(series.imageCount.value_or(0)));
    BOOST_TEST(asSet(got.sops).size() == got.sops.size(), "each instance delivered once");
    // Three 503 answers were absorbed: one extra listing, two extra object GETs.
    BOOST_TEST(endpointCount(emulator, "ListObjectsV2") == 2);
    BOOST_TEST(endpointCount(emulator, "GetObject") == int(got.sops.size()) + 2);
    // A lasting SlowDown fails as upstream-unavailable after the retries.
    replaceFaults(emulator, "GetObject:503:1000");
    idc::IdcClient other(faultRetrySettings(emulator), idcSettings(emulator));
    BOOST_TEST(int(codeOf([&] { download(other, series.seriesInstanceUid); })) ==
               int(ErrorCode::UpstreamUnavailable));
    replaceFaults(emulator, "");
}

BOOST_AUTO_TEST_CASE(an_object_that_differs_from_its_etag_is_rejected) {
    TempDir dir;
    fs::copy(sampleDataDir(), dir.path() + "/data", fs::copy_options::recursive);
    EmulatorProcess emulator({}, dir.path() + "/data");
    idc::IdcClient client(faultRetrySettings(emulator), idcSettings(emulator));
    const auto series = largestSeries(client);
    // Rot one file of the series after the emulator listed it: same size, last byte flipped, so
    // only the MD5 (the listed ETag) tells.
    std::string victim;
    for (const auto& e : fs::recursive_directory_iterator(dir.path() + "/data")) {
        if (!e.is_regular_file()) continue;
        if (e.path().string().find("/" + series.seriesInstanceUid + "/") == std::string::npos) continue;
        victim = e.path().string();
        break;
    }
    BOOST_REQUIRE_MESSAGE(!victim.empty(), "no file of series " << series.seriesInstanceUid);
    {
        std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(-1, std::ios::end);
        char c = 0;
        f.get(c);
        f.seekp(-1, std::ios::end);
        f.put(static_cast<char>(c ^ 0x5A));
    }
    std::vector<char> victimBytes;
    {
        std::ifstream in(victim, std::ios::binary);
        victimBytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto victimUids = tcia::InstanceMetaReader::read(
        reinterpret_cast<const std::uint8_t*>(victimBytes.data()), victimBytes.size());
    BOOST_REQUIRE(victimUids.has_value());

    std::vector<std::string> delivered;
    RequestContext cancel;
    const auto code = codeOf([&] {
        client.downloadSeries(
            series.seriesInstanceUid, {},
            [&](tcia::DownloadedInstance&& i) { delivered.push_back(i.sopInstanceUid); }, cancel);
    });
    BOOST_TEST(int(code) == int(ErrorCode::UpstreamBadResponse));
    BOOST_TEST(std::count(delivered.begin(), delivered.end(), victimUids->sopInstanceUid) == 0,
               "the rotted instance never reaches the sink");
    // With verification off (tcia.verifyMd5 = false) the same bytes are accepted.
    TciaSettings lax = faultRetrySettings(emulator);
    lax.verifyMd5 = false;
    idc::IdcClient trusting(lax, idcSettings(emulator));
    BOOST_TEST(download(trusting, series.seriesInstanceUid).sops.size() ==
               std::size_t(series.imageCount.value_or(0)));
}

BOOST_AUTO_TEST_CASE(a_listing_shorter_than_the_expected_count_fails) {
    EmulatorProcess emulator;
    idc::IdcClient client(faultRetrySettings(emulator), idcSettings(emulator));
    const auto series = largestSeries(client);
    // The emulator's listings are whole by construction; the catalog expecting one instance more
    // than the bucket lists is the same situation for the client.
    tcia::DownloadOptions options;
    options.expectedCount = series.imageCount.value_or(0) + 1;
    resetStats(emulator);
    std::size_t delivered = 0;
    RequestContext cancel;
    const auto code = codeOf([&] {
        client.downloadSeries(
            series.seriesInstanceUid, options, [&](tcia::DownloadedInstance&&) { ++delivered; }, cancel);
    });
    BOOST_TEST(int(code) == int(ErrorCode::UpstreamBadResponse));
    BOOST_TEST(delivered == 0u, "nothing fetched from a short listing");
    BOOST_TEST(endpointCount(emulator, "ListObjectsV2") == 3, "listed again on each of the 2 retries");
    BOOST_TEST(endpointCount(emulator, "GetObject") == 0);
}

BOOST_AUTO_TEST_CASE(the_next_sql_page_is_asked_for_while_this_one_is_consumed) {
    // The harvest's passes page through /v3/sql; the next page is fetched while the consumer
    // stores this one. The sink of the first page waits for the emulator to have answered a
    // second /v3/sql request (its counter): with pages fetched only after the sink returned, that
    // never happens and the wait runs out.
    EmulatorProcess emulator;
    IdcSettings settings = idcSettings(emulator);
    settings.sqlPageRows = 1;  // a page per series
    idc::IdcClient client(faultRetrySettings(emulator), settings);
    tcia::SeriesFilter f;
    f.collection = busiestCollection(client);  // also fills the collection directory
    std::vector<std::string> all;
    for (const auto& s : client.series(f, ctx())) all.push_back(s.seriesInstanceUid);
    BOOST_REQUIRE(all.size() >= 3u);
    resetStats(emulator);
    std::vector<std::string> got;
    bool secondAskedDuringFirst = false;
    client.seriesBatches(
        f, 1,
        [&](std::vector<tcia::SeriesRecord>&& rows) {
            if (got.empty()) {
                const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
                while (!(secondAskedDuringFirst = endpointCount(emulator, "v3/sql") >= 2) &&
                       std::chrono::steady_clock::now() < until)
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // bounded wait on a counter
            }
            for (auto& r : rows) got.push_back(r.seriesInstanceUid);
        },
        ctx());
    BOOST_TEST(secondAskedDuringFirst);
    std::sort(all.begin(), all.end());
    BOOST_TEST(got == all);  // every series once, in key order
    // One request per page and one for the empty page after the last: none twice.
    BOOST_TEST(endpointCount(emulator, "v3/sql") == static_cast<int>(all.size() + 1));
}

BOOST_AUTO_TEST_CASE(a_consumer_that_throws_leaves_no_page_request_behind) {
    EmulatorProcess emulator;
    IdcSettings settings = idcSettings(emulator);
    settings.sqlPageRows = 1;
    idc::IdcClient client(faultRetrySettings(emulator), settings);
    tcia::SeriesFilter f;
    f.collection = busiestCollection(client);
    resetStats(emulator);
    BOOST_CHECK_THROW(
        client.seriesBatches(
            f, 1, [&](std::vector<tcia::SeriesRecord>&&) { throw std::runtime_error("consumer failed"); }, ctx()),
        std::runtime_error);
    // seriesBatches returned only after the page ahead had ended: the first page and at most the
    // one ahead were asked for, and nothing of the call is still in flight to be counted later.
    const int after = endpointCount(emulator, "v3/sql");
    BOOST_TEST(after >= 1);
    BOOST_TEST(after <= 2);
    const RequestContext settle;
    client.collections(settle);  // one more round trip to the emulator (answered from the directory cache or not)
    BOOST_TEST(endpointCount(emulator, "v3/sql") <= after + 1);
}

BOOST_AUTO_TEST_CASE(version_and_collection_licences) {
    EmulatorProcess emulator({"--idc-version", "v31"});
    idc::IdcClient client(faultRetrySettings(emulator), idcSettings(emulator));
    BOOST_TEST(client.idcVersion() == "v31");
    const auto infos = client.collectionInfos();
    BOOST_REQUIRE(!infos.empty());
    bool someNonCommercial = false;
    for (const auto& i : infos) {
        BOOST_TEST(!i.name.empty());
        BOOST_TEST(!i.licenseShortName.empty(), i.name << " has a licence");
        BOOST_TEST(!i.citation.empty(), i.name << " has a citation");
        someNonCommercial = someNonCommercial || i.nonCommercial;
    }
    BOOST_TEST(someNonCommercial, "the sample data has a CC BY-NC collection");
}

BOOST_AUTO_TEST_CASE(a_new_release_refreshes_the_series_revised_since_the_pinned_one) {
    EmulatorProcess emulator({"--idc-version", "v25"});
    TempDir dir;
    const std::string pinFile = dir.path() + "/idc-version";
    const auto readPin = [&] {
        std::ifstream in(pinFile);
        std::string v;
        std::getline(in, v);
        return v;
    };
    std::size_t seriesCount = 0;
    std::string someCollection;
    {
        idc::IdcClient first(faultRetrySettings(emulator), idcSettings(emulator), pinFile);
        BOOST_TEST(first.pinnedVersion() == "");
        seriesCount = allSeries(first).size();  // a harvest: collections() pins the release read
        someCollection = first.collections(ctx()).front();
        BOOST_TEST(first.pinnedVersion() == "v25");
        BOOST_TEST(readPin() == "v25");
    }
    {
        // Restarted on the same release: the pin is read back, a refresh finds nothing.
        idc::IdcClient again(faultRetrySettings(emulator), idcSettings(emulator), pinFile);
        BOOST_TEST(again.pinnedVersion() == "v25");
        BOOST_TEST(again.updatedSeries("20000101", ctx()).empty());
        BOOST_TEST(again.newPatientsInCollection(someCollection, "20000101", ctx()).empty());
    }
    // The catalog was harvested from v24; IDC is at v25, where every emulated series was revised.
    {
        std::ofstream out(pinFile, std::ios::trunc);
        out << "v24\n";
    }
    idc::IdcClient older(faultRetrySettings(emulator), idcSettings(emulator), pinFile);
    BOOST_TEST(older.pinnedVersion() == "v24");
    const auto updated = older.updatedSeries("20000101", ctx());
    BOOST_TEST(updated.size() == seriesCount);
    BOOST_TEST(!older.newPatientsInCollection(someCollection, "20000101", ctx()).empty());
    BOOST_TEST(!older.newStudiesInPatientCollection(someCollection, "", "20000101", ctx()).empty());
    BOOST_TEST(older.pinnedVersion() == "v25");
    BOOST_TEST(readPin() == "v25");
    BOOST_TEST(older.updatedSeries("20000101", ctx()).empty(), "nothing new the second time");
    // A release that revised nothing the emulator holds: the pin moves, no series come back.
    httpBody(emulator.port(), "POST", "/emulator/idc/version?idc_version=v26&idc_index_data_version=26.0.0");
    BOOST_TEST(older.updatedSeries("20000101", ctx()).empty());
    BOOST_TEST(older.pinnedVersion() == "v26");
    BOOST_TEST(readPin() == "v26");
    BOOST_TEST(idc::IdcClient::versionNumber("v24").value_or(-1) == 24);
    BOOST_TEST(!idc::IdcClient::versionNumber("current").has_value());
}

BOOST_AUTO_TEST_CASE(a_collection_directory_without_collections_index_withdraws_nothing) {
    // Review finding: when collections_index through /sql fails, the client falls back to GET
    // /collections, which has no DOIs -- a collection the catalog holds under its TCIA name
    // (idc.tciaNames) is then missing from the directory. That must read as "cannot tell", not
    // as "IDC no longer lists it" (which would withdraw every series of the collection).
    EmulatorProcess emulator;
    tcia::TciaClient nbia(faultRetrySettings(emulator));
    IdcSettings settings = idcSettings(emulator);
    settings.tciaNames["Phantom-Mixed"] = "10.7937/TCIA.DEMO.PH03";
    tcia::SeriesFilter filter;
    filter.collection = "Phantom-Mixed";
    std::set<std::string> nbiaSeries;
    for (const auto& s : nbia.series(filter, ctx())) nbiaSeries.insert(s.seriesInstanceUid);
    BOOST_REQUIRE(!nbiaSeries.empty());

    // collections_index answered: the renamed collection lists its series.
    idc::IdcClient client(faultRetrySettings(emulator), settings);
    const auto listed = client.listedSeriesUids("Phantom-Mixed", ctx());
    BOOST_REQUIRE(listed.has_value());
    BOOST_TEST(asSet(*listed) == nbiaSeries);
    // A name IDC's full directory does not hold: positively not listed.
    const auto absent = client.listedSeriesUids("No-Such-Collection", ctx());
    BOOST_REQUIRE(absent.has_value());
    BOOST_TEST(absent->empty());

    // collections_index fails (a 400 from /sql, twice: the load and the one retry of the call):
    // the /collections fallback cannot tell.
    replaceFaults(emulator, "v3/sql:400:2");
    idc::IdcClient fallback(faultRetrySettings(emulator), settings);
    BOOST_TEST(!fallback.listedSeriesUids("Phantom-Mixed", ctx()).has_value());
    // Once /sql answers again, the next call reloads collections_index and can tell.
    const auto recovered = fallback.listedSeriesUids("Phantom-Mixed", ctx());
    BOOST_REQUIRE(recovered.has_value());
    BOOST_TEST(asSet(*recovered) == nbiaSeries);
    replaceFaults(emulator, "");
}

BOOST_AUTO_TEST_SUITE_END()
