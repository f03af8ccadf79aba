#include "dimse/RetrieveResponseWriter.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <algorithm>

namespace bridge::dimse {
namespace {

DIC_US clampCount(std::size_t n) { return static_cast<DIC_US>(std::min<std::size_t>(n, 0xFFFF)); }

template <typename Rsp>
void fill(const RetrieveResponse& r, Rsp* rsp, DcmDataset** statusDetail, DcmDataset** identifiers) {
    rsp->DimseStatus = r.status;
    rsp->NumberOfRemainingSubOperations = clampCount(r.counts.remaining());
    rsp->NumberOfCompletedSubOperations = clampCount(r.counts.completed);
    rsp->NumberOfFailedSubOperations = clampCount(r.counts.failed);
    rsp->NumberOfWarningSubOperations = clampCount(r.counts.warning);
    *statusDetail = nullptr;
    *identifiers = nullptr;
    if (!r.errorComment.empty()) {
        *statusDetail = new DcmDataset;
        (*statusDetail)->putAndInsertString(DCM_ErrorComment, r.errorComment.c_str());
    }
    if (!r.failedSopInstanceUids.empty()) {
        // PS3.4 C.4.2.1.5: Failed SOP Instance UID List in the response identifier.
        std::string list;
        for (const auto& uid : r.failedSopInstanceUids) {
            if (!list.empty()) list += '\\';
            list += uid;
        }
        *identifiers = new DcmDataset;
        (*identifiers)->putAndInsertString(DCM_FailedSOPInstanceUIDList, list.c_str());
    }
}

}  // namespace

void writeRetrieveResponse(const RetrieveResponse& r, T_DIMSE_C_MoveRSP* rsp, DcmDataset** statusDetail,
                           DcmDataset** identifiers) {
    fill(r, rsp, statusDetail, identifiers);
}

void writeRetrieveResponse(const RetrieveResponse& r, T_DIMSE_C_GetRSP* rsp, DcmDataset** statusDetail,
                           DcmDataset** identifiers) {
    fill(r, rsp, statusDetail, identifiers);
}

}  // namespace bridge::dimse
