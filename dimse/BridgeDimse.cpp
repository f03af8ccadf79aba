#include "dimse/BridgeDimse.h"

#include "bridge/common/Error.h"
#include "bridge/query/AccessPolicy.h"
#include "dimse/AssociationPolicy.h"

namespace bridge::dimse {

DimseDependencies makeDimseDependencies(BridgeServices& services) {
    // Refuse to serve restricted collections to whoever claims a granted AE title.
    const std::string problem = grantsByAetProblem(services.config.dimse, services.config.access);
    if (!problem.empty()) throw BridgeError(ErrorCode::InvalidArgument, "config: " + problem);
    DimseDependencies deps;
    deps.query = services.query.get();
    deps.retrieve = services.retrieve.get();
    AccessPolicy* access = services.access.get();
    if (access) {
        deps.scopeFor = [access](const std::string& calling, const std::string& called,
                                 const RequestContext& context) {
            return access->forDimse(calling, called, context);
        };
        deps.memoizedScopeFor = [access](const std::string& calling, const std::string& called) {
            return access->memoizedDimseScope(calling, called);
        };
        deps.isKnownCalledAet = [access](const std::string& called) {
            return access->isKnownCalledAet(called);
        };
    } else {
        // Without a policy, only the collection AEs of the configuration are known.
        const auto& aets = services.config.dimse.collectionAets;
        deps.isKnownCalledAet = [&aets](const std::string& called) { return aets.count(called) != 0; };
    }
    deps.caseSensitivePersonNames = services.config.query.caseSensitivePersonNames;
    deps.maxResults = services.config.query.maxResults;
    deps.audit = services.audit.get();
    if (services.config.query.findCacheMegabytes > 0 && services.metadata) {
        deps.findCache = std::make_shared<FindAnswerCache>(services.config.query.findCacheMegabytes << 20);
        MetadataSource* metadata = services.metadata.get();
        deps.generation = [metadata] { return metadata->generation(); };
    }
    return deps;
}

}  // namespace bridge::dimse
