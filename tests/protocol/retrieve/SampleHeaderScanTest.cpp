// Every instance file the emulator's generator writes (CT, MR, multi-frame, the restricted
// collection...) is read by scanInstanceHeader -- the walk the instance cache uses instead of
// DCMTK -- into exactly the record DCMTK's full parse gives.

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "bridge/retrieve/InstanceHeader.h"
#include "tests/support/TestSupport.h"
#include "tests/support/RecordText.h"

namespace fs = std::filesystem;
using namespace bridge;

BOOST_AUTO_TEST_SUITE(SampleHeaderScan)

BOOST_AUTO_TEST_CASE(every_generated_instance_is_scanned_as_dcmtk_reads_it) {
    const auto show = test::recordText;
    std::size_t files = 0, scanned = 0;
    for (const auto& e : fs::recursive_directory_iterator(bridge::test::sampleDataDir())) {
        if (!e.is_regular_file() || e.path().extension() != ".dcm") continue;
        std::ifstream in(e.path(), std::ios::binary);
        const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
        ++files;
        const auto record = scanInstanceHeader(bytes.data(), bytes.size());
        if (!record) continue;
        ++scanned;
        BOOST_TEST(show(*record) == show(readInstanceHeader(bytes.data(), bytes.size())), e.path().string());
    }
    BOOST_TEST(files > 0u, "sample data in " << bridge::test::sampleDataDir());
    BOOST_TEST(scanned == files, scanned << " of " << files << " files handled by the walk");
}

BOOST_AUTO_TEST_SUITE_END()
