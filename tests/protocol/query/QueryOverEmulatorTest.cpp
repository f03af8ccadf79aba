// QueryEngine over TciaMetadataSource over the real TciaClient over the real TCIA emulator
// (a child process on 127.0.0.1). Expectations are computed from direct TciaClient calls, so
// the tests follow the generated data; the emulator's /emulator/stats counters prove which
// TCIA calls the plans made -- in particular that no getSeries without a filter ever leaves.
#include "bridge/common/Error.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/query/QueryEngine.h"
#include "bridge/query/TciaMetadataSource.h"
#include "bridge/tcia/TciaClient.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/QueryBuilders.h"
#include "tests/support/TestSupport.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <memory>
#include <set>
#include <thread>

using namespace bridge;
using namespace bridge::test;

namespace {

/// One emulator shared by the suite (starting one costs ~350 ms). Tests reset its counters
/// before counting and remove any fault they inject.
EmulatorProcess& sharedEmulator() {
    static EmulatorProcess emulator({"--quiet"});
    return emulator;
}

struct Emulator {
    EmulatorProcess& process = sharedEmulator();
};

struct Stack {
    explicit Stack(const EmulatorProcess& emulator, const std::string& version = "v4")
        : client(singleRetrySettings(emulator, version)), metadata(client), engine(metadata, nullptr, settings) {}
    tcia::TciaClient client;
    TciaMetadataSource metadata;
    QuerySettings settings;
    QueryEngine engine;
    bool truncated = false;

    std::vector<DicomRecord> run(const Query& q) {
        auto cursor = engine.find(q, RequestContext());
        std::vector<DicomRecord> out;
        while (auto r = cursor->next()) out.push_back(std::move(*r));
        truncated = cursor->truncated();
        return out;
    }
};

std::vector<std::string> column(const std::vector<DicomRecord>& records, const DcmTagKey& tag) {
    std::vector<std::string> out;
    for (const auto& r : records) out.push_back(r.get(tag));
    return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(QueryOverEmulator, Emulator)

BOOST_AUTO_TEST_CASE(studies_of_a_collection_match_the_tcia_answer) {
    Stack stack(process);
    const auto expected = stack.client.studies({"TCGA-DEMO-CT", "", ""}, RequestContext());
    BOOST_REQUIRE(!expected.empty());
    resetStats(process);
    auto r = stack.run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "TCGA-DEMO-CT"), K(DCM_StudyInstanceUID),
                                                     K(DCM_StudyDate), K(DCM_PatientID), K(DCM_StudyDescription)}));
    BOOST_TEST(r.size() == expected.size());
    BOOST_TEST(endpointCount(process, "getPatientStudy") == 1);
    BOOST_TEST(endpointCount(process, "getSeries") == 0);
    std::set<std::string> uids;
    for (const auto& s : expected) uids.insert(s.studyInstanceUid);
    for (const auto& rec : r) {
        BOOST_TEST(uids.count(rec.get(DCM_StudyInstanceUID)) == 1u);
        BOOST_TEST(rec.get(DCM_StudyDate).size() == 8u);  // DA, converted from TCIA's MM-dd-yyyy
        BOOST_TEST(rec.get(DCM_QueryRetrieveLevel) == "STUDY");
    }
    // Sorted by PatientID, StudyDate.
    auto sorted = r;
    std::stable_sort(sorted.begin(), sorted.end(), [](const DicomRecord& a, const DicomRecord& b) {
        return std::make_pair(a.get(DCM_PatientID), a.get(DCM_StudyDate)) <
               std::make_pair(b.get(DCM_PatientID), b.get(DCM_StudyDate));
    });
    BOOST_TEST(column(r, DCM_StudyInstanceUID) == column(sorted, DCM_StudyInstanceUID), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(date_range_and_wildcards_are_applied_locally) {
    Stack stack(process);
    const auto all = stack.client.studies({"TCGA-DEMO-CT", "", ""}, RequestContext());
    std::size_t in2001to2002 = std::count_if(all.begin(), all.end(), [](const tcia::StudyRecord& s) {
        return s.studyDate >= "20010101" && s.studyDate <= "20021231";
    });
    auto r = stack.run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "tcga-demo-ct"), K(DCM_StudyDate, "20010101-20021231"),
                                                     K(DCM_PatientID, "TCGA-DM-*")}));
    BOOST_TEST(r.size() == in2001to2002);
    BOOST_TEST(!r.empty());
}

