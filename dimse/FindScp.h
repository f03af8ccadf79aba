#pragma once
// C-FIND SCP for one request (PS3.4 C.4.1): identifier -> Query -> QueryService cursor; one
// Pending per match AS THE CURSOR YIELDS IT (not collected first, unlike Orthanc), C-CANCEL
// checked by DIMSE_findProvider between matches -> FE00, and also WHILE the core waits on TCIA:
// scope, find() and next() run on a PeerWatchedWorker while the association thread poll()s the
// association socket; a C-CANCEL (or abort) cancels the request context at once -> FE00 (issue 11).
// Final status: 0000; A700 with
// ErrorComment when the core's result cap truncated the answer; the mapped failure status
// (A900 bad identifier, C001 TCIA down...) with ErrorComment otherwise. Blocking; runs on the
// association's thread.
// With DimseDependencies::findCache and ::generation set, a query at PATIENT/STUDY/SERIES level
// whose complete answer is cached under the current generation (bridge/query/FindAnswerCache.h)
// is replayed from the cache without asking the core; a miss streams as above and, when the
// answer was complete (Success: not truncated, not partial, not cancelled), stores it.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dimse.h>

#include "bridge/common/Config.h"
#include "bridge/common/RequestContext.h"
#include "dimse/DimseDependencies.h"

namespace bridge::dimse {

OFCondition handleFind(T_ASC_Association* assoc, T_ASC_PresentationContextID presId,
                       T_DIMSE_C_FindRQ& request, const AssociationInfo& info, const DimseSettings& settings,
                       DimseDependencies& deps, const RequestContext& server);

}  // namespace bridge::dimse
