#include "emulator/ZipStreamWriter.h"
#include "tests/unit/emulator/ZipInspection.h"

#include <boost/test/unit_test.hpp>

#include <random>

using namespace emulator;

BOOST_AUTO_TEST_SUITE(ZipStreamWriterSuite)

BOOST_AUTO_TEST_CASE(writes_java_style_data_descriptor_zip) {
    std::string bytes;
    std::vector<std::size_t> chunks;
    std::string big(200000, '\0');
    std::mt19937 rng(7);
    for (auto& c : big) c = static_cast<char>(rng() % 16);  // compressible but not trivial
    {
        ZipStreamWriter zip([&](const char* d, std::size_t n) {
            bytes.append(d, n);
            chunks.push_back(n);
        });
        zip.addEntry("LICENSE", "license text\n");
        zip.addEntry("00000001.dcm", big);
        zip.addEntry("md5hashes.csv", "Filename,MD5Hash\n");
        zip.finish();
        BOOST_TEST(zip.bytesWritten() == bytes.size());
    }
    BOOST_TEST(chunks.size() > 3u);  // streamed in pieces, not one buffer at the end
    const auto entries = test::readZip(bytes);  // libarchive verifies the CRCs
    BOOST_REQUIRE(entries.size() == 3u);
    BOOST_TEST(entries[0].name == "LICENSE");
    BOOST_TEST(entries[0].data == "license text\n");
    BOOST_TEST(entries[1].data == big);
    const auto central = test::centralDirectory(bytes);
    BOOST_REQUIRE(central.size() == 3u);
    for (const auto& e : central) {
        BOOST_TEST((e.flags & 0x0008) != 0, e.name << ": general purpose bit 3 (data descriptor)");
        BOOST_TEST(e.method == 8, e.name << ": DEFLATE");
        BOOST_TEST(e.descriptorFollows, e.name << ": PK\\7\\8 after the data");
    }
    // The local header of the first entry carries no CRC/sizes (they follow the data).
    BOOST_TEST(test::le32(bytes, 14) == 0u);
}

BOOST_AUTO_TEST_CASE(abandoned_writer_leaves_a_truncated_zip) {
    std::string bytes;
    {
        ZipStreamWriter zip([&](const char* d, std::size_t n) { bytes.append(d, n); });
        zip.addEntry("LICENSE", "x");
        zip.beginEntry("00000001.dcm", 100000);
        zip.write(std::string(5000, 'a').data(), 5000);
    }
    BOOST_CHECK_THROW(test::centralDirectory(bytes), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(sink_exception_stops_the_writer) {
    struct Stop {};
    std::size_t budget = 100;
    ZipStreamWriter zip([&](const char*, std::size_t n) {
        if (n > budget) throw Stop{};
        budget -= n;
    });
    BOOST_CHECK_THROW(
        {
            zip.addEntry("LICENSE", "x");
            zip.addEntry("a.dcm", std::string(100000, 'z'));
            zip.finish();
        },
        Stop);
    BOOST_CHECK_THROW(zip.addEntry("b", "y"), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(more_than_65535_entries_switch_to_zip64) {
    std::string bytes;
    ZipStreamWriter zip([&](const char* d, std::size_t n) { bytes.append(d, n); });
    char name[32];
    for (int i = 1; i <= 70000; ++i) {
        std::snprintf(name, sizeof name, "%08d.dcm", i);
        zip.addEntry(name, "x");
    }
    zip.finish();
    // ZIP64 end of central directory record and locator (APPNOTE 4.3.14, 4.3.15).
    BOOST_TEST(bytes.find(std::string("PK\x06\x06", 4)) != std::string::npos);
    BOOST_TEST(bytes.find(std::string("PK\x06\x07", 4)) != std::string::npos);
    const auto entries = test::readZip(bytes);
    BOOST_TEST(entries.size() == 70000u);
    BOOST_TEST(entries.back().name == "00070000.dcm");
}

BOOST_AUTO_TEST_SUITE_END()
