// C-MOVE while TCIA is slow (issue 11 item 1, retrieve half): the real DimseServer over the real
// core (makeBridgeServices) in front of the TCIA emulator, whose getImage answers slowly
// (`getImage:slow`: the ZIP entries trickle out ~2.7 s apart). A storescp child is the C-MOVE
// destination; an in-process DcmSCU is the requester and stamps each response's arrival.
//
//  * Pendings keep their promised cadence: no gap between two C-MOVE responses exceeds
//    pendingInterval (1 s here) by more than a generous margin, although TCIA is silent for
//    ~2.7 s at a time (RetrieveOperation::next answers within pendingInterval).
//  * A C-CANCEL during the slow download ends the operation (final FE00) within 1 s, and the
//    download stops talking to TCIA (nobody else wants it).
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>
#include <vector>

#include "bridge/common/Logging.h"
#include "bridge/retrieve/BridgeServices.h"
#include "bridge/retrieve/InstanceCache.h"
#include "bridge/retrieve/RetrieveEngine.h"
#include "dimse/BridgeDimse.h"
#include "dimse/DimseServer.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

// TCGA-DEMO-CT / TCGA-DM-0001: CT 10 x 64x64 (emulator/README.md).
const char* const kStudy = "1.2.826.0.1.3680043.10.1234.1.1";
const char* const kSeries = "1.2.826.0.1.3680043.10.1234.2.1";
constexpr auto kPendingInterval = 1s;

struct SlowFixture : EmulatorDimseFixture {
    SlowFixture()
        : EmulatorDimseFixture({"--quiet"}, [](Config& c) { c.dimse.pendingInterval = kPendingInterval; }) {
        if (std::getenv("TIMELINE")) {  // TIMELINE=1: the bridge's debug log incl. bridge.retrieve.timeline
            LogSettings log;
            configureLogging(log, "debug");
        }
        // ~11 ZIP entries (10 DICOM + md5hashes.csv) over 30 s: TCIA silent ~2.7 s at a time.
        BOOST_REQUIRE_NO_THROW(replaceFaults(emulator, "getImage:slow:1:delay-ms=30000"));
    }
};

/// Stamps the arrival of every C-MOVE response; optionally sends a C-CANCEL once `cancelAfter`
/// has passed since the first Pending.
struct TimingScu : DcmSCU {
    using Clock = std::chrono::steady_clock;
    std::vector<Clock::time_point> arrivals;
    std::vector<Uint16> statuses;
    std::vector<Uint16> completed;
    std::optional<Clock::duration> cancelAfter;
    std::optional<Clock::time_point> cancelSentAt;

    OFCondition connect(unsigned short port) {
        return connectToBridge(*this, port, UID_MOVEStudyRootQueryRetrieveInformationModel);
    }
    OFCondition handleMOVEResponse(const T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                   OFBool& waitForNextResponse) override {
        arrivals.push_back(Clock::now());
        statuses.push_back(response->m_status);
        completed.push_back(response->m_numberOfCompletedSubops);
        if (cancelAfter && !cancelSentAt && response->m_status == 0xFF00 &&
            arrivals.back() - arrivals.front() >= *cancelAfter) {
            cancelSentAt = Clock::now();
            sendCANCELRequest(presID);
        }
        return DcmSCU::handleMOVEResponse(presID, response, waitForNextResponse);
    }
};

double ms(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pending_cadence)

BOOST_AUTO_TEST_CASE(c_move_pendings_keep_their_cadence_while_tcia_is_slow_and_c_cancel_ends_it_within_1s) {
    SlowFixture f;
    TimingScu scu;
    scu.cancelAfter = 7s;  // TCIA is still trickling entries then
    BOOST_REQUIRE(scu.connect(f.server->port()).good());
    auto responses = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                             {{DCM_QueryRetrieveLevel, "SERIES"},
                              {DCM_StudyInstanceUID, kStudy},
                              {DCM_SeriesInstanceUID, kSeries}});
    const auto finalAt = scu.arrivals.back();
    BOOST_REQUIRE(!responses.empty());
    BOOST_REQUIRE(scu.cancelSentAt.has_value());
    BOOST_TEST(responses.back()->m_status == 0xFE00);  // cancelled, not completed
    BOOST_TEST(responses.back()->m_numberOfCompletedSubops < 10u);

    // Cadence: every gap up to the cancel is at most pendingInterval plus a generous margin
    // for a loaded machine -- well under the ~2.7 s TCIA leaves between entries.
    double worst = 0;
    std::size_t pendings = 0;
    for (std::size_t i = 1; i < scu.arrivals.size(); ++i) {
        if (scu.arrivals[i - 1] > *scu.cancelSentAt) break;
        const double gap = ms(scu.arrivals[i] - scu.arrivals[i - 1]);
        BOOST_TEST_MESSAGE("response " << i << " status " << std::hex << scu.statuses[i] << std::dec
                                       << " after " << gap << " ms, completed " << scu.completed[i]);
        worst = std::max(worst, gap);
        if (scu.statuses[i] == 0xFF00) ++pendings;
    }
    BOOST_TEST_MESSAGE("worst gap " << worst << " ms over " << pendings << " Pendings");
    BOOST_TEST(pendings >= 5u);  // ~7 s at 1 s cadence
    BOOST_TEST(worst <= ms(kPendingInterval + 800ms));

    // C-CANCEL -> final response within 1 s.
    const double cancelToFinal = ms(finalAt - *scu.cancelSentAt);
    BOOST_TEST_MESSAGE("C-CANCEL to final response: " << cancelToFinal << " ms");
    BOOST_TEST(cancelToFinal < 1000.0);

    // Nobody else wanted the series: the download was cancelled, and the series is not complete.
    auto* engine = dynamic_cast<RetrieveEngine*>(f.services->retrieve.get());
    BOOST_REQUIRE(engine != nullptr);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (engine->downloads().stats().cancelled == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    BOOST_TEST(engine->downloads().stats().cancelled == 1u);
    BOOST_TEST(!f.services->instanceCache->isComplete(kSeries));
    freeList(responses);
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_SUITE_END()