BOOST_AUTO_TEST_CASE(computed_keys_cost_one_get_series_per_patient) {
    Stack stack(process);
    const auto studies = stack.client.studies({"TCGA-DEMO-CT", "", ""}, RequestContext());
    std::set<std::string> patients;
    for (const auto& s : studies) patients.insert(s.patientId);
    BOOST_REQUIRE(studies.size() > patients.size());  // some patient has two studies: the saving is visible
    resetStats(process);
    auto r = stack.run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "TCGA-DEMO-CT"), K(DCM_StudyInstanceUID),
                                                     K(DCM_ModalitiesInStudy), K(DCM_NumberOfStudyRelatedInstances)}));
    BOOST_TEST(r.size() == studies.size());
    BOOST_TEST(endpointCount(process, "getSeries") == static_cast<int>(patients.size()));
    for (const auto& rec : r) {
        const auto series = stack.client.series({"", "", rec.get(DCM_StudyInstanceUID), "", "", "", "", ""}, RequestContext());
        std::int64_t instances = 0;
        std::set<std::string> modalities;
        for (const auto& s : series) {
            instances += s.imageCount.value_or(0);
            modalities.insert(s.modality);
        }
        BOOST_TEST(rec.get(DCM_NumberOfStudyRelatedInstances) == std::to_string(instances));
        BOOST_TEST(rec.get(DCM_ModalitiesInStudy).find(*modalities.begin()) != std::string::npos);
    }
    BOOST_TEST(emulatorStats(process).get("unfilteredGetSeries", 0).asInt() == 0);
}

BOOST_AUTO_TEST_CASE(ohif_study_list_by_patient_id) {
    // What the web adapter builds for OHIF 3.13's
    // GET /studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030,00080060,00080090,00100030&00100020=...
    // (anchors.md): PS3.18 default study attributes + the include fields.
    Stack stack(process);
    Query q = makeQuery(QueryLevel::Study,
                        {K(DCM_PatientID, "SHARED-0007"), K(DCM_StudyDate), K(DCM_StudyTime), K(DCM_AccessionNumber),
                         K(DCM_InstanceAvailability), K(DCM_ModalitiesInStudy), K(DCM_ReferringPhysicianName),
                         K(DCM_TimezoneOffsetFromUTC), K(DCM_PatientName), K(DCM_PatientBirthDate), K(DCM_PatientSex),
                         K(DCM_StudyInstanceUID), K(DCM_StudyID), K(DCM_NumberOfStudyRelatedSeries),
                         K(DCM_NumberOfStudyRelatedInstances), K(DCM_StudyDescription), K(DCM_Modality)});
    q.limit = 101;
    resetStats(process);
    const auto started = std::chrono::steady_clock::now();
    auto r = stack.run(q);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    BOOST_TEST_MESSAGE("OHIF study list by PatientID over the emulator: " << r.size() << " studies in " << ms << " ms");
    BOOST_TEST(r.size() == 2u);  // one study in each of two collections
    BOOST_TEST(endpointCount(process, "getPatientStudy") == 1);
    BOOST_TEST(endpointCount(process, "getSeries") == 2);  // one per (collection, patient)
    for (const auto& rec : r) {
        BOOST_TEST(!rec.get(DCM_ModalitiesInStudy).empty());
        BOOST_TEST(rec.get(DCM_NumberOfStudyRelatedSeries) != "0");
        BOOST_TEST(rec.get(DCM_InstanceAvailability) == "ONLINE");
        BOOST_TEST(rec.has(DCM_AccessionNumber));
    }
    BOOST_TEST(!stack.truncated);
}

