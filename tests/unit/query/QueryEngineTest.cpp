// QueryEngine over the in-memory TCIA double: plans (which TCIA calls), matching, computed keys,
// scope, limits, context.
#include "InMemoryMetadataSource.h"

#include "bridge/common/Error.h"
#include "bridge/query/QueryEngine.h"
#include "tests/support/ErrorCodeOf.h"
#include "tests/support/QueryBuilders.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

using namespace bridge;
using bridge::test::InMemoryMetadataSource;
using bridge::test::makeSampleTcia;
using bridge::test::codeOf;
using bridge::test::K;
using bridge::test::makeQuery;

namespace {

struct Cache : InstanceAttributeSource {
    std::map<std::string, std::vector<DicomRecord>> bySeries;
    /// What a fetch (download) would bring into the cache, by series.
    std::map<std::string, std::vector<DicomRecord>> fetchable;
    std::vector<std::pair<std::string, CollectionScope>> fetches;
    std::optional<std::vector<DicomRecord>> instanceAttributes(const std::string& uid) override {
        auto it = bySeries.find(uid);
        if (it == bySeries.end()) return std::nullopt;
        return it->second;
    }
    std::optional<std::vector<DicomRecord>> fetchInstanceAttributes(const std::string& uid, const CollectionScope& scope,
                                                                   const RequestContext&) override {
        fetches.emplace_back(uid, scope);
        if (!bySeries.count(uid) && fetchable.count(uid)) bySeries[uid] = fetchable[uid];
        return instanceAttributes(uid);
    }
};

struct EngineFixture {
    InMemoryMetadataSource tcia = makeSampleTcia();
    QuerySettings settings;
    Cache cache;
    bool truncated = false;

    std::vector<DicomRecord> run(const Query& q, QueryEngineTuning tuning = {}) {
        QueryEngine engine(tcia, &cache, settings, tuning);
        auto cursor = engine.find(q, RequestContext());
        std::vector<DicomRecord> out;
        while (auto r = cursor->next()) out.push_back(std::move(*r));
        truncated = cursor->truncated();
        return out;
    }
    static std::vector<std::string> column(const std::vector<DicomRecord>& records, const DcmTagKey& tag) {
        std::vector<std::string> out;
        for (const auto& r : records) out.push_back(r.get(tag));
        return out;
    }
};

const std::string kLidcStudy1 = "1.3.6.1.4.1.14519.5.2.1.1";
const std::string kLidcStudy2 = "1.3.6.1.4.1.14519.5.2.1.2";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(QueryEngineStudy, EngineFixture)

BOOST_AUTO_TEST_CASE(study_by_patient_id_is_one_call_sorted_and_projected) {
    auto r = run(makeQuery(QueryLevel::Study,
                           {K(DCM_PatientID, "LIDC-IDRI-0001"), K(DCM_StudyInstanceUID), K(DCM_StudyDate), K(DCM_AccessionNumber)}));
    BOOST_TEST(tcia.calls == (std::vector<std::string>{"studies(PatientID=LIDC-IDRI-0001)"}), boost::test_tools::per_element());
    BOOST_TEST(column(r, DCM_StudyInstanceUID) == (std::vector<std::string>{kLidcStudy1, kLidcStudy2}),
               boost::test_tools::per_element());
    BOOST_REQUIRE(r.size() == 2u);
    // Exactly the keys + QueryRetrieveLevel + InstanceAvailability (ASCII: no SpecificCharacterSet).
    BOOST_TEST(r[0].values().size() == 6u);
    BOOST_TEST(r[0].get(DCM_QueryRetrieveLevel) == "STUDY");
    BOOST_TEST(r[0].get(DCM_InstanceAvailability) == "ONLINE");
    BOOST_TEST(r[0].has(DCM_AccessionNumber));
    BOOST_TEST(r[0].get(DCM_AccessionNumber) == "");
    BOOST_TEST(!r[0].has(DCM_SpecificCharacterSet));
    BOOST_TEST(r[0].get(DCM_StudyDate) == "20000101");
    BOOST_TEST(!truncated);
}

BOOST_AUTO_TEST_CASE(uid_list_is_one_call_per_uid) {
    auto r = run(makeQuery(QueryLevel::Study, {K(DCM_StudyInstanceUID, kLidcStudy2 + "\\" + kLidcStudy1)}));
    BOOST_TEST(tcia.count("studies(StudyInstanceUID=") == 2u);
    BOOST_TEST(r.size() == 2u);
    BOOST_TEST(r[0].get(DCM_StudyInstanceUID) == kLidcStudy1);  // steps run in sorted UID order
}

BOOST_AUTO_TEST_CASE(collection_with_wildcard_name_walks_that_collection) {
    auto r = run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "RIDER Lung CT"), K(DCM_PatientName, "rider*"),
                                               K(DCM_StudyDescription)}));
    BOOST_TEST(tcia.calls == (std::vector<std::string>{"studies(Collection=RIDER Lung CT)"}), boost::test_tools::per_element());
    BOOST_REQUIRE(r.size() == 1u);
    BOOST_TEST(r[0].get(DCM_StudyDescription) == "CT CHEST");
    BOOST_TEST(r[0].get(kCollectionTag) == "RIDER Lung CT");
}

