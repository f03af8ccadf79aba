// Grants by calling AE title (issue 9 #8) over the real core and the TCIA emulator's restricted
// collection: an unbound grant refuses to start; a peer claiming a granted AE from another host
// is refused; the granted AE from its own host sees the collection, an ungranted AE does not.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <boost/test/unit_test.hpp>

#include "bridge/common/Error.h"
#include "bridge/retrieve/BridgeServices.h"
#include "dimse/BridgeDimse.h"
#include "dimse/DimseServer.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

const char* const kRestrictedPatient = "RESTR-0001";  // Restricted-Demo (token only)

Config restrictedConfig(const EmulatorProcess& emulator, const TempDir& cache) {
    Config config;
    config.tcia.baseUrl = emulator.baseUrl("v4");
    config.tcia.apiVersion = "v4";
    config.tcia.retryBaseDelay = 20ms;
    config.tcia.tokenUrl = "http://127.0.0.1:" + std::to_string(emulator.port()) + "/nbia-api/oauth/token";
    config.tcia.username = "emulator-user";
    config.tcia.password = "emulator-password";
    config.cache.directory = cache.path();
    config.dimse.aeTitle = "TCIA";
    config.dimse.port = 0;
    config.access.grantsByAet["Restricted-Demo"] = {"TRUSTED"};
    return config;
}

/// PATIENT-level C-FIND for the restricted patient as `callingAet`: nullopt when the
/// association is refused, else the number of matches.
std::optional<int> findRestrictedPatient(std::uint16_t port, const std::string& callingAet) {
    DcmSCU scu;
    scu.setAETitle(callingAet.c_str());
    scu.setPeerAETitle("TCIA");
    scu.setPeerHostName("127.0.0.1");
    scu.setPeerPort(port);
    scu.setACSETimeout(15);
    scu.setDIMSETimeout(60);
    scu.setDIMSEBlockingMode(DIMSE_BLOCKING);
    OFList<OFString> ts;
    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    scu.addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel, ts);
    if (scu.initNetwork().bad() || scu.negotiateAssociation().bad()) return std::nullopt;
    auto responses = runFind(scu, UID_FINDStudyRootQueryRetrieveInformationModel,
                             {{DCM_QueryRetrieveLevel, "STUDY"},
                              {DCM_PatientID, kRestrictedPatient},
                              {DCM_StudyInstanceUID, ""}});
    int matches = 0;
    for (auto* r : responses)
        if (r->m_status == 0xFF00) ++matches;
    BOOST_TEST(responses.back()->m_status == 0x0000);
    freeList(responses);
    scu.releaseAssociation();
    return matches;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(DimseGrantsByAet)

BOOST_AUTO_TEST_CASE(unbound_grant_refuses_to_start_naming_the_keys) {
    EmulatorProcess emulator({"--quiet"});
    TempDir cache;
    Config config = restrictedConfig(emulator, cache);  // allowedCallingAets empty: the default
    auto services = makeBridgeServices(config);
    BOOST_CHECK_EXCEPTION(dimse::makeDimseDependencies(*services), BridgeError, [](const BridgeError& e) {
        const std::string m = e.what();
        return e.code() == ErrorCode::InvalidArgument && m.find("access.grantsByAet") != std::string::npos &&
               m.find("dimse.checkCallerHost") != std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(spoofed_granted_ae_from_another_host_is_refused) {
    EmulatorProcess emulator({"--quiet"});
    TempDir cache;
    Config config = restrictedConfig(emulator, cache);
    config.dimse.allowedCallingAets = {"TRUSTED", "PACS"};
    config.dimse.checkCallerHost = true;
    config.dimse.peers["PACS"] = DicomPeer{"PACS", "127.0.0.1", 104};
    config.dimse.peers["TRUSTED"] = DicomPeer{"TRUSTED", "127.0.0.2", 104};  // we call from 127.0.0.1
    {
        auto services = makeBridgeServices(config);
        dimse::DimseServer server(config.dimse, dimse::makeDimseDependencies(*services));
        server.start();
        // Whoever calls itself TRUSTED from here is not TRUSTED: refused, nothing shown.
        BOOST_TEST(!findRestrictedPatient(server.port(), "TRUSTED").has_value());
        // An ungranted, allowed AE does not see the restricted patient.
        auto ungranted = findRestrictedPatient(server.port(), "PACS");
        BOOST_REQUIRE(ungranted.has_value());
        BOOST_TEST(*ungranted == 0);
        server.stop();
    }
    // The same grant, bound to the host we call from, does show it (the test can see a leak).
    config.dimse.peers["TRUSTED"].host = "127.0.0.1";
    auto services = makeBridgeServices(config);
    dimse::DimseServer server(config.dimse, dimse::makeDimseDependencies(*services));
    server.start();
    auto granted = findRestrictedPatient(server.port(), "TRUSTED");
    BOOST_REQUIRE(granted.has_value());
    BOOST_TEST(*granted >= 1);
    server.stop();
}

BOOST_AUTO_TEST_SUITE_END()
