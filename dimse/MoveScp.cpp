#include "dimse/MoveScp.h"

#include <dcmtk/oflog/oflog.h>

#include <optional>

#include "bridge/common/Error.h"
#include "bridge/common/Logging.h"
#include "dimse/MoveDestination.h"
#include "bridge/common/MetricsRegistry.h"
#include "dimse/DimseObservation.h"
#include "dimse/RetrieveOperation.h"
#include "dimse/RetrieveProviderStep.h"
#include "dimse/RetrieveResponseWriter.h"

namespace bridge::dimse {
namespace {

OFLogger moveLogger = OFLog::getLogger("bridge.dimse.move");

struct MoveContext {
    T_ASC_Association* assoc;
    T_ASC_PresentationContextID presId;
    const AssociationInfo& info;
    const DimseSettings& settings;
    DimseDependencies& deps;
    const RequestContext& server;
    std::optional<MoveDestination> destination;
    std::optional<RetrieveOperation> operation;
    RetrieveResponse last;
    std::optional<RetrieveRequest> request;  ///< once the identifier was read
    std::string destinationAet;
};

RetrieveResponse firstStep(MoveContext& ctx, T_DIMSE_C_MoveRQ* request, DcmDataset* identifier) {
    RetrieveResponse failure;
    // One context for the whole operation: scope resolution, planning and the download.
    const RequestContext context = ctx.server.child(currentLogContext(), "AE " + ctx.info.callingAet);
    auto retrieve = readRetrieveRequest(request->AffectedSOPClassUID, identifier, ctx.info, ctx.deps, context,
                                        "bad C-MOVE request", failure);
    if (!retrieve) return failure;
    ctx.request = *retrieve;
    std::string destinationAet = request->MoveDestination;
    while (!destinationAet.empty() && destinationAet.back() == ' ') destinationAet.pop_back();
    ctx.destinationAet = destinationAet;
    auto peer = ctx.settings.peers.find(destinationAet);
    if (peer == ctx.settings.peers.end())
        return RetrieveOperation::failure(kStatusMoveDestinationUnknown,
                                          "unknown move destination " + destinationAet);
    DicomPeer target = peer->second;
    if (target.aeTitle.empty()) target.aeTitle = destinationAet;
    MoveDestination::Options options;
    options.callingAet = ctx.info.calledAet;
    options.maxPdu = ctx.settings.maxPdu;
    options.acseTimeoutSeconds = static_cast<int>(ctx.settings.acseTimeout.count());
    options.dimseTimeoutSeconds = static_cast<int>(ctx.settings.dimseTimeout.count());
    options.stop = ctx.server.stopToken();  // not the operation's: a C-CANCEL releases the sub-association
    ctx.destination.emplace(target, options, MoveOriginator{ctx.info.callingAet, request->MessageID});
    auto assoc = ctx.assoc;
    auto presId = ctx.presId;
    auto messageId = request->MessageID;
    ctx.operation.emplace(*ctx.deps.retrieve,
                          std::chrono::duration_cast<std::chrono::milliseconds>(ctx.settings.pendingInterval),
                          [assoc, presId, messageId] {
                              // PS3.7 9.3.2.3: C-CANCEL-RQ may arrive while we wait for TCIA.
                              return DIMSE_checkForCancelRQ(assoc, presId, messageId) == EC_Normal;
                          },
                          context, RetrieveOperation::CancelWatch{assoc, presId, messageId});
    OFLOG_INFO(moveLogger, "C-MOVE " << ctx.info.callingAet << " -> " << destinationAet << " level "
                                     << toString(retrieve->level));
    RetrieveResponse first = ctx.operation->begin(*retrieve, *ctx.destination);
    if (!first.final()) observeRetrieveBegin(ctx.deps, ctx.info, *retrieve, destinationAet, first.counts.planned);
    return first;
}

void moveCallback(void* data, OFBool cancelled, T_DIMSE_C_MoveRQ* request, DcmDataset* identifier,
                  int responseCount, T_DIMSE_C_MoveRSP* response, DcmDataset** statusDetail,
                  DcmDataset** responseIdentifiers) {
    auto& ctx = *static_cast<MoveContext*>(data);
    RetrieveResponse r = retrieveProviderStep(ctx.operation, responseCount, cancelled, DimseOperation::Move,
                                              [&] { return firstStep(ctx, request, identifier); });
    if (r.final()) ctx.destination.reset();  // release the sub-association before the final response
    ctx.last = r;
    writeRetrieveResponse(r, response, statusDetail, responseIdentifiers);
}

}  // namespace

OFCondition handleMove(T_ASC_Association* assoc, T_ASC_PresentationContextID presId,
                       T_DIMSE_C_MoveRQ& request, const AssociationInfo& info, const DimseSettings& settings,
                       DimseDependencies& deps, const RequestContext& server) {
    MoveContext ctx{assoc, presId, info, settings, deps, server, std::nullopt, std::nullopt, {}, std::nullopt, {}};
    Stopwatch watch;
    OFCondition cond = DIMSE_moveProvider(assoc, presId, &request, moveCallback, &ctx, DIMSE_BLOCKING,
                                          static_cast<int>(settings.dimseTimeout.count()));
    char status[8];
    std::snprintf(status, sizeof status, "%04X", ctx.last.status);
    OFLOG_INFO(moveLogger, "C-MOVE from " << info.callingAet << " done: status " << status << ", completed "
                                          << ctx.last.counts.completed << ", failed "
                                          << ctx.last.counts.failed << ", warning "
                                          << ctx.last.counts.warning);
    observeRetrieve(deps, info, "C-MOVE", ctx.request ? &*ctx.request : nullptr, ctx.destinationAet, ctx.last.status,
                    ctx.last.counts, ctx.last.errorComment.empty() && cond.bad() ? cond.text() : ctx.last.errorComment,
                    watch.seconds());
    return cond;
}

}  // namespace bridge::dimse