BOOST_AUTO_TEST_CASE(no_narrowing_key_is_too_broad_without_any_tcia_call) {
    const auto code = codeOf([&] { run(makeQuery(QueryLevel::Study, {K(DCM_PatientName, "DOE*"), K(DCM_StudyDate, "20050101-")})); });
    BOOST_TEST(static_cast<int>(code) == static_cast<int>(ErrorCode::QueryTooBroad));
    BOOST_TEST(tcia.count("studies") == 0u);
    BOOST_TEST(tcia.count("series") == 0u);
    BOOST_TEST(tcia.count("patients") == 0u);
    try {
        run(makeQuery(QueryLevel::Study, {}));
    } catch (const BridgeError& e) {
        BOOST_TEST(std::string(e.what()).find("ClinicalTrialProtocolID") != std::string::npos);
        BOOST_TEST(std::string(e.what()).find("tcia-bridge sync") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(modality_alone_does_not_narrow_a_series_query) {
    const auto code = codeOf([&] { run(makeQuery(QueryLevel::Series, {K(DCM_Modality, "CT")})); });
    BOOST_TEST(static_cast<int>(code) == static_cast<int>(ErrorCode::QueryTooBroad));
    BOOST_TEST(!tcia.unfilteredSeriesCall());
    BOOST_TEST(tcia.count("series(") == 0u);
}

BOOST_AUTO_TEST_CASE(a_scanning_source_answers_broad_queries) {
    tcia.canScan = true;
    auto r = run(makeQuery(QueryLevel::Study, {K(DCM_PatientName, "DOE*"), K(DCM_StudyDate, "20050101-"),
                                               K(DCM_StudyInstanceUID)}));
    BOOST_TEST(tcia.count("scanStudies") == 1u);
    // Doe^John's studies from 2005 on, in LIDC-IDRI, CPTAC-LUAD and Secret-Trial (no scope here).
    BOOST_TEST(r.size() == 3u);
}

BOOST_AUTO_TEST_CASE(collection_scoped_ae_walks_its_collection) {
    Query q = makeQuery(QueryLevel::Study, {K(DCM_StudyInstanceUID), K(DCM_PatientID)});
    q.scope.only = std::set<std::string>{"LIDC-IDRI"};
    auto r = run(q);
    BOOST_TEST(tcia.calls == (std::vector<std::string>{"studies(Collection=LIDC-IDRI)"}), boost::test_tools::per_element());
    BOOST_TEST(r.size() == 4u);
    BOOST_TEST(column(r, DCM_PatientID).front() == "LIDC-IDRI-0001");
}

BOOST_AUTO_TEST_CASE(large_scope_is_not_walked) {
    Query q = makeQuery(QueryLevel::Study, {K(DCM_StudyInstanceUID)});
    q.scope.only = std::set<std::string>{"LIDC-IDRI", "CPTAC-LUAD", "RIDER Lung CT"};
    QueryEngineTuning tuning;
    tuning.maxCollectionsToWalk = 2;
    const auto code = codeOf([&] { run(q, tuning); });
    BOOST_TEST(static_cast<int>(code) == static_cast<int>(ErrorCode::QueryTooBroad));
    tuning.maxCollectionsToWalk = 3;
    BOOST_TEST(run(q, tuning).size() == 7u);
    BOOST_TEST(tcia.count("studies(Collection=") == 3u);
}

BOOST_AUTO_TEST_CASE(computed_keys_use_one_series_call_per_patient) {
    auto r = run(makeQuery(QueryLevel::Study, {K(DCM_PatientID, "LIDC-IDRI-0001"), K(DCM_StudyInstanceUID),
                                               K(DCM_ModalitiesInStudy), K(DCM_NumberOfStudyRelatedSeries),
                                               K(DCM_NumberOfStudyRelatedInstances)}));
    BOOST_REQUIRE(r.size() == 2u);
    BOOST_TEST(tcia.count("series(") == 1u);  // one per (collection, patient), not one per study
    BOOST_TEST(tcia.count("series(Collection=LIDC-IDRI,PatientID=LIDC-IDRI-0001)") == 1u);
    BOOST_TEST(r[0].get(DCM_ModalitiesInStudy) == "CT\\SEG");
    BOOST_TEST(r[0].get(DCM_NumberOfStudyRelatedSeries) == "2");
    BOOST_TEST(r[0].get(DCM_NumberOfStudyRelatedInstances) == "4");
    BOOST_TEST(r[1].get(DCM_ModalitiesInStudy) == "CT");
    BOOST_TEST(r[1].get(DCM_NumberOfStudyRelatedInstances) == "2");
}

BOOST_AUTO_TEST_CASE(no_series_call_when_no_computed_key_is_asked) {
    run(makeQuery(QueryLevel::Study, {K(DCM_PatientID, "LIDC-IDRI-0001"), K(DCM_StudyInstanceUID)}));
    BOOST_TEST(tcia.count("series(") == 0u);
    // SeriesCount from getPatientStudy answers NumberOfStudyRelatedSeries without getSeries.
    auto r = run(makeQuery(QueryLevel::Study, {K(DCM_PatientID, "LIDC-IDRI-0001"), K(DCM_NumberOfStudyRelatedSeries)}));
    BOOST_TEST(tcia.count("series(") == 0u);
    BOOST_TEST(r[0].get(DCM_NumberOfStudyRelatedSeries) == "2");
}

BOOST_AUTO_TEST_CASE(modalities_in_study_as_a_matching_key) {
    auto r = run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "LIDC-IDRI"), K(DCM_ModalitiesInStudy, "SEG"),
                                               K(DCM_StudyInstanceUID)}));
    BOOST_REQUIRE(r.size() == 1u);
    BOOST_TEST(r[0].get(DCM_StudyInstanceUID) == kLidcStudy1);
    BOOST_TEST(r[0].get(DCM_ModalitiesInStudy) == "CT\\SEG");
    auto both = run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "LIDC-IDRI"), K(DCM_ModalitiesInStudy, "DX\\SEG")}));
    BOOST_TEST(both.size() == 2u);
}

