// Peers with Nagle's algorithm on (DCMTK tools without TCP_NODELAY=1, the default) write each PDU
// header and body separately and hold the body until the header is ACKed; Linux delays that ACK
// up to 40 ms. Before dimse/AssociationSocket's awaitPeer, every C-STORE-RSP of a
// C-MOVE destination and every request of a C-FIND requester cost those 40 ms (a 300-instance
// C-MOVE to a default storescp took 13 s instead of 0.3 s). Each test runs the same exchange with
// the peer's Nagle off and on: on may not cost more than twice off plus a margin far below
// 40 ms per message.
#include <dcmtk/dcmdata/dcuid.h>

#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <chrono>
#include <string>

#include "dimse/MoveDestination.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/ChildProcess.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Seconds to store `count` small CT instances through one MoveDestination into a storescp
/// started with Nagle on or off; every store must succeed.
double storeSeconds(bool nagle, int count) {
    TempDir dir;
    StoreScpProcess dest("DEST", dir.path(), {}, nagle);
    dimse::MoveDestination::Options options;
    options.callingAet = "TCIA";
    dimse::MoveDestination destination(DicomPeer{"DEST", "127.0.0.1", dest.port()}, options,
                                       dimse::MoveOriginator{"REQUESTER", 1});
    // The association and its first store are not timed.
    BOOST_REQUIRE(destination.store(makeCtInstance("1.2.8", "1.2.8.1", "1.2.8.1.0")).outcome ==
                  dimse::StoreTarget::Outcome::Success);
    const auto start = Clock::now();
    for (int i = 1; i <= count; ++i) {
        const auto r = destination.store(makeCtInstance("1.2.8", "1.2.8.1", "1.2.8.1." + std::to_string(i)));
        BOOST_REQUIRE_MESSAGE(r.outcome == dimse::StoreTarget::Outcome::Success, r.reason);
    }
    const double seconds = secondsSince(start);
    BOOST_TEST_MESSAGE((nagle ? "Nagle on: " : "Nagle off: ") << count << " C-STOREs in " << seconds << " s");
    return seconds;
}

/// Seconds `findscu --repeat count` (one association) takes against `port`, Nagle on or off.
double findSeconds(unsigned short port, bool nagle, int count) {
    const auto start = Clock::now();
    const int pid = spawnProcess({"/usr/bin/findscu", "-S", "-aec", "TCIA", "-aet", "PACS", "--repeat",
                                  std::to_string(count), "-k", "QueryRetrieveLevel=STUDY", "-k",
                                  "StudyInstanceUID", "-k", "PatientName", "-k",
                                  "ClinicalTrialProtocolID=TCGA-DEMO-CT", "127.0.0.1", std::to_string(port)},
                                 {{"TCP_NODELAY", nagle ? "0" : "1"}});
    int status = 0;
    BOOST_REQUIRE_EQUAL(::waitpid(pid, &status, 0), pid);
    const double seconds = secondsSince(start);
    BOOST_REQUIRE_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "findscu failed, status " << status);
    BOOST_TEST_MESSAGE((nagle ? "Nagle on: " : "Nagle off: ") << count << " C-FINDs in " << seconds << " s");
    return seconds;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(NaglePeerSuite)

BOOST_AUTO_TEST_CASE(c_store_responses_of_a_nagle_destination_do_not_wait_for_delayed_acks) {
    const int count = 60;  // 60 x 40 ms = 2.4 s of stalls on the old code
    const double off = storeSeconds(false, count);
    const double on = storeSeconds(true, count);
    BOOST_TEST(on < 2 * off + 0.6, "Nagle on " << on << " s, off " << off << " s");
}

BOOST_AUTO_TEST_CASE(requests_of_a_nagle_requester_do_not_wait_for_delayed_acks) {
    EmulatorDimseFixture bridge;
    const int count = 40;  // 40 x 40 ms = 1.6 s of stalls on the old code
    findSeconds(bridge.server->port(), false, 2);  // catalog filled, answer cached: not timed
    const double off = findSeconds(bridge.server->port(), false, count);
    const double on = findSeconds(bridge.server->port(), true, count);
    BOOST_TEST(on < 2 * off + 0.5, "Nagle on " << on << " s, off " << off << " s");
}

BOOST_AUTO_TEST_SUITE_END()
