#pragma once
// Who sees which collections: turns the caller's identity (calling/called AE title, HTTP bearer
// token) into the CollectionScope every Query carries.
//
//  * A called AE title listed in DimseSettings::collectionAets limits the scope to its
//    collections (scope.only); the main AE title has no such limit.
//  * Restricted collections = MetadataSource::restrictedCollections() union
//    AccessSettings::restrictedCollections. Each one is denied unless granted to the caller:
//    grantsByAet[collection] holds the calling AE title (DIMSE), grantsByToken[collection]
//    holds the bearer token (HTTP). Collection names compare case-insensitively (as TCIA does);
//    AE titles compare exactly after trimming the space padding (PS3.5: AE is case-sensitive);
//    tokens compare exactly.
//  * Fail closed: when the MetadataSource knows the public collections (publicCollections(),
//    what TCIA lists without credentials), the scope's `visible` set is those plus the
//    collections granted to the caller; anything else is hidden even if no list ever marked
//    it restricted (a stale or foreign cache can never widen access).
//
// Each resolution runs under the caller's RequestContext (issue 11 item 1: the context carries
// caller and scope): the restricted/public collection lists it reads may call TCIA, and that
// call stops with the request (C-CANCEL, HTTP hang-up, deadline: BridgeError Cancelled /
// UpstreamTimeout, never a scope computed from a half-read list); its log lines carry the
// context's request id. The default context (tests, tools) has no id and never stops.
//
// Thread-safe if the MetadataSource is; forHttp calls restrictedCollections() each time (the
// sources cache it). forDimse keeps each (calling, called) scope for at most kScopeMemoAge while
// the MetadataSource's generation() and the grants in force stay the same -- the rule the C-FIND
// answer cache already follows -- so a C-FIND needs no catalog read for its scope
// (memoizedDimseScope() answers it without blocking). The Config is copied; the MetadataSource
// must outlive the policy.

#include "bridge/common/Config.h"
#include "bridge/common/RequestContext.h"
#include "bridge/query/MetadataSource.h"
#include "bridge/query/Query.h"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace bridge {

/// An HTTP caller as AccessPolicy sees it: anonymous (default), a bare bearer token (auth off:
/// a token only widens access through access.grantsByToken), or a principal authenticated by
/// web/HttpAuthenticator (static token, Basic user, OIDC JWT) with the grants its config gives.
struct HttpPrincipal {
    std::string name;                        ///< empty = anonymous
    std::optional<std::string> bearerToken;  ///< the presented token, matched against access.grantsByToken
    std::set<std::string> grants;            ///< restricted collections granted by the auth config
    std::optional<std::set<std::string>> only;  ///< set: limited to these collections
};

class AccessPolicy {
public:
    AccessPolicy(const Config& config, MetadataSource& metadata);

    /// Scope of a DIMSE association from callingAet to calledAet, resolved under `context`.
    /// Throws BridgeError Cancelled / UpstreamTimeout once `context` stops.
    CollectionScope forDimse(const std::string& callingAet, const std::string& calledAet,
                             const RequestContext& context = RequestContext()) const;
    /// Scope of an HTTP request with this bearer token (nullopt = anonymous).
    CollectionScope forHttp(const std::optional<std::string>& bearerToken,
                            const RequestContext& context = RequestContext()) const;
    /// Scope of an HTTP principal: restricted collections are denied unless granted by
    /// principal.grants or by access.grantsByToken for its bearer token; `only` limits the scope.
    /// forHttp(t) == forPrincipal({.bearerToken = t}). Stops like forDimse.
    CollectionScope forPrincipal(const HttpPrincipal& principal, const RequestContext& context = RequestContext()) const;
    /// The scope forDimse() resolved for this pair under the current generation and grants, no
    /// older than kScopeMemoAge; nullopt otherwise. Never blocks, never calls the source's lists.
    std::optional<CollectionScope> memoizedDimseScope(const std::string& callingAet,
                                                      const std::string& calledAet) const;
    static constexpr std::chrono::seconds kScopeMemoAge{2};
    static constexpr std::size_t kScopeMemoEntries = 1024;  ///< (calling, called) pairs kept

    /// True when calledAet is the bridge's main AE title or one of its collection AE titles.
    bool isKnownCalledAet(const std::string& calledAet) const;
    /// SIGHUP: replaces the grants and configured restricted collections (access.*). Calls
    /// already running keep the scope they computed; the next call sees the new grants.
    void reload(const AccessSettings& access);

private:
    std::shared_ptr<const AccessSettings> access() const;
    std::set<std::string> restricted(const RequestContext& context) const;
    CollectionScope dimseScope(const std::string& callingAet, const std::string& calledAet,
                               const RequestContext& context) const;
    CollectionScope principalScope(const HttpPrincipal& principal, const RequestContext& context) const;
    static bool granted(const std::map<std::string, std::set<std::string>>& grants, const std::string& collection,
                        const std::string& who);

    Config config_;
    MetadataSource& metadata_;
    mutable std::mutex accessMutex_;
    std::shared_ptr<const AccessSettings> access_;  ///< the grants in force (reload() swaps them)

    struct ScopeMemo {
        std::uint64_t generation = 0;
        std::shared_ptr<const AccessSettings> access;  ///< the grants it was resolved with
        std::chrono::steady_clock::time_point resolvedAt;
        CollectionScope scope;
    };
    mutable std::mutex memoMutex_;
    mutable std::map<std::string, ScopeMemo> dimseMemo_;  ///< trimmed calling AE + '\n' + called AE -> scope
};

}  // namespace bridge