BOOST_AUTO_TEST_CASE(many_patients_of_a_collection_use_one_collection_call) {
    QueryEngineTuning tuning;
    tuning.patientsPerCollectionCall = 1;
    auto r = run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "LIDC-IDRI"), K(DCM_ModalitiesInStudy)}), tuning);
    BOOST_TEST(r.size() == 4u);
    BOOST_TEST(tcia.count("series(") == 1u);
    BOOST_TEST(tcia.count("series(Collection=LIDC-IDRI)") == 1u);
    BOOST_TEST(!tcia.unfilteredSeriesCall());
}

BOOST_AUTO_TEST_CASE(date_range_and_description_wildcard) {
    auto r = run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "LIDC-IDRI"), K(DCM_StudyDate, "20000101-20011231"),
                                               K(DCM_StudyDescription, "Chest*")}));
    BOOST_REQUIRE(r.size() == 1u);
    BOOST_TEST(r[0].get(DCM_StudyDate) == "20010615");
}

BOOST_AUTO_TEST_CASE(unknown_attributes_match_and_come_back_empty) {
    auto r = run(makeQuery(QueryLevel::Study, {K(DCM_PatientID, "LIDC-IDRI-0001"), K(DCM_AccessionNumber, "ACC123"),
                                               K(DCM_StudyTime, "080000-120000"), K(DCM_ReferringPhysicianName, "SMITH")}));
    BOOST_REQUIRE(r.size() == 2u);
    BOOST_TEST(r[0].get(DCM_AccessionNumber) == "");
    BOOST_TEST(r[0].get(DCM_StudyTime) == "");
}

BOOST_AUTO_TEST_CASE(known_empty_values_do_not_match_a_value) {
    auto r = run(makeQuery(QueryLevel::Study, {K(DCM_PatientID, "LIDC-IDRI-0002"), K(DCM_StudyDescription, "*CT*")}));
    BOOST_TEST(r.empty());
}

BOOST_AUTO_TEST_CASE(person_names_case_insensitive_by_default_and_utf8_charset) {
    auto r = run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "CPTAC-LUAD"), K(DCM_PatientName, "ИВАНОВ*"),
                                               K(DCM_StudyDescription)}));
    BOOST_REQUIRE(r.size() == 1u);
    BOOST_TEST(r[0].get(DCM_PatientName) == "Иванов^Иван");
    BOOST_TEST(r[0].get(DCM_SpecificCharacterSet) == "ISO_IR 192");
    settings.caseSensitivePersonNames = true;
    BOOST_TEST(run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "CPTAC-LUAD"), K(DCM_PatientName, "ИВАНОВ*")})).empty());
}

BOOST_AUTO_TEST_CASE(fuzzy_matching_on_given_name) {
    Query q = makeQuery(QueryLevel::Study, {K(kCollectionTag, "LIDC-IDRI"), K(DCM_PatientName, "joh")});
    BOOST_TEST(run(q).empty());
    q.fuzzyMatching = true;
    auto r = run(q);
    BOOST_REQUIRE(r.size() == 1u);
    BOOST_TEST(r[0].get(DCM_PatientName) == "Doe^John");
}

