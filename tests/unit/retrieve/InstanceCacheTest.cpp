#include <dcmtk/dcmdata/dcdeftag.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bridge/common/Error.h"
#include "bridge/retrieve/InstanceCache.h"
#include "bridge/retrieve/InstanceHeader.h"
#include "tests/support/TestSupport.h"
#include "tests/unit/retrieve/CacheTestSupport.h"
#include "tests/unit/retrieve/RetrieveTestDoubles.h"

using namespace bridge;
using namespace bridge::test;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(InstanceCacheTests)

BOOST_AUTO_TEST_CASE(header_reader_extracts_the_sidecar_attributes) {
    auto bytes = makeInstance("1.2.3", "1.2.3.4", "1.2.3.4.5", 7, 1024);
    DicomRecord r = readInstanceHeader(bytes.data(), bytes.size());
    BOOST_TEST(r.get(DCM_SOPInstanceUID) == "1.2.3.4.5");
    BOOST_TEST(r.get(DCM_InstanceNumber) == "7");
    BOOST_TEST(r.get(DCM_Rows) == "32");
    BOOST_TEST(r.get(DCM_Columns) == "16");
    BOOST_TEST(r.get(DCM_TransferSyntaxUID) == "1.2.840.10008.1.2.1");
    BOOST_TEST(!r.has(DCM_PixelData));
    std::vector<std::uint8_t> junk(200, 'x');
    BOOST_CHECK_THROW(readInstanceHeader(junk.data(), junk.size()), BridgeError);
}

BOOST_AUTO_TEST_CASE(store_read_roundtrip_and_attributes_without_parsing) {
    TempDir dir;
    InstanceCache cache(settingsFor(dir));
    auto s = makeSeries("10", 3);
    storeAll(cache, s);
    for (std::size_t i = 0; i < s.files.size(); ++i) {
        auto bytes = cache.read(s.record.seriesInstanceUid, s.sopUids[i]);
        BOOST_REQUIRE(bytes);
        BOOST_TEST((*bytes == s.files[i]));
    }
    BOOST_TEST(!cache.read(s.record.seriesInstanceUid, "1.2.3.999"));
    auto attrs = cache.instanceAttributes(s.record.seriesInstanceUid);
    BOOST_REQUIRE(attrs);
    BOOST_REQUIRE(attrs->size() == 3u);
    BOOST_TEST((*attrs)[0].get(DCM_InstanceNumber) == "1");
    BOOST_TEST((*attrs)[2].get(DCM_SOPInstanceUID) == s.sopUids[2]);
    BOOST_TEST((*attrs)[1].get(DCM_SOPClassUID) == "1.2.840.10008.5.1.4.1.1.2");
    BOOST_TEST((*attrs)[1].get(DCM_AvailableTransferSyntaxUID) == "1.2.840.10008.1.2.1");
    BOOST_TEST((*attrs)[1].get(DCM_Rows) == "16");
    for (const auto& record : *attrs)
        for (const auto& [tag, value] : record.values()) BOOST_TEST(tag.getGroup() != 0x0002);
    BOOST_TEST(!cache.instanceAttributes("1.2.3.not.cached"));
    auto st = cache.stats();
    BOOST_TEST(st.instances == 3u);
    BOOST_TEST(st.hits == 3u);
    BOOST_TEST(st.misses == 1u);
}

BOOST_AUTO_TEST_CASE(completeness_marker_needs_every_instance) {
    TempDir dir;
    InstanceCache cache(settingsFor(dir));
    auto s = makeSeries("11", 3);
    cache.store(s.record.seriesInstanceUid, s.files[0]);
    cache.markComplete(s.record.seriesInstanceUid, 3);
    BOOST_TEST(!cache.isComplete(s.record.seriesInstanceUid));
    storeAll(cache, s);
    BOOST_TEST(cache.isComplete(s.record.seriesInstanceUid));
}