BOOST_AUTO_TEST_CASE(shared_patient_id_across_collections) {
    Stack stack(process);
    auto r = stack.run(makeQuery(QueryLevel::Patient, {K(DCM_PatientID, "SHARED-0007"), K(kCollectionTag), K(DCM_PatientName),
                                                       K(DCM_NumberOfPatientRelatedStudies)},
                                 InformationModel::PatientRoot));
    // PS3.4: one answer per PatientID (issue 8 item 6); the first collection alphabetically, the
    // counts cover both collections' studies.
    BOOST_TEST(column(r, kCollectionTag) == (std::vector<std::string>{"Phantom-Mixed"}), boost::test_tools::per_element());
    for (const auto& rec : r) BOOST_TEST(rec.get(DCM_NumberOfPatientRelatedStudies) == "2");
}

BOOST_AUTO_TEST_CASE(utf8_person_names_match_case_insensitively) {
    Stack stack(process);
    auto r = stack.run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "RIDER-Demo-MR"), K(DCM_PatientName, "MÜLLER*"),
                                                     K(DCM_PatientID)}));
    BOOST_REQUIRE(!r.empty());
    BOOST_TEST(r[0].get(DCM_PatientName) == "Müller^Jürgen");
    BOOST_TEST(r[0].get(DCM_SpecificCharacterSet) == "ISO_IR 192");
}

BOOST_AUTO_TEST_CASE(series_and_image_levels) {
    Stack stack(process);
    const auto studies = stack.client.studies({"TCGA-DEMO-CT", "", ""}, RequestContext());
    BOOST_REQUIRE(!studies.empty());
    const std::string studyUid = studies.front().studyInstanceUid;
    const auto series = stack.client.series({"", "", studyUid, "", "", "", "", ""}, RequestContext());
    BOOST_REQUIRE(!series.empty());
    auto r = stack.run(makeQuery(QueryLevel::Series, {K(DCM_StudyInstanceUID, studyUid), K(DCM_SeriesInstanceUID),
                                                      K(DCM_Modality), K(DCM_SeriesNumber), K(DCM_NumberOfSeriesRelatedInstances),
                                                      K(DCM_PatientName)}));
    BOOST_TEST(r.size() == series.size());
    BOOST_TEST(r[0].get(DCM_PatientName) == studies.front().patientName);  // filled from getPatientStudy

    const auto& first = series.front();
    resetStats(process);
    auto images = stack.run(makeQuery(QueryLevel::Image, {K(DCM_SeriesInstanceUID, first.seriesInstanceUid),
                                                          K(DCM_SOPInstanceUID), K(DCM_StudyInstanceUID)},
                                      InformationModel::PatientRoot));
    BOOST_TEST(static_cast<std::int64_t>(images.size()) == first.imageCount.value_or(-1));
    BOOST_TEST(endpointCount(process, "getSOPInstanceUIDs") == 1);
    for (const auto& rec : images) {
        BOOST_TEST(rec.get(DCM_StudyInstanceUID) == studyUid);
        BOOST_TEST(rec.get(DCM_QueryRetrieveLevel) == "IMAGE");
    }
}

BOOST_AUTO_TEST_CASE(v1_and_v4_give_the_same_answers) {
    Stack v4(process, "v4"), v1(process, "v1");
    const Query q = makeQuery(QueryLevel::Series, {K(kCollectionTag, "RIDER-Demo-MR"), K(DCM_SeriesInstanceUID),
                                                   K(DCM_Modality), K(DCM_SeriesDate), K(DCM_StudyDate), K(DCM_PatientID)});
    auto a = v4.run(q);
    auto b = v1.run(q);
    BOOST_REQUIRE(!a.empty());
    BOOST_REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) BOOST_TEST(a[i].values() == b[i].values());
}

