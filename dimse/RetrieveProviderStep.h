#pragma once
// The parts of a DIMSE C-MOVE / C-GET provider callback that are identical for both services:
// reading the identifier into a RetrieveRequest, and turning one callback into one
// RetrieveResponse (begin on the first call, next() afterwards, exceptions mapped to the
// service's failure status). Called on the association's thread; blocking like
// RetrieveOperation itself.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>

#include <functional>
#include <optional>
#include <string>

#include "dimse/DimseDependencies.h"
#include "dimse/DimseStatus.h"
#include "dimse/RetrieveOperation.h"

namespace bridge::dimse {

/// Parses a C-MOVE/C-GET identifier for `sopClassUid` and applies the calling AE's collection
/// scope, resolved under the operation's `context` (throws Cancelled / UpstreamTimeout once it
/// stops). On a missing identifier, an unknown SOP class or an unreadable identifier returns
/// nullopt and sets `failure` to the final response (`badRequestComment` for the first two).
std::optional<RetrieveRequest> readRetrieveRequest(const std::string& sopClassUid, DcmDataset* identifier,
                                                   const AssociationInfo& info, const DimseDependencies& deps,
                                                   const RequestContext& context,
                                                   const std::string& badRequestComment,
                                                   RetrieveResponse& failure);

/// One provider callback: `firstStep` on the first (uncancelled) call, then `operation->next`;
/// a final Cancel if the operation never started. Any exception becomes the final failure
/// response that `service` maps it to (DimseStatus), so DCMTK always gets a response.
RetrieveResponse retrieveProviderStep(std::optional<RetrieveOperation>& operation, int responseCount,
                                      bool cancelled, DimseOperation service,
                                      const std::function<RetrieveResponse()>& firstStep);

}  // namespace bridge::dimse
