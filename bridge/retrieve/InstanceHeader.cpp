#include "bridge/retrieve/InstanceHeader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include "bridge/common/Error.h"

namespace bridge {

const std::vector<DcmTagKey>& instanceHeaderTags() {
    static const std::vector<DcmTagKey> tags{DCM_SOPClassUID,
                                             DCM_SOPInstanceUID,
                                             DCM_StudyInstanceUID,
                                             DCM_SeriesInstanceUID,
                                             DCM_InstanceNumber,
                                             DCM_AcquisitionNumber,
                                             DCM_ContentDate,
                                             DCM_ContentTime,
                                             DCM_ImageType,
                                             DCM_Rows,
                                             DCM_Columns,
                                             DCM_NumberOfFrames,
                                             DCM_BitsAllocated,
                                             DCM_SamplesPerPixel,
                                             DCM_PhotometricInterpretation};
    return tags;
}

namespace {

DicomRecord attributesOf(DcmFileFormat& file) {
    DicomRecord record;
    DcmDataset* dataset = file.getDataset();
    for (const DcmTagKey& tag : instanceHeaderTags()) {
        OFString value;
        if (dataset->findAndGetOFStringArray(tag, value).good()) record.set(tag, value.c_str());
    }
    OFString transferSyntax;
    if (file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, transferSyntax).good())
        record.set(DCM_TransferSyntaxUID, transferSyntax.c_str());
    if (!record.has(DCM_SOPInstanceUID))
        throw BridgeError(ErrorCode::UpstreamBadResponse, "DICOM instance without SOPInstanceUID");
    return record;
}

/// The highest tag of instanceHeaderTags(): once an element beyond it was reached, every
/// attribute the sidecar wants has been read whole.
DcmTagKey lastHeaderTag() {
    DcmTagKey last(0, 0);
    for (const DcmTagKey& tag : instanceHeaderTags())
        if (last < tag) last = tag;
    return last;
}

}  // namespace

DicomRecord readInstanceHeader(const std::uint8_t* data, std::size_t size) {
    DcmInputBufferStream in;
    in.setBuffer(data, static_cast<offile_off_t>(size));
    in.setEos();
    DcmFileFormat file;
    file.transferInit();
    // A full parse, which also proves the whole file is well formed (peekInstanceHeader does not).
    OFCondition status = file.read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    file.transferEnd();
    if (status.bad())
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          std::string("not a DICOM instance: ") + status.text());
    return attributesOf(file);
}

DicomRecord peekInstanceHeader(const std::uint8_t* data, std::size_t size) {
    // DCMTK's suspendable read (the one DIMSE uses for PDVs): given a prefix without end-of-stream
    // it parses every element that is whole and returns EC_StreamNotifyClient. Elements are read
    // in order, so when the last one reached lies beyond lastHeaderTag() (Pixel Data, typically),
    // the wanted attributes before it are complete. readUntilTag(DCM_PixelData) would do the same
    // but logs a warning per instance.
    static const DcmTagKey last = lastHeaderTag();
    constexpr std::size_t kPrefix = 64 * 1024;
    for (std::size_t prefix = kPrefix; prefix < size; prefix *= 4) {
        DcmInputBufferStream in;
        in.setBuffer(data, static_cast<offile_off_t>(prefix));
        DcmFileFormat file;
        file.transferInit();
        const OFCondition status = file.read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
        file.transferEnd();
        if (status.bad() && status != EC_StreamNotifyClient) break;  // the full read below says why
        DcmDataset* dataset = file.getDataset();
        const unsigned long count = dataset ? dataset->card() : 0;
        if (count > 0 && last < dataset->getElement(count - 1)->getTag().getXTag()) return attributesOf(file);
    }
    return readInstanceHeader(data, size);  // small, unusual or damaged: the full parse decides
}

}  // namespace bridge
