#pragma once
// What the DIMSE adapter needs from the core, as narrow references and callables so the
// protocol tests can run the real SCP over test doubles. Built from BridgeServices by
// makeDimseDependencies() (dimse/BridgeDimse.h). All referenced objects must outlive the server
// and be safe to call from several association threads at once.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "bridge/common/AuditLog.h"
#include "bridge/query/FindAnswerCache.h"
#include "bridge/query/Query.h"
#include "bridge/query/QueryService.h"
#include "bridge/retrieve/RetrieveService.h"

namespace bridge::dimse {

struct DimseDependencies {
    QueryService* query = nullptr;
    RetrieveService* retrieve = nullptr;
    /// Which collections a caller sees (AccessPolicy::forDimse), resolved under the operation's
    /// request context (stops with it). Empty function = everything.
    std::function<CollectionScope(const std::string& callingAet, const std::string& calledAet,
                                  const RequestContext& context)>
        scopeFor;
    /// The scope scopeFor would answer, when it is at hand without blocking (a scope resolved
    /// moments ago under the same catalog generation: AccessPolicy::memoizedDimseScope), else
    /// nullopt. Lets a C-FIND whose answer is cached be answered on the association thread,
    /// with no hand-off to the watched worker. Empty function = never at hand.
    std::function<std::optional<CollectionScope>(const std::string& callingAet, const std::string& calledAet)>
        memoizedScopeFor;
    /// Extra called AE titles (collection AEs) besides DimseSettings::aeTitle
    /// (AccessPolicy::isKnownCalledAet). Empty function = none.
    std::function<bool(const std::string& calledAet)> isKnownCalledAet;
    bool caseSensitivePersonNames = false;
    AuditLog* audit = nullptr;  ///< one record per C-FIND / C-MOVE / C-GET; null = none
    std::size_t maxResults = 10'000;  ///< for the truncation ErrorComment only; the cap lives in the core
    /// Finished C-FIND answers (bridge/query/FindAnswerCache.h); null = no cache. Used only
    /// together with `generation`.
    std::shared_ptr<FindAnswerCache> findCache;
    /// The metadata source's MetadataSource::generation(); empty function or nullopt = the
    /// source does not track changes: nothing is cached.
    std::function<std::optional<std::uint64_t>()> generation;
};

/// Who is on the other end of an association (names trimmed of padding).
struct AssociationInfo {
    std::string callingAet;
    std::string calledAet;
    std::string peerAddress;  ///< numeric IP
};

}  // namespace bridge::dimse
