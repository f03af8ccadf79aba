// Who may associate: called AE, calling AE allow-list, host check.
#include <boost/test/unit_test.hpp>
#include <set>
#include <string>
#include <vector>

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

// Issue 9 #8: grants by calling AE title must be bound to a host, or the bridge refuses to start.
BOOST_AUTO_TEST_SUITE(GrantsByAetBinding)

BOOST_AUTO_TEST_CASE(no_grants_need_no_binding) {
    DimseSettings d;
    AccessSettings a;
    BOOST_TEST(grantsByAetProblem(d, a).empty());
    a.grantsByToken["Restricted-Demo"] = {"token"};  // HTTP grants are not AE titles
    BOOST_TEST(grantsByAetProblem(d, a).empty());
}

BOOST_AUTO_TEST_CASE(unbound_grants_are_refused_naming_the_keys) {
    AccessSettings a;
    a.grantsByAet["Restricted-Demo"] = {"TRUSTED"};
    struct Row {
        std::string what;
        std::set<std::string> allowed;
        bool checkHost;
        std::string peerHost;  // empty: no peers entry
        std::string expected;  // substring of the problem; empty: accepted
    };
    const std::vector<Row> rows = {
        {"default config (anyone may call)", {}, false, "", "dimse.checkCallerHost"},
        {"allow-list without host check", {"TRUSTED"}, false, "127.0.0.1", "dimse.checkCallerHost"},
        {"host check but AE not allowed", {"OTHER"}, true, "127.0.0.1", "dimse.allowedCallingAets"},
        {"allowed, host check, no peer entry", {"TRUSTED"}, true, "", "dimse.peers"},
        {"allowed, host check, empty host", {"TRUSTED"}, true, " ", "dimse.peers"},
        {"bound to its host", {"TRUSTED"}, true, "10.0.0.7", ""},
        {"bound, padded AE in the allow-list", {"TRUSTED  "}, true, "10.0.0.7", ""},
    };
    for (const auto& row : rows) {
        DimseSettings d;
        d.allowedCallingAets = row.allowed;
        d.checkCallerHost = row.checkHost;
        if (!row.peerHost.empty()) d.peers["TRUSTED"] = DicomPeer{"TRUSTED", row.peerHost, 104};
        const std::string problem = grantsByAetProblem(d, a);
        if (row.expected.empty()) {
            BOOST_TEST(problem.empty(), row.what << ": " << problem);
        } else {
            BOOST_TEST(problem.find(row.expected) != std::string::npos, row.what << ": " << problem);
            BOOST_TEST(problem.find("access.grantsByAet") != std::string::npos, row.what);
        }
    }
}

BOOST_AUTO_TEST_CASE(every_granted_ae_must_be_bound) {
    AccessSettings a;
    a.grantsByAet["A-Collection"] = {"BOUND"};
    a.grantsByAet["B-Collection"] = {"BOUND", "LOOSE"};
    DimseSettings d;
    d.checkCallerHost = true;
    d.allowedCallingAets = {"BOUND", "LOOSE"};
    d.peers["BOUND"] = DicomPeer{"BOUND", "10.0.0.7", 104};
    const std::string problem = grantsByAetProblem(d, a);
    BOOST_TEST(problem.find("'LOOSE'") != std::string::npos, problem);
}

BOOST_AUTO_TEST_SUITE_END()
