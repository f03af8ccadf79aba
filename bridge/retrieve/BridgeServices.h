#pragma once
// The composition root of the core: everything both adapters (dimse/, web/) need, built from a
// Config. The adapters receive a BridgeServices& and never construct core objects themselves.
//
// Constructor contracts of the pieces (each declared in its own header):
//   tcia::TciaClient(const TciaSettings&)                                  bridge/tcia/TciaClient.h
//   Catalog(const CatalogSettings&, const CacheSettings&, tcia::TciaApi&)  bridge/catalog/Catalog.h  (a MetadataSource)
//   TciaMetadataSource(tcia::TciaApi&)                                     bridge/query/TciaMetadataSource.h
//   QueryEngine(MetadataSource&, InstanceAttributeSource*, const QuerySettings&)  bridge/query/QueryEngine.h
//   AccessPolicy(const Config&, MetadataSource&)                           bridge/query/AccessPolicy.h
//   InstanceCache(const CacheSettings&)                                    bridge/retrieve/InstanceCache.h
//   RetrieveEngine(MetadataSource&, tcia::TciaApi&, InstanceCache&)        bridge/retrieve/RetrieveEngine.h

#include "bridge/catalog/CatalogHarvester.h"
#include "bridge/common/Config.h"
#include "bridge/query/MetadataSource.h"
#include "bridge/query/QueryService.h"
#include "bridge/retrieve/RetrieveService.h"
#include "bridge/tcia/TciaApi.h"

#include <functional>
#include <memory>

namespace bridge {

class AccessPolicy;
class AuditLog;
class CatalogHarvester;
class InstanceCache;

struct BridgeServices {
    Config config;
    std::unique_ptr<tcia::TciaApi> tcia;
    std::unique_ptr<MetadataSource> metadata;  ///< the catalog
    std::unique_ptr<InstanceCache> instanceCache;
    /// The query engine's IMAGE-level attributes (FetchingInstanceAttributes: cache + retrieve).
    /// Outlives `query`; refers to `retrieve`, which is idle by the time either is destroyed.
    std::unique_ptr<InstanceAttributeSource> instanceAttributes;
    std::unique_ptr<QueryService> query;
    std::unique_ptr<RetrieveService> retrieve;
    std::unique_ptr<AccessPolicy> access;
    std::shared_ptr<AuditLog> audit;  ///< null = no audit trail (audit.file empty)
    /// The DIMSE port actually listened on (set by the composition when dimse.port is 0).
    unsigned dimsePort = 0;
    /// Readies the process for retrievals once the harvest is over (its onComplete; serve mode
    /// without a harvest calls it at start): the heap the harvest freed goes back to the system
    /// (malloc_trim), then, with --source idc, the object buffer pool is filled
    /// (IdcClient::prefillObjectBuffers) -- after the harvest, so that its pages never add to
    /// the harvest's peak. Safe to call again (both steps only top up).
    std::function<void()> afterHarvest;
    /// Harvest on start (catalog.harvestOnStart); null unless serve mode started one with
    /// startHarvest(). Declared last: destroyed (cancelled, joined) before the catalog.
    std::unique_ptr<CatalogHarvester> harvester;
    ~BridgeServices();
};

/// Builds the whole core from a configuration. Does not contact TCIA. Throws BridgeError.
/// Claims the cache directory for the configured source first (claimCacheDirectory).
std::unique_ptr<BridgeServices> makeBridgeServices(const Config& config);

/// One cache directory, one source (docs/idc.md "Cache directory per source"): the catalog
/// and instance cache in `directory` were filled from the source recorded in
/// `<directory>/source` ("nbia" or "idc"). Without that file the source is inferred (an
/// `idc-version` pin: idc; a catalog.db or instances/: nbia; nothing: new) and then recorded.
/// A directory of the other source throws BridgeError(InvalidArgument) naming both and the
/// remedy; nothing in it is touched. Creates `directory` when missing.
void claimCacheDirectory(const std::string& directory, const std::string& source);

/// Serve mode: starts the background harvest (CatalogHarvester) into services.harvester when
/// the metadata source is a catalog, with services.afterHarvest as its onComplete (then
/// options.onComplete, if set). Returns false (and starts nothing) otherwise. Call once,
/// before sharing the services between threads.
bool startHarvest(BridgeServices& services, const HarvestOptions& options = {},
                  CatalogHarvester::Log log = {});

}  // namespace bridge
