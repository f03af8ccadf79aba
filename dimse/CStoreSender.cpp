#include "dimse/CStoreSender.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/dimse.h>

#include <dcmtk/dcmdata/dcostrmb.h>

#include <cstdio>
#include <vector>

#include "bridge/common/Error.h"
#include "bridge/retrieve/Part10Dataset.h"
#include "dimse/AssociationSocket.h"
#include "dimse/PDataWriter.h"
#include "dimse/Part10Layout.h"

namespace bridge::dimse {

std::unique_ptr<DcmFileFormat> loadInstance(const DicomInstance& instance) {
    if (!instance.bytes) throw BridgeError(ErrorCode::UpstreamBadResponse, "empty DICOM instance " + instance.sopInstanceUid);
    return parsePart10(instance.bytes->data(), instance.bytes->size(), instance.sopInstanceUid);
}

namespace {

/// The C-STORE-RQ command set (PS3.7 9.3.1.1), encoded as every command is: Implicit VR Little
/// Endian with its group length (0000,0000). Empty on an encoding failure.
std::vector<std::uint8_t> encodeStoreCommand(const T_DIMSE_C_StoreRQ& request) {
    DcmDataset command;
    command.putAndInsertString(DCM_AffectedSOPClassUID, request.AffectedSOPClassUID);
    command.putAndInsertUint16(DCM_CommandField, DIMSE_C_STORE_RQ);
    command.putAndInsertUint16(DCM_MessageID, request.MessageID);
    command.putAndInsertUint16(DCM_Priority, static_cast<Uint16>(request.Priority));
    command.putAndInsertUint16(DCM_CommandDataSetType, static_cast<Uint16>(DIMSE_DATASET_PRESENT));
    command.putAndInsertString(DCM_AffectedSOPInstanceUID, request.AffectedSOPInstanceUID);
    if (request.opts & O_STORE_MOVEORIGINATORAETITLE)
        command.putAndInsertString(DCM_MoveOriginatorApplicationEntityTitle,
                                   request.MoveOriginatorApplicationEntityTitle);
    if (request.opts & O_STORE_MOVEORIGINATORID)
        command.putAndInsertUint16(DCM_MoveOriginatorMessageID, request.MoveOriginatorID);
    std::vector<std::uint8_t> bytes(4096);  // a C-STORE-RQ is ~200 bytes; UIDs and AE are bounded
    DcmOutputBufferStream out(bytes.data(), static_cast<offile_off_t>(bytes.size()));
    command.transferInit();
    const OFCondition cond = command.write(out, EXS_LittleEndianImplicit, EET_ExplicitLength, nullptr,
                                           EGL_withGL, EPD_withoutPadding);
    command.transferEnd();
    if (cond.bad()) return {};
    void* buffer = nullptr;
    offile_off_t length = 0;
    out.flushBuffer(buffer, length);
    bytes.resize(static_cast<std::size_t>(length));
    return bytes;
}

/// The C-STORE-RSP to `messageId` (DIMSE_storeUser's wait, without its send), its first bytes
/// acknowledged at once: a peer with Nagle on would otherwise stall 40 ms on each response.
OFCondition receiveStoreResponse(T_ASC_Association* assoc, T_ASC_PresentationContextID presId,
                                 std::uint16_t messageId, int timeoutSeconds, T_DIMSE_C_StoreRSP& response) {
    T_DIMSE_Message message{};
    DcmDataset* statusDetail = nullptr;
    T_ASC_PresentationContextID responsePresId = presId;
    // DIMSE_BLOCKING with a timeout waits at most that long for each PDU as well.
    if (awaitPeer(assoc, -1, timeoutSeconds > 0 ? timeoutSeconds * 1000 : -1) == PeerWait::TimedOut)
        return makeOFCondition(OFM_dcmnet, DIMSEC_NODATAAVAILABLE, OF_error, "DIMSE: no C-STORE-RSP within the timeout");
    OFCondition cond =
        DIMSE_receiveCommand(assoc, DIMSE_BLOCKING, timeoutSeconds, &responsePresId, &message, &statusDetail);
    delete statusDetail;
    if (cond.bad()) return cond;
    if (message.CommandField != DIMSE_C_STORE_RSP)
        return makeOFCondition(OFM_dcmnet, DIMSEC_UNEXPECTEDRESPONSE, OF_error,
                               "DIMSE: unexpected response command field");
    response = message.msg.CStoreRSP;
    if (response.MessageIDBeingRespondedTo != messageId)
        return makeOFCondition(OFM_dcmnet, DIMSEC_UNEXPECTEDRESPONSE, OF_error,
                               "DIMSE: unexpected response message ID");
    return EC_Normal;
}

void fillRequest(T_DIMSE_C_StoreRQ& request, T_ASC_Association* assoc, const std::string& sopClass,
                 const std::string& sopInstance, const std::optional<MoveOriginator>& originator) {
    request = T_DIMSE_C_StoreRQ{};
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
}

StoreTarget::Result resultOf(const OFCondition& cond, const T_DIMSE_C_StoreRSP& response, bool* associationLost) {
    StoreTarget::Result result;
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

}  // namespace

std::optional<StoreTarget::Result> sendStoredDataset(T_ASC_Association* assoc, const DicomInstance& instance,
                                                     const std::optional<MoveOriginator>& originator,
                                                     int dimseTimeoutSeconds, bool* associationLost) {
    if (!instance.bytes || instance.sopClassUid.empty() || instance.sopInstanceUid.empty()) return std::nullopt;
    const auto layout = locatePart10Dataset(instance.bytes->data(), instance.bytes->size());
    // PS3.5 7.1: every element has an even length, so a well-formed dataset does too; an odd
    // one is re-encoded (padded) by DCMTK rather than sent as is.
    if (!layout || (instance.bytes->size() - layout->datasetOffset) % 2 != 0) return std::nullopt;
    // Only a context whose ACCEPTED syntax is the stored one (ASC_findAcceptedPresentationContextID
    // falls back to any context of the class, which would need a transcode).
    const T_ASC_PresentationContextID presId = ASC_findAcceptedPresentationContextID(
        assoc, instance.sopClassUid.c_str(), layout->transferSyntaxUid.c_str());
    if (presId == 0) return std::nullopt;
    T_ASC_PresentationContext pc;
    if (ASC_findAcceptedPresentationContext(assoc->params, presId, &pc).bad() ||
        layout->transferSyntaxUid != pc.acceptedTransferSyntax)
        return std::nullopt;

    T_DIMSE_C_StoreRQ request;
    fillRequest(request, assoc, instance.sopClassUid, instance.sopInstanceUid, originator);
    const std::vector<std::uint8_t> command = encodeStoreCommand(request);
    if (command.empty()) return std::nullopt;
    OFCondition cond = writeDimseMessage(
        assoc, presId, command,
        std::span(instance.bytes->data() + layout->datasetOffset, instance.bytes->size() - layout->datasetOffset));
    T_DIMSE_C_StoreRSP response{};
    if (cond.good()) cond = receiveStoreResponse(assoc, presId, request.MessageID, dimseTimeoutSeconds, response);
    return resultOf(cond, response, associationLost);
}

StoreTarget::Result sendCStore(T_ASC_Association* assoc, const DicomInstance& instance,
                               const std::optional<MoveOriginator>& originator, int dimseTimeoutSeconds,
                               bool* associationLost) {
    if (auto sent = sendStoredDataset(assoc, instance, originator, dimseTimeoutSeconds, associationLost))
        return *sent;
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

    T_DIMSE_C_StoreRQ request;
    fillRequest(request, assoc, sopClass, sopInstance, originator);
    T_DIMSE_C_StoreRSP response{};
    T_DIMSE_Message message{};
    message.CommandField = DIMSE_C_STORE_RQ;
    message.msg.CStoreRQ = request;
    OFCondition cond =
        DIMSE_sendMessageUsingMemoryData(assoc, presId, &message, nullptr, dataset, nullptr, nullptr);
    if (cond.good()) cond = receiveStoreResponse(assoc, presId, request.MessageID, dimseTimeoutSeconds, response);
    return resultOf(cond, response, associationLost);
}

}  // namespace bridge::dimse
