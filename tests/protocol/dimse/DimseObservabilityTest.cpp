// Observability of the real DimseServer over test doubles, driven by DCMTK's DcmSCU with a real
// storescp as C-MOVE destination: SIGHUP-style reload of peers on a live association, the audit
// trail (one JSON line per C-FIND and C-MOVE) and the DIMSE metrics.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "bridge/common/AuditLog.h"
#include "bridge/common/MetricsRegistry.h"
#include "dimse/DimseServer.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;

namespace {

struct Scu : DcmSCU {
    OFCondition connect(unsigned short port) {
        setAETitle("AUDITSCU");
        setPeerAETitle("TCIA");
        setPeerHostName("127.0.0.1");
        setPeerPort(port);
        setACSETimeout(10);
        setDIMSETimeout(60);
        setDIMSEBlockingMode(DIMSE_BLOCKING);
        OFList<OFString> ts;
        ts.push_back(UID_LittleEndianExplicitTransferSyntax);
        ts.push_back(UID_LittleEndianImplicitTransferSyntax);
        addPresentationContext(UID_VerificationSOPClass, ts);
        addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel, ts);
        addPresentationContext(UID_MOVEStudyRootQueryRetrieveInformationModel, ts);
        OFCondition cond = initNetwork();
        if (cond.bad()) return cond;
        return negotiateAssociation();
    }
};

std::vector<std::string> lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(DimseObservability)

