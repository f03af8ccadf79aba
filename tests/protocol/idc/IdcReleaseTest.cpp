// Issue 12's remaining IDC behaviour, against a whole bridge on source = idc and the emulator's
// IDC face on loopback (real sockets: DcmSCU for C-FIND, HTTP for QIDO-RS and WADO-RS):
//  * a collection IDC names differently from TCIA (the emulator's IDC face calls TCIA's
//    "Phantom-Mixed" "Mixed-Phantom-Demo", same DOI) is shown under its TCIA name, with its
//    own (CC BY-NC) licence, once the TCIA name's DOI is configured (idc.tciaNames) -- the
//    TCIA name and DOI are read from the emulator's NBIA face of the same data;
//  * a new IDC release that withdrew a series: after the refresh the series is gone from
//    C-FIND and QIDO-RS, WADO-RS answers 404, and its cached instances are dropped;
//  * a cache directory filled from the other source is refused at start.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>
#include <json/json.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "bridge/catalog/Catalog.h"
#include "bridge/catalog/CatalogHarvester.h"
#include "bridge/common/Error.h"
#include "bridge/retrieve/BridgeServices.h"
#include "bridge/tcia/TciaClient.h"
#include "dimse/BridgeDimse.h"
#include "dimse/DimseServer.h"
#include "tests/protocol/web/WebFixture.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/ErrorCodeOf.h"
#include "tests/support/TestSupport.h"
#include "tests/support/JsonAsserts.h"
#include "tests/protocol/idc/IdcBridgeFixture.h"
#include "web/DicomWebServer.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// A whole bridge on source = idc, its harvest complete.
struct Bridge : WholeBridge {
    explicit Bridge(const Config& config) : WholeBridge(config, idcHarvestOptions()) {
        BOOST_REQUIRE(eventually([&] { return services->harvester->status().complete; }));
    }
    Catalog& catalog() { return dynamic_cast<Catalog&>(*services->metadata); }
};

/// The SeriesInstanceUIDs a SERIES-level C-FIND for `study` answers (status Success required).
std::set<std::string> cfindSeries(unsigned short port, const std::string& study) {
    std::uint16_t status = 0;
    auto out = bridge::test::cfindSeries(port, study, status);
    BOOST_TEST(status == 0x0000);
    return out;
}

