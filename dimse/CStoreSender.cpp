#include "dimse/CStoreSender.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmnet/dimse.h>

#include <mutex>

#include "bridge/common/Error.h"

namespace bridge::dimse {

void registerDecoders() {
    static std::once_flag once;
    std::call_once(once, [] {
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

std::unique_ptr<DcmFileFormat> loadInstance(const DicomInstance& instance) {
    if (!instance.bytes || instance.bytes->empty())
        throw BridgeError(ErrorCode::UpstreamBadResponse, "empty instance " + instance.sopInstanceUid);
    auto file = std::make_unique<DcmFileFormat>();
    DcmInputBufferStream in;
    in.setBuffer(instance.bytes->data(), static_cast<offile_off_t>(instance.bytes->size()));
    in.setEos();
    file->transferInit();
    OFCondition cond = file->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    file->transferEnd();
    if (cond.bad())
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "unreadable instance " + instance.sopInstanceUid + ": " + cond.text());
    file->loadAllDataIntoMemory();
    return file;
}

StoreTarget::Result sendCStore(T_ASC_Association* assoc, const DicomInstance& instance,
                               const std::optional<MoveOriginator>& originator, int dimseTimeoutSeconds,
                               bool* associationLost) {
    StoreTarget::Result result;
    std::unique_ptr<DcmFileFormat> file;
    try {
        file = loadInstance(instance);
    } catch (const std::exception& e) {
        result.reason = e.what();
        return result;
    }
    DcmDataset* dataset = file->getDataset();
    std::string sopClass = instance.sopClassUid;
    std::string sopInstance = instance.sopInstanceUid;
    OFString value;
    if (sopClass.empty() && dataset->findAndGetOFString(DCM_SOPClassUID, value).good())
        sopClass = value.c_str();
    if (sopInstance.empty() && dataset->findAndGetOFString(DCM_SOPInstanceUID, value).good())
        sopInstance = value.c_str();
    E_TransferSyntax original = dataset->getOriginalXfer();
    std::string originalTs =
        instance.transferSyntaxUid.empty() ? DcmXfer(original).getXferID() : instance.transferSyntaxUid;

    T_ASC_PresentationContextID presId =
        ASC_findAcceptedPresentationContextID(assoc, sopClass.c_str(), originalTs.c_str());
    if (presId == 0) presId = ASC_findAcceptedPresentationContextID(assoc, sopClass.c_str());
    if (presId == 0) {
        result.reason = "no accepted presentation context for SOP class " + sopClass;
        return result;
    }
    T_ASC_PresentationContext pc;
    ASC_findAcceptedPresentationContext(assoc->params, presId, &pc);
    E_TransferSyntax target = DcmXfer(pc.acceptedTransferSyntax).getXfer();
    if (!dataset->canWriteXfer(target, original)) {
        // The peer refused the original syntax: decode (PS3.5 A.4 encapsulated -> native).
        dataset->chooseRepresentation(target, nullptr);
        if (!dataset->canWriteXfer(target)) {
            result.reason = "cannot transcode " + sopInstance + " from " + originalTs + " to " +
                            pc.acceptedTransferSyntax;
            return result;
        }
    }

    T_DIMSE_C_StoreRQ request{};
    request.MessageID = assoc->nextMsgID++;
    OFStandard::strlcpy(request.AffectedSOPClassUID, sopClass.c_str(), sizeof(request.AffectedSOPClassUID));
    OFStandard::strlcpy(request.AffectedSOPInstanceUID, sopInstance.c_str(),
                        sizeof(request.AffectedSOPInstanceUID));
    request.DataSetType = DIMSE_DATASET_PRESENT;
    request.Priority = DIMSE_PRIORITY_MEDIUM;
    if (originator) {
        request.opts = O_STORE_MOVEORIGINATORAETITLE | O_STORE_MOVEORIGINATORID;
        OFStandard::strlcpy(request.MoveOriginatorApplicationEntityTitle, originator->aeTitle.c_str(),
                            sizeof(request.MoveOriginatorApplicationEntityTitle));
        request.MoveOriginatorID = originator->messageId;
    }
    T_DIMSE_C_StoreRSP response{};
    DcmDataset* statusDetail = nullptr;
    OFCondition cond =
        DIMSE_storeUser(assoc, presId, &request, nullptr, dataset, nullptr, nullptr, DIMSE_BLOCKING,
                        dimseTimeoutSeconds, &response, &statusDetail, nullptr, 0);
    delete statusDetail;
    if (cond.bad()) {
        if (associationLost) *associationLost = true;
        result.reason = std::string("C-STORE failed: ") + cond.text();
        return result;
    }
    const Uint16 status = response.DimseStatus;
    if (status == STATUS_Success) {
        result.outcome = StoreTarget::Outcome::Success;
    } else if ((status & 0xF000) == 0xB000) {  // PS3.4 B.2.3: B000, B006, B007 are warnings
        result.outcome = StoreTarget::Outcome::Warning;
        result.reason = "C-STORE warning status";
    } else {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%04X", status);
        result.reason = std::string("C-STORE refused with status ") + buf;
    }
    return result;
}

}  // namespace bridge::dimse
