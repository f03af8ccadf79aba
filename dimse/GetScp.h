#pragma once
// C-GET SCP for one request (PS3.4 C.4.3): the same RetrieveOperation as C-MOVE, but the
// C-STORE sub-operations go back over the requester's own association, on the storage
// presentation contexts it proposed with the SCP role. Blocking; the association's thread.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dimse.h>


#include "bridge/common/Config.h"
#include "bridge/common/RequestContext.h"
#include "dimse/DimseDependencies.h"

namespace bridge::dimse {

OFCondition handleGet(T_ASC_Association* assoc, T_ASC_PresentationContextID presId, T_DIMSE_C_GetRQ& request,
                      const AssociationInfo& info, const DimseSettings& settings, DimseDependencies& deps,
                      const RequestContext& server);

}  // namespace bridge::dimse