BOOST_AUTO_TEST_CASE(index_and_marker_survive_a_restart) {
    TempDir dir;
    auto s = makeSeries("12", 4);
    {
        InstanceCache cache(settingsFor(dir));
        storeAll(cache, s);
        cache.markComplete(s.record.seriesInstanceUid, 4);
    }
    InstanceCache reopened(settingsFor(dir));
    BOOST_TEST(reopened.isComplete(s.record.seriesInstanceUid));
    BOOST_TEST(reopened.stats().instances == 4u);
    auto bytes = reopened.read(s.record.seriesInstanceUid, s.sopUids[3]);
    BOOST_REQUIRE(bytes);
    BOOST_TEST((*bytes == s.files[3]));
}

BOOST_AUTO_TEST_CASE(missing_sidecar_is_rebuilt_by_scanning) {
    TempDir dir;
    auto s = makeSeries("13", 3);
    std::string seriesDir;
    {
        InstanceCache cache(settingsFor(dir));
        storeAll(cache, s);
        cache.markComplete(s.record.seriesInstanceUid, 3);
        seriesDir = cache.directory() + "/" + s.record.seriesInstanceUid;
    }
    fs::remove(seriesDir + "/index.tsv");
    InstanceCache reopened(settingsFor(dir));
    BOOST_TEST(fs::exists(seriesDir + "/index.tsv"));
    BOOST_TEST(reopened.isComplete(s.record.seriesInstanceUid));
    auto attrs = reopened.instanceAttributes(s.record.seriesInstanceUid);
    BOOST_REQUIRE(attrs);
    BOOST_TEST((*attrs)[2].get(DCM_InstanceNumber) == "3");
    BOOST_TEST(reopened.read(s.record.seriesInstanceUid, s.sopUids[0]) != nullptr);
}