BOOST_AUTO_TEST_CASE(broad_queries_never_reach_tcia_unfiltered) {
    Stack stack(process);
    resetStats(process);
    const std::vector<Query> broad = {
        makeQuery(QueryLevel::Study, {K(DCM_PatientName, "*"), K(DCM_StudyInstanceUID)}),
        makeQuery(QueryLevel::Study, {K(DCM_StudyDate, "20000101-"), K(DCM_ModalitiesInStudy, "CT")}),
        makeQuery(QueryLevel::Series, {K(DCM_Modality, "CT")}),
        makeQuery(QueryLevel::Series, {K(DCM_SeriesInstanceUID, "1.2.826.*")}),
        makeQuery(QueryLevel::Image, {K(DCM_SOPInstanceUID, "1.2.3")}),
        makeQuery(QueryLevel::Patient, {K(DCM_PatientName, "M*")}, InformationModel::PatientRoot),
    };
    for (const auto& q : broad) {
        BOOST_CHECK_EXCEPTION(stack.run(q), BridgeError,
                              [](const BridgeError& e) { return e.code() == ErrorCode::QueryTooBroad; });
    }
    const auto s = emulatorStats(process);
    BOOST_TEST(s["endpoints"].get("getSeries", 0).asInt() == 0);
    BOOST_TEST(s["endpoints"].get("getPatientStudy", 0).asInt() == 0);
    BOOST_TEST(s["endpoints"].get("getPatient", 0).asInt() == 0);
    BOOST_TEST(s.get("unfilteredGetSeries", 0).asInt() == 0);
}

BOOST_AUTO_TEST_CASE(restricted_collection_hidden_unless_granted) {
    // The bridge's own credentials see Restricted-Demo; the policy decides who else does.
    TciaSettings auth = singleRetrySettings(process);
    auth.tokenUrl = "http://127.0.0.1:" + std::to_string(process.port()) + "/nbia-api/oauth/token";
    auth.username = "emulator-user";
    auth.password = "emulator-password";
    tcia::TciaClient client(auth);
    TciaMetadataSource metadata(client);
    const auto restricted = client.studies({"Restricted-Demo", "", ""}, RequestContext());
    BOOST_REQUIRE(!restricted.empty());
    const std::string pid = restricted.front().patientId;

    Config config;
    config.access.restrictedCollections = {"Restricted-Demo"};
    config.access.grantsByToken["Restricted-Demo"] = {"good-token"};
    AccessPolicy policy(config, metadata);
    QuerySettings settings;
    QueryEngine engine(metadata, nullptr, settings);
    auto count = [&](CollectionScope scope, std::vector<QueryKey> keys, QueryLevel level = QueryLevel::Study) {
        Query q = makeQuery(level, std::move(keys));
        q.scope = std::move(scope);
        auto cursor = engine.find(q, RequestContext());
        std::size_t n = 0;
        while (cursor->next()) ++n;
        return n;
    };
    BOOST_TEST(count(policy.forHttp(std::nullopt), {K(DCM_PatientID, pid)}) == 0u);
    BOOST_TEST(count(policy.forHttp(std::nullopt), {K(kCollectionTag, "Restricted-Demo")}) == 0u);
    BOOST_TEST(count(policy.forHttp(std::nullopt), {K(DCM_PatientID, pid)}, QueryLevel::Series) == 0u);
    BOOST_TEST(count(policy.forHttp(std::string("good-token")), {K(DCM_PatientID, pid)}) == restricted.size());
}

BOOST_AUTO_TEST_CASE(cancel_between_tcia_calls) {
    Stack stack(process);
    RequestContext token;
    auto cursor = stack.engine.find(makeQuery(QueryLevel::Study, {K(kCollectionTag, "TCGA-DEMO-CT\\RIDER-Demo-MR")}), token);
    BOOST_REQUIRE(cursor->next());
    resetStats(process);
    token.cancel();
    BOOST_CHECK_EXCEPTION(
        while (cursor->next()) {}, BridgeError, [](const BridgeError& e) { return e.code() == ErrorCode::Cancelled; });
    BOOST_TEST(endpointCount(process, "getPatientStudy") == 0);
}

BOOST_AUTO_TEST_CASE(upstream_failure_surfaces_from_the_cursor) {
    Stack stack(process);
    httpBody(process.port(), "POST", "/emulator/faults?spec=getPatientStudy:500:10");
    struct ClearFaults {
        unsigned short port;
        ~ClearFaults() { httpBody(port, "DELETE", "/emulator/faults"); }
    } clear{process.port()};
    auto cursor = stack.engine.find(makeQuery(QueryLevel::Study, {K(DCM_PatientID, "TCGA-DM-0001")}), RequestContext());
    BOOST_CHECK_EXCEPTION(cursor->next(), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::UpstreamUnavailable; });
}

