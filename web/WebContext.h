#pragma once
// What every request handler of the DICOMweb adapter shares: the core services, the caller's
// scope resolver, settings, caches and the admission gate. Owned by DicomWebServer; handlers
// get a reference. The services are thread-safe; so are the caches and the gate.

#include "bridge/common/Config.h"
#include "bridge/query/MetadataSource.h"
#include "bridge/query/QueryService.h"
#include "bridge/retrieve/RetrieveService.h"
#include "web/MetadataCache.h"
#include "web/QidoResponseCache.h"
#include "web/RequestGate.h"
#include "web/StatusPage.h"

#include <functional>
#include <optional>
#include <string>

namespace bridge::web {

/// Bearer token (absent when no Authorization header) to the collections the caller may see.
/// In the product this is AccessPolicy::forHttp.
using ScopeResolver = std::function<CollectionScope(const std::optional<std::string>& bearerToken)>;

struct WebContext {
    WebContext(QueryService& q, RetrieveService& r, ScopeResolver s, MetadataSource* m, WebSettings w)
        : query(q), retrieve(r), scope(std::move(s)), metadata(m), settings(std::move(w)),
          gate(settings.maxThreads, settings.maxQueued) {}

    QueryService& query;
    RetrieveService& retrieve;
    ScopeResolver scope;
    MetadataSource* metadata;  ///< may be null: the landing page then lists no collections
    WebSettings settings;
    MetadataCache metadataCache;
    /// Finished QIDO answers for searches answered from a source that tracks its generation
    /// (the catalog); see QidoResponseCache.h.
    QidoResponseCache qidoCache;
    RequestGate gate;
    /// Harvest, cache and connection facts for /status and the landing page; may be empty.
    StatusSource status;
};

}  // namespace bridge::web