BOOST_AUTO_TEST_CASE(crash_mid_write_leaves_nothing_servable) {
    TempDir dir;
    auto s = makeSeries("14", 3);
    std::string seriesDir;
    {
        InstanceCache cache(settingsFor(dir));
        cache.store(s.record.seriesInstanceUid, s.files[0]);
        cache.store(s.record.seriesInstanceUid, s.files[1]);
        seriesDir = cache.directory() + "/" + s.record.seriesInstanceUid;
    }
    // What a kill during store() of instance 3 leaves: half a temp file (never renamed), and a
    // torn last line in the sidecar.
    const std::string temp = seriesDir + "/" + s.sopUids[2] + ".dcm.tmp-4242-7";
    {
        std::ofstream out(temp, std::ios::binary);
        out.write(reinterpret_cast<const char*>(s.files[2].data()),
                  static_cast<std::streamsize>(s.files[2].size() / 2));
        std::ofstream index(seriesDir + "/index.tsv", std::ios::app);
        index << s.sopUids[2] << "\t12";  // no newline, no md5: torn
    }
    // And a file the sidecar does not list (bypassed the temp+rename protocol, or its sidecar line
    // was lost): in a series without its complete marker it is deleted (issue 11: never trusted).
    const std::string bogus = seriesDir + "/1.2.3.4.5.6.dcm";
    {
        std::ofstream out(bogus, std::ios::binary);
        out << "not dicom at all";
    }
    InstanceCache reopened(settingsFor(dir));
    BOOST_TEST(!fs::exists(temp));
    BOOST_TEST(!fs::exists(bogus));
    BOOST_TEST(!reopened.contains(s.record.seriesInstanceUid, s.sopUids[2]));
    BOOST_TEST(!reopened.read(s.record.seriesInstanceUid, s.sopUids[2]));
    BOOST_TEST(reopened.read(s.record.seriesInstanceUid, s.sopUids[1]) != nullptr);
    BOOST_TEST(reopened.stats().instances == 2u);
    // The torn sidecar line was dropped by the rewrite.
    std::ifstream index(seriesDir + "/index.tsv");
    std::string all((std::istreambuf_iterator<char>(index)), std::istreambuf_iterator<char>());
    BOOST_TEST(all.find(s.sopUids[2]) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(sigkill_during_stores_never_leaves_a_servable_partial_file) {
    TempDir dir;
    auto s = makeSeries("16", 40, "TEST-COLL", 256 * 1024);  // ~256 KB each
    const pid_t child = fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
        // The writer: stores the series over and over until killed.
        InstanceCache cache(settingsFor(dir));
        for (int round = 0; round < 1000; ++round)
            for (const auto& f : s.files) cache.store(s.record.seriesInstanceUid, f);
        _exit(0);
    }
    // Kill once stores are under way: the sidecar lists a finished instance (polled, with a
    // deadline; a fixed 300 ms sleep failed under TSan on a loaded machine before the first store
    // had finished). Not merely "a non-temporary file exists": killed between an instance's
    // rename and its sidecar line, the series holds one unlisted file, which the reopened cache
    // rightly deletes -- with the directory, which this test then could not list (seen under ASan
    // on a loaded machine).
    const std::string sidecar = dir.path() + "/instances/" + s.record.seriesInstanceUid + "/index.tsv";
    const auto storedOne = [&] {
        std::ifstream in(sidecar);
        std::string line;
        while (std::getline(in, line))
            if (!in.eof()) return true;  // a whole line (ended by its newline)
        return false;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!storedOne() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    BOOST_TEST(WIFSIGNALED(status));
    std::size_t leftovers = 0;
    for (const auto& entry : fs::directory_iterator(dir.path() + "/instances/" + s.record.seriesInstanceUid))
        leftovers += entry.path().filename().string().find(".tmp-") != std::string::npos ? 1 : 0;
    BOOST_TEST_MESSAGE("temporary files left by the kill: " << leftovers);

    InstanceCache reopened(settingsFor(dir));
    const std::string seriesDir = reopened.directory() + "/" + s.record.seriesInstanceUid;
    for (const auto& entry : fs::directory_iterator(seriesDir))
        BOOST_TEST(entry.path().filename().string().find(".tmp-") == std::string::npos);
    const auto cached = reopened.instances(s.record.seriesInstanceUid);
    BOOST_TEST(!cached.empty());
    for (const auto& info : cached) {
        const auto index =
            std::find(s.sopUids.begin(), s.sopUids.end(), info.sopInstanceUid) - s.sopUids.begin();
        auto bytes = reopened.read(s.record.seriesInstanceUid, info.sopInstanceUid);
        BOOST_REQUIRE(bytes);
        BOOST_TEST((*bytes == s.files[static_cast<std::size_t>(index)]));
    }
    BOOST_TEST(reopened.stats().verifyFailures == 0u);
}

BOOST_AUTO_TEST_CASE(a_file_that_fails_verification_is_deleted_and_a_miss) {
    TempDir dir;
    auto s = makeSeries("15", 3);
    {
        // Stored by an earlier process: the files this process wrote itself are trusted (their
        // MD5 was computed from the bytes written); a later process verifies each on first read.
        InstanceCache writer(settingsFor(dir));
        storeAll(writer, s);
        writer.markComplete(s.record.seriesInstanceUid, 3);
    }
    InstanceCache cache(settingsFor(dir));
    const std::string seriesDir = cache.directory() + "/" + s.record.seriesInstanceUid;
    // Same size, one byte flipped: only the MD5 catches it.
    {
        std::fstream f(seriesDir + "/" + s.sopUids[1] + ".dcm",
                       std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(-10, std::ios::end);
        f.put('\x5a');
    }
    // Truncated: the size catches it.
    fs::resize_file(seriesDir + "/" + s.sopUids[2] + ".dcm", 100);

    BOOST_TEST(!cache.read(s.record.seriesInstanceUid, s.sopUids[1]));
    BOOST_TEST(!cache.read(s.record.seriesInstanceUid, s.sopUids[2]));
    BOOST_TEST(!fs::exists(seriesDir + "/" + s.sopUids[1] + ".dcm"));
    BOOST_TEST(!fs::exists(seriesDir + "/" + s.sopUids[2] + ".dcm"));
    BOOST_TEST(!cache.isComplete(s.record.seriesInstanceUid));
    BOOST_TEST(cache.read(s.record.seriesInstanceUid, s.sopUids[0]) != nullptr);
    BOOST_TEST(cache.stats().verifyFailures == 2u);
    BOOST_TEST(cache.stats().instances == 1u);
}

BOOST_AUTO_TEST_CASE(an_instance_this_process_stored_is_read_without_a_second_md5) {
    // Issue 11 (hash once): the first warm read after a cold download does not hash the file
    // again -- its MD5 was computed from the very bytes this process wrote.
    TempDir dir;
    InstanceCache cache(settingsFor(dir));
    auto s = makeSeries("16", 2);
    storeAll(cache, s);
    cache.markComplete(s.record.seriesInstanceUid, 2);
    for (const auto& info : cache.instances(s.record.seriesInstanceUid)) BOOST_TEST(info.md5Verified);
    BOOST_TEST(cache.read(s.record.seriesInstanceUid, s.sopUids[0]) != nullptr);
}

BOOST_AUTO_TEST_CASE(a_series_removed_while_pinned_is_incomplete_at_once_and_gone_at_unpin) {
    // A series withdrawn by its source while a download, its sync or a send pins it: never
    // complete again (not even after a restart), its files removed when the last pin goes.
    TempDir dir;
    auto s = makeSeries("17", 2);
    {
        InstanceCache cache(settingsFor(dir));
        const std::string seriesDir = cache.directory() + "/" + s.record.seriesInstanceUid;
        storeAll(cache, s);
        cache.markComplete(s.record.seriesInstanceUid, 2);
        {
            InstanceCache::Pin pin = cache.pin(s.record.seriesInstanceUid);
            BOOST_TEST(!cache.removeSeries(s.record.seriesInstanceUid));
            BOOST_TEST(!cache.isComplete(s.record.seriesInstanceUid));
            cache.recordComplete(s.record.seriesInstanceUid, 2);  // a download ending meanwhile
            BOOST_TEST(!cache.isComplete(s.record.seriesInstanceUid));
            BOOST_TEST(fs::exists(seriesDir), "still pinned: the files stay for the reader");
            InstanceCache restarted(settingsFor(dir));
            BOOST_TEST(!restarted.isComplete(s.record.seriesInstanceUid), "its marker is gone already");
        }
        BOOST_TEST(!fs::exists(seriesDir));
        BOOST_TEST(cache.instances(s.record.seriesInstanceUid).empty());
    }
}

BOOST_AUTO_TEST_CASE(lru_evicts_least_recently_used_series_and_keeps_the_bound) {
    TempDir dir;
    auto a = makeSeries("20", 2), b = makeSeries("21", 2), c = makeSeries("22", 2), d = makeSeries("23", 2);
    const std::uint64_t seriesBytes = a.files[0].size() * 2;
    InstanceCache cache(settingsFor(dir, seriesBytes * 3 + seriesBytes / 2));  // room for 3 series
    storeAll(cache, a);
    storeAll(cache, b);
    storeAll(cache, c);
    BOOST_TEST(cache.stats().series == 3u);
    BOOST_TEST(cache.read(a.record.seriesInstanceUid, a.sopUids[0]) != nullptr);  // a is now the most recent
    storeAll(cache, d);
    BOOST_TEST(cache.stats().bytes <= cache.stats().maxBytes);
    BOOST_TEST(cache.contains(a.record.seriesInstanceUid, a.sopUids[0]));
    BOOST_TEST(!cache.contains(b.record.seriesInstanceUid, b.sopUids[0]));  // least recently used
    BOOST_TEST(cache.contains(c.record.seriesInstanceUid, c.sopUids[0]));
    BOOST_TEST(cache.contains(d.record.seriesInstanceUid, d.sopUids[1]));
    BOOST_TEST(!fs::exists(cache.directory() + "/" + b.record.seriesInstanceUid));
    BOOST_TEST(cache.stats().evictedSeries == 1u);
    // Next victim is c, then a.
    auto e = makeSeries("24", 2);
    storeAll(cache, e);
    BOOST_TEST(!cache.contains(c.record.seriesInstanceUid, c.sopUids[0]));
    BOOST_TEST(cache.contains(a.record.seriesInstanceUid, a.sopUids[0]));
}

BOOST_AUTO_TEST_CASE(lru_order_survives_a_restart) {
    TempDir dir;
    auto a = makeSeries("30", 1), b = makeSeries("31", 1), c = makeSeries("32", 1);
    const std::uint64_t one = a.files[0].size();
    {
        InstanceCache cache(settingsFor(dir, one * 10));
        storeAll(cache, a);
        storeAll(cache, b);
    }
    // Make a's sidecar clearly older than b's (mtime is the persisted access time).
    const auto now = fs::file_time_type::clock::now();
    fs::last_write_time(dir.path() + "/instances/" + a.record.seriesInstanceUid + "/index.tsv",
                        now - std::chrono::hours(2));
    fs::last_write_time(dir.path() + "/instances/" + b.record.seriesInstanceUid + "/index.tsv",
                        now - std::chrono::hours(1));
    InstanceCache cache(settingsFor(dir, one * 2 + one / 2));
    storeAll(cache, c);
    BOOST_TEST(!cache.contains(a.record.seriesInstanceUid, a.sopUids[0]));
    BOOST_TEST(cache.contains(b.record.seriesInstanceUid, b.sopUids[0]));
    BOOST_TEST(cache.contains(c.record.seriesInstanceUid, c.sopUids[0]));
}

BOOST_AUTO_TEST_CASE(pinned_series_are_not_evicted) {
    TempDir dir;
    auto a = makeSeries("40", 2), b = makeSeries("41", 2);
    InstanceCache cache(settingsFor(dir, a.files[0].size() * 2 + 10));  // room for one series
    storeAll(cache, a);
    {
        auto pinB = cache.pin(b.record.seriesInstanceUid);  // as a running download does
        {
            auto pinA = cache.pin(a.record.seriesInstanceUid);  // as a stream serving a does
            storeAll(cache, b);
            // Both pinned: nothing can go, the bound is exceeded meanwhile.
            BOOST_TEST(cache.contains(a.record.seriesInstanceUid, a.sopUids[0]));
            BOOST_TEST(cache.contains(b.record.seriesInstanceUid, b.sopUids[1]));
            BOOST_TEST(cache.stats().bytes > cache.stats().maxBytes);
        }
        // a unpinned: it is the least recently used, so it goes.
        BOOST_TEST(!cache.contains(a.record.seriesInstanceUid, a.sopUids[0]));
        BOOST_TEST(cache.contains(b.record.seriesInstanceUid, b.sopUids[1]));
    }
    BOOST_TEST(cache.stats().bytes <= cache.stats().maxBytes);
}

BOOST_AUTO_TEST_CASE(unsafe_uids_are_rejected) {
    TempDir dir;
    InstanceCache cache(settingsFor(dir));
    BOOST_TEST(!InstanceCache::isSafeUid("../etc"));
    BOOST_TEST(!InstanceCache::isSafeUid(".."));
    BOOST_TEST(!InstanceCache::isSafeUid(""));
    BOOST_TEST(InstanceCache::isSafeUid("1.2.840.113654.2.55.1"));
    auto bytes = makeInstance("1.2", "1.2.3", "1.2.3.4", 1);
    BOOST_CHECK_THROW(cache.store("../x", bytes), BridgeError);
    BOOST_CHECK_THROW(cache.read("1.2.3", "../../x"), BridgeError);
}

BOOST_AUTO_TEST_SUITE_END()
