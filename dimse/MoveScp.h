#pragma once
// C-MOVE SCP for one request (PS3.4 C.4.2): destination lookup in DimseSettings::peers
// (unknown -> A801), then RetrieveOperation over a MoveDestination (one association, Move
// Originator AE/ID set on every C-STORE). Blocking; runs on the association's thread.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dimse.h>


#include "bridge/common/Config.h"
#include "bridge/common/RequestContext.h"
#include "dimse/DimseDependencies.h"

namespace bridge::dimse {

OFCondition handleMove(T_ASC_Association* assoc, T_ASC_PresentationContextID presId,
                       T_DIMSE_C_MoveRQ& request, const AssociationInfo& info, const DimseSettings& settings,
                       DimseDependencies& deps, const RequestContext& server);

}  // namespace bridge::dimse
