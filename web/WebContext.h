#pragma once
// What every request handler of the DICOMweb adapter shares: the core services, the caller's
// scope resolver, settings, caches and the admission gate. Owned by DicomWebServer; handlers
// get a reference. The services are thread-safe; so are the caches and the gate.

#include "bridge/common/AuditLog.h"
#include "bridge/common/Config.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/query/MetadataSource.h"
#include "bridge/query/QueryService.h"
#include "bridge/retrieve/RetrieveService.h"
#include "web/MetadataCache.h"
#include "web/QidoResponseCache.h"
#include "web/RequestGate.h"
#include "web/StatusPage.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace bridge::web {

class HttpAuthenticator;

/// The caller (anonymous, a bare bearer token, or an authenticated principal) to the collections
/// it may see, resolved under the request's context (stops with it: hang-up, deadline). In the
/// product this is AccessPolicy::forPrincipal.
using ScopeResolver = std::function<CollectionScope(const HttpPrincipal& caller, const RequestContext& context)>;

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

    /// Observability (all optional; the production constructor of DicomWebServer sets them).
    AuditLog* audit = nullptr;  ///< one record per QIDO search and per WADO retrieve
    /// Extra Prometheus text appended to /metrics (cache and download statistics of the core).
    std::function<std::string()> extraMetrics;
    /// /ready: empty string when ready, else the reason it is not. Empty function = always ready.
    std::function<std::string()> readiness;
    /// HTTP authentication (config `auth`); null = off: every caller is let in and a bearer
    /// token only widens its scope (access.grantsByToken).
    std::shared_ptr<const HttpAuthenticator> auth;
    /// Harvest, cache and connection facts for /status and the landing page; may be empty.
    StatusSource status;
    /// Config::source ("nbia" or "idc"): the landing page attributes IDC too when "idc".
    std::string source = "nbia";
};

}  // namespace bridge::web