std::set<std::string> qidoSeries(Bridge& bridge, const std::string& study) {
    auto qido = bridge.get("/dicom-web/studies/" + study + "/series");
    std::set<std::string> out;
    if (qido.status == 204) return out;
    BOOST_REQUIRE_EQUAL(qido.status, 200);
    for (const auto& item : parseJson(qido.body)) out.insert(item["0020000E"]["Value"][0].asString());
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(IdcRelease)

BOOST_AUTO_TEST_CASE(a_collection_idc_names_differently_is_shown_by_its_tcia_name_and_licence) {
    EmulatorProcess emulator;
    // TCIA's side of the join, from the NBIA face of the same data: name and DOI.
    tcia::TciaClient nbia(faultRetrySettings(emulator));
    tcia::SeriesFilter f;
    f.collection = "Phantom-Mixed";
    const auto nbiaSeries = nbia.series(f, RequestContext());
    BOOST_REQUIRE(!nbiaSeries.empty());
    const std::string doi = nbiaSeries.front().dataDescriptionUri;
    BOOST_REQUIRE(!doi.empty());
    BOOST_TEST(nbiaSeries.front().licenseUri.find("by-nc") != std::string::npos, "TCIA's CC BY-NC collection");

    TempDir dir;
    {
        // Without the TCIA name: IDC's own name is what the bridge can show (documented).
        Bridge plain(idcBridgeConfig(emulator, dir.path() + "/plain"));
        std::set<std::string> names;
        const Json::Value landing = parseJson(plain.get("/collections").body);
        for (const auto& c : landing["collections"]) names.insert(c["name"].asString());
        BOOST_TEST(names.count("Mixed-Phantom-Demo") == 1u);
        BOOST_TEST(names.count("Phantom-Mixed") == 0u);
    }
    Config config = idcBridgeConfig(emulator, dir.path() + "/joined");
    config.idc.tciaNames["Phantom-Mixed"] = doi;  // as https://doi.org/..., the join normalises
    Bridge bridge(config);
    const auto doc = parseJson(bridge.get("/collections").body);
    bool seen = false;
    for (const auto& c : doc["collections"]) {
        const std::string name = c["name"].asString();
        BOOST_TEST(name != "Mixed-Phantom-Demo", "IDC's name is not shown once joined on DOI");
        if (name != "Phantom-Mixed") {
            BOOST_TEST(!c["nonCommercial"].asBool(), name << " is not the CC BY-NC collection");
            continue;
        }
        seen = true;
        BOOST_TEST(c["licenseName"].asString() == "CC BY-NC 4.0");
        BOOST_TEST(c["licenseURI"].asString() == "https://creativecommons.org/licenses/by-nc/4.0/");
        BOOST_TEST(c["dataDescriptionURI"].asString() == doi);
        BOOST_TEST(c["nonCommercial"].asBool());
    }
    BOOST_TEST(seen, "Phantom-Mixed is listed under its TCIA name");

    // Searches by the TCIA name find IDC's rows, and the records carry the TCIA name.
    const auto series = bridge.services->tcia->series(f, RequestContext());
    std::set<std::string> idcUids, nbiaUids;
    for (const auto& s : series) {
        idcUids.insert(s.seriesInstanceUid);
        BOOST_TEST(s.collection == "Phantom-Mixed");
        BOOST_TEST(s.licenseUri == "https://creativecommons.org/licenses/by-nc/4.0/");
    }
    for (const auto& s : nbiaSeries) nbiaUids.insert(s.seriesInstanceUid);
    BOOST_TEST(idcUids == nbiaUids);
    // QIDO-RS and C-FIND by study of that collection answer (from the harvested catalog).
    const std::string study = nbiaSeries.front().studyInstanceUid;
    std::set<std::string> ofStudy;
    for (const auto& s : nbiaSeries)
        if (s.studyInstanceUid == study) ofStudy.insert(s.seriesInstanceUid);
    BOOST_TEST(qidoSeries(bridge, study) == ofStudy);
    BOOST_TEST(cfindSeries(bridge.dimse->port(), study) == ofStudy);
    BOOST_TEST(endpointCount(emulator, "getImage") == 0);
}

BOOST_AUTO_TEST_CASE(a_series_withdrawn_by_a_new_release_leaves_cfind_qido_and_the_cache) {
    EmulatorProcess emulator({"--idc-version", "v24"});
    tcia::TciaClient nbia(faultRetrySettings(emulator));
    tcia::SeriesFilter f;
    f.collection = "TCGA-DEMO-CT";
    auto nbiaSeries = nbia.series(f, RequestContext());
    BOOST_REQUIRE(!nbiaSeries.empty());
    // A study with at least two series: one is withdrawn, the other stays.
    std::map<std::string, std::set<std::string>> byStudy;
    for (const auto& s : nbiaSeries) byStudy[s.studyInstanceUid].insert(s.seriesInstanceUid);
    std::string study;
    for (const auto& [st, uids] : byStudy)
        if (uids.size() >= 2) study = st;
    BOOST_REQUIRE_MESSAGE(!study.empty(), "the sample data has a study with two series");
    const std::set<std::string> before = byStudy[study];
    const std::string gone = *before.begin();
    std::set<std::string> after = before;
    after.erase(gone);

    TempDir dir;
    Bridge bridge(idcBridgeConfig(emulator, dir.path() + "/cache"));
    BOOST_TEST(cfindSeries(bridge.dimse->port(), study) == before);
    BOOST_TEST(qidoSeries(bridge, study) == before);
    // Cache the series that will be withdrawn.
    const std::string wadoUri = "/dicom-web/studies/" + study + "/series/" + gone;
    const std::map<std::string, std::string> accept{{"Accept", "multipart/related; type=\"application/dicom\""}};
    BOOST_REQUIRE_EQUAL(bridge.get(wadoUri, accept).status, 200);
    BOOST_REQUIRE(eventually([&] { return bridge.services->instanceCache->isComplete(gone); }, 60s));

    // The same release again: nothing is withdrawn.
    BOOST_TEST(bridge.catalog().refreshIncremental().withdrawnSeries.empty());
    BOOST_TEST(cfindSeries(bridge.dimse->port(), study) == before);

    // IDC publishes v25 without `gone`.
    httpBody(emulator.port(), "POST", "/emulator/idc/version?idc_version=v25&withdraw=" + gone);
    const RefreshResult r = bridge.catalog().refreshIncremental();
    BOOST_TEST(r.withdrawnSeries == std::vector<std::string>{gone});
    BOOST_TEST(cfindSeries(bridge.dimse->port(), study) == after);
    BOOST_TEST(qidoSeries(bridge, study) == after);
    BOOST_TEST(bridge.get(wadoUri, accept).status == 404, "a withdrawn series is not served from the cache");
    BOOST_TEST(!bridge.services->instanceCache->isComplete(gone));
    // Dropped at once, or -- while its download's sync still pins it -- when that pin is released.
    BOOST_TEST(eventually([&] { return !fs::exists(dir.path() + "/cache/instances/" + gone); }, 60s),
               "its cached files are dropped");
    // The next refresh on the same release finds nothing more.
    BOOST_TEST(bridge.catalog().refreshIncremental().withdrawnSeries.empty());
    BOOST_TEST(qidoSeries(bridge, study) == after);
}

BOOST_AUTO_TEST_CASE(a_cache_directory_of_the_other_source_is_refused) {
    TempDir dir;
    const std::string nbiaDir = dir.path() + "/nbia";
    claimCacheDirectory(nbiaDir, "nbia");
    claimCacheDirectory(nbiaDir, "nbia");  // the same source again: fine
    BOOST_TEST(int(codeOf([&] { claimCacheDirectory(nbiaDir, "idc"); })) == int(ErrorCode::InvalidArgument));
    try {
        claimCacheDirectory(nbiaDir, "idc");
    } catch (const BridgeError& e) {
        const std::string what = e.what();
        BOOST_TEST(what.find("filled from nbia") != std::string::npos, what);
        BOOST_TEST(what.find("--cache-dir") != std::string::npos, what);
    }
    // A directory from before the marker: an IDC pin means IDC, a catalog means NBIA.
    const std::string oldIdc = dir.path() + "/old-idc";
    fs::create_directories(oldIdc);
    std::ofstream(oldIdc + "/idc-version") << "v24\n";
    BOOST_TEST(int(codeOf([&] { claimCacheDirectory(oldIdc, "nbia"); })) == int(ErrorCode::InvalidArgument));
    claimCacheDirectory(oldIdc, "idc");
    std::ifstream marker(oldIdc + "/source");
    std::string recorded;
    std::getline(marker, recorded);
    BOOST_TEST(recorded == "idc");
    const std::string oldNbia = dir.path() + "/old-nbia";
    fs::create_directories(oldNbia);
    std::ofstream(oldNbia + "/catalog.db") << "";
    BOOST_TEST(int(codeOf([&] { claimCacheDirectory(oldNbia, "idc"); })) == int(ErrorCode::InvalidArgument));

    // The whole core: an IDC bridge on the NBIA directory does not start (and leaves it alone).
    Config config;
    config.source = "idc";
    config.cache.directory = nbiaDir;
    BOOST_TEST(int(codeOf([&] { makeBridgeServices(config); })) == int(ErrorCode::InvalidArgument));
    BOOST_TEST(!fs::exists(nbiaDir + "/catalog.db"));
    config.source = "nbia";
    BOOST_TEST(makeBridgeServices(config) != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