BOOST_AUTO_TEST_CASE(reload_adds_a_peer_while_the_association_stays_open) {
    FakeQueryService query;
    FakeRetrieveService retrieve;
    retrieve.instances = {makeCtInstance("1.2.70", "1.2.70.1", "1.2.70.1.1"),
                          makeCtInstance("1.2.70", "1.2.70.1", "1.2.70.1.2")};
    TempDir destDir;
    StoreScpProcess dest("LATER", destDir.path());
    DimseSettings settings;
    settings.aeTitle = "TCIA";
    settings.port = 0;
    settings.pendingInterval = std::chrono::seconds(1);
    dimse::DimseDependencies deps;
    deps.query = &query;
    deps.retrieve = &retrieve;
    dimse::DimseServer server(settings, deps);
    server.start();

    Scu scu;
    BOOST_REQUIRE(scu.connect(server.port()).good());
    BOOST_REQUIRE(scu.sendECHORequest(0).good());
    auto before = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "LATER",
                          {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.2.70"}});
    BOOST_TEST(before.back()->m_status == 0xA801);  // not a peer yet
    freeList(before);

    DimseSettings fresh = settings;
    fresh.peers["LATER"] = DicomPeer{"LATER", "127.0.0.1", dest.port()};
    fresh.port = 1;  // not reloadable: ignored
    server.reload(fresh);
    BOOST_TEST(server.currentSettings()->peers.count("LATER") == 1u);
    BOOST_TEST(server.currentSettings()->port == 0);
    BOOST_TEST(server.activeAssociations() == 1);

    // Same association, no reconnect: the new peer is usable.
    BOOST_REQUIRE(scu.isConnected());
    auto after = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "LATER",
                         {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.2.70"}});
    BOOST_TEST(after.back()->m_status == 0x0000);
    BOOST_TEST(after.back()->m_numberOfCompletedSubops == 2);
    freeList(after);
    BOOST_TEST(dest.files().size() == 2u);
    BOOST_TEST(scu.sendECHORequest(0).good());
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_CASE(find_and_move_write_audit_lines_and_metrics) {
    FakeQueryService query;
    DicomRecord r;
    r.set(DCM_StudyInstanceUID, "1.2.71");
    r.set(DCM_PatientName, "SECRET^NAME");
    r.set(DCM_QueryRetrieveLevel, "STUDY");
    query.records = {r};
    FakeRetrieveService retrieve;
    retrieve.instances = {makeCtInstance("1.2.71", "1.2.71.1", "1.2.71.1.1")};
    TempDir destDir, auditDir;
    StoreScpProcess dest("DEST", destDir.path());
    const std::string auditPath = auditDir.path() + "/audit.jsonl";
    FileAuditLog audit(auditPath);
    DimseSettings settings;
    settings.aeTitle = "TCIA";
    settings.port = 0;
    settings.peers["DEST"] = DicomPeer{"DEST", "127.0.0.1", dest.port()};
    dimse::DimseDependencies deps;
    deps.query = &query;
    deps.retrieve = &retrieve;
    deps.audit = &audit;
    dimse::DimseServer server(settings, deps);
    server.start();

    const double findsBefore = metrics().value("tcia_bridge_dimse_operations_total", {"C-FIND", "0000"});
    const double movesBefore = metrics().value("tcia_bridge_dimse_operations_total", {"C-MOVE", "0000"});
    const double sentBefore = metrics().value("tcia_bridge_dimse_instances_total", {"C-MOVE", "completed"});
    Scu scu;
    BOOST_REQUIRE(scu.connect(server.port()).good());
    auto found = runFind(scu, UID_FINDStudyRootQueryRetrieveInformationModel,
                         {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, ""}, {DCM_PatientName, "SECRET*"},
                          {DCM_PatientID, "P-71"}, {DCM_ClinicalTrialProtocolID, "LIDC-IDRI"}});
    BOOST_TEST(found.back()->m_status == 0x0000);
    freeList(found);
    auto moved = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                         {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.2.71"}});
    BOOST_TEST(moved.back()->m_status == 0x0000);
    freeList(moved);
    scu.releaseAssociation();

    auto audited = lines(auditPath);
    BOOST_REQUIRE_EQUAL(audited.size(), 3u);  // Query, Begin Transferring, Instances Transferred
    BOOST_TEST(contains(audited[0], "\"event\":\"Query\""));
    BOOST_TEST(contains(audited[0], "\"eventId\":\"110112\""));
    BOOST_TEST(contains(audited[0], "\"principal\":\"AUDITSCU\""));
    BOOST_TEST(contains(audited[0], "\"peer\":\"127.0.0.1\""));
    BOOST_TEST(contains(audited[0], "\"collections\":[\"LIDC-IDRI\"]"));
    BOOST_TEST(contains(audited[0], "\"patientId\":\"P-71\""));
    BOOST_TEST(contains(audited[0], "\"matches\":1"));
    BOOST_TEST(contains(audited[0], "\"outcome\":0"));
    BOOST_TEST(contains(audited[0], "\"context\":\"a-"));
    BOOST_TEST(contains(audited[1], "\"event\":\"Begin Transferring DICOM Instances\""));
    BOOST_TEST(contains(audited[2], "\"event\":\"DICOM Instances Transferred\""));
    BOOST_TEST(contains(audited[2], "\"action\":\"R\""));
    BOOST_TEST(contains(audited[2], "\"destination\":\"DEST\""));
    BOOST_TEST(contains(audited[2], "\"studyUids\":[\"1.2.71\"]"));
    BOOST_TEST(contains(audited[2], "\"instances\":1"));
    BOOST_TEST(contains(audited[2], "\"status\":\"0000\""));
    for (const auto& l : audited) BOOST_TEST(!contains(l, "SECRET"));  // no patient names

    BOOST_TEST(metrics().value("tcia_bridge_dimse_operations_total", {"C-FIND", "0000"}) == findsBefore + 1);
    BOOST_TEST(metrics().value("tcia_bridge_dimse_operations_total", {"C-MOVE", "0000"}) == movesBefore + 1);
    BOOST_TEST(metrics().value("tcia_bridge_dimse_instances_total", {"C-MOVE", "completed"}) == sentBefore + 1);
    BOOST_TEST(metrics().value("tcia_bridge_dimse_operation_duration_seconds", {"C-MOVE"}) >= 1);
}

BOOST_AUTO_TEST_CASE(failed_move_is_audited_with_a_failure_outcome) {
    FakeQueryService query;
    FakeRetrieveService retrieve;
    TempDir auditDir;
    const std::string auditPath = auditDir.path() + "/audit.jsonl";
    FileAuditLog audit(auditPath);
    DimseSettings settings;
    settings.aeTitle = "TCIA";
    settings.port = 0;
    dimse::DimseDependencies deps;
    deps.query = &query;
    deps.retrieve = &retrieve;
    deps.audit = &audit;
    dimse::DimseServer server(settings, deps);
    server.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(server.port()).good());
    auto moved = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "NOWHERE",
                         {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.2.72"}});
    BOOST_TEST(moved.back()->m_status == 0xA801);
    freeList(moved);
    scu.releaseAssociation();
    auto audited = lines(auditPath);
    BOOST_REQUIRE_EQUAL(audited.size(), 1u);
    BOOST_TEST(contains(audited[0], "\"event\":\"DICOM Instances Transferred\""));
    BOOST_TEST(contains(audited[0], "\"status\":\"A801\""));
    BOOST_TEST(contains(audited[0], "\"outcome\":8"));
    BOOST_TEST(contains(audited[0], "\"destination\":\"NOWHERE\""));
    BOOST_TEST(contains(audited[0], "unknown move destination"));
}

BOOST_AUTO_TEST_SUITE_END()
