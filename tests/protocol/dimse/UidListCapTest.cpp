// Issue 9 finding 6 on the DIMSE side: a UID list that would fan out to TCIA beyond
// kMaxFanOutValues is refused by the core with the same bound and message as QIDO's 400:
// C-FIND and C-MOVE answer a failure status with that ErrorComment, and the emulator (TCIA)
// sees no call. The real DimseServer over the real core; DcmSCU as the PACS.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <boost/test/unit_test.hpp>

#include "bridge/query/Query.h"
#include "bridge/retrieve/BridgeServices.h"
#include "dimse/BridgeDimse.h"
#include "dimse/DimseServer.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

struct CapFixture {
    EmulatorProcess emulator;
    TempDir cache;
    TempDir out;
    StoreScpProcess dest{"DEST", out.path()};
    std::unique_ptr<BridgeServices> services;
    std::unique_ptr<dimse::DimseServer> server;

    CapFixture() {
        Config config;
        config.tcia = singleRetrySettings(emulator);
        config.cache.directory = cache.path();
        config.web.enabled = false;
        config.dimse.aeTitle = "TCIA";
        config.dimse.port = 0;
        config.dimse.peers["DEST"] = DicomPeer{"DEST", "127.0.0.1", dest.port()};
        services = makeBridgeServices(config);
        server = std::make_unique<dimse::DimseServer>(config.dimse, dimse::makeDimseDependencies(*services));
        server->start();
    }
};

bool associate(DcmSCU& scu, unsigned short port, const char* sopClass) {
    scu.setAETitle("PACS");
    scu.setPeerAETitle("TCIA");
    scu.setPeerHostName("127.0.0.1");
    scu.setPeerPort(port);
    scu.setDIMSEBlockingMode(DIMSE_BLOCKING);
    scu.setDIMSETimeout(60);
    OFList<OFString> ts;
    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    scu.addPresentationContext(sopClass, ts);
    return scu.initNetwork().good() && scu.negotiateAssociation().good();
}

/// `count` distinct syntactically valid UIDs joined by backslashes (a DICOM UID list).
std::string uidList(std::size_t count) {
    std::string out;
    for (std::size_t i = 1; i <= count; ++i)
        out += (i > 1 ? "\\" : "") + ("1.2.826.0.1.3680043.10.9999." + std::to_string(i));
    return out;
}

std::string errorCommentOf(DcmDataset* detail) {
    OFString comment;
    if (detail != nullptr) detail->findAndGetOFString(DCM_ErrorComment, comment);
    return comment.c_str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(DimseUidListCap)

BOOST_AUTO_TEST_CASE(c_find_beyond_the_cap_fails_with_the_core_message_and_no_tcia_call) {
    CapFixture f;
    DcmSCU scu;
    BOOST_REQUIRE(associate(scu, f.server->port(), UID_FINDStudyRootQueryRetrieveInformationModel));
    resetStats(f.emulator);
    const std::string tooMany = uidList(kMaxFanOutValues + 1);
    auto responses = runFind(
        scu, UID_FINDStudyRootQueryRetrieveInformationModel,
        {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, tooMany.c_str()}, {DCM_PatientID, ""}});
    BOOST_REQUIRE(!responses.empty());
    auto* last = responses.back();
    BOOST_TEST(last->m_status ==
               errorMapping(ErrorCode::InvalidArgument).findStatus);  // a failure (A900), not success
    const std::string comment = errorCommentOf(last->m_statusDetail);
    BOOST_TEST(comment.find("too many values in StudyInstanceUID") != std::string::npos, comment);
    std::size_t matches = 0;
    for (auto* r : responses) matches += r->m_status == 0xFF00;
    BOOST_TEST(matches == 0u);
    freeList(responses);
    BOOST_TEST(endpointCount(f.emulator, "getPatientStudy") == 0);
    BOOST_TEST(endpointCount(f.emulator, "getSeries") == 0);
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_CASE(c_move_beyond_the_cap_fails_with_the_core_message_and_no_tcia_call) {
    CapFixture f;
    DcmSCU scu;
    BOOST_REQUIRE(associate(scu, f.server->port(), UID_MOVEStudyRootQueryRetrieveInformationModel));
    resetStats(f.emulator);
    const std::string tooMany = uidList(kMaxFanOutValues + 1);
    auto responses = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                             {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, tooMany.c_str()}});
    BOOST_REQUIRE(!responses.empty());
    auto* last = responses.back();
    BOOST_TEST(last->m_status == errorMapping(ErrorCode::InvalidArgument).moveStatus);
    const std::string comment = errorCommentOf(last->m_statusDetail);
    BOOST_TEST(comment.find("too many values in StudyInstanceUID") != std::string::npos, comment);
    freeList(responses);
    BOOST_TEST(endpointCount(f.emulator, "getPatientStudy") == 0);
    BOOST_TEST(endpointCount(f.emulator, "getSeries") == 0);
    BOOST_TEST(f.dest.files().empty());
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_SUITE_END()
