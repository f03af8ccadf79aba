// Issue 11: the instance cache fsyncs once per series (markComplete), not per instance, and
// hashes and parses each downloaded instance once. What a power cut can leave of a series that
// was never marked complete (files written but not synced) must never be served as whole.

#include <dcmtk/dcmdata/dcdeftag.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "bridge/common/Error.h"
#include "bridge/retrieve/DownloadCoordinator.h"
#include "bridge/retrieve/InstanceCache.h"
#include "bridge/retrieve/InstanceHeader.h"
#include "bridge/retrieve/RetrieveEngine.h"
#include "bridge/tcia/Md5.h"
#include "tests/support/RetrieveRequests.h"
#include "tests/support/TestSupport.h"
#include "tests/unit/retrieve/CacheTestSupport.h"
#include "tests/unit/retrieve/RetrieveTestDoubles.h"

using namespace bridge;
using namespace bridge::test;
namespace fs = std::filesystem;

namespace {

std::string readText(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Rewrites the sidecar without the lines of `sop` (a sidecar append lost in a power cut).
void dropSidecarLine(const std::string& seriesDir, const std::string& sop) {
    std::ifstream in(seriesDir + "/index.tsv");
    std::string line, kept;
    while (std::getline(in, line))
        if (line.rfind(sop + "\t", 0) != 0) kept += line + "\n";
    in.close();
    std::ofstream(seriesDir + "/index.tsv", std::ios::trunc) << kept;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(InstanceCacheDurabilityTests)

BOOST_AUTO_TEST_CASE(torn_files_of_an_unsynced_series_are_never_served_after_a_restart) {
    TempDir dir;
    auto s = makeSeries("40", 5, "TEST-COLL", 64 * 1024);
    std::string seriesDir;
    {
        InstanceCache cache(settingsFor(dir));
        for (const auto& f : s.files) cache.store(s.record.seriesInstanceUid, f);
        // Not marked complete: nothing of it was fsync'd (issue 11).
        seriesDir = cache.directory() + "/" + s.record.seriesInstanceUid;
    }
    BOOST_TEST(!fs::exists(seriesDir + "/complete"));
    // What a power cut may leave of unsynced writes:
    // 1. a file cut short (its size was not yet on disk);
    fs::resize_file(seriesDir + "/" + s.sopUids[1] + ".dcm", s.files[1].size() / 3);
    // 2. a file of the right size whose blocks never reached the disk (zeros);
    {
        std::fstream f(seriesDir + "/" + s.sopUids[2] + ".dcm",
                       std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(s.files[2].size() / 2));
        const std::string zeros(4096, '\0');
        f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    // 3. a renamed file whose sidecar line was lost -- and which is torn as well.
    dropSidecarLine(seriesDir, s.sopUids[3]);
    fs::resize_file(seriesDir + "/" + s.sopUids[3] + ".dcm", s.files[3].size() - 1000);

    InstanceCache reopened(settingsFor(dir));
    BOOST_TEST(!reopened.isComplete(s.record.seriesInstanceUid));
    // 1 and 3 are gone at load (size; not listed in an unsynced series), 2 on its first read (MD5).
    BOOST_TEST(!fs::exists(seriesDir + "/" + s.sopUids[1] + ".dcm"));
    BOOST_TEST(!fs::exists(seriesDir + "/" + s.sopUids[3] + ".dcm"));
    BOOST_TEST(!reopened.contains(s.record.seriesInstanceUid, s.sopUids[3]));
    BOOST_TEST(!reopened.read(s.record.seriesInstanceUid, s.sopUids[1]));
    BOOST_TEST(!reopened.read(s.record.seriesInstanceUid, s.sopUids[2]));
    BOOST_TEST(!fs::exists(seriesDir + "/" + s.sopUids[2] + ".dcm"));
    BOOST_TEST(!reopened.read(s.record.seriesInstanceUid, s.sopUids[3]));
    // The intact ones are served, byte for byte.
    for (std::size_t i : {0u, 4u}) {
        auto bytes = reopened.read(s.record.seriesInstanceUid, s.sopUids[i]);
        BOOST_REQUIRE(bytes);
        BOOST_TEST((*bytes == s.files[i]));
    }
    BOOST_TEST(reopened.stats().instances == 2u);
}

BOOST_AUTO_TEST_CASE(an_unlisted_intact_file_of_an_unsynced_series_is_dropped_not_trusted) {
    // Before issue 11 such a file was indexed by scanning; unsynced, it may be torn in a way no
    // parse detects, and there is no recorded MD5 to check it against: it is downloaded again.
    TempDir dir;
    auto s = makeSeries("41", 2);
    std::string seriesDir;
    {
        InstanceCache cache(settingsFor(dir));
        for (const auto& f : s.files) cache.store(s.record.seriesInstanceUid, f);
        seriesDir = cache.directory() + "/" + s.record.seriesInstanceUid;
    }
    dropSidecarLine(seriesDir, s.sopUids[0]);
    InstanceCache reopened(settingsFor(dir));
    BOOST_TEST(!reopened.contains(s.record.seriesInstanceUid, s.sopUids[0]));
    BOOST_TEST(!fs::exists(seriesDir + "/" + s.sopUids[0] + ".dcm"));
    BOOST_TEST(reopened.read(s.record.seriesInstanceUid, s.sopUids[1]) != nullptr);
}

BOOST_AUTO_TEST_CASE(a_completed_series_is_synced_before_its_marker_and_survives_a_restart) {
    TempDir dir;
    auto s = makeSeries("42", 4, "TEST-COLL", 32 * 1024);
    std::string seriesDir;
    {
        InstanceCache cache(settingsFor(dir));
        for (const auto& f : s.files) cache.store(s.record.seriesInstanceUid, f);
        seriesDir = cache.directory() + "/" + s.record.seriesInstanceUid;
        BOOST_TEST(!fs::exists(seriesDir + "/complete"));
        cache.markComplete(s.record.seriesInstanceUid, 4);
        BOOST_TEST(cache.isComplete(s.record.seriesInstanceUid));
        BOOST_TEST(readText(seriesDir + "/complete") == "4\n");
    }
    InstanceCache reopened(settingsFor(dir));
    BOOST_TEST(reopened.isComplete(s.record.seriesInstanceUid));
    for (std::size_t i = 0; i < s.files.size(); ++i) {
        auto bytes = reopened.read(s.record.seriesInstanceUid, s.sopUids[i]);
        BOOST_REQUIRE(bytes);
        BOOST_TEST((*bytes == s.files[i]));
    }
    BOOST_TEST(reopened.stats().verifyFailures == 0u);
}

BOOST_AUTO_TEST_CASE(store_keeps_the_callers_md5_instead_of_hashing_again) {
    TempDir dir;
    InstanceCache cache(settingsFor(dir));
    auto s = makeSeries("43", 2);
    const std::string right = tcia::Md5::hex(s.files[0].data(), s.files[0].size());
    auto info = cache.store(s.record.seriesInstanceUid, s.files[0], {right});
    BOOST_TEST(info.md5 == right);
    BOOST_TEST(cache.read(s.record.seriesInstanceUid, s.sopUids[0]) != nullptr);
    // The hint is what the sidecar records (proved with a wrong one: a later process's first-read
    // MD5 check refuses the file; this process trusts what it wrote), and without a hint the
    // cache computes it.
    const std::string wrong(32, '0');
    BOOST_TEST(cache.store(s.record.seriesInstanceUid, s.files[1], {wrong}).md5 == wrong);
    {
        InstanceCache later(settingsFor(dir));
        BOOST_TEST(!later.read(s.record.seriesInstanceUid, s.sopUids[1]));
    }
    BOOST_TEST(cache.store(s.record.seriesInstanceUid, s.files[1]).md5 ==
               tcia::Md5::hex(s.files[1].data(), s.files[1].size()));
    BOOST_TEST(cache.read(s.record.seriesInstanceUid, s.sopUids[1]) != nullptr);
}

BOOST_AUTO_TEST_CASE(md5_incremental_equals_one_shot_and_known_vectors) {
    BOOST_TEST(tcia::Md5::hex("", 0) == "d41d8cd98f00b204e9800998ecf8427e");
    BOOST_TEST(tcia::Md5::hex("abc", 3) == "900150983cd24fb0d6963f7d28e17f72");
    tcia::Md5 md5;
    md5.update("a", 1);
    md5.update("bc", 2);
    BOOST_TEST(md5.hexDigest() == "900150983cd24fb0d6963f7d28e17f72");
    BOOST_TEST(md5.hexDigest() == "d41d8cd98f00b204e9800998ecf8427e");  // restarted empty
}

BOOST_AUTO_TEST_CASE(peek_reads_the_same_attributes_as_the_full_parse_without_the_pixels) {
    for (std::size_t pixels : {std::size_t(512), std::size_t(64 * 1024), std::size_t(512 * 1024)}) {
        auto bytes = makeInstance("1.2.3", "1.2.3.4", "1.2.3.4.5", 9, pixels);
        const DicomRecord full = readInstanceHeader(bytes.data(), bytes.size());
        const DicomRecord peeked = peekInstanceHeader(bytes.data(), bytes.size());
        BOOST_TEST((full.values() == peeked.values()), "pixel bytes " << pixels);
        BOOST_TEST(peeked.get(DCM_InstanceNumber) == "9");
        BOOST_TEST(peeked.get(DCM_TransferSyntaxUID) == "1.2.840.10008.1.2.1");
    }
    // The peek vouches for the header only: Pixel Data cut short is the MD5's business (the full
    // parse refuses it). Junk is refused by both.
    auto big = makeInstance("1.2.3", "1.2.3.4", "1.2.3.4.6", 1, 512 * 1024);
    big.resize(big.size() / 2);
    BOOST_TEST(peekInstanceHeader(big.data(), big.size()).get(DCM_SOPInstanceUID) == "1.2.3.4.6");
    BOOST_CHECK_THROW(readInstanceHeader(big.data(), big.size()), BridgeError);
    std::vector<std::uint8_t> junk(200 * 1024, 'x');
    BOOST_CHECK_THROW(peekInstanceHeader(junk.data(), junk.size()), BridgeError);
}

BOOST_AUTO_TEST_CASE(a_download_is_complete_at_its_end_and_durable_right_after) {
    using namespace std::chrono_literals;
    TempDir dir;
    InstanceCache cache(settingsFor(dir));
    FakeTcia tcia;
    const FakeSeries series = makeSeries("44", 6, "TEST-COLL", 16 * 1024);
    tcia.add(series);
    const std::string marker = cache.directory() + "/" + series.record.seriesInstanceUid + "/complete";
    {
        DownloadCoordinator downloads(tcia, cache, 2);
        SeriesLocator locator;
        locator.collection = series.record.collection;
        locator.seriesInstanceUid = series.record.seriesInstanceUid;
        locator.imageCount = 6;
        auto subscription = downloads.subscribe(locator);
        std::size_t got = 0;
        bool ended = false;
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (!ended && std::chrono::steady_clock::now() < deadline) {
            PublishedInstance instance;
            std::shared_ptr<const std::vector<std::uint8_t>> bytes;
            switch (subscription->next(instance, bytes, 200ms)) {
                case SeriesDownload::Poll::Instance:
                    ++got;
                    break;
                case SeriesDownload::Poll::Waiting:
                    break;
                case SeriesDownload::Poll::End:
                    ended = true;
                    break;
            }
        }
        BOOST_REQUIRE(ended);
        BOOST_TEST(got == 6u);
        // Complete for this process when the subscribers see End (a warm request right after
        // must not download again); the fsync pass and the marker follow on the download thread.
        BOOST_TEST(cache.isComplete(series.record.seriesInstanceUid));
        const auto markerDeadline = std::chrono::steady_clock::now() + 60s;
        while (!fs::exists(marker) && std::chrono::steady_clock::now() < markerDeadline)
            std::this_thread::sleep_for(10ms);
    }
    BOOST_TEST(fs::exists(marker));
    InstanceCache reopened(settingsFor(dir));
    BOOST_TEST(reopened.isComplete(series.record.seriesInstanceUid));
    for (const auto& info : reopened.instances(series.record.seriesInstanceUid)) {
        const auto i = static_cast<std::size_t>(
            std::find(series.sopUids.begin(), series.sopUids.end(), info.sopInstanceUid) -
            series.sopUids.begin());
        BOOST_REQUIRE(i < series.files.size());
        BOOST_TEST(info.md5 == tcia::Md5::hex(series.files[i].data(), series.files[i].size()));
    }
}

BOOST_AUTO_TEST_CASE(a_torn_file_of_an_unsynced_series_is_downloaded_again_not_served) {
    // End to end through the RetrieveEngine: a download that stopped early leaves an unsynced,
    // incomplete series; a power cut zeroes part of one file (same size). After the restart the
    // retrieve serves every instance byte for byte: the torn one fails its MD5 and is fetched again.
    using namespace std::chrono_literals;
    TempDir dir;
    auto s = makeSeries("45", 5, "TEST-COLL", 32 * 1024);
    const auto retrieve = [&](FakeTcia& tcia, const RetrieveRequest& request) {
        FakeMetadata metadata(tcia);
        InstanceCache cache(settingsFor(dir));
        RetrieveEngine engine(metadata, tcia, cache, 2);
        RequestContext context;
        auto stream = engine.open(engine.plan(request, context), context);
        std::map<std::string, std::vector<std::uint8_t>> got;
        DicomInstance out;
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto status = stream->next(out, 200ms);
            if (status == InstanceStream::Status::End) break;
            if (status == InstanceStream::Status::Instance && out.bytes) got[out.sopInstanceUid] = *out.bytes;
        }
        return got;
    };
    {
        FakeTcia partial;
        partial.add(s);
        partial.stopAfter = 3;  // returns normally with 3 of 5: not complete, never synced
        BOOST_TEST(retrieve(partial, seriesRequest(s.record.seriesInstanceUid)).size() == 3u);
    }
    const std::string seriesDir = dir.path() + "/instances/" + s.record.seriesInstanceUid;
    BOOST_REQUIRE(fs::exists(seriesDir + "/" + s.sopUids[1] + ".dcm"));
    BOOST_TEST(!fs::exists(seriesDir + "/complete"));
    {
        std::fstream f(seriesDir + "/" + s.sopUids[1] + ".dcm",
                       std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(s.files[1].size() - 8192));
        const std::string zeros(4096, '\0');
        f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    FakeTcia whole;
    whole.add(s);
    // IMAGE level, all three cached: the cache serves them (the path where a torn file could
    // leak) -- never the torn bytes.
    const auto images =
        retrieve(whole, imageRequest(s.record.seriesInstanceUid, {s.sopUids[0], s.sopUids[1], s.sopUids[2]}));
    BOOST_TEST(images.size() == 3u);
    for (const auto& [sop, bytes] : images) {
        const auto i =
            static_cast<std::size_t>(std::find(s.sopUids.begin(), s.sopUids.end(), sop) - s.sopUids.begin());
        BOOST_REQUIRE(i < s.files.size());
        BOOST_TEST((bytes == s.files[i]), "instance " << i);
    }
    const auto got = retrieve(whole, seriesRequest(s.record.seriesInstanceUid));
    BOOST_REQUIRE(got.size() == s.files.size());
    for (std::size_t i = 0; i < s.files.size(); ++i)
        BOOST_TEST((got.at(s.sopUids[i]) == s.files[i]), "instance " << i);
}

namespace {

/// Subscribes to `series` (6 instances) and returns the subscription after taking `take` of them.
std::unique_ptr<DownloadCoordinator::Subscription> subscribeAndTake(DownloadCoordinator& downloads,
                                                                    const FakeSeries& series,
                                                                    std::size_t take) {
    using namespace std::chrono_literals;
    SeriesLocator locator;
    locator.collection = series.record.collection;
    locator.seriesInstanceUid = series.record.seriesInstanceUid;
    locator.imageCount = static_cast<int>(series.files.size());
    auto subscription = downloads.subscribe(locator);
    std::size_t got = 0;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (got < take && std::chrono::steady_clock::now() < deadline) {
        PublishedInstance instance;
        std::shared_ptr<const std::vector<std::uint8_t>> bytes;
        if (subscription->next(instance, bytes, 200ms) == SeriesDownload::Poll::Instance) ++got;
    }
    BOOST_REQUIRE(got == take);
    return subscription;
}

/// Polls until `done()` or `limit` passed; true when done.
template <class Done>
bool pollFor(std::chrono::milliseconds limit, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

/// A 6-instance series downloaded for one subscriber that has taken only its first instance
/// (a C-MOVE whose C-STOREs trail the GETs); `marker` is the series' on-disk `complete` file.
struct TrailingSubscriber {
    TempDir dir;
    InstanceCache cache{settingsFor(dir)};
    FakeTcia tcia;
    FakeSeries series;
    std::string marker;
    DownloadCoordinator downloads{tcia, cache, 2};
    std::unique_ptr<DownloadCoordinator::Subscription> subscription;

    explicit TrailingSubscriber(const std::string& id)
        : series(makeSeries(id, 6, "TEST-COLL", 16 * 1024)),
          marker(cache.directory() + "/" + series.record.seriesInstanceUid + "/complete") {
        tcia.add(series);
        subscription = subscribeAndTake(downloads, series, 1);
    }
};

}  // namespace

// Issue 12: a subscriber trails the download (its C-STOREs are slower than the GETs); the fsync
// pass of the series (writeback of every file) must not run beside its last C-STOREs. It starts
// once every subscriber has been handed End -- and the series is complete in memory before.
BOOST_AUTO_TEST_CASE(the_fsync_pass_waits_until_the_subscribers_are_done) {
    using namespace std::chrono_literals;
    TrailingSubscriber t("45");
    // The download ends (complete for this process) while the subscriber still has 5 to go.
    BOOST_REQUIRE(pollFor(60s, [&] { return t.cache.isComplete(t.series.record.seriesInstanceUid); }));
    // Before: the marker (written after the fsync pass) followed within milliseconds.
    BOOST_TEST(!pollFor(1500ms, [&] { return fs::exists(t.marker); }),
               "the series was synced while its subscriber was still sending");
    std::size_t got = 1;
    bool ended = false;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!ended && std::chrono::steady_clock::now() < deadline) {
        PublishedInstance instance;
        std::shared_ptr<const std::vector<std::uint8_t>> bytes;
        const auto poll = t.subscription->next(instance, bytes, 200ms);
        if (poll == SeriesDownload::Poll::Instance) ++got;
        ended = poll == SeriesDownload::Poll::End;
    }
    BOOST_REQUIRE(ended);
    BOOST_TEST(got == 6u);
    BOOST_TEST(pollFor(60s, [&] { return fs::exists(t.marker); }), "no marker after the subscriber's End");
    BOOST_TEST(InstanceCache(settingsFor(t.dir)).isComplete(t.series.record.seriesInstanceUid));
}

// A subscriber that leaves without reading to the end (C-CANCEL, destination gone) releases
// the fsync pass as End does.
BOOST_AUTO_TEST_CASE(a_subscriber_that_leaves_releases_the_fsync_pass) {
    using namespace std::chrono_literals;
    TrailingSubscriber t("46");
    BOOST_REQUIRE(pollFor(60s, [&] { return t.cache.isComplete(t.series.record.seriesInstanceUid); }));
    t.subscription.reset();
    BOOST_TEST(pollFor(60s, [&] { return fs::exists(t.marker); }), "no marker after the subscriber left");
}

BOOST_AUTO_TEST_SUITE_END()
