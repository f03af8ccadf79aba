#include "bridge/retrieve/BridgeServices.h"

#include <Poco/Logger.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bridge/catalog/Catalog.h"
#include "bridge/common/Error.h"
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

void claimCacheDirectory(const std::string& directory, const std::string& source) {
    namespace fs = std::filesystem;
    const fs::path dir(directory);
    const fs::path marker = dir / "source";
    std::string recorded;
    std::error_code ec;
    if (std::ifstream in(marker); in) {
        std::getline(in, recorded);
        while (!recorded.empty() && std::isspace(static_cast<unsigned char>(recorded.back()))) recorded.pop_back();
    } else if (fs::exists(dir / "idc-version", ec)) {
        recorded = "idc";  // a directory from before the marker: the IDC pin says who filled it
    } else if (fs::exists(dir / "catalog.db", ec) ||
               (fs::is_directory(dir / "instances", ec) && !fs::is_empty(dir / "instances", ec))) {
        recorded = "nbia";  // the only source there was
    }
    if (!recorded.empty() && recorded != source)
        throw BridgeError(ErrorCode::InvalidArgument,
                          "cache directory " + directory + " holds a catalog and instances filled from " + recorded +
                              " (" + marker.string() + "); this bridge runs --source " + source +
                              ". Give each source its own --cache-dir (docs/idc.md, \"Cache directory per source\")");
    if (recorded == source && fs::exists(marker, ec)) return;
    fs::create_directories(dir, ec);
    // Written whole, then renamed: never half a marker.
    const fs::path tmp = dir / "source.tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << source << "\n";
        if (!out)
            throw BridgeError(ErrorCode::InvalidArgument, "cannot write " + tmp.string() + " (cache directory)");
    }
    fs::rename(tmp, marker, ec);
    if (ec) throw BridgeError(ErrorCode::InvalidArgument, "cannot write " + marker.string() + ": " + ec.message());
}

namespace {

/// Gives the heap glibc keeps free (a harvest frees tens of MB of parsed pages) back to the
/// system: a bridge that harvested 1,000,000 IDC series went from 111 to 65 MiB resident.
void releaseFreedHeap() {
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
}

}  // namespace

std::unique_ptr<BridgeServices> makeBridgeServices(const Config& config) {
    auto services = std::make_unique<BridgeServices>();
    services->config = config;
    const Config& c = services->config;
    claimCacheDirectory(c.cache.directory, c.source == "idc" ? "idc" : "nbia");

    // The source seam (issue 12, docs/idc.md): NBIA (default) or IDC behind the same TciaApi.
    const bool idc = c.source == "idc";
    if (idc) {
        auto client = std::make_unique<idc::IdcClient>(c.tcia, c.idc, c.cache.directory + "/idc-version");
        services->afterHarvest = [client = client.get()] {
            releaseFreedHeap();
            const auto started = std::chrono::steady_clock::now();
            const std::size_t buffers = client->prefillObjectBuffers();
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
            if (buffers > 0)
                Poco::Logger::get("bridge.idc")
                    .information("object buffer pool filled: %z buffers in %Ld ms", buffers,
                                 static_cast<Poco::Int64>(ms.count()));
        };
        services->tcia = std::move(client);
    } else {
        services->tcia = std::make_unique<tcia::TciaClient>(c.tcia);
        services->afterHarvest = releaseFreedHeap;
    }

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
    // A new release that withdrew series (IDC): their cached instances are not current any more.
    if (auto* cat = dynamic_cast<Catalog*>(services->metadata.get()))
        cat->setWithdrawalListener([cache = services->instanceCache.get()](const std::vector<std::string>& uids) {
            for (const auto& uid : uids) cache->removeSeries(uid);
        });
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
    HarvestOptions withHook = options;
    if (services.afterHarvest)  // first; then the caller's own hook, if any
        withHook.onComplete = [after = services.afterHarvest, own = options.onComplete] {
            after();
            if (own) own();
        };
    services.harvester = std::make_unique<CatalogHarvester>(*catalog, *services.tcia, withHook, std::move(log));
    return true;
}

}  // namespace bridge
