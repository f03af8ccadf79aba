// A whole bridge on source = idc (as tcia-bridge composes it: core, harvest on start, DICOMweb,
// DIMSE) against the emulator's IDC face, with real DCMTK peers for C-MOVE (storescp as the
// destination, movescu) and C-GET (getscu), DcmSCU for C-FIND, and HTTP for QIDO and WADO-RS.
// The answers are checked against the emulator's NBIA face of the same data.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "bridge/tcia/InstanceMetaReader.h"
#include "bridge/tcia/TciaClient.h"
#include "tests/support/ChildProcess.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/JsonAsserts.h"
#include "tests/support/TestSupport.h"
#include "tests/support/WholeBridge.h"
#include "tests/protocol/idc/IdcBridgeFixture.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// The SOP Instance UIDs of the DICOM files in `dir`.
std::set<std::string> sopsIn(const std::string& dir) {
    std::set<std::string> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
        if (auto uids = tcia::InstanceMetaReader::read(bytes.data(), bytes.size()))
            out.insert(uids->sopInstanceUid);
    }
    return out;
}

int run(const std::string& command) {
    const int rc = std::system((command + " >/dev/null 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(IdcBridge)

BOOST_AUTO_TEST_CASE(dimse_and_dicomweb_answer_from_idc) {
    EmulatorProcess emulator;
    tcia::TciaClient nbia(faultRetrySettings(emulator));
    TempDir dir;
    const unsigned short storePort = freePort();
    fs::create_directories(dir.path() + "/store");
    const int storePid = spawnProcess(
        {"/usr/bin/storescp", "-aet", "STORE", "-od", dir.path() + "/store", std::to_string(storePort)});
    struct StopStore {
        int pid;
        ~StopStore() { stopProcess(pid); }
    } stopStore{storePid};
    waitUntilListening(storePid, storePort, 20s, "storescp");

    WholeBridge bridge(idcBridgeConfig(emulator, dir.path() + "/cache", storePort), idcHarvestOptions());
    BOOST_REQUIRE(eventually([&] { return bridge.services->harvester->status().complete; }));
    BOOST_TEST(endpointCount(emulator, "getSeries") == 0, "the NBIA face is never called");
    // /status names the source and the IDC release the catalog was harvested from.
    const auto statusDoc = parseJson(bridge.get("/status").body);
    BOOST_TEST(statusDoc["source"]["name"].asString() == "idc");
    BOOST_TEST(statusDoc["source"]["idcVersion"].asString() == "v24");

    // The series the NBIA face lists for a collection IDC mirrors; pick a multi-instance one.
    tcia::SeriesFilter f;
    f.collection = "TCGA-DEMO-CT";
    auto nbiaSeries = nbia.series(f, RequestContext());
    BOOST_REQUIRE(!nbiaSeries.empty());
    std::sort(nbiaSeries.begin(), nbiaSeries.end(), [](const auto& a, const auto& b) {
        return a.imageCount.value_or(0) > b.imageCount.value_or(0);
    });
    const auto target = nbiaSeries.front();
    const auto expectedSops = [&] {
        auto v = nbia.sopInstanceUids(target.seriesInstanceUid, RequestContext());
        return std::set<std::string>(v.begin(), v.end());
    }();
    std::set<std::string> seriesOfStudy;
    for (const auto& s : nbiaSeries)
        if (s.studyInstanceUid == target.studyInstanceUid) seriesOfStudy.insert(s.seriesInstanceUid);

    // C-FIND
    std::uint16_t status = 0;
    const auto found = cfindSeries(bridge.dimse->port(), target.studyInstanceUid, status);
    BOOST_TEST(status == 0x0000);
    BOOST_TEST(found == seriesOfStudy);

    // QIDO-RS
    auto qido = bridge.get("/dicom-web/studies/" + target.studyInstanceUid + "/series");
    BOOST_REQUIRE_EQUAL(qido.status, 200);
    std::set<std::string> qidoSeries;
    for (const auto& item : parseJson(qido.body)) qidoSeries.insert(item["0020000E"]["Value"][0].asString());
    BOOST_TEST(qidoSeries == seriesOfStudy);

    const std::string peer = " 127.0.0.1 " + std::to_string(bridge.dimse->port());
    // C-MOVE to storescp
    BOOST_TEST(
        run("movescu -S -aet PACS -aec TCIA -aem STORE -k QueryRetrieveLevel=SERIES -k StudyInstanceUID=" +
            target.studyInstanceUid + " -k SeriesInstanceUID=" + target.seriesInstanceUid + peer) == 0);
    BOOST_TEST(eventually([&] { return sopsIn(dir.path() + "/store") == expectedSops; }, 60s));

    // C-GET
    const std::string getDir = dir.path() + "/get";
    fs::create_directories(getDir);
    BOOST_TEST(run("getscu -S -aet PACS -aec TCIA -od " + getDir +
                   " -k QueryRetrieveLevel=SERIES -k StudyInstanceUID=" + target.studyInstanceUid +
                   " -k SeriesInstanceUID=" + target.seriesInstanceUid + peer) == 0);
    BOOST_TEST(sopsIn(getDir) == expectedSops);

    // WADO-RS of another series (a fresh download through the bucket, not the cache).
    const auto& other = nbiaSeries.back();
    auto wado =
        bridge.get("/dicom-web/studies/" + other.studyInstanceUid + "/series/" + other.seriesInstanceUid,
                   {{"Accept", "multipart/related; type=\"application/dicom\""}});
    BOOST_REQUIRE_EQUAL(wado.status, 200);
    std::size_t parts = 0;
    for (std::size_t at = wado.body.find("DICM"); at != std::string::npos;
         at = wado.body.find("DICM", at + 4))
        ++parts;
    BOOST_TEST(parts == std::size_t(other.imageCount.value_or(0)));
    BOOST_TEST(endpointCount(emulator, "getImage") == 0, "no instance came from NBIA");

    // Landing page: IDC's citation, each collection's licence (with its URL from
    // collections_index) and DOI, the CC BY-NC collection marked.
    auto landing = bridge.get("/collections");
    BOOST_REQUIRE_EQUAL(landing.status, 200);
    const auto doc = parseJson(landing.body);
    BOOST_TEST(doc["source"].asString() == "idc");
    BOOST_TEST(doc["idcCitation"].asString().find("https://doi.org/10.1148/rg.230180") != std::string::npos);
    int nonCommercial = 0;
    for (const auto& c : doc["collections"]) {
        BOOST_TEST(!c["licenseName"].asString().empty(), c["name"].asString());
        BOOST_TEST(c["licenseURI"].asString().rfind("http", 0) == 0u, c["name"].asString());
        BOOST_TEST(c["dataDescriptionURI"].asString().rfind("https://doi.org/", 0) == 0u);
        if (c["nonCommercial"].asBool()) ++nonCommercial;
    }
    BOOST_TEST(nonCommercial == 1, "the sample data's one CC BY-NC collection");
    auto html = bridge.get("/");
    BOOST_REQUIRE_EQUAL(html.status, 200);
    BOOST_TEST(html.body.find("rg.230180") != std::string::npos);
    BOOST_TEST(html.body.find("(non-commercial use only)") != std::string::npos);
    BOOST_TEST(endpointCount(emulator, "GetObject") >= int(expectedSops.size()));
}

BOOST_AUTO_TEST_SUITE_END()
