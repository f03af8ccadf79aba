#include "bridge/catalog/CollectionLists.h"

#include "bridge/common/Text.h"

#include <algorithm>

using namespace Poco::Data::Keywords;
using Poco::Data::Session;

namespace bridge::catalog {

std::vector<std::string> CollectionLists::listAs(const std::string& who, tcia::TciaApi& api, bool staleOnFailure,
                                                 const RequestContext& context) {
    const bool fresh = guarded("collections", [&] {
        Session s = store_.session();
        return store_.freshCall(s, who, "collections");
    });
    if (fresh) return storedList(who);
    std::vector<std::string> names;
    try {
        names = api.collections(context);
    } catch (const BridgeError& e) {
        if (!staleOnFailure || e.code() == ErrorCode::Internal) throw;
        const bool stored = guarded("collections", [&] {
            Session s = store_.session();
            return store_.meta(s, "collections_listed|" + who) == "1";
        });
        if (!stored) throw;
        return storedList(who);
    }
    storeList(who, names);
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::string> CollectionLists::storedList(const std::string& who) {
    return guarded("collections", [&] {
        Session s = store_.session();
        std::vector<std::string> params{who};
        return selectStrings(s, "SELECT name FROM collection_lists WHERE identity = $1 ORDER BY name", params);
    });
}

void CollectionLists::storeList(const std::string& who, const std::vector<std::string>& names) {
    guarded("store collections", [&] {
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        Transaction tx(s);
        std::string w = who;
        s << "DELETE FROM collection_lists WHERE identity = $1", use(w), now;
        std::set<std::string> seen;
        for (const auto& n : names) {
            if (trimSpaces(n).empty() || !seen.insert(key(n)).second) continue;
            std::string name = n;
            s << "INSERT INTO collection_lists (identity, name) VALUES ($1, $2)", use(w), use(name), now;
        }
        if (who == store_.identity()) {
            // The `listed` flags (LazyFill's "every listed collection") follow this replica's own list.
            s << "UPDATE collections SET listed = 0", now;
            for (const auto& n : names) {
                std::string name = n, upper = key(n);
                s << "UPDATE collections SET listed = 1 WHERE upper(name) = $1", use(upper), now;
                s << "INSERT INTO collections (name, listed) SELECT $1, 1 WHERE NOT EXISTS"
                     " (SELECT 1 FROM collections WHERE upper(name) = $2)",
                    use(name), use(upper), now;
            }
        }
        store_.recordCall(s, who, "collections", "");
        store_.setMeta(s, "collections_listed|" + who, "1");
        tx.commit();
        store_.invalidateStates();
    });
}

std::vector<std::string> CollectionLists::collections(const RequestContext& context) {
    return listAs(store_.identity(), tcia_, false, context);
}

std::optional<std::set<std::string>> CollectionLists::publicCollections(const RequestContext& context) {
    tcia::TciaApi* api = anonymous_ ? anonymous_.get() : (store_.identity() == kAnonymousIdentity ? &tcia_ : nullptr);
    if (api == nullptr) return std::nullopt;
    // An outage keeps the last anonymous list (stale, never widened by another identity's);
    // before any list was stored this throws: nothing is shown rather than everything.
    const auto names = listAs(kAnonymousIdentity, *api, true, context);
    return std::set<std::string>(names.begin(), names.end());
}

std::set<std::string> CollectionLists::restrictedCollections(const RequestContext& context) {
    std::set<std::string> out;
    if (anonymous_) {
        // Both lists per identity: a list cached by another identity (an earlier run without
        // credentials, another replica) is never compared with itself.
        const auto all = listAs(store_.identity(), tcia_, true, context);
        std::set<std::string> visibleAnonymously;
        for (const auto& c : listAs(kAnonymousIdentity, *anonymous_, true, context)) visibleAnonymously.insert(key(c));
        for (const auto& c : all)
            if (!visibleAnonymously.count(key(c))) out.insert(c);
    }
    const auto marked = guarded("restricted collections", [&] {
        Session s = store_.session();
        std::vector<std::string> names;
        // 2 = markRestricted (kept). 1 was written by the former comparison, which could be
        // fooled by a foreign cache; restrictions are now computed from the lists above.
        s << "SELECT name FROM collections WHERE restricted = 2", into(names), now;
        return names;
    });
    out.insert(marked.begin(), marked.end());
    return out;
}

void CollectionLists::markRestricted(const std::string& collection, bool restricted) {
    guarded("mark restricted", [&] {
        Session s = store_.session();
        std::lock_guard<std::mutex> lock(store_.writeMutex());
        Transaction tx(s);
        store_.ensureCollections(s, {collection});
        std::string upper = key(collection);
        int flag = restricted ? 2 : 0;
        s << "UPDATE collections SET restricted = $1 WHERE upper(name) = $2", use(flag), use(upper), now;
        tx.commit();
        store_.invalidateStates();
    });
}

}  // namespace bridge::catalog
