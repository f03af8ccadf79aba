// A C-CANCEL while the core is blocked on TCIA (issue 11 item 1): the real DimseServer over the
// real core in front of the TCIA emulator, whose fault plan answers every TCIA call with 503 and
// Retry-After: 3, so the bridge's TciaClient sits in a 3 s backoff. DcmSCU (DCMTK's own SCU)
// sends the C-FIND-RQ and, once the emulator has seen the first attempt, a C-CANCEL-RQ. Before
// the fix DCMTK saw the C-CANCEL only between responses, i.e. after every retry had run out.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "bridge/retrieve/BridgeServices.h"
#include "dimse/BridgeDimse.h"
#include "dimse/DimseServer.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

struct CancelFixture {
    EmulatorProcess emulator{{"--quiet"}};
    TempDir cache;
    std::unique_ptr<BridgeServices> services;
    std::unique_ptr<dimse::DimseServer> server;

    CancelFixture() {
        Config config;
        config.tcia = faultRetrySettings(emulator);
        config.tcia.maxRetries = 8;                  // 8 x 3 s of backoff if nothing stops it
        config.tcia.retryMaxDelay = 10s;             // Retry-After: 3 honoured whole
        config.cache.directory = cache.path();
        config.dimse.aeTitle = "TCIA";
        config.dimse.port = 0;
        services = makeBridgeServices(config);
        server = std::make_unique<dimse::DimseServer>(config.dimse, dimse::makeDimseDependencies(*services));
        server->start();
    }
};

/// DcmSCU with the C-FIND split in two: send the request, then (after a C-CANCEL) read answers.
struct CancellingScu : DcmSCU {
    T_ASC_PresentationContextID presId = 0;
    DIC_US messageId = 100;

    OFCondition connect(unsigned short port) {
        setAETitle("PACS");
        setPeerAETitle("TCIA");
        setPeerHostName("127.0.0.1");
        setPeerPort(port);
        setDIMSEBlockingMode(DIMSE_BLOCKING);
        setDIMSETimeout(60);
        OFList<OFString> ts;
        ts.push_back(UID_LittleEndianExplicitTransferSyntax);
        addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel, ts);
        if (initNetwork().bad()) return EC_IllegalCall;
        OFCondition cond = negotiateAssociation();
        presId = findPresentationContextID(UID_FINDStudyRootQueryRetrieveInformationModel, "");
        return cond;
    }

    OFCondition sendFind(DcmDataset& identifier) {
        T_DIMSE_Message msg{};
        msg.CommandField = DIMSE_C_FIND_RQ;
        T_DIMSE_C_FindRQ& rq = msg.msg.CFindRQ;
        rq.MessageID = ++messageId;
        OFStandard::strlcpy(rq.AffectedSOPClassUID, UID_FINDStudyRootQueryRetrieveInformationModel,
                            sizeof(rq.AffectedSOPClassUID));
        rq.DataSetType = DIMSE_DATASET_PRESENT;
        rq.Priority = DIMSE_PRIORITY_MEDIUM;
        return sendDIMSEMessage(presId, &msg, &identifier);
    }

    /// C-CANCEL-RQ for the last C-FIND (DcmSCU::sendCANCELRequest names DcmSCU's own last id).
    OFCondition sendCancel() {
        T_DIMSE_Message msg{};
        msg.CommandField = DIMSE_C_CANCEL_RQ;
        msg.msg.CCancelRQ.MessageIDBeingRespondedTo = messageId;
        msg.msg.CCancelRQ.DataSetType = DIMSE_DATASET_NULL;
        return sendDIMSEMessage(presId, &msg, nullptr);
    }

    /// Reads responses until a final one; its status, or -1 when the association broke.
    int finalStatus() {
        while (true) {
            T_DIMSE_Message rsp{};
            DcmDataset* detail = nullptr;
            T_ASC_PresentationContextID id = presId;
            OFCondition cond = receiveDIMSECommand(&id, &rsp, &detail, nullptr, 30);
            delete detail;
            if (cond.bad() || rsp.CommandField != DIMSE_C_FIND_RSP) return -1;
            const auto status = rsp.msg.CFindRSP.DimseStatus;
            if (rsp.msg.CFindRSP.DataSetType != DIMSE_DATASET_NULL) {
                DcmDataset* data = nullptr;
                if (receiveDIMSEDataset(&id, &data).bad()) return -1;
                delete data;
            }
            if (status != STATUS_Pending && status != STATUS_FIND_Pending_WarningUnsupportedOptionalKeys)
                return status;
        }
    }
};

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
        if (condition()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return condition();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(find_cancel)

BOOST_FIXTURE_TEST_CASE(c_cancel_during_tcia_backoff_ends_the_find_at_once, CancelFixture) {
    BOOST_REQUIRE_NO_THROW(replaceFaults(emulator, "getPatientStudy:503:50:retry-after=3"));
    resetStats(emulator);

    CancellingScu scu;
    BOOST_REQUIRE(scu.connect(server->port()).good());
    BOOST_REQUIRE(scu.presId != 0);
    DcmDataset identifier;
    identifier.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
    identifier.putAndInsertString(DCM_PatientID, "TCGA-DM-0001");
    identifier.putAndInsertString(DCM_StudyInstanceUID, "");
    BOOST_REQUIRE(scu.sendFind(identifier).good());

    // The first TCIA attempt got its 503: the bridge now sleeps out Retry-After (3 s).
    BOOST_REQUIRE_MESSAGE(waitFor([&] { return totalCalls(emulator) >= 1; }, 20s),
                          "the bridge never called TCIA");
    std::this_thread::sleep_for(200ms);  // not synchronisation: lets the attempt reach its backoff
    const auto cancelledAt = Clock::now();
    BOOST_REQUIRE(scu.sendCancel().good());
    const int status = scu.finalStatus();
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - cancelledAt);
    BOOST_TEST_MESSAGE("C-CANCEL to final response: " << took.count() << " ms");
    BOOST_TEST(status == STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest);
    BOOST_TEST(took < 1000ms, "the C-FIND ended " << took.count() << " ms after the C-CANCEL");

    // No further retries: the next one would have come 3 s after the first.
    const int callsAtCancel = totalCalls(emulator);
    std::this_thread::sleep_for(4s);  // an observation window, not synchronisation
    BOOST_TEST(totalCalls(emulator) == callsAtCancel, "the bridge kept calling TCIA after the C-CANCEL");

    // The association is still usable: one more C-FIND, without faults, succeeds.
    BOOST_REQUIRE_NO_THROW(replaceFaults(emulator, ""));
    BOOST_REQUIRE(scu.sendFind(identifier).good());
    BOOST_TEST(scu.finalStatus() == STATUS_Success);
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_SUITE_END()
