#include "bridge/retrieve/BridgeServices.h"

#include <algorithm>

#include "bridge/catalog/Catalog.h"
#include "bridge/common/AuditLog.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/query/QueryEngine.h"
#include "bridge/retrieve/FetchingInstanceAttributes.h"
#include "bridge/retrieve/InstanceCache.h"
#include "bridge/retrieve/RetrieveEngine.h"
#include "bridge/idc/IdcClient.h"
#include "bridge/tcia/TciaClient.h"

namespace bridge {

// Members are destroyed in reverse order of declaration: access, retrieve (joins its download
// threads), query, instanceCache, metadata, tcia -- each before what it refers to.
BridgeServices::~BridgeServices() = default;

std::unique_ptr<BridgeServices> makeBridgeServices(const Config& config) {
    auto services = std::make_unique<BridgeServices>();
    services->config = config;
    const Config& c = services->config;

    // The source seam (issue 12, docs/idc.md): NBIA (default) or IDC behind the same TciaApi.
    const bool idc = c.source == "idc";
    if (idc)
        services->tcia = std::make_unique<idc::IdcClient>(c.tcia, c.idc, c.cache.directory + "/idc-version");
    else
        services->tcia = std::make_unique<tcia::TciaClient>(c.tcia);

    auto catalog = std::make_unique<Catalog>(c.catalog, c.cache, *services->tcia);
    // Cached TCIA answers are keyed by who fetched them (finding 1 of issue 9). IDC is public: anonymous.
    catalog->setIdentity(idc ? std::string("anonymous") : tcia::TciaClient::credentialIdentity(c.tcia));
    if (!idc && !c.tcia.tokenUrl.empty()) {
        // The same TCIA without credentials: what it does not list is restricted (see Catalog.h).
        TciaSettings anonymous = c.tcia;
        anonymous.tokenUrl.clear();
        anonymous.username.clear();
        anonymous.password.clear();
        anonymous.clientSecret.clear();
        catalog->setAnonymousApi(std::make_shared<tcia::TciaClient>(anonymous));
    }
    services->metadata = std::move(catalog);

    services->instanceCache = std::make_unique<InstanceCache>(c.cache);
    // One getImage per download; keep a request slot of the per-host limit free for searches.
    const int downloads = std::max(1, c.tcia.maxConcurrentRequests - 1);
    services->retrieve = std::make_unique<RetrieveEngine>(*services->metadata, *services->tcia,
                                                          *services->instanceCache, downloads);
    // IMAGE-level keys from the instances themselves, fetched through the retrieval engine.
    services->instanceAttributes =
        std::make_unique<FetchingInstanceAttributes>(*services->instanceCache, *services->retrieve);
    services->query =
        std::make_unique<QueryEngine>(*services->metadata, services->instanceAttributes.get(), c.query);
    services->access = std::make_unique<AccessPolicy>(c, *services->metadata);
    services->audit = makeAuditLog(c.audit);
    return services;
}

bool startHarvest(BridgeServices& services, const HarvestOptions& options, CatalogHarvester::Log log) {
    auto* catalog = dynamic_cast<Catalog*>(services.metadata.get());
    if (catalog == nullptr || !services.tcia || services.harvester) return false;
    services.harvester = std::make_unique<CatalogHarvester>(*catalog, *services.tcia, options, std::move(log));
    return true;
}

}  // namespace bridge
