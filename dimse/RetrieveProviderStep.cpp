#include "dimse/RetrieveProviderStep.h"

#include "bridge/common/Error.h"
#include "dimse/IdentifierTranslator.h"

namespace bridge::dimse {

std::optional<RetrieveRequest> readRetrieveRequest(const std::string& sopClassUid, DcmDataset* identifier,
                                                   const AssociationInfo& info, const DimseDependencies& deps,
                                                   const RequestContext& context,
                                                   const std::string& badRequestComment,
                                                   RetrieveResponse& failure) {
    auto model = modelForSopClass(sopClassUid);
    if (!model || !identifier) {
        failure = RetrieveOperation::failure(kStatusIdentifierDoesNotMatch, badRequestComment);
        return std::nullopt;
    }
    RetrieveRequest retrieve;
    try {
        retrieve = identifierToRetrieveRequest(*identifier, *model);
    } catch (const std::exception& e) {
        failure = RetrieveOperation::failure(kStatusIdentifierDoesNotMatch, e.what());
        return std::nullopt;
    }
    if (deps.scopeFor) retrieve.scope = deps.scopeFor(info.callingAet, info.calledAet, context);
    return retrieve;
}

RetrieveResponse retrieveProviderStep(std::optional<RetrieveOperation>& operation, int responseCount,
                                      bool cancelled, DimseOperation service,
                                      const std::function<RetrieveResponse()>& firstStep) {
    try {
        if (responseCount == 1 && !cancelled) return firstStep();
        if (operation) return operation->next(cancelled);
        return RetrieveOperation::failure(kStatusCancel, "cancelled");
    } catch (const std::exception& e) {
        return RetrieveOperation::failure(failureStatus(classifyException(e), service), e.what());
    } catch (...) {
        return RetrieveOperation::failure(failureStatus(ErrorCode::Internal, service), "internal error");
    }
}

}  // namespace bridge::dimse
