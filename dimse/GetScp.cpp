#include "dimse/GetScp.h"

#include <dcmtk/oflog/oflog.h>

#include <optional>

#include "bridge/common/Error.h"
#include "bridge/common/Logging.h"
#include "dimse/AssociationSocket.h"
#include "dimse/CStoreSender.h"
#include "bridge/common/MetricsRegistry.h"
#include "dimse/DimseObservation.h"
#include "dimse/RetrieveOperation.h"
#include "dimse/RetrieveProviderStep.h"
#include "dimse/RetrieveResponseWriter.h"

namespace bridge::dimse {
namespace {

OFLogger getLogger = OFLog::getLogger("bridge.dimse.get");

/// C-STORE over the requester's association (no Move Originator on C-GET sub-operations).
class RequesterStoreTarget : public StoreTarget {
public:
    RequesterStoreTarget(T_ASC_Association* assoc, int timeout) : assoc_(assoc), timeout_(timeout) {}
    Result store(const DicomInstance& instance) override {
        bool lost = false;
        Result r = sendCStore(assoc_, instance, std::nullopt, timeout_, &lost);
        if (lost) {
            broken_ = true;
            reason_ = r.reason;
        }
        return r;
    }
    bool broken() const override { return broken_; }
    std::string brokenReason() const override { return reason_; }

private:
    T_ASC_Association* assoc_;
    int timeout_;
    bool broken_ = false;
    std::string reason_;
};

struct GetContext {
    T_ASC_Association* assoc;
    T_ASC_PresentationContextID presId;
    const AssociationInfo& info;
    const DimseSettings& settings;
    DimseDependencies& deps;
    const RequestContext& server;
    RequesterStoreTarget target;
    std::optional<RetrieveOperation> operation;
    RetrieveResponse last;
    std::optional<RetrieveRequest> request;  ///< once the identifier was read
    std::string destinationAet;
};

RetrieveResponse firstStep(GetContext& ctx, T_DIMSE_C_GetRQ* request, DcmDataset* identifier) {
    RetrieveResponse failure;
    // One context for the whole operation: scope resolution, planning and the download.
    const RequestContext context = ctx.server.child(currentLogContext(), "AE " + ctx.info.callingAet);
    auto retrieve = readRetrieveRequest(request->AffectedSOPClassUID, identifier, ctx.info, ctx.deps, context,
                                        "bad C-GET request", failure);
    if (!retrieve) return failure;
    ctx.request = *retrieve;
    // No C-CANCEL polling here while waiting: on the requester's association the next message
    // could also be a late C-STORE-RSP; DIMSE_getProvider checks C-CANCEL between responses.
    ctx.operation.emplace(*ctx.deps.retrieve,
                          std::chrono::duration_cast<std::chrono::milliseconds>(ctx.settings.pendingInterval),
                          nullptr, context);
    OFLOG_INFO(getLogger, "C-GET from " << ctx.info.callingAet << " level " << toString(retrieve->level));
    RetrieveResponse first = ctx.operation->begin(*retrieve, ctx.target);
    if (!first.final()) observeRetrieveBegin(ctx.deps, ctx.info, *retrieve, ctx.info.callingAet, first.counts.planned);
    return first;
}

void getCallback(void* data, OFBool cancelled, T_DIMSE_C_GetRQ* request, DcmDataset* identifier,
                 int responseCount, T_DIMSE_C_GetRSP* response, DcmDataset** statusDetail,
                 DcmDataset** responseIdentifiers) {
    auto& ctx = *static_cast<GetContext*>(data);
    RetrieveResponse r = retrieveProviderStep(ctx.operation, responseCount, cancelled, DimseOperation::Get,
                                              [&] { return firstStep(ctx, request, identifier); });
    ctx.last = r;
    writeRetrieveResponse(r, response, statusDetail, responseIdentifiers);
}

}  // namespace

OFCondition handleGet(T_ASC_Association* assoc, T_ASC_PresentationContextID presId, T_DIMSE_C_GetRQ& request,
                      const AssociationInfo& info, const DimseSettings& settings, DimseDependencies& deps,
                      const RequestContext& server) {
    GetContext ctx{assoc,
                   presId,
                   info,
                   settings,
                   deps,
                   server,
                   RequesterStoreTarget(assoc, static_cast<int>(settings.dimseTimeout.count())),
                   std::nullopt,
                   {},
                   std::nullopt,
                   {}};
    // A requester that stopped reading (or answering its C-STORE-RSPs) does not hold stop().
    const ShutdownOnStop onStop(assoc, server.stopToken());
    Stopwatch watch;
    OFCondition cond = DIMSE_getProvider(assoc, presId, &request, getCallback, &ctx, DIMSE_BLOCKING,
                                         static_cast<int>(settings.dimseTimeout.count()));
    char status[8];
    std::snprintf(status, sizeof status, "%04X", ctx.last.status);
    OFLOG_INFO(getLogger, "C-GET from " << info.callingAet << " done: status " << status << ", completed "
                                        << ctx.last.counts.completed << ", failed "
                                        << ctx.last.counts.failed);
    observeRetrieve(deps, info, "C-GET", ctx.request ? &*ctx.request : nullptr, info.callingAet, ctx.last.status,
                    ctx.last.counts, ctx.last.errorComment.empty() && cond.bad() ? cond.text() : ctx.last.errorComment,
                    watch.seconds());
    return cond;
}

}  // namespace bridge::dimse
