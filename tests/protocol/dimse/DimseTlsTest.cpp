// The real DimseServer with a DICOM TLS listener (and the plain one off), over test doubles of
// the core, driven by DCMTK's own DcmTLSSCU: C-ECHO and C-FIND over TLS with a CA-signed client
// certificate; refused without a client certificate, with an untrusted one, and in plain DICOM.
// Certificates come from the openssl CLI at test time.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/dcmtls/tlsscu.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "dimse/DimseServer.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;

namespace {

struct TlsFixture {
    TempDir dir;
    FakeQueryService query;
    FakeRetrieveService retrieve;
    DimseSettings settings;
    TlsSettings tls;
    std::unique_ptr<dimse::DimseServer> server;

    TlsFixture() {
        const std::string script =
            "cd '" + dir.path() + "' && "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca && "
            "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=bridge && "
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 && "
            "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=TLSSCU && "
            "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1 && "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 1 -subj /CN=ROGUE";
        BOOST_REQUIRE(std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0);
        settings.aeTitle = "TCIA";
        settings.plainEnabled = false;
        settings.tlsPort = 0;
        settings.acseTimeout = std::chrono::seconds(10);
        tls = {dir.path() + "/server.pem", dir.path() + "/server.key", dir.path() + "/ca.pem"};
        DicomRecord r;
        r.set(DCM_StudyInstanceUID, "1.2.3.4");
        r.set(DCM_PatientID, "P1");
        query.records = {r};
        dimse::DimseDependencies deps;
        deps.query = &query;
        deps.retrieve = &retrieve;
        deps.isKnownCalledAet = [](const std::string&) { return false; };
        deps.scopeFor = [](const std::string&, const std::string&, const RequestContext&) { return CollectionScope{}; };
        deps.maxResults = 10;
        server = std::make_unique<dimse::DimseServer>(settings, deps, tls);
        server->start();
    }
    std::string file(const std::string& name) const { return dir.path() + "/" + name; }

    /// A TLS association (Verification + Study Root FIND); `key`/`cert` empty = no client certificate.
    OFCondition connect(DcmTLSSCU& scu, const std::string& key, const std::string& cert) {
        scu.setAETitle("TLSSCU");
        scu.setPeerAETitle("TCIA");
        scu.setPeerHostName("127.0.0.1");
        scu.setPeerPort(server->tlsPort());
        scu.setACSETimeout(20);
        scu.setDIMSETimeout(30);
        scu.setDIMSEBlockingMode(DIMSE_BLOCKING);
        OFList<OFString> ts;
        ts.push_back(UID_LittleEndianExplicitTransferSyntax);
        scu.addPresentationContext(UID_VerificationSOPClass, ts);
        scu.addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel, ts);
        scu.addTrustedCertFile(file("ca.pem").c_str());
        scu.setPeerCertVerification(DCV_requireCertificate);
        if (!key.empty()) scu.enableAuthentication(file(key).c_str(), file(cert).c_str(), "");
        OFCondition cond = scu.initNetwork();
        if (cond.bad()) return cond;
        return scu.negotiateAssociation();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(DimseTls)

BOOST_AUTO_TEST_CASE(echo_and_find_over_tls_with_a_client_certificate) {
    TlsFixture f;
    BOOST_TEST(f.server->port() == 0u);  // plain listener off
    BOOST_REQUIRE(f.server->tlsPort() != 0u);
    DcmTLSSCU scu;
    OFCondition cond = f.connect(scu, "client.key", "client.pem");
    BOOST_REQUIRE_MESSAGE(cond.good(), cond.text());
    BOOST_TEST(scu.sendECHORequest(0).good());
    auto responses = runFind(scu, UID_FINDStudyRootQueryRetrieveInformationModel,
                             {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_PatientID, "P1"}, {DCM_StudyInstanceUID, ""}});
    BOOST_TEST(responses.size() == 2u);  // one Pending, the final Success
    BOOST_TEST(responses.back()->m_status == 0x0000);
    freeList(responses);
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_CASE(refused_without_or_with_an_untrusted_client_certificate_and_in_plain_dicom) {
    TlsFixture f;
    {
        DcmTLSSCU scu;
        BOOST_TEST(f.connect(scu, "", "").bad());
    }
    {
        DcmTLSSCU scu;
        BOOST_TEST(f.connect(scu, "rogue.key", "rogue.pem").bad());
    }
    {
        DcmSCU plain;
        plain.setAETitle("PLAINSCU");
        plain.setPeerAETitle("TCIA");
        plain.setPeerHostName("127.0.0.1");
        plain.setPeerPort(f.server->tlsPort());
        plain.setACSETimeout(15);
        OFList<OFString> ts;
        ts.push_back(UID_LittleEndianExplicitTransferSyntax);
        plain.addPresentationContext(UID_VerificationSOPClass, ts);
        BOOST_REQUIRE(plain.initNetwork().good());
        BOOST_TEST(plain.negotiateAssociation().bad());
    }
    // The listener is still healthy after the refusals.
    DcmTLSSCU scu;
    OFCondition cond = f.connect(scu, "client.key", "client.pem");
    BOOST_REQUIRE_MESSAGE(cond.good(), cond.text());
    BOOST_TEST(scu.sendECHORequest(0).good());
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_CASE(a_bad_key_fails_start_naming_the_key) {
    TempDir dir;
    DimseSettings settings;
    settings.tlsPort = 0;
    dimse::DimseDependencies deps;
    dimse::DimseServer server(settings, deps, TlsSettings{dir.path() + "/missing.pem", dir.path() + "/missing.key", ""});
    try {
        server.start();
        BOOST_FAIL("start() succeeded without certificate files");
    } catch (const BridgeError& e) {
        BOOST_TEST(std::string(e.what()).find("tls.") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_SUITE_END()
