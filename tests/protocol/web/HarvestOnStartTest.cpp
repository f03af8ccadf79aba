// Harvest on start, end to end: a fresh bridge (empty cache directory, no sync) over the TCIA
// emulator, with its real DICOMweb and DIMSE servers on loopback. Broad QIDO searches and
// C-FINDs are answered with an explicit partial signal while the harvest runs (made
// deterministic by the emulator's `slow` fault on the harvester's first call of a level), and
// with complete results -- equal to what TCIA itself lists -- once it is done. A restart on the
// same cache directory resumes: nothing harvested is fetched again.
#include "bridge/catalog/Catalog.h"
#include "bridge/tcia/TciaClient.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/JsonAsserts.h"
#include "tests/support/TestSupport.h"
#include "tests/support/WholeBridge.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <set>

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

/// A bridge as `tcia-bridge` serve mode composes it (WholeBridge) over the NBIA emulator.
Config bridgeConfig(const EmulatorProcess& emulator, const std::string& cacheDir) {
    Config config;
    config.tcia.baseUrl = emulator.baseUrl("v4");
    config.tcia.apiVersion = "v4";
    config.tcia.retryBaseDelay = 20ms;
    config.cache.directory = cacheDir;
    config.dimse.aeTitle = "TCIA";
    config.dimse.port = 0;
    config.web.port = 0;
    config.web.bindAddress = "127.0.0.1";
    return config;
}

HarvestOptions harvestOptions() {
    HarvestOptions options;
    options.retryDelay = 500ms;
    options.batchSize = 7;  // several batches per collection: the batched path is exercised
    return options;
}

struct Bridge : WholeBridge {
    Bridge(const EmulatorProcess& emulator, const std::string& cacheDir)
        : WholeBridge(bridgeConfig(emulator, cacheDir), harvestOptions()) {}
};

/// The values of one tag ("0020000D") across a QIDO answer.
std::set<std::string> qidoValues(const HttpResult& r, const std::string& tag) {
    std::set<std::string> out;
    const auto v = parseJson(r.body);
    for (const auto& item : v) out.insert(item[tag]["Value"][0].asString());
    return out;
}

/// What TCIA (the emulator) itself lists, asked directly collection by collection.
struct Truth {
    std::vector<tcia::StudyRecord> studies;
    std::vector<tcia::SeriesRecord> series;

    explicit Truth(const EmulatorProcess& emulator) {
        tcia::TciaClient client(singleRetrySettings(emulator));
        for (const auto& c : client.collections(RequestContext())) {
            for (auto& s : client.studies({c, "", ""}, RequestContext())) studies.push_back(std::move(s));
            tcia::SeriesFilter f;
            f.collection = c;
            for (auto& s : client.series(f, RequestContext())) series.push_back(std::move(s));
        }
    }
    std::set<std::string> studyUids(const std::function<bool(const tcia::StudyRecord&)>& keep = {}) const {
        std::set<std::string> out;
        for (const auto& s : studies)
            if (!keep || keep(s)) out.insert(s.studyInstanceUid);
        return out;
    }
};