BOOST_AUTO_TEST_CASE(malformed_values_are_invalid_argument) {
    const auto code = codeOf([&] { run(makeQuery(QueryLevel::Study, {K(DCM_PatientID, "P1"), K(DCM_StudyDate, "2001-2002-2003")})); });
    BOOST_TEST(static_cast<int>(code) == static_cast<int>(ErrorCode::InvalidArgument));
    BOOST_TEST(tcia.calls.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(QueryEnginePatient, EngineFixture)

BOOST_AUTO_TEST_CASE(patient_level_is_not_in_study_root) {
    const auto code = codeOf([&] { run(makeQuery(QueryLevel::Patient, {K(DCM_PatientID, "SHARED-1")})); });
    BOOST_TEST(static_cast<int>(code) == static_cast<int>(ErrorCode::InvalidArgument));
}

// PS3.4: PatientID is the unique key of the PATIENT level (issue 8 item 6): one answer per
// PatientID, the first collection alphabetically as ClinicalTrialProtocolID, counts over all.
BOOST_AUTO_TEST_CASE(one_patient_id_in_several_collections_gives_one_record) {
    auto r = run(makeQuery(QueryLevel::Patient, {K(DCM_PatientID, "SHARED-1"), K(DCM_PatientName), K(kCollectionTag)},
                           InformationModel::PatientRoot));
    BOOST_TEST(tcia.calls == (std::vector<std::string>{"patients(PatientID=SHARED-1)"}), boost::test_tools::per_element());
    BOOST_REQUIRE(r.size() == 1u);
    BOOST_TEST(r[0].get(kCollectionTag) == "CPTAC-LUAD");
    BOOST_TEST(r[0].get(DCM_PatientName) == "Doe^John");
    BOOST_TEST(r[0].get(DCM_QueryRetrieveLevel) == "PATIENT");
    // A collection key picks that collection's record.
    auto lidc = run(makeQuery(QueryLevel::Patient, {K(DCM_PatientID, "SHARED-1"), K(kCollectionTag, "LIDC-IDRI")},
                              InformationModel::PatientRoot));
    BOOST_TEST(column(lidc, kCollectionTag) == (std::vector<std::string>{"LIDC-IDRI"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(walked_collections_merge_one_patient_id_too) {
    // No exact PatientID: one call per named collection; SHARED-1 is in both, still one answer.
    auto r = run(makeQuery(QueryLevel::Patient, {K(kCollectionTag, "LIDC-IDRI\\CPTAC-LUAD"), K(DCM_PatientID, "SHARED*"),
                                                 K(DCM_NumberOfPatientRelatedStudies)},
                           InformationModel::PatientRoot));
    BOOST_TEST(column(r, DCM_PatientID) == (std::vector<std::string>{"SHARED-1"}), boost::test_tools::per_element());
    BOOST_REQUIRE(r.size() == 1u);
    BOOST_TEST(r[0].get(kCollectionTag) == "CPTAC-LUAD");
    BOOST_TEST(r[0].get(DCM_NumberOfPatientRelatedStudies) == "2");
}

BOOST_AUTO_TEST_CASE(restricted_collection_never_leaks_via_records_or_counts) {
    Query q = makeQuery(QueryLevel::Patient, {K(DCM_PatientID, "SHARED-1"), K(kCollectionTag),
                                              K(DCM_NumberOfPatientRelatedStudies), K(DCM_NumberOfPatientRelatedSeries),
                                              K(DCM_NumberOfPatientRelatedInstances)},
                        InformationModel::PatientRoot);
    q.scope.denied = {"secret-trial"};
    auto r = run(q);
    BOOST_REQUIRE(r.size() == 1u);
    BOOST_TEST(r[0].get(kCollectionTag) == "CPTAC-LUAD");
    // CPTAC-LUAD (1 study, 2 series, 11 instances) + LIDC-IDRI (1, 1, 4); Secret-Trial not counted.
    BOOST_TEST(r[0].get(DCM_NumberOfPatientRelatedStudies) == "2");
    BOOST_TEST(r[0].get(DCM_NumberOfPatientRelatedSeries) == "3");
    BOOST_TEST(r[0].get(DCM_NumberOfPatientRelatedInstances) == "15");
    for (const auto& c : tcia.calls) BOOST_TEST(c.find("Secret") == std::string::npos, c);
    // Matching a count matches the merged count.
    q.keys.push_back(K(DCM_NumberOfPatientRelatedStudies, "2"));
    BOOST_TEST(run(q).size() == 1u);
    // Granted: the restricted collection counts too.
    Query granted = q;
    granted.scope.denied.clear();
    granted.keys.pop_back();
    auto all = run(granted);
    BOOST_REQUIRE(all.size() == 1u);
    BOOST_TEST(all[0].get(DCM_NumberOfPatientRelatedStudies) == "3");
    BOOST_TEST(all[0].get(DCM_NumberOfPatientRelatedInstances) == "22");
}

BOOST_AUTO_TEST_CASE(denied_collection_named_in_the_query_asks_tcia_nothing) {
    Query q = makeQuery(QueryLevel::Study, {K(kCollectionTag, "Secret-Trial"), K(DCM_StudyInstanceUID)});
    q.scope.denied = {"Secret-Trial"};
    BOOST_TEST(run(q).empty());
    q.keys.push_back(K(DCM_PatientID, "SECRET-01"));
    BOOST_TEST(run(q).empty());
    BOOST_TEST(tcia.calls.empty());
    // Without the collection key, TCIA is asked but the records are dropped.
    Query q2 = makeQuery(QueryLevel::Series, {K(DCM_PatientID, "SECRET-01")});
    q2.scope.denied = {"Secret-Trial"};
    BOOST_TEST(run(q2).empty());
}

BOOST_AUTO_TEST_CASE(wildcard_patient_id_with_collection_walks_the_collection) {
    auto r = run(makeQuery(QueryLevel::Patient, {K(kCollectionTag, "LIDC-IDRI"), K(DCM_PatientID, "LIDC-IDRI-*"),
                                                 K(DCM_PatientSex)},
                           InformationModel::PatientRoot));
    BOOST_TEST(tcia.calls == (std::vector<std::string>{"patients(Collection=LIDC-IDRI)"}), boost::test_tools::per_element());
    BOOST_TEST(column(r, DCM_PatientID) == (std::vector<std::string>{"LIDC-IDRI-0001", "LIDC-IDRI-0002"}),
               boost::test_tools::per_element());
    BOOST_TEST(r[1].get(DCM_PatientSex) == "F");
}

BOOST_AUTO_TEST_CASE(wildcard_collection_resolves_against_the_collection_list) {
    auto r = run(makeQuery(QueryLevel::Patient, {K(kCollectionTag, "rider*"), K(DCM_PatientID)}, InformationModel::PatientRoot));
    BOOST_TEST(tcia.count("collections()") == 1u);
    BOOST_TEST(tcia.count("patients(Collection=RIDER Lung CT)") == 1u);
    BOOST_TEST(r.size() == 1u);
}

BOOST_AUTO_TEST_CASE(collection_wildcard_matching_nothing_asks_nothing_more) {
    tcia.canScan = true;
    auto r = run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "NO-SUCH-*"), K(DCM_StudyInstanceUID)}));
    BOOST_TEST(r.empty());
    BOOST_TEST(tcia.calls == (std::vector<std::string>{"collections()"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(patient_counts_only_ask_what_is_needed) {
    run(makeQuery(QueryLevel::Patient, {K(DCM_PatientID, "LIDC-IDRI-0001"), K(DCM_NumberOfPatientRelatedSeries)},
                  InformationModel::PatientRoot));
    BOOST_TEST(tcia.count("studies(") == 0u);
    BOOST_TEST(tcia.count("series(") == 1u);
    tcia.calls.clear();
    auto r = run(makeQuery(QueryLevel::Patient, {K(DCM_PatientID, "LIDC-IDRI-0001"), K(DCM_NumberOfPatientRelatedStudies, "2")},
                           InformationModel::PatientRoot));
    BOOST_TEST(r.size() == 1u);
    BOOST_TEST(tcia.count("series(") == 0u);
    BOOST_TEST(run(makeQuery(QueryLevel::Patient, {K(DCM_PatientID, "LIDC-IDRI-0001"), K(DCM_NumberOfPatientRelatedStudies, "3")},
                             InformationModel::PatientRoot))
                   .empty());
}

BOOST_AUTO_TEST_CASE(patient_name_alone_is_too_broad) {
    const auto code = codeOf(
        [&] { run(makeQuery(QueryLevel::Patient, {K(DCM_PatientName, "DOE*")}, InformationModel::PatientRoot)); });
    BOOST_TEST(static_cast<int>(code) == static_cast<int>(ErrorCode::QueryTooBroad));
}

BOOST_AUTO_TEST_CASE(patient_root_study_level_without_patient_id_is_accepted) {
    auto r = run(makeQuery(QueryLevel::Study, {K(DCM_StudyInstanceUID, kLidcStudy1)}, InformationModel::PatientRoot));
    BOOST_TEST(r.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(QueryEngineSeriesAndImage, EngineFixture)

BOOST_AUTO_TEST_CASE(series_of_a_study_pushes_modality_and_sorts_by_number) {
    auto r = run(makeQuery(QueryLevel::Series, {K(DCM_StudyInstanceUID, kLidcStudy1), K(DCM_SeriesInstanceUID),
                                                K(DCM_SeriesNumber), K(DCM_BodyPartExamined),
                                                K(DCM_NumberOfSeriesRelatedInstances)}));
    BOOST_TEST(tcia.calls == (std::vector<std::string>{"series(StudyInstanceUID=" + kLidcStudy1 + ")"}),
               boost::test_tools::per_element());
    BOOST_TEST(column(r, DCM_SeriesNumber) == (std::vector<std::string>{"2", "10"}), boost::test_tools::per_element());
    BOOST_TEST(r[1].get(DCM_BodyPartExamined) == "Chest");  // trimmed
    BOOST_TEST(r[1].get(DCM_NumberOfSeriesRelatedInstances) == "3");
    BOOST_TEST(r[0].get(DCM_QueryRetrieveLevel) == "SERIES");

    tcia.calls.clear();
    auto ct = run(makeQuery(QueryLevel::Series, {K(DCM_StudyInstanceUID, kLidcStudy1), K(DCM_Modality, "CT")}));
    BOOST_TEST(tcia.calls == (std::vector<std::string>{"series(StudyInstanceUID=" + kLidcStudy1 + ",Modality=CT)"}),
               boost::test_tools::per_element());
    BOOST_TEST(ct.size() == 1u);
}

BOOST_AUTO_TEST_CASE(modality_list_is_filtered_locally) {
    auto r = run(makeQuery(QueryLevel::Series, {K(DCM_PatientID, "SHARED-1"), K(DCM_Modality, "PT\\MR"), K(kCollectionTag)}));
    BOOST_TEST(tcia.calls == (std::vector<std::string>{"series(PatientID=SHARED-1)"}), boost::test_tools::per_element());
    BOOST_TEST(r.size() == 2u);  // the PT of CPTAC-LUAD and the MR of Secret-Trial (no scope)
}

BOOST_AUTO_TEST_CASE(study_only_keys_at_series_level_are_filled_from_the_study) {
    auto r = run(makeQuery(QueryLevel::Series, {K(DCM_StudyInstanceUID, kLidcStudy1), K(DCM_PatientName), K(DCM_StudyID)}));
    BOOST_REQUIRE(r.size() == 2u);
    BOOST_TEST(r[0].get(DCM_PatientName) == "LIDC-IDRI-0001");
    BOOST_TEST(r[0].get(DCM_StudyID) == "S-1");
    BOOST_TEST(tcia.count("studies(Collection=LIDC-IDRI,PatientID=LIDC-IDRI-0001)") == 1u);
    auto none = run(makeQuery(QueryLevel::Series, {K(DCM_StudyInstanceUID, kLidcStudy1), K(DCM_PatientName, "SMITH*")}));
    BOOST_TEST(none.empty());
}

BOOST_AUTO_TEST_CASE(study_computed_keys_at_series_level) {
    auto r = run(makeQuery(QueryLevel::Series, {K(DCM_PatientID, "LIDC-IDRI-0001"), K(DCM_SeriesInstanceUID),
                                                K(DCM_ModalitiesInStudy), K(DCM_NumberOfStudyRelatedInstances)}));
    BOOST_REQUIRE(r.size() == 3u);
    for (const auto& rec : r) {
        const bool first = rec.get(DCM_SeriesInstanceUID).rfind("1.3.6.1.4.1.14519.5.2.1.1.", 0) == 0;
        BOOST_TEST(rec.get(DCM_ModalitiesInStudy) == (first ? "CT\\SEG" : "CT"));
        BOOST_TEST(rec.get(DCM_NumberOfStudyRelatedInstances) == (first ? "4" : "2"));
    }
    BOOST_TEST(tcia.count("series(") == 2u);  // the query's own call + one per (collection, patient)
    auto seg = run(makeQuery(QueryLevel::Series, {K(DCM_PatientID, "LIDC-IDRI-0001"), K(DCM_ModalitiesInStudy, "SEG")}));
    BOOST_TEST(seg.size() == 2u);  // both series of the study that has a SEG
}

BOOST_AUTO_TEST_CASE(series_uid_list) {
    auto r = run(makeQuery(QueryLevel::Series,
                           {K(DCM_SeriesInstanceUID, "1.3.6.1.4.1.14519.5.2.3.5.2\\1.3.6.1.4.1.9328.50.1.8.1")}));
    BOOST_TEST(tcia.count("series(SeriesInstanceUID=") == 2u);
    BOOST_TEST(r.size() == 2u);
}

BOOST_AUTO_TEST_CASE(image_level_lists_sop_instances_of_the_series) {
    const std::string uid = "1.3.6.1.4.1.14519.5.2.1.1.10";
    auto r = run(makeQuery(QueryLevel::Image, {K(DCM_SeriesInstanceUID, uid), K(DCM_SOPInstanceUID), K(DCM_SOPClassUID),
                                               K(DCM_InstanceNumber)}));
    BOOST_TEST(column(r, DCM_SOPInstanceUID) == (std::vector<std::string>{uid + ".1", uid + ".2", uid + ".3"}),
               boost::test_tools::per_element());
    BOOST_TEST(r[0].get(DCM_SOPClassUID) == "");  // not cached
    BOOST_TEST(r[0].get(DCM_QueryRetrieveLevel) == "IMAGE");
    BOOST_TEST(tcia.count("sopInstanceUids(") == 1u);
}

BOOST_AUTO_TEST_CASE(image_level_uses_cached_instance_attributes) {
    const std::string uid = "1.3.6.1.4.1.14519.5.2.1.1.10";
    for (int i = 1; i <= 3; ++i) {
        DicomRecord a;
        a.set(DCM_SOPInstanceUID, uid + "." + std::to_string(i));
        a.set(DCM_SOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
        a.set(DCM_InstanceNumber, std::to_string(4 - i));  // reverse of the UID order
        cache.bySeries[uid].push_back(a);
    }
    auto r = run(makeQuery(QueryLevel::Image, {K(DCM_SeriesInstanceUID, uid), K(DCM_SOPInstanceUID), K(DCM_SOPClassUID),
                                               K(DCM_InstanceNumber)}));
    BOOST_TEST(column(r, DCM_InstanceNumber) == (std::vector<std::string>{"1", "2", "3"}), boost::test_tools::per_element());
    BOOST_TEST(r[0].get(DCM_SOPInstanceUID) == uid + ".3");
    BOOST_TEST(r[0].get(DCM_SOPClassUID) == "1.2.840.10008.5.1.4.1.1.2");
    auto one = run(makeQuery(QueryLevel::Image, {K(DCM_SeriesInstanceUID, uid), K(DCM_InstanceNumber, "2")}));
    BOOST_TEST(one.size() == 1u);
}

// Issue 8 item 6: per-instance keys come from the instances, fetched when not cached -- one
// path for C-FIND and QIDO-RS -- and only when the query asks for such a key.
BOOST_AUTO_TEST_CASE(image_level_fetches_the_series_only_for_per_instance_keys) {
    const std::string uid = "1.3.6.1.4.1.14519.5.2.1.1.10";
    for (int i = 1; i <= 3; ++i) {
        DicomRecord a;
        a.set(DCM_SOPInstanceUID, uid + "." + std::to_string(i));
        a.set(DCM_SOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
        a.set(DCM_InstanceNumber, std::to_string(i));
        cache.fetchable[uid].push_back(a);
    }
    // Only SOPInstanceUID and series keys: TCIA's list suffices, nothing is downloaded.
    auto plain = run(makeQuery(QueryLevel::Image, {K(DCM_SeriesInstanceUID, uid), K(DCM_SOPInstanceUID), K(DCM_Modality)}));
    BOOST_TEST(plain.size() == 3u);
    BOOST_TEST(cache.fetches.empty());
    // SOPClassUID / InstanceNumber asked: fetched once for the series, in the caller's scope.
    Query q = makeQuery(QueryLevel::Image, {K(DCM_SeriesInstanceUID, uid), K(DCM_SOPInstanceUID), K(DCM_SOPClassUID),
                                            K(DCM_InstanceNumber)});
    q.scope.denied = {"Secret-Trial"};
    auto r = run(q);
    BOOST_REQUIRE(cache.fetches.size() == 1u);
    BOOST_TEST(cache.fetches[0].first == uid);
    BOOST_TEST(cache.fetches[0].second.denied.count("Secret-Trial") == 1u);
    BOOST_TEST(column(r, DCM_InstanceNumber) == (std::vector<std::string>{"1", "2", "3"}), boost::test_tools::per_element());
    for (const auto& rec : r) BOOST_TEST(rec.get(DCM_SOPClassUID) == "1.2.840.10008.5.1.4.1.1.2");
}

BOOST_AUTO_TEST_CASE(image_level_of_a_study_filters_series_keys_first) {
    auto r = run(makeQuery(QueryLevel::Image, {K(DCM_StudyInstanceUID, kLidcStudy1), K(DCM_Modality, "SEG"),
                                               K(DCM_SOPInstanceUID)}));
    BOOST_TEST(r.size() == 1u);
    BOOST_TEST(tcia.count("sopInstanceUids(") == 1u);
}

BOOST_AUTO_TEST_CASE(image_level_streams_series_by_series) {
    QueryEngine engine(tcia, nullptr, settings);
    auto cursor = engine.find(makeQuery(QueryLevel::Image, {K(DCM_StudyInstanceUID, kLidcStudy1), K(DCM_SOPInstanceUID),
                                                            K(DCM_SeriesNumber)}),
                              RequestContext());
    auto first = cursor->next();
    BOOST_REQUIRE(first);
    BOOST_TEST(first->get(DCM_SeriesNumber) == "2");  // series 2 before series 10
    BOOST_TEST(tcia.count("sopInstanceUids(") == 1u);  // the second series is not listed yet
    std::size_t n = 1;
    while (cursor->next()) ++n;
    BOOST_TEST(n == 4u);
    BOOST_TEST(tcia.count("sopInstanceUids(") == 2u);
}

BOOST_AUTO_TEST_CASE(uid_list_of_one_patient_asks_its_series_once) {
    auto r = run(makeQuery(QueryLevel::Study, {K(DCM_StudyInstanceUID, kLidcStudy1 + "\\" + kLidcStudy2),
                                               K(DCM_ModalitiesInStudy)}));
    BOOST_TEST(r.size() == 2u);
    BOOST_TEST(tcia.count("series(") == 1u);
}

BOOST_AUTO_TEST_CASE(scanned_patients_and_series_respect_the_scope) {
    tcia.canScan = true;
    Query patients = makeQuery(QueryLevel::Patient, {K(DCM_PatientName, "doe*"), K(kCollectionTag), K(DCM_PatientID)},
                               InformationModel::PatientRoot);
    patients.scope.denied = {"Secret-Trial"};
    auto p = run(patients);
    // SHARED-1 of CPTAC-LUAD and LIDC-IDRI: one PATIENT answer (unique key), never Secret-Trial.
    BOOST_TEST(column(p, kCollectionTag) == (std::vector<std::string>{"CPTAC-LUAD"}), boost::test_tools::per_element());
    BOOST_TEST(column(p, DCM_PatientID) == (std::vector<std::string>{"SHARED-1"}), boost::test_tools::per_element());
    BOOST_TEST(tcia.count("scanPatients") == 1u);
    Query series = makeQuery(QueryLevel::Series, {K(DCM_Modality, "MR\\PT")});
    series.scope.denied = {"Secret-Trial"};
    auto se = run(series);
    BOOST_TEST(se.size() == 1u);  // the PT; the MR is in Secret-Trial
    BOOST_TEST(tcia.count("scanSeries") == 1u);
    BOOST_TEST(!tcia.unfilteredSeriesCall());
}

BOOST_AUTO_TEST_CASE(image_level_needs_a_series_study_or_patient) {
    const auto code = codeOf([&] {
        run(makeQuery(QueryLevel::Image, {K(kCollectionTag, "LIDC-IDRI"), K(DCM_SOPInstanceUID, "1.2.3")}));
    });
    BOOST_TEST(static_cast<int>(code) == static_cast<int>(ErrorCode::QueryTooBroad));
    BOOST_TEST(tcia.count("series(") == 0u);
}

BOOST_AUTO_TEST_CASE(image_level_restricted_series_is_dropped_before_listing) {
    Query q = makeQuery(QueryLevel::Image, {K(DCM_SeriesInstanceUID, "1.3.6.1.4.1.14519.5.2.9.9.1")});
    q.scope.denied = {"Secret-Trial"};
    BOOST_TEST(run(q).empty());
    BOOST_TEST(tcia.count("sopInstanceUids(") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(QueryEngineCursor, EngineFixture)

BOOST_AUTO_TEST_CASE(limit_offset_and_truncation) {
    Query q = makeQuery(QueryLevel::Study, {K(kCollectionTag, "LIDC-IDRI"), K(DCM_StudyInstanceUID)});
    auto all = run(q);
    BOOST_REQUIRE(all.size() == 4u);
    BOOST_TEST(!truncated);

    q.limit = 2;
    auto firstPage = run(q);
    BOOST_TEST(firstPage.size() == 2u);
    BOOST_TEST(truncated);
    BOOST_TEST(firstPage[1].get(DCM_StudyInstanceUID) == all[1].get(DCM_StudyInstanceUID));

    q.offset = 2;
    auto secondPage = run(q);
    BOOST_TEST(column(secondPage, DCM_StudyInstanceUID) ==
                   (std::vector<std::string>{all[2].get(DCM_StudyInstanceUID), all[3].get(DCM_StudyInstanceUID)}),
               boost::test_tools::per_element());
    BOOST_TEST(!truncated);  // exactly the rest

    q.offset = 10;
    BOOST_TEST(run(q).empty());
}

BOOST_AUTO_TEST_CASE(configured_cap_truncates) {
    settings.maxResults = 3;
    auto r = run(makeQuery(QueryLevel::Study, {K(kCollectionTag, "LIDC-IDRI")}));
    BOOST_TEST(r.size() == 3u);
    BOOST_TEST(truncated);
    Query q = makeQuery(QueryLevel::Study, {K(kCollectionTag, "LIDC-IDRI")});
    q.limit = 2;  // the smaller of limit and cap wins
    BOOST_TEST(run(q).size() == 2u);
}

BOOST_AUTO_TEST_CASE(duplicates_across_steps_are_dropped) {
    auto r = run(makeQuery(QueryLevel::Study, {K(DCM_StudyInstanceUID, kLidcStudy1 + "\\" + kLidcStudy1 + " ")}));
    BOOST_TEST(r.size() == 1u);
    auto series = run(makeQuery(QueryLevel::Series, {K(DCM_PatientID, "LIDC-IDRI-0001\\LIDC-IDRI-0001")}));
    BOOST_TEST(series.size() == 3u);
}

BOOST_AUTO_TEST_CASE(cursor_streams_one_step_at_a_time) {
    QueryEngine engine(tcia, nullptr, settings);
    auto cursor = engine.find(makeQuery(QueryLevel::Study, {K(DCM_StudyInstanceUID, kLidcStudy1 + "\\" + kLidcStudy2)}),
                              RequestContext());
    BOOST_TEST(tcia.calls.empty());  // planning asks nothing when UIDs narrow the query
    auto first = cursor->next();
    BOOST_REQUIRE(first);
    BOOST_TEST(tcia.calls.size() == 1u);
    auto second = cursor->next();
    BOOST_REQUIRE(second);
    BOOST_TEST(tcia.calls.size() == 2u);
    BOOST_TEST(!cursor->next());
}

BOOST_AUTO_TEST_CASE(cancel_before_find_and_between_calls) {
    QueryEngine engine(tcia, nullptr, settings);
    RequestContext cancelled;
    cancelled.cancel();
    const auto early = codeOf([&] { engine.find(makeQuery(QueryLevel::Study, {K(DCM_PatientID, "SHARED-1")}), cancelled); });
    BOOST_TEST(static_cast<int>(early) == static_cast<int>(ErrorCode::Cancelled));

    RequestContext token;
    auto cursor = engine.find(makeQuery(QueryLevel::Study, {K(DCM_StudyInstanceUID, kLidcStudy1 + "\\" + kLidcStudy2)}), token);
    BOOST_REQUIRE(cursor->next());
    token.cancel();
    const auto late = codeOf([&] { cursor->next(); });
    BOOST_TEST(static_cast<int>(late) == static_cast<int>(ErrorCode::Cancelled));
    BOOST_TEST(tcia.calls.size() == 1u);  // the second TCIA call was never made
}

BOOST_AUTO_TEST_CASE(cancel_inside_a_step_between_tcia_calls) {
    QueryEngine engine(tcia, nullptr, settings);
    RequestContext token;
    tcia.onCall = [&](const std::string& call) {
        if (call.rfind("studies", 0) == 0) token.cancel();  // fires during the first call
    };
    auto cursor = engine.find(makeQuery(QueryLevel::Study, {K(DCM_PatientID, "LIDC-IDRI-0001"), K(DCM_ModalitiesInStudy)}), token);
    const auto code = codeOf([&] { cursor->next(); });
    BOOST_TEST(static_cast<int>(code) == static_cast<int>(ErrorCode::Cancelled));
    BOOST_TEST(tcia.count("series(") == 0u);  // the getSeries after it was not made
}

BOOST_AUTO_TEST_CASE(upstream_errors_propagate_from_next) {
    QueryEngine engine(tcia, nullptr, settings);
    tcia.onCall = [](const std::string&) { throw BridgeError(ErrorCode::UpstreamUnavailable, "TCIA down"); };
    auto cursor = engine.find(makeQuery(QueryLevel::Study, {K(DCM_PatientID, "SHARED-1")}), RequestContext());
    const auto code = codeOf([&] { cursor->next(); });
    BOOST_TEST(static_cast<int>(code) == static_cast<int>(ErrorCode::UpstreamUnavailable));
}

BOOST_AUTO_TEST_SUITE_END()