BOOST_AUTO_TEST_CASE(one_engine_serves_concurrent_queries) {
    Stack stack(process);
    const Query q = makeQuery(QueryLevel::Study, {K(kCollectionTag, "TCGA-DEMO-CT\\RIDER-Demo-MR"), K(DCM_StudyInstanceUID),
                                                  K(DCM_ModalitiesInStudy), K(DCM_PatientName)});
    const auto reference = stack.run(q);
    BOOST_REQUIRE(!reference.empty());
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i) {
                try {
                    auto cursor = stack.engine.find(q, RequestContext());
                    std::vector<DicomRecord> got;
                    while (auto r = cursor->next()) got.push_back(std::move(*r));
                    bool same = got.size() == reference.size();
                    for (std::size_t k = 0; same && k < got.size(); ++k) same = got[k].values() == reference[k].values();
                    if (!same) ++mismatches[t];
                } catch (...) {
                    ++mismatches[t];
                }
            }
        });
    for (auto& th : threads) th.join();
    for (int m : mismatches) BOOST_TEST(m == 0);
}

BOOST_AUTO_TEST_CASE(limit_and_truncation_over_tcia) {
    Stack stack(process);
    Query q = makeQuery(QueryLevel::Series, {K(kCollectionTag, "TCGA-DEMO-CT"), K(DCM_SeriesInstanceUID)});
    const auto all = stack.run(q);
    BOOST_REQUIRE(all.size() >= 3u);
    q.limit = 2;
    auto page = stack.run(q);
    BOOST_TEST(page.size() == 2u);
    BOOST_TEST(stack.truncated);
    q.offset = 2;
    q.limit = 100;
    auto rest = stack.run(q);
    BOOST_TEST(rest.size() == all.size() - 2);
    BOOST_TEST(!stack.truncated);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(large_collection_walk_with_computed_keys) {
    // A metadata-only synthetic TCIA: 5000 studies x 10 series in 10 collections (500 studies,
    // hundreds of patients each). A study query on one collection with ModalitiesInStudy must
    // cost one getPatientStudy + one getSeries for the collection, not one call per patient.
    TempDir data;
    const std::string generate = binaryDir() + "/emulator/tcia-emulator generate --out " + data.path() +
                                 " --synthetic-studies 5000 --series-per-study 10 > /dev/null 2>&1";
    BOOST_REQUIRE(std::system(generate.c_str()) == 0);
    EmulatorProcess emulator({"--quiet"}, data.path());
    Stack stack(emulator);
    const auto expected = stack.client.studies({"Synthetic-03", "", ""}, RequestContext());
    BOOST_REQUIRE(expected.size() >= 100u);
    {
        const auto t0 = std::chrono::steady_clock::now();
        const auto rows = stack.client.series({"Synthetic-03", "", "", "", "", "", "", ""}, RequestContext());
        const auto t1 = std::chrono::steady_clock::now();
        BOOST_TEST_MESSAGE("direct getSeries of " << rows.size() << " series: "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count() << " ms");
    }
    resetStats(emulator);
    Query q = makeQuery(QueryLevel::Study, {K(kCollectionTag, "Synthetic-03"), K(DCM_StudyInstanceUID),
                                            K(DCM_ModalitiesInStudy), K(DCM_NumberOfStudyRelatedInstances), K(DCM_StudyDate)});
    const auto started = std::chrono::steady_clock::now();
    auto r = stack.run(q);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    BOOST_TEST_MESSAGE("study walk of a " << expected.size() << "-study collection with computed keys: " << ms << " ms");
    BOOST_TEST(r.size() == expected.size());
    BOOST_TEST(endpointCount(emulator, "getPatientStudy") == 1);
    BOOST_TEST(endpointCount(emulator, "getSeries") == 1);
    BOOST_TEST(emulatorStats(emulator).get("unfilteredGetSeries", 0).asInt() == 0);
    for (const auto& rec : r) BOOST_TEST(!rec.get(DCM_ModalitiesInStudy).empty());

    // With a limit, the first page needs the same two calls and reports truncation.
    q.limit = 25;
    resetStats(emulator);
    BOOST_TEST(stack.run(q).size() == 25u);
    BOOST_TEST(stack.truncated);
    BOOST_TEST(endpointCount(emulator, "getSeries") == 1);
}
