#pragma once
// Copies a RetrieveResponse into DCMTK's C-MOVE-RSP / C-GET-RSP structures (counts, status,
// ErrorComment as status detail, FailedSOPInstanceUIDList (0008,0058) as identifier).

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dimse.h>

#include "dimse/RetrieveOperation.h"

namespace bridge::dimse {

/// Fills counts and status; allocates *statusDetail / *identifiers (DIMSE provider deletes them).
void writeRetrieveResponse(const RetrieveResponse& r, T_DIMSE_C_MoveRSP* rsp, DcmDataset** statusDetail,
                           DcmDataset** identifiers);
void writeRetrieveResponse(const RetrieveResponse& r, T_DIMSE_C_GetRSP* rsp, DcmDataset** statusDetail,
                           DcmDataset** identifiers);

}  // namespace bridge::dimse
