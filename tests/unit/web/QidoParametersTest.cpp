#include "bridge/common/Error.h"
#include "web/QidoParameters.h"

#include <boost/test/unit_test.hpp>
#include <dcmtk/dcmdata/dcdeftag.h>

using namespace bridge;
using namespace bridge::web;

BOOST_AUTO_TEST_SUITE(QidoParametersTest)

BOOST_AUTO_TEST_CASE(ohif_study_list_request) {
    // The exact parameters OHIF 3.13 sends for the work list (anchors.md 3.2).
    auto p = parseQidoParameters({{"limit", "101"},
                                  {"offset", "0"},
                                  {"fuzzymatching", "false"},
                                  {"includefield", "00081030,00080060,00080090,00100030"},
                                  {"00100020", "*PAT1*"}});
    BOOST_TEST(p.limit.value() == 101u);
    BOOST_TEST(p.offset == 0u);
    BOOST_TEST(!p.fuzzyMatching);
    BOOST_REQUIRE_EQUAL(p.includeFields.size(), 4u);
    BOOST_TEST((p.includeFields[0] == DCM_StudyDescription));
    BOOST_TEST((p.includeFields[3] == DCM_PatientBirthDate));
    BOOST_REQUIRE_EQUAL(p.matchKeys.size(), 1u);
    BOOST_TEST((p.matchKeys[0].tag == DCM_PatientID));
    BOOST_TEST(p.matchKeys[0].vr == EVR_LO);
    BOOST_TEST(p.matchKeys[0].value == "*PAT1*");
}

BOOST_AUTO_TEST_CASE(table_of_valid_inputs) {
    struct Row {
        QueryParameterList in;
        std::size_t matchKeys, includeFields;
        bool includeAll, fuzzy;
        std::string firstValue;
    };
    const Row rows[] = {
        {{{"", ""}, {"includefield", ""}}, 0, 0, false, false, ""},                        // Weasis "?&includefield="
        {{{"PatientName", "DOE^J*"}}, 1, 0, false, false, "DOE^J*"},                       // keyword
        {{{"ModalitiesInStudy", "CT,MR"}}, 1, 0, false, false, "CT\\MR"},                  // comma -> multi-value
        {{{"StudyInstanceUID", "1.2,1.3,1.4"}}, 1, 0, false, false, "1.2\\1.3\\1.4"},      // UID list
        {{{"includefield", "all"}}, 0, 0, true, false, ""},                                // all
        {{{"includefield", "PatientAge"}, {"includefield", "00101010"}}, 0, 1, false, false, ""},  // repeated, deduplicated
        {{{"fuzzymatching", "TRUE"}}, 0, 0, false, true, ""},
        {{{"StudyDate", "20200101-20201231"}}, 1, 0, false, false, "20200101-20201231"},
        {{{"0020000d", "1.2.3"}}, 1, 0, false, false, "1.2.3"},                            // lower-case hex tag
    };
    for (const auto& row : rows) {
        auto p = parseQidoParameters(row.in);
        BOOST_TEST(p.matchKeys.size() == row.matchKeys);
        BOOST_TEST(p.includeFields.size() == row.includeFields);
        BOOST_TEST(p.includeAll == row.includeAll);
        BOOST_TEST(p.fuzzyMatching == row.fuzzy);
        if (!p.matchKeys.empty()) BOOST_TEST(p.matchKeys[0].value == row.firstValue);
    }
}

BOOST_AUTO_TEST_CASE(table_of_invalid_inputs) {
    const QueryParameterList rows[] = {
        {{"PatientNmae", "x"}},          // typo keyword
        {{"limit", "-1"}},
        {{"limit", "ten"}},
        {{"offset", ""}},
        {{"fuzzymatching", "yes"}},
        {{"includefield", "NoSuchThing"}},
        {{"PatientID", "a"}, {"00100020", "b"}},  // the same attribute twice
        {{"0040A730.00080100", "x"}},             // sequence matching
        {{"0010002", "x"}},                       // 7 hex digits
    };
    for (const auto& row : rows) {
        try {
            parseQidoParameters(row);
            BOOST_ERROR("accepted invalid parameter " << row.front().first << "=" << row.front().second);
        } catch (const BridgeError& e) {
            BOOST_TEST((e.code() == ErrorCode::InvalidArgument));
        }
    }
}

BOOST_AUTO_TEST_CASE(build_query_for_nested_series_route) {
    QidoPath path{QueryLevel::Series, "1.2.3", ""};
    auto p = parseQidoParameters({{"includefield", "0008103E,00080021"}, {"Modality", "CT"}});
    Query q = buildQidoQuery(path, p);
    BOOST_TEST((q.level == QueryLevel::Series));
    BOOST_TEST(q.value(DCM_StudyInstanceUID) == "1.2.3");
    BOOST_TEST(q.value(DCM_Modality) == "CT");
    BOOST_TEST(q.key(DCM_SeriesDate) != nullptr);
    BOOST_TEST(q.key(DCM_SeriesNumber) != nullptr);
    BOOST_TEST(q.key(DCM_NumberOfSeriesRelatedInstances) != nullptr);
    BOOST_TEST(q.key(DCM_PatientName) == nullptr);  // study attributes only without a study UID
    BOOST_TEST(q.key(DCM_RetrieveURL) == nullptr);  // computed by the adapter
    // Each tag once.
    for (std::size_t i = 0; i < q.keys.size(); ++i)
        for (std::size_t j = i + 1; j < q.keys.size(); ++j) BOOST_TEST(!(q.keys[i].tag == q.keys[j].tag));
}

BOOST_AUTO_TEST_CASE(build_query_adds_study_attributes_for_top_level_series) {
    Query q = buildQidoQuery({QueryLevel::Series, "", ""}, parseQidoParameters({{"limit", "5"}, {"offset", "2"}}));
    BOOST_TEST(q.key(DCM_PatientName) != nullptr);
    BOOST_TEST(q.limit.value() == 5u);
    BOOST_TEST(q.offset == 2u);
}

BOOST_AUTO_TEST_CASE(instance_defaults_follow_ps3_18_table_6_7_1_2b) {
    Query q = buildQidoQuery({QueryLevel::Image, "1.2", "1.2.3"}, {});
    for (auto tag : {DCM_SOPClassUID, DCM_SOPInstanceUID, DCM_InstanceNumber, DCM_Rows, DCM_Columns, DCM_BitsAllocated,
                     DCM_NumberOfFrames})
        BOOST_TEST(q.key(tag) != nullptr);
}

BOOST_AUTO_TEST_CASE(contradicting_path_and_parameter_uid) {
    BOOST_CHECK_THROW(buildQidoQuery({QueryLevel::Series, "1.2", ""}, parseQidoParameters({{"StudyInstanceUID", "9.9"}})),
                      BridgeError);
}

BOOST_AUTO_TEST_SUITE_END()
