#include "bridge/query/Query.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

using namespace bridge;

BOOST_AUTO_TEST_SUITE(QueryBasics)

BOOST_AUTO_TEST_CASE(levels_round_trip) {
    for (auto level : {QueryLevel::Patient, QueryLevel::Study, QueryLevel::Series, QueryLevel::Image})
        BOOST_TEST((parseQueryLevel(toString(level)) == level));
    BOOST_TEST(std::string(toString(QueryLevel::Series)) == "SERIES");
}

BOOST_AUTO_TEST_CASE(level_parsing_is_lenient_about_padding_and_case) {
    BOOST_TEST((parseQueryLevel("STUDY ") == QueryLevel::Study));
    BOOST_TEST((parseQueryLevel("series") == QueryLevel::Series));
    BOOST_TEST((parseQueryLevel(std::string("IMAGE\0", 6)) == QueryLevel::Image));
    BOOST_TEST(!parseQueryLevel("FRAME"));
    BOOST_TEST(!parseQueryLevel(""));
}

BOOST_AUTO_TEST_CASE(scope_is_case_insensitive) {
    CollectionScope scope;
    BOOST_TEST(scope.allows("LIDC-IDRI"));
    scope.denied = {"Secret-Trial"};
    BOOST_TEST(!scope.allows("SECRET-TRIAL"));
    BOOST_TEST(scope.allows("LIDC-IDRI"));
    scope.only = std::set<std::string>{"lidc-idri"};
    BOOST_TEST(scope.allows("LIDC-IDRI"));
    BOOST_TEST(!scope.allows("RIDER Lung CT"));
    scope.only->insert("secret-trial");
    BOOST_TEST(!scope.allows("Secret-Trial"));  // denied wins over only
}

BOOST_AUTO_TEST_CASE(key_and_value) {
    Query q;
    q.keys = {{DCM_PatientID, EVR_LO, "P1"}, {DCM_PatientName, EVR_PN, ""}};
    BOOST_TEST(q.key(DCM_PatientID) != nullptr);
    BOOST_TEST(q.key(DCM_StudyDate) == nullptr);
    BOOST_TEST(q.value(DCM_PatientID) == "P1");
    BOOST_TEST(q.value(DCM_PatientName) == "");
    BOOST_TEST(q.value(DCM_StudyDate) == "");
}

BOOST_AUTO_TEST_SUITE_END()
