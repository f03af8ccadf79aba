#pragma once
// Collection lists per credential identity and restriction detection (internal to
// bridge/catalog): every collections() answer is stored under the identity that asked
// (collection_lists) and reused while fresh (FreshnessRule); restricted collections are those
// the catalog's identity sees and the anonymous one does not, plus explicit marks.
// Thread-safe; blocking (database, then maybe TCIA).

#include "bridge/catalog/CatalogStore.h"
#include "bridge/common/RequestContext.h"
#include "bridge/tcia/TciaApi.h"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bridge::catalog {

class CollectionLists {
public:
    /// Keeps references to both; they must outlive the lists.
    CollectionLists(CatalogStore& store, tcia::TciaApi& tcia) : store_(store), tcia_(tcia) {}

    /// The same TCIA without credentials (Catalog::setAnonymousApi). Call before sharing.
    void setAnonymousApi(std::shared_ptr<tcia::TciaApi> anonymous) { anonymous_ = std::move(anonymous); }
    bool hasAnonymousApi() const noexcept { return anonymous_ != nullptr; }

    /// The catalog identity's list (Catalog::collections).
    std::vector<std::string> collections(const RequestContext& context);
    /// As Catalog::publicCollections / restrictedCollections / markRestricted.
    std::optional<std::set<std::string>> publicCollections(const RequestContext& context);
    std::set<std::string> restrictedCollections(const RequestContext& context);
    void markRestricted(const std::string& collection, bool restricted);
    /// Records a collections() answer of the catalog's identity as if it had made the call.
    void storeOwnList(const std::vector<std::string>& names) { storeList(store_.identity(), names); }

private:
    /// The collections() answer of `api`, which calls TCIA as `who`: from collection_lists
    /// while fresh, else fetched and stored. When the fetch fails (TCIA down) and
    /// `staleOnFailure`, the last stored list of that identity is used; with none stored the
    /// error propagates (nothing to fall back on: fail closed).
    std::vector<std::string> listAs(const std::string& who, tcia::TciaApi& api, bool staleOnFailure,
                                    const RequestContext& context);
    std::vector<std::string> storedList(const std::string& who);
    void storeList(const std::string& who, const std::vector<std::string>& names);

    CatalogStore& store_;
    tcia::TciaApi& tcia_;
    std::shared_ptr<tcia::TciaApi> anonymous_;
};

}  // namespace bridge::catalog
