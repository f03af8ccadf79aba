#include "dimse/FindScp.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/oflog/oflog.h>

#include <memory>

#include "bridge/common/RequestContext.h"
#include "bridge/common/Error.h"
#include "bridge/common/Logging.h"
#include "bridge/common/MetricsRegistry.h"
#include "dimse/DimseObservation.h"
#include "dimse/DimseStatus.h"
#include "dimse/IdentifierTranslator.h"
#include "dimse/PeerWatchedWorker.h"

namespace bridge::dimse {
namespace {

OFLogger findLogger = OFLog::getLogger("bridge.dimse.find");

struct FindContext {
    const AssociationInfo& info;
    const DimseSettings& settings;
    DimseDependencies& deps;
    RequestContext context;
    Query query;
    std::unique_ptr<FindCursor> cursor;
    std::size_t matches = 0;
    std::uint16_t status = 0;  ///< of the last response sent
    std::string detail;        ///< ErrorComment of a failure
    /// Runs find()/next() while the association thread watches for a C-CANCEL (issue 11).
    std::unique_ptr<PeerWatchedWorker> worker;
};

DcmDataset* commentDetail(const std::string& message) {
    auto* detail = new DcmDataset;  // deleted by DIMSE_findProvider
    detail->putAndInsertString(DCM_ErrorComment, errorComment(message).c_str());
    return detail;
}

void findCallback(void* data, OFBool cancelled, T_DIMSE_C_FindRQ* request, DcmDataset* identifier,
                  int responseCount, T_DIMSE_C_FindRSP* response, DcmDataset** responseIdentifiers,
                  DcmDataset** statusDetail) {
    auto& ctx = *static_cast<FindContext*>(data);
    struct StatusNote {
        FindContext& c;
        T_DIMSE_C_FindRSP* r;
        ~StatusNote() { c.status = r->DimseStatus; }
    } note{ctx, response};
    *responseIdentifiers = nullptr;
    *statusDetail = nullptr;
    // Never let an exception cross into DCMTK (house rule): everything is caught here.
    try {
        if (cancelled) {
            ctx.context.cancel();
            response->DimseStatus = STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest;
            return;
        }
        if (responseCount == 1) {
            // Scope resolution and find() may call TCIA: on the worker, C-CANCEL watched.
            ctx.worker->run([&] {
                auto model = modelForSopClass(request->AffectedSOPClassUID);
                if (!model) throw BridgeError(ErrorCode::InvalidArgument, "not a Q/R FIND SOP class");
                if (!identifier) throw BridgeError(ErrorCode::InvalidArgument, "no identifier");
                std::vector<std::string> warnings;
                ctx.query = identifierToQuery(*identifier, *model, &warnings);
                for (const auto& w : warnings)
                    OFLOG_WARN(findLogger, "C-FIND from " << ctx.info.callingAet << ": " << w);
                ctx.query.caseSensitivePersonNames = ctx.deps.caseSensitivePersonNames;
                if (ctx.deps.scopeFor)
                    ctx.query.scope = ctx.deps.scopeFor(ctx.info.callingAet, ctx.info.calledAet);
                ctx.cursor = ctx.deps.query->find(ctx.query, ctx.context);
            });
        }
        std::optional<DicomRecord> record;
        ctx.worker->run([&] { record = ctx.cursor->next(); });
        if (ctx.worker->cancelSeen()) {
            // A C-CANCEL (or the peer leaving) while the core waited on TCIA: the search was
            // cancelled; whatever the call returned is dropped.
            response->DimseStatus = STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest;
            return;
        }
        if (record) {
            ++ctx.matches;
            *responseIdentifiers = recordToIdentifier(*record, ctx.query, ctx.info.calledAet).release();
            response->DimseStatus = STATUS_Pending;
            return;
        }
        if (!ctx.cursor->incompleteness().empty()) {
            // Documented choice (dimse/README.md "Partial answers while the catalog is
            // harvested"): like truncation, the matches sent stay valid and the final A700 +
            // ErrorComment says the list is incomplete -- a Success cannot carry a comment
            // (PS3.7 C.4.1.1.4) and C-FIND has no Warning status.
            response->DimseStatus = kStatusFindTruncated;
            *statusDetail = commentDetail(incompleteComment(ctx.cursor->incompleteness()));
            return;
        }
        if (ctx.cursor->truncated()) {
            // Documented choice (README "C-FIND truncation"): the matches sent stay valid, the
            // final A700 tells the user the list is incomplete (CTK #1435, Weasis #392).
            response->DimseStatus = kStatusFindTruncated;
            *statusDetail = commentDetail(truncationComment(ctx.deps.maxResults));
            return;
        }
        response->DimseStatus = STATUS_Success;
    } catch (const std::exception& e) {
        if (ctx.worker->cancelSeen()) {
            response->DimseStatus = STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest;
            return;
        }
        ErrorCode code = classifyException(e);
        response->DimseStatus = failureStatus(code, DimseOperation::Find);
        *statusDetail = commentDetail(e.what());
        ctx.detail = e.what();
        OFLOG_INFO(findLogger, "C-FIND from " << ctx.info.callingAet << " failed: " << e.what());
    } catch (...) {
        response->DimseStatus = failureStatus(ErrorCode::Internal, DimseOperation::Find);
        *statusDetail = commentDetail("internal error");
    }
}

}  // namespace

OFCondition handleFind(T_ASC_Association* assoc, T_ASC_PresentationContextID presId,
                       T_DIMSE_C_FindRQ& request, const AssociationInfo& info, const DimseSettings& settings,
                       DimseDependencies& deps) {
    FindContext ctx{info, settings, deps, RequestContext{currentLogContext(), "AE " + info.callingAet}, Query{}, nullptr, 0, 0, {}, nullptr};
    ctx.worker = std::make_unique<PeerWatchedWorker>(assoc, presId, request.MessageID,
                                                     [&ctx] { ctx.context.cancel(); });
    Stopwatch watch;
    OFCondition cond = DIMSE_findProvider(assoc, presId, &request, findCallback, &ctx, DIMSE_BLOCKING,
                                          static_cast<int>(settings.dimseTimeout.count()));
    OFLOG_INFO(findLogger, "C-FIND " << info.callingAet << "->" << info.calledAet << " level "
                                     << toString(ctx.query.level) << ": " << ctx.matches << " matches");
    if (cond.bad() && ctx.status == STATUS_Pending) ctx.detail = cond.text();  // association lost mid-answer
    observeFind(deps, info, ctx.query, ctx.matches, ctx.status, ctx.detail, watch.seconds());
    return cond;
}

}  // namespace bridge::dimse
