// Issue 9, finding 9, as a PACS sees it: a C-MOVE whose TCIA download holds an instance that
// fails MD5 verification (emulator fault "corrupt"; md5hashes.csv arrives after the instance
// was already C-STOREd) ends B000 with that instance counted failed, not 0000. The real
// DimseServer over the real core, DCMTK's DcmSCU as the requester, storescp as destination.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <boost/test/unit_test.hpp>

#include "bridge/retrieve/BridgeServices.h"
#include "bridge/retrieve/InstanceCache.h"
#include "dimse/BridgeDimse.h"
#include "dimse/DimseServer.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

const char* const kSeries = "1.2.826.0.1.3680043.10.1234.2.1";  // 10 CT instances

struct MoveScu : DcmSCU {
    OFCondition connect(unsigned short port) {
        return connectToBridge(*this, port, UID_MOVEStudyRootQueryRetrieveInformationModel);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(Md5Move)

BOOST_AUTO_TEST_CASE(instance_failing_md5_is_a_failed_sub_operation) {
    EmulatorDimseFixture f({"--quiet", "--fault", "getImage:corrupt:1:entry=4"}, [](Config& config) {
        const std::string baseUrl = config.tcia.baseUrl;  // the emulator's v4; default retries
        config.tcia = TciaSettings{};
        config.tcia.baseUrl = baseUrl;
        config.tcia.apiVersion = "v4";
        config.tcia.retryBaseDelay = 20ms;
        config.catalog.refreshInterval = std::chrono::seconds(0);
    });
    auto& services = f.services;
    auto& server = *f.server;

    MoveScu scu;
    BOOST_REQUIRE(scu.connect(server.port()).good());
    auto responses = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                             {{DCM_QueryRetrieveLevel, "SERIES"},
                              {DCM_StudyInstanceUID, "1.2.826.0.1.3680043.10.1234.1.1"},
                              {DCM_SeriesInstanceUID, kSeries}});
    BOOST_REQUIRE(!responses.empty());
    const auto* last = responses.back();
    BOOST_TEST(last->m_status == 0xB000);
    BOOST_TEST(last->m_numberOfFailedSubops == 1u);
    BOOST_TEST(last->m_numberOfCompletedSubops == 9u);
    freeList(responses);
    scu.releaseAssociation();
    BOOST_TEST(!services->instanceCache->isComplete(kSeries));

    // Moved again (fault used up): every instance, 0000, and now the series is complete.
    MoveScu again;
    BOOST_REQUIRE(again.connect(server.port()).good());
    auto second = runMove(again, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                          {{DCM_QueryRetrieveLevel, "SERIES"},
                           {DCM_StudyInstanceUID, "1.2.826.0.1.3680043.10.1234.1.1"},
                           {DCM_SeriesInstanceUID, kSeries}});
    BOOST_REQUIRE(!second.empty());
    BOOST_TEST(second.back()->m_status == 0x0000);
    BOOST_TEST(second.back()->m_numberOfCompletedSubops == 10u);
    freeList(second);
    again.releaseAssociation();
    BOOST_TEST(services->instanceCache->isComplete(kSeries));
    server.stop();
}

BOOST_AUTO_TEST_SUITE_END()
