// Who may associate: called AE, calling AE allow-list, host check.
#include <boost/test/unit_test.hpp>

#include "dimse/AssociationPolicy.h"

using namespace bridge;
using namespace bridge::dimse;

BOOST_AUTO_TEST_SUITE(AssociationPolicy)

BOOST_AUTO_TEST_CASE(called_ae_main_or_collection) {
    DimseSettings s;
    s.aeTitle = "TCIA";
    auto known = [](const std::string& aet) { return aet == "TCIA-LIDC"; };
    BOOST_TEST((decideAssociation(s, known, "ANY", "TCIA", "127.0.0.1") == AssociationDecision::Accept));
    BOOST_TEST((decideAssociation(s, known, "ANY", "TCIA-LIDC", "127.0.0.1") == AssociationDecision::Accept));
    BOOST_TEST((decideAssociation(s, known, "ANY", "ORTHANC", "127.0.0.1") ==
                AssociationDecision::CalledAeNotRecognized));
    BOOST_TEST((decideAssociation(s, {}, "ANY", "TCIA-LIDC", "127.0.0.1") ==
                AssociationDecision::CalledAeNotRecognized));
    BOOST_TEST(
        (decideAssociation(s, {}, "ANY", "tcia", "127.0.0.1") == AssociationDecision::CalledAeNotRecognized));
}

BOOST_AUTO_TEST_CASE(calling_allow_list_and_host) {
    DimseSettings s;
    s.aeTitle = "TCIA";
    s.allowedCallingAets = {"PACS", "VIEWER"};
    s.peers["PACS"] = DicomPeer{"PACS", "localhost", 4242};
    BOOST_TEST((decideAssociation(s, {}, "PACS", "TCIA", "10.0.0.9") == AssociationDecision::Accept));
    BOOST_TEST((decideAssociation(s, {}, "ROGUE", "TCIA", "127.0.0.1") ==
                AssociationDecision::CallingAeNotRecognized));
    s.checkCallerHost = true;
    BOOST_TEST((decideAssociation(s, {}, "PACS", "TCIA", "127.0.0.1") == AssociationDecision::Accept));
    BOOST_TEST(
        (decideAssociation(s, {}, "PACS", "TCIA", "10.0.0.9") == AssociationDecision::CallingHostNotAllowed));
    BOOST_TEST((decideAssociation(s, {}, "VIEWER", "TCIA", "127.0.0.1") ==
                AssociationDecision::CallingHostNotAllowed));
}

BOOST_AUTO_TEST_SUITE_END()
