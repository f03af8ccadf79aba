#pragma once
// The incremental refresh (internal to bridge/catalog): asks TCIA what changed since the
// previous refresh (getUpdatedSeries, NewPatientsInCollection, NewStudiesInPatientCollection),
// upserts it, invalidates the remembered calls of the affected collections and those tied to
// none, and marks every completely harvested collection refreshed now (which keeps it fresh
// under FreshnessRule). Blocking; one TCIA call for the series plus two per affected collection.

#include "bridge/catalog/CatalogStore.h"
#include "bridge/common/RequestContext.h"
#include "bridge/tcia/TciaApi.h"

#include <cstddef>
#include <set>
#include <string>

namespace bridge {
struct RefreshResult;
}

namespace bridge::catalog {

class IncrementalRefresh {
public:
    IncrementalRefresh(CatalogStore& store, tcia::TciaApi& tcia) : store_(store), tcia_(tcia) {}

    /// As Catalog::refreshIncremental.
    RefreshResult run(const RequestContext& context);

private:
    CatalogStore& store_;
    tcia::TciaApi& tcia_;
};

}  // namespace bridge::catalog
