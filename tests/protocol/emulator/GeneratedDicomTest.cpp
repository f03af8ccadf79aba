// The generated sample data checked by a validator nobody here wrote: dicom3tools' dciodvfy
// (IOD conformance) and dcmtk's dcmdump (decodability of every transfer syntax).
#include "tests/support/TestSupport.h"

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>

namespace {

/// Runs a tool, returns its exit code and combined output (stderr appended to stdout).
int run(const std::string& tool, const std::vector<std::string>& args, std::string& output) {
    Poco::Pipe out, err;
    Poco::ProcessHandle h = Poco::Process::launch(tool, args, nullptr, &out, &err);
    Poco::PipeInputStream outStream(out), errStream(err);
    std::string o, e;
    Poco::StreamCopier::copyToString(outStream, o);
    Poco::StreamCopier::copyToString(errStream, e);
    output = o + e;
    return h.wait();
}

/// The first file of every series (all files of a series share their IOD and syntax).
std::vector<std::string> sampleFiles() {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(bridge::test::sampleDataDir()))
        if (e.path().filename() == "0001.dcm") files.push_back(e.path().string());
    return files;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(GeneratedDicom)

BOOST_AUTO_TEST_CASE(every_file_passes_dciodvfy_without_errors) {
    if (!std::filesystem::exists("/usr/bin/dciodvfy")) {
        BOOST_TEST_MESSAGE("dciodvfy (dicom3tools) not installed: skipped");
        return;
    }
    const auto files = sampleFiles();
    BOOST_REQUIRE(files.size() >= 13u);
    for (const auto& f : files) {
        std::string output;
        run("/usr/bin/dciodvfy", {f}, output);
        BOOST_TEST(output.find("Error - ") == std::string::npos, f << ":\n" << output);
    }
}

BOOST_AUTO_TEST_CASE(every_file_decodes_with_dcmtk) {
    if (!std::filesystem::exists("/usr/bin/dcmdump")) return;
    for (const auto& f : sampleFiles()) {
        std::string output;
        BOOST_TEST(run("/usr/bin/dcmdump", {"-q", "+dc", f}, output) == 0, f << ": " << output);
    }
}

BOOST_AUTO_TEST_SUITE_END()
