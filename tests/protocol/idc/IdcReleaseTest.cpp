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
#include "web/DicomWebServer.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

bool eventually(const std::function<bool()>& condition, std::chrono::seconds deadline = 180s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
        if (condition()) return true;
        std::this_thread::sleep_for(100ms);
    }
    return condition();
}

Config idcConfig(const EmulatorProcess& emulator, const std::string& cacheDir) {
    Config config;
    config.source = "idc";
    config.tcia = faultRetrySettings(emulator);
    config.tcia.baseUrl = "http://127.0.0.1:1/not-used";  // NBIA must never be called
    const std::string base = "http://127.0.0.1:" + std::to_string(emulator.port());
    config.idc.apiUrl = base + "/v3";
    config.idc.bucketUrl = base + "/s3/{bucket}";
    config.idc.sqlPageRows = 5;
    config.cache.directory = cacheDir;
    config.dimse.aeTitle = "TCIA";
    config.dimse.port = 0;
    config.web.port = 0;
    config.web.bindAddress = "127.0.0.1";
    return config;
}

struct Bridge {
    std::unique_ptr<BridgeServices> services;
    std::unique_ptr<web::DicomWebServer> web;
    std::unique_ptr<dimse::DimseServer> dimse;

    explicit Bridge(const Config& config) {
        services = makeBridgeServices(config);
        HarvestOptions options;
        options.retryDelay = 500ms;
        options.batchSize = 3;
        BOOST_REQUIRE(startHarvest(*services, options));
        dimse = std::make_unique<dimse::DimseServer>(config.dimse, dimse::makeDimseDependencies(*services));
        dimse->start();
        services->dimsePort = dimse->port();
        web = std::make_unique<web::DicomWebServer>(*services);
        web->start();
        BOOST_REQUIRE(eventually([&] { return services->harvester->status().complete; }));
    }
    ~Bridge() {
        services->harvester.reset();
        if (web) web->stop();
        if (dimse) dimse->stop();
    }
    HttpResult get(const std::string& uri, const std::map<std::string, std::string>& headers = {}) {
        return httpRequest(web->port(), "GET", uri, headers);
    }
    Catalog& catalog() { return dynamic_cast<Catalog&>(*services->metadata); }
};

Json::Value parseJson(const std::string& text) {
    Json::Value v;
    Json::CharReaderBuilder b;
    std::string errors;
    std::istringstream in(text);
    BOOST_REQUIRE_MESSAGE(Json::parseFromStream(b, in, &v, &errors), "not JSON: " + text.substr(0, 200));
    return v;
}

/// Study Root C-FIND at SERIES level for one study: the SeriesInstanceUIDs of the Pendings.
std::set<std::string> cfindSeries(unsigned short port, const std::string& study) {
    DcmSCU scu;
    scu.setAETitle("PACS");
    scu.setPeerAETitle("TCIA");
    scu.setPeerHostName("127.0.0.1");
    scu.setPeerPort(port);
    scu.setDIMSEBlockingMode(DIMSE_BLOCKING);
    scu.setDIMSETimeout(120);
    OFList<OFString> ts;
    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    scu.addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel, ts);
    BOOST_REQUIRE(scu.initNetwork().good());
    BOOST_REQUIRE(scu.negotiateAssociation().good());
    const auto pc = scu.findPresentationContextID(UID_FINDStudyRootQueryRetrieveInformationModel, "");
    DcmDataset request;
    request.putAndInsertString(DCM_QueryRetrieveLevel, "SERIES");
    request.putAndInsertString(DCM_StudyInstanceUID, study.c_str());
    request.putAndInsertString(DCM_SeriesInstanceUID, "");
    OFList<QRResponse*> responses;
    BOOST_REQUIRE(scu.sendFINDRequest(pc, &request, &responses).good());
    std::set<std::string> out;
    BOOST_TEST(responses.back()->m_status == 0x0000);
    for (auto* r : responses) {
        if (r->m_status == 0xFF00 && r->m_dataset) {
            OFString v;
            r->m_dataset->findAndGetOFString(DCM_SeriesInstanceUID, v);
            out.insert(v.c_str());
        }
        delete r;
    }
    scu.releaseAssociation();
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
        Bridge plain(idcConfig(emulator, dir.path() + "/plain"));
        std::set<std::string> names;
        const Json::Value landing = parseJson(plain.get("/collections").body);
        for (const auto& c : landing["collections"]) names.insert(c["name"].asString());
        BOOST_TEST(names.count("Mixed-Phantom-Demo") == 1u);
        BOOST_TEST(names.count("Phantom-Mixed") == 0u);
    }
    Config config = idcConfig(emulator, dir.path() + "/joined");
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
    Bridge bridge(idcConfig(emulator, dir.path() + "/cache"));
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
    BOOST_TEST(!fs::exists(dir.path() + "/cache/instances/" + gone), "its cached files are dropped");
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
