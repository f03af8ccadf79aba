#include "dimse/FindScp.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/oflog/oflog.h>

#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dul.h>

#include <memory>

#if defined(__linux__)
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

#include "bridge/common/RequestContext.h"
#include "bridge/common/Error.h"
#include "bridge/common/Logging.h"
#include "bridge/common/MetricsRegistry.h"
#include "bridge/query/FindAnswerCache.h"
#include "dimse/AssociationSocket.h"
#include "dimse/DimseObservation.h"
#include "dimse/DimseStatus.h"
#include "dimse/IdentifierTranslator.h"
#include "dimse/PeerWatchedWorker.h"

namespace bridge::dimse {
namespace {

OFLogger findLogger = OFLog::getLogger("bridge.dimse.find");

struct FindContext {
    FindContext(T_ASC_Association* a, const AssociationInfo& i, const DimseSettings& s, DimseDependencies& d)
        : assoc(a), info(i), settings(s), deps(d) {}
    T_ASC_Association* assoc;
    std::unique_ptr<Cork> cork;  ///< engaged while a cached answer is sent
    const AssociationInfo& info;
    const DimseSettings& settings;
    DimseDependencies& deps;
    RequestContext context;
    Query query;
    ResponseLayout layout;  ///< of `query`, computed once
    std::unique_ptr<FindCursor> cursor;
    /// Answer cache (FindAnswerCache.h): on a hit, `cached` is replayed instead of a cursor; on a
    /// miss, `recording` collects the matches as they are sent, stored once the answer turned
    /// out complete under `generation` (read before the search).
    std::shared_ptr<const FindAnswerCache::Records> cached;
    std::size_t cachedNext = 0;
    std::shared_ptr<FindAnswerCache::Records> recording;
    std::size_t recordingBytes = 0;
    std::uint64_t generation = 0;
    std::string cacheKey;
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

// The identifier as a Query of this association, with its scope and response layout.
void prepareQuery(FindContext& ctx, const T_DIMSE_C_FindRQ* request, DcmDataset* identifier, CollectionScope scope) {
    auto model = modelForSopClass(request->AffectedSOPClassUID);
    if (!model) throw BridgeError(ErrorCode::InvalidArgument, "not a Q/R FIND SOP class");
    if (!identifier) throw BridgeError(ErrorCode::InvalidArgument, "no identifier");
    std::vector<std::string> warnings;
    ctx.query = identifierToQuery(*identifier, *model, &warnings);
    for (const auto& w : warnings) OFLOG_WARN(findLogger, "C-FIND from " << ctx.info.callingAet << ": " << w);
    ctx.query.caseSensitivePersonNames = ctx.deps.caseSensitivePersonNames;
    ctx.query.scope = std::move(scope);
    ctx.layout = responseLayout(ctx.query);
}

// True when the cache holds this query under the current generation (ctx.cached is set: replay
// it). Otherwise prepares the recording of the answer. Never blocks. IMAGE level also reads the
// instance cache, which has no generation: never cached.
bool answerFromCache(FindContext& ctx) {
    const auto& deps = ctx.deps;
    if (!deps.findCache || !deps.findCache->enabled() || !deps.generation || ctx.query.level == QueryLevel::Image)
        return false;
    std::optional<std::uint64_t> generation = deps.generation();
    if (!generation) return false;
    ctx.generation = *generation;
    ctx.cacheKey = queryCacheKey(ctx.query);
    ctx.cached = deps.findCache->find(ctx.cacheKey, ctx.generation);
    if (ctx.cached) {
        ctx.cork = std::make_unique<Cork>(ctx.assoc);
        return true;
    }
    ctx.recording = std::make_shared<FindAnswerCache::Records>();
    return false;
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
            // A scope at hand and a cached answer: replayed from this thread, no hand-off (issue
            // 11: the worker round trip was most of a cached C-FIND's latency). Anything that
            // may block -- scope resolution and find() may call TCIA -- runs on the worker,
            // C-CANCEL watched.
            std::optional<CollectionScope> scope;
            if (ctx.deps.memoizedScopeFor) scope = ctx.deps.memoizedScopeFor(ctx.info.callingAet, ctx.info.calledAet);
            else if (!ctx.deps.scopeFor) scope = CollectionScope{};  // no policy: everything
            bool answered = false;
            if (scope) {
                prepareQuery(ctx, request, identifier, std::move(*scope));
                answered = answerFromCache(ctx);
            }
            if (!answered)
                ctx.worker->run([&] {
                    if (!scope) {
                        prepareQuery(ctx, request, identifier,
                                     ctx.deps.scopeFor ? ctx.deps.scopeFor(ctx.info.callingAet, ctx.info.calledAet,
                                                                           ctx.context)
                                                       : CollectionScope{});
                        if (answerFromCache(ctx)) return;
                    }
                    ctx.cursor = ctx.deps.query->find(ctx.query, ctx.context);
                });
            if (ctx.worker->cancelSeen()) {
                response->DimseStatus = STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest;
                return;
            }
        }
        if (ctx.cached) {
            if (ctx.cachedNext < ctx.cached->size()) {
                ++ctx.matches;
                *responseIdentifiers =
                    recordToIdentifier((*ctx.cached)[ctx.cachedNext++], ctx.query, ctx.info.calledAet, ctx.layout)
                        .release();
                response->DimseStatus = STATUS_Pending;
                return;
            }
            response->DimseStatus = STATUS_Success;  // only complete answers are cached
            return;
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
            *responseIdentifiers = recordToIdentifier(*record, ctx.query, ctx.info.calledAet, ctx.layout).release();
            if (ctx.recording) {
                ctx.recordingBytes += FindAnswerCache::estimateBytes(*record);
                if (ctx.recordingBytes > ctx.deps.findCache->maxAnswerBytes())
                    ctx.recording.reset();  // too large to be kept: stop copying
                else
                    ctx.recording->push_back(std::move(*record));
            }
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
        // Complete (not partial, not truncated, not cancelled, not failed): worth keeping.
        if (ctx.recording) ctx.deps.findCache->store(ctx.cacheKey, ctx.generation, std::move(ctx.recording));
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
                       DimseDependencies& deps, const RequestContext& server) {
    FindContext ctx(assoc, info, settings, deps);
    ctx.context = server.child(currentLogContext(), "AE " + info.callingAet);  // stops with the server
    ctx.worker = std::make_unique<PeerWatchedWorker>(assoc, presId, request.MessageID,
                                                     [&ctx] { ctx.context.cancel(); });
    Stopwatch watch;
    OFCondition cond = DIMSE_findProvider(assoc, presId, &request, findCallback, &ctx, DIMSE_BLOCKING,
                                          static_cast<int>(settings.dimseTimeout.count()));
    ctx.cork.reset();  // the final response is out: flush
    OFLOG_INFO(findLogger, "C-FIND " << info.callingAet << "->" << info.calledAet << " level "
                                     << toString(ctx.query.level) << ": " << ctx.matches << " matches");
    if (cond.bad() && ctx.status == STATUS_Pending) ctx.detail = cond.text();  // association lost mid-answer
    observeFind(deps, info, ctx.query, ctx.matches, ctx.status, ctx.detail, watch.seconds());
    return cond;
}

}  // namespace bridge::dimse