bool warnsOfHarvest(const HttpResult& r) { return r.header("Warning").find("catalog harvest in progress") != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(HarvestOnStart)

BOOST_AUTO_TEST_CASE(fresh_bridge_is_explicitly_partial_then_complete) {
    EmulatorProcess emulator{{"--quiet"}};
    const Truth truth(emulator);
    BOOST_REQUIRE(!truth.studies.empty());
    resetStats(emulator);
    // The harvester's first getPatientStudy (the first collection's study level) stalls: until
    // it returns, no collection is harvested at study level.
    httpBody(emulator.port(), "POST", "/emulator/faults?spec=getPatientStudy:slow:1:delay-ms=20000");
    TempDir cache;
    Bridge bridge(emulator, cache.path());
    BOOST_REQUIRE(eventually([&] { return endpointCount(emulator, "getPatientStudy") >= 1; }, 60s));

    // While it stalls: answers carry the partial signal -- never a silent partial success.
    const auto partial = bridge.get("/dicom-web/studies");
    BOOST_TEST(partial.status == 200);
    BOOST_TEST_MESSAGE("partial Warning: " << partial.header("Warning"));
    BOOST_TEST(warnsOfHarvest(partial));
    BOOST_TEST(bridge.status().studyLevelComplete == false);
    const auto partialFind = cfind(bridge.dimse->port(),
                                   {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_PatientName, "*"}, {DCM_StudyInstanceUID, ""}},
                                   DCM_StudyInstanceUID);
    BOOST_TEST(partialFind.status == 0xA700);
    BOOST_TEST(partialFind.comment.find("harvest in progress") != std::string::npos);
    const auto statusJson = parseJson(bridge.get("/status").body);
    BOOST_TEST(statusJson["harvest"]["enabled"].asBool());
    BOOST_TEST(statusJson["harvest"]["studyLevelComplete"].asBool() == false);

    // Narrow queries go to TCIA as before and do not wait for the harvest.
    const auto& one = truth.studies.front();
    const auto t0 = std::chrono::steady_clock::now();
    const auto narrow = bridge.get("/dicom-web/studies?StudyInstanceUID=" + one.studyInstanceUid);
    BOOST_TEST(narrow.status == 200);
    BOOST_TEST(!warnsOfHarvest(narrow));
    BOOST_TEST(qidoValues(narrow, "0020000D") == std::set<std::string>{one.studyInstanceUid});
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 15s));

    // Complete within seconds once TCIA answers; no warning any more, results equal TCIA's.
    BOOST_REQUIRE(eventually([&] { return bridge.status().complete; }));
    const auto all = bridge.get("/dicom-web/studies");
    BOOST_TEST(all.header("Warning") == "");
    BOOST_TEST(qidoValues(all, "0020000D") == truth.studyUids(), boost::test_tools::per_element());

    const auto page = bridge.get("/dicom-web/studies?limit=6&offset=0");
    BOOST_TEST(!warnsOfHarvest(page));
    BOOST_TEST(qidoValues(page, "0020000D").size() == std::min<std::size_t>(6, truth.studies.size()));

    const auto dated = bridge.get("/dicom-web/studies?StudyDate=20040602-20190228");
    BOOST_TEST(dated.header("Warning") == "");
    BOOST_TEST(qidoValues(dated, "0020000D") ==
                   truth.studyUids([](const tcia::StudyRecord& s) {
                       return !s.studyDate.empty() && s.studyDate >= "20040602" && s.studyDate <= "20190228";
                   }),
               boost::test_tools::per_element());

    std::set<std::string> mrStudies, ctSeries;
    for (const auto& s : truth.series) {
        if (s.modality == "MR") mrStudies.insert(s.studyInstanceUid);
        if (s.modality == "CT") ctSeries.insert(s.seriesInstanceUid);
    }
    BOOST_REQUIRE(!mrStudies.empty());
    BOOST_REQUIRE(!ctSeries.empty());
    const auto mr = bridge.get("/dicom-web/studies?ModalitiesInStudy=MR");
    BOOST_TEST(mr.header("Warning") == "");
    BOOST_TEST(qidoValues(mr, "0020000D") == mrStudies, boost::test_tools::per_element());
    const auto ct = bridge.get("/dicom-web/series?Modality=CT");
    BOOST_TEST(ct.header("Warning") == "");
    BOOST_TEST(qidoValues(ct, "0020000E") == ctSeries, boost::test_tools::per_element());

    // C-FIND PatientName=X* and a StudyDate range, without a collection: Success, all matches.
    const std::string initial = truth.studies.front().patientName.substr(0, 1);
    const auto byName = cfind(bridge.dimse->port(),
                              {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_PatientName, initial + "*"}, {DCM_StudyInstanceUID, ""}},
                              DCM_StudyInstanceUID);
    BOOST_TEST(byName.status == 0x0000);
    BOOST_TEST(byName.values == truth.studyUids([&](const tcia::StudyRecord& s) {
        return !s.patientName.empty() && std::toupper(static_cast<unsigned char>(s.patientName[0])) ==
                                             std::toupper(static_cast<unsigned char>(initial[0]));
    }), boost::test_tools::per_element());
    const auto byDate = cfind(bridge.dimse->port(),
                              {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyDate, "20040602-20190228"}, {DCM_StudyInstanceUID, ""}},
                              DCM_StudyInstanceUID);
    BOOST_TEST(byDate.status == 0x0000);
    BOOST_TEST(byDate.values == qidoValues(dated, "0020000D"), boost::test_tools::per_element());

    // Status: every listed collection done at both levels, with its counts.
    const auto done = parseJson(bridge.get("/status").body);
    BOOST_TEST(done["harvest"]["complete"].asBool());
    std::int64_t studies = 0, series = 0;
    for (const auto& c : done["collections"]) {
        BOOST_TEST(c["studyLevel"].asString() == "done");
        BOOST_TEST(c["seriesLevel"].asString() == "done");
        studies += c["studies"].asInt64();
        series += c["series"].asInt64();
    }
    BOOST_TEST(studies == static_cast<std::int64_t>(truth.studies.size()));
    BOOST_TEST(series == static_cast<std::int64_t>(truth.series.size()));
    const auto landing = bridge.get("/");
    BOOST_TEST(landing.body.find("movescu") != std::string::npos);
    BOOST_TEST(landing.body.find("/studies?ClinicalTrialProtocolID=") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(study_level_first_then_series_level_and_restart_resumes) {
    EmulatorProcess emulator{{"--quiet"}};
    const Truth truth(emulator);
    resetStats(emulator);
    // The harvester's first getSeries stalls: the study level is complete, the series level not.
    httpBody(emulator.port(), "POST", "/emulator/faults?spec=getSeries:slow:1:delay-ms=20000");
    TempDir cache;
    std::size_t collections = 0;
    {
        Bridge bridge(emulator, cache.path());
        BOOST_REQUIRE(eventually([&] { return endpointCount(emulator, "getSeries") >= 1; }, 90s));
        BOOST_TEST(bridge.status().studyLevelComplete);
        BOOST_TEST(!bridge.status().complete);
        collections = bridge.status().collections;
        // STUDY scans are complete already (study level suffices): Success, every study.
        const auto studies = cfind(bridge.dimse->port(),
                                   {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_PatientName, "*"}, {DCM_StudyInstanceUID, ""}},
                                   DCM_StudyInstanceUID);
        BOOST_TEST(studies.status == 0x0000);
        BOOST_TEST(studies.values == truth.studyUids(), boost::test_tools::per_element());
        // SERIES scans need the series level: partial, and they say so.
        const auto series = bridge.get("/dicom-web/series?Modality=CT");
        BOOST_TEST(series.status == 200);
        BOOST_TEST(warnsOfHarvest(series));
        BOOST_TEST(series.header("Warning").find("series level") != std::string::npos);
        const auto seriesFind = cfind(bridge.dimse->port(),
                                      {{DCM_QueryRetrieveLevel, "SERIES"}, {DCM_Modality, "CT"}, {DCM_SeriesInstanceUID, ""}},
                                      DCM_SeriesInstanceUID);
        BOOST_TEST(seriesFind.status == 0xA700);
        BOOST_TEST(seriesFind.comment.find("harvest in progress") != std::string::npos);
        // Stopped here, mid series level (the stalled call is cancelled with the bridge).
    }
    BOOST_REQUIRE(collections > 0);

    // Restart on the same cache directory: the study level is not fetched again.
    httpBody(emulator.port(), "DELETE", "/emulator/faults");
    resetStats(emulator);
    {
        Bridge bridge(emulator, cache.path());
        BOOST_REQUIRE(eventually([&] { return bridge.status().complete; }));
        BOOST_TEST(endpointCount(emulator, "getPatientStudy") == 0);
        BOOST_TEST(endpointCount(emulator, "getPatient") == 0);
        BOOST_TEST(endpointCount(emulator, "getSeries") <= static_cast<int>(collections));
        const auto ct = bridge.get("/dicom-web/series?Modality=CT");
        BOOST_TEST(ct.header("Warning") == "");
    }

    // Once everything is harvested, a restart fetches nothing but the collection list.
    resetStats(emulator);
    {
        Bridge bridge(emulator, cache.path());
        BOOST_REQUIRE(eventually([&] { return bridge.status().passes >= 1; }));
        BOOST_TEST(bridge.status().complete);
        BOOST_TEST(endpointCount(emulator, "getSeries") == 0);
        BOOST_TEST(endpointCount(emulator, "getPatientStudy") == 0);
        BOOST_TEST(endpointCount(emulator, "getCollectionValues") >= 1);
    }
}

BOOST_AUTO_TEST_SUITE_END()
