// Regression: a NaN or +/-infinity stored in an instance's FD/FL element made DCMTK 3.6.7 refuse
// DcmDataset::writeJson (its JSON extension for "nan"/"inf" is off by default), so the whole
// series' WADO-RS metadata answered 500. JSON has no NaN or Infinity (RFC 8259 6); such a value is
// now a null array element, as an empty value of a multi-valued attribute is (PS3.18 F.2.5).
// The emulator serves a copy of the sample data whose MR series .2.9 carries those values.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <json/json.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <limits>

#include "WebFixture.h"
#include "tests/support/JsonAsserts.h"

using namespace bridge;
using namespace bridge::test;

namespace {

const std::string kStudy = "1.2.826.0.1.3680043.10.1234.1.5";   // RIDER-Demo-MR / SHARED-0007
const std::string kSeries = "1.2.826.0.1.3680043.10.1234.2.9";  // 5 MR, implicit VR LE
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Puts NaN / +inf / -inf into FD and FL elements (top level and inside a sequence item) of every
// instance of kSeries below `root`.
void poisonSeries(const std::filesystem::path& root) {
    int written = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (entry.path().extension() != ".dcm" || entry.path().parent_path().filename() != kSeries) continue;
        DcmFileFormat file;
        BOOST_REQUIRE(file.loadFile(entry.path().c_str()).good());
        DcmDataset* ds = file.getDataset();
        const E_TransferSyntax xfer = ds->getOriginalXfer();
        BOOST_REQUIRE(ds->putAndInsertFloat64(DCM_LongitudinalTemporalOffsetFromEvent, kNaN).good());  // FD
        BOOST_REQUIRE(ds->putAndInsertFloat32(DCM_RecommendedDisplayFrameRateInFloat, kInf).good());   // FL
        DcmItem* item = nullptr;
        BOOST_REQUIRE(ds->findOrCreateSequenceItem(DCM_MRDiffusionSequence, item).good());
        BOOST_REQUIRE(item->putAndInsertFloat64(DCM_DiffusionBValue, -kInf).good());
        DcmItem* direction = nullptr;
        BOOST_REQUIRE(
            item->findOrCreateSequenceItem(DCM_DiffusionGradientDirectionSequence, direction).good());
        const Float64 orientation[] = {0.5, kNaN, -0.25};
        BOOST_REQUIRE(
            direction->putAndInsertFloat64Array(DCM_DiffusionGradientOrientation, orientation, 3).good());
        BOOST_REQUIRE(file.saveFile(entry.path().c_str(), xfer).good());
        ++written;
    }
    BOOST_REQUIRE_EQUAL(written, 5);
}

std::string poisonedCopy(const TempDir& dir) {
    std::filesystem::copy(sampleDataDir(), dir.path(), std::filesystem::copy_options::recursive);
    poisonSeries(dir.path());
    return dir.path();
}


void checkPoisonedInstance(const Json::Value& instance) {
    BOOST_TEST(instance["00120052"]["vr"].asString() == "FD");
    BOOST_REQUIRE(instance["00120052"]["Value"].isArray());
    BOOST_TEST(instance["00120052"]["Value"][0].isNull());
    BOOST_TEST(instance["00089459"]["vr"].asString() == "FL");
    BOOST_TEST(instance["00089459"]["Value"][0].isNull());
    const Json::Value& diffusion = instance["00189117"]["Value"][0];
    BOOST_TEST(diffusion["00189087"]["Value"][0].isNull());
    const Json::Value& orientation = diffusion["00189076"]["Value"][0]["00189089"]["Value"];
    BOOST_REQUIRE_EQUAL(orientation.size(), 3u);
    BOOST_TEST(orientation[0].asDouble() == 0.5);
    BOOST_TEST(orientation[1].isNull());
    BOOST_TEST(orientation[2].asDouble() == -0.25);
    // The rest of the instance is intact.
    BOOST_TEST(instance["0020000E"]["Value"][0].asString() == kSeries);
}

}  // namespace

BOOST_AUTO_TEST_CASE(metadata_with_nan_and_infinite_floats_is_200_and_strict_json) {
    TempDir data;
    WebFixture f(poisonedCopy(data));

    const std::string series = "/dicom-web/studies/" + kStudy + "/series/" + kSeries;
    const HttpResult r = f.get(series + "/metadata");
    BOOST_REQUIRE_MESSAGE(r.status == 200, "status " << r.status << ": " << r.body.substr(0, 400));
    BOOST_TEST(r.header("Content-Type").rfind("application/dicom+json", 0) == 0u);
    const Json::Value all = strictParseJson(r.body);
    BOOST_REQUIRE(all.isArray());
    BOOST_REQUIRE_EQUAL(all.size(), 5u);
    for (const auto& instance : all) checkPoisonedInstance(instance);

    // Instance level, same conversion.
    const std::string sop = all[0]["00080018"]["Value"][0].asString();
    const HttpResult one = f.get(series + "/instances/" + sop + "/metadata");
    BOOST_REQUIRE_MESSAGE(one.status == 200, "status " << one.status << ": " << one.body.substr(0, 400));
    const Json::Value single = strictParseJson(one.body);
    BOOST_REQUIRE_EQUAL(single.size(), 1u);
    checkPoisonedInstance(single[0]);
}
