#pragma once
// Test helpers (header-only; for test executables linked with bridge_dimse and bridge_web): a
// whole bridge as `tcia-bridge` serve mode composes it -- core, harvest on start, DIMSE and
// DICOMweb servers on ephemeral loopback ports -- plus polling with a deadline and a Study Root
// C-FIND through DcmSCU. Used by HarvestOnStartTest (source nbia) and IdcBridgeTest (source idc).

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bridge/catalog/CatalogHarvester.h"
#include "bridge/retrieve/BridgeServices.h"
#include "dimse/BridgeDimse.h"
#include "dimse/DimseServer.h"
#include "tests/protocol/web/WebFixture.h"
#include "web/DicomWebServer.h"

namespace bridge::test {

/// Polls `condition` every 100 ms until it holds or `deadline` passes; the last answer.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::seconds deadline = std::chrono::seconds(180)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return condition();
}

/// The bridge of `config` (whose dimse.port and web.port should be 0): services, the harvest
/// started with `options` (required to start), the DIMSE server, then the web server. The
/// destructor stops the harvester first, then both servers.
struct WholeBridge {
    std::unique_ptr<BridgeServices> services;
    std::unique_ptr<web::DicomWebServer> web;
    std::unique_ptr<dimse::DimseServer> dimse;

    WholeBridge(const Config& config, const HarvestOptions& options) {
        services = makeBridgeServices(config);
        BOOST_REQUIRE(startHarvest(*services, options));
        dimse = std::make_unique<dimse::DimseServer>(config.dimse, dimse::makeDimseDependencies(*services));
        dimse->start();
        services->dimsePort = dimse->port();
        web = std::make_unique<web::DicomWebServer>(*services);
        web->start();
    }
    ~WholeBridge() {
        services->harvester.reset();
        if (web) web->stop();
        if (dimse) dimse->stop();
    }
    WholeBridge(const WholeBridge&) = delete;
    WholeBridge& operator=(const WholeBridge&) = delete;

    HttpResult get(const std::string& uri, const std::map<std::string, std::string>& headers = {}) {
        return httpRequest(web->port(), "GET", uri, headers);
    }
    HarvestStatus status() { return services->harvester->status(); }
};

struct FindResult {
    std::uint16_t status = 0;  ///< the final response's status
    std::string comment;       ///< its ErrorComment, if any
    std::set<std::string> values;
};

/// A Study Root C-FIND from AE "PACS" to AE "TCIA" at 127.0.0.1:port over a fresh association;
/// `valueTag` collected from each Pending.
inline FindResult cfind(unsigned short port, const std::vector<std::pair<DcmTagKey, std::string>>& keys,
                        const DcmTagKey& valueTag) {
    DcmSCU scu;
    scu.setAETitle("PACS");
    scu.setPeerAETitle("TCIA");
    scu.setPeerHostName("127.0.0.1");
    scu.setPeerPort(port);
    scu.setDIMSEBlockingMode(DIMSE_BLOCKING);
    scu.setDIMSETimeout(120);
    OFList<OFString> ts;
    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    scu.addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel, ts);
    BOOST_REQUIRE(scu.initNetwork().good());
    BOOST_REQUIRE(scu.negotiateAssociation().good());
    const auto pc = scu.findPresentationContextID(UID_FINDStudyRootQueryRetrieveInformationModel, "");
    DcmDataset request;
    for (const auto& [tag, value] : keys) request.putAndInsertString(tag, value.c_str());
    OFList<QRResponse*> responses;
    BOOST_REQUIRE(scu.sendFINDRequest(pc, &request, &responses).good());
    BOOST_REQUIRE(!responses.empty());
    FindResult out;
    for (auto* r : responses) {
        if (r->m_status == 0xFF00 && r->m_dataset) {
            OFString v;
            r->m_dataset->findAndGetOFString(valueTag, v);
            out.values.insert(v.c_str());
        }
    }
    out.status = responses.back()->m_status;
    if (responses.back()->m_statusDetail) {
        OFString c;
        responses.back()->m_statusDetail->findAndGetOFString(DCM_ErrorComment, c);
        out.comment = c.c_str();
    }
    for (auto* r : responses) delete r;
    scu.releaseAssociation();
    return out;
}

}  // namespace bridge::test
