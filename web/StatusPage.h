#pragma once
// GET /status (JSON) and the landing page's "Connect" and "Catalog harvest" sections: the
// background harvest per collection (study / series level done or pending, patients, studies,
// series, last harvest and refresh), the instance-cache use, and how a PACS connects (AE
// title, host, port, an example movescu line). Collections outside the caller's scope
// (restricted ones not granted) are left out entirely, counts included.
// The renderers are pure (unit-tested); the snapshot comes from a StatusSource set by the
// composition (DicomWebServer(BridgeServices&)). Thread-safe.

#include "bridge/catalog/Catalog.h"
#include "bridge/catalog/CatalogHarvester.h"
#include "bridge/query/Query.h"
#include "bridge/retrieve/InstanceCache.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bridge::web {

/// Everything the status renderers show, read at one moment.
struct StatusSnapshot {
    std::optional<HarvestStatus> harvest;             ///< nullopt: harvest on start is off
    std::vector<CollectionHarvestState> collections;  ///< the catalog's, unfiltered
    std::optional<InstanceCacheStats> cache;
    bool dimseEnabled = false;
    std::string aeTitle;
    std::string dimseHost;
    unsigned dimsePort = 0;
    std::string moveDestinationExample;  ///< a configured C-MOVE destination AE, or empty
    std::int64_t now = 0;                ///< epoch seconds
    std::string source = "nbia";         ///< Config::source
    std::string idcVersion;              ///< source idc: the IDC release the catalog is pinned to ("" = not yet)
};

using StatusSource = std::function<StatusSnapshot()>;

/// The /status document: {"harvest":{...}|null,"collections":[...],"cache":{...},"dimse":{...},
/// "source":{"name":"nbia"|"idc"[,"idcVersion":"v24"]}}.
std::string renderStatusJson(const StatusSnapshot& snapshot, const CollectionScope& scope);
/// HTML sections for the landing page (connection help, harvest table, cache use).
std::string renderStatusHtml(const StatusSnapshot& snapshot, const CollectionScope& scope,
                             const std::string& dicomWebRoot);

}  // namespace bridge::web
