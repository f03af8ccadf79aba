// Every TciaApi endpoint, in v4 and v1, against the real emulator over loopback HTTP. The
// emulator enforces v4's parameter allow-lists (400 on any other name), so a passing v4 run also
// proves the client sends only allowed, correctly spelled parameters.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <set>

#include "TciaTestHelpers.h"
#include "bridge/common/Error.h"
#include "bridge/tcia/InstanceMetaReader.h"
#include "bridge/tcia/TciaClient.h"

using namespace bridge;
using namespace bridge::tcia;
using namespace bridge::test;

namespace {

bool hasCode(const BridgeError& e, ErrorCode code) { return e.code() == code; }

/// Walks collection -> patient -> study -> series -> instances and checks the pieces agree.
void walkEverything(TciaClient& client, const EmulatorProcess& emulator, const std::string& version) {
    BOOST_TEST_CONTEXT("API " << version) {
        auto collections = client.collections(RequestContext());
        BOOST_TEST(collections.size() >= 3u);
        BOOST_TEST((std::find(collections.begin(), collections.end(), "TCGA-DEMO-CT") != collections.end()));
        BOOST_TEST(
            (std::find(collections.begin(), collections.end(), "Restricted-Demo") == collections.end()),
            "restricted collection hidden without a token");

        auto modalities = client.modalityValues({"TCGA-DEMO-CT", "", ""}, RequestContext());
        BOOST_TEST((std::find(modalities.begin(), modalities.end(), "CT") != modalities.end()));
        BOOST_TEST(!client.modalityValues({}, RequestContext()).empty());
        auto bodyParts = client.bodyPartValues({"TCGA-DEMO-CT", "CT", ""}, RequestContext());
        BOOST_TEST((std::find(bodyParts.begin(), bodyParts.end(), "CHEST") != bodyParts.end()));
        auto manufacturers = client.manufacturerValues({"TCGA-DEMO-CT", "CT", "CHEST"}, RequestContext());
        BOOST_TEST(!manufacturers.empty());
        BOOST_TEST(client.modalityValues({"No-Such-Collection", "", ""}, RequestContext()).empty());  // empty body

        auto patients = client.patients({"TCGA-DEMO-CT", ""}, RequestContext());
        BOOST_REQUIRE(!patients.empty());
        for (const auto& p : patients) {
            BOOST_TEST(!p.patientId.empty());
            BOOST_TEST(p.collection == "TCGA-DEMO-CT");
        }
        const std::string patientId = patients.front().patientId;
        auto one = client.patients({"TCGA-DEMO-CT", patientId}, RequestContext());  // getPatient's `PatientId`
        BOOST_REQUIRE_EQUAL(one.size(), 1u);
        BOOST_TEST(one[0].patientId == patientId);

        auto byModality = client.patientsByCollectionAndModality("TCGA-DEMO-CT", "CT", RequestContext());
        BOOST_TEST(!byModality.empty());
        for (const auto& p : byModality) BOOST_TEST(!p.patientId.empty());

        auto fresh = client.newPatientsInCollection("TCGA-DEMO-CT", "19000101", RequestContext());
        BOOST_TEST(fresh.size() == patients.size());
        BOOST_TEST(client.newPatientsInCollection("TCGA-DEMO-CT", "20990101", RequestContext()).empty());

        auto studies = client.studies({"TCGA-DEMO-CT", patientId, ""}, RequestContext());
        BOOST_REQUIRE(!studies.empty());
        for (const auto& s : studies) {
            BOOST_TEST(s.patientId == patientId);
            BOOST_TEST(s.studyDate.size() == 8u);  // normalised DA
            BOOST_TEST(s.seriesCount.value_or(0) >= 1);
        }
        auto newStudies = client.newStudiesInPatientCollection("TCGA-DEMO-CT", patientId, "19000101", RequestContext());
        BOOST_TEST(newStudies.size() == studies.size());
        BOOST_TEST(client.newStudiesInPatientCollection("TCGA-DEMO-CT", "", "20990101", RequestContext()).empty());

        auto series = client.series({"", "", studies.front().studyInstanceUid, "", "", "", "", ""}, RequestContext());
        BOOST_REQUIRE(!series.empty());
        BOOST_TEST(series.size() == static_cast<std::size_t>(studies.front().seriesCount.value_or(-1)));
        for (const auto& s : series) {
            BOOST_TEST(s.studyInstanceUid == studies.front().studyInstanceUid);
            BOOST_TEST(!s.modality.empty());
            BOOST_TEST(s.imageCount.value_or(0) > 0);
            BOOST_TEST(s.dataDescriptionUri.find("doi.org") !=
                       std::string::npos);  // CollectionURI / DataDescriptionURI
            BOOST_TEST((s.seriesNumber.empty() || s.seriesNumber.find('.') == std::string::npos));
        }
        auto byCollection = client.series({"TCGA-DEMO-CT", "", "", "", "CT", "", "", ""}, RequestContext());
        BOOST_TEST(!byCollection.empty());
        for (const auto& s : byCollection) BOOST_TEST(s.modality == "CT");

        auto updated = client.updatedSeries("19000102", RequestContext());
        BOOST_TEST(updated.size() >= byCollection.size());
        BOOST_TEST(client.updatedSeries("20990101", RequestContext()).empty());

        const auto& target = *std::max_element(
            series.begin(), series.end(),
            [](const auto& a, const auto& b) { return a.imageCount.value_or(0) < b.imageCount.value_or(0); });
        auto size = client.seriesSize(target.seriesInstanceUid, RequestContext());
        BOOST_TEST(size.objectCount.value_or(-1) == target.imageCount.value_or(-2));
        BOOST_TEST(size.totalSizeInBytes.value_or(0) > 0);

        auto uids = client.sopInstanceUids(target.seriesInstanceUid, RequestContext());
        BOOST_TEST(static_cast<std::int64_t>(uids.size()) == target.imageCount.value_or(-1));

        std::set<std::string> downloaded;
        RequestContext context;
        DownloadOptions options;
        options.expectedCount = target.imageCount;
        std::size_t n = client.downloadSeries(
            target.seriesInstanceUid, options,
            [&](DownloadedInstance&& instance) {
                BOOST_TEST(!instance.sopClassUid.empty());
                BOOST_TEST(!instance.transferSyntaxUid.empty());
                BOOST_TEST(instance.entryName.find(".dcm") != std::string::npos);
                BOOST_TEST(instance.bytes.size() > 132u);
                BOOST_TEST(downloaded.insert(instance.sopInstanceUid).second,
                           "duplicate " << instance.sopInstanceUid);
            },
            context);
        BOOST_TEST(n == uids.size());
        BOOST_TEST(downloaded == std::set<std::string>(uids.begin(), uids.end()));

        auto single = client.singleImage(target.seriesInstanceUid, uids.front(), RequestContext());
        auto meta = InstanceMetaReader::read(single.data(), single.size());
        BOOST_REQUIRE(meta.has_value());
        BOOST_TEST(meta->sopInstanceUid == uids.front());

        BOOST_TEST(emulatorStats(emulator)["unfilteredGetSeries"].asInt() == 0);
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(Endpoints)

BOOST_AUTO_TEST_CASE(everyEndpointV4) {
    EmulatorProcess emulator({"--quiet"});
    TciaClient client(fastSettings(emulator, "v4"));
    walkEverything(client, emulator, "v4");
}

BOOST_AUTO_TEST_CASE(everyEndpointV1) {
    EmulatorProcess emulator({"--quiet"});
    TciaClient client(fastSettings(emulator, "v1"));
    BOOST_TEST((client.version() == ApiVersion::V1));
    walkEverything(client, emulator, "v1");
}

BOOST_AUTO_TEST_CASE(errorsMapToTheErrorVocabulary) {
    EmulatorProcess emulator({"--quiet"});
    auto settings = fastSettings(emulator, "v4");
    settings.maxRetries = 1;
    TciaClient client(settings);
    RequestContext context;
    // getImage for an unknown series: TCIA answers 400 "not been granted" -> NotFound.
    BOOST_CHECK_EXCEPTION(client.downloadSeries(
                              "1.2.3.999", {}, [](DownloadedInstance&&) {}, context),
                          BridgeError, [](const BridgeError& e) { return hasCode(e, ErrorCode::NotFound); });
    BOOST_CHECK_EXCEPTION(client.series({}, RequestContext()), BridgeError,
                          [](const BridgeError& e) { return hasCode(e, ErrorCode::QueryTooBroad); });
    BOOST_TEST(endpointCount(emulator, "getSeries") == 0, "a too-broad getSeries never reaches TCIA");
    BOOST_TEST(client.series({"", "", "", "1.2.3.999", "", "", "", ""}, RequestContext()).empty());
    BOOST_TEST(client.sopInstanceUids("1.2.3.999", RequestContext()).empty());
}

BOOST_AUTO_TEST_CASE(unreachableTciaIsUpstreamUnavailable) {
    EmulatorProcess emulator({"--quiet"});
    auto settings = fastSettings(emulator, "v4");
    settings.baseUrl = "http://127.0.0.1:" + std::to_string(freePort()) + "/nbia-api/services/v4";
    settings.maxRetries = 2;
    TciaClient client(settings);
    auto started = std::chrono::steady_clock::now();
    BOOST_CHECK_EXCEPTION(client.collections(RequestContext()), BridgeError,
                          [](const BridgeError& e) { return hasCode(e, ErrorCode::UpstreamUnavailable); });
    BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(5)));
}

BOOST_AUTO_TEST_SUITE_END()
