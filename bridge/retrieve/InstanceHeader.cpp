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

DicomRecord readInstanceHeader(const std::uint8_t* data, std::size_t size) {
    DcmInputBufferStream in;
    in.setBuffer(data, static_cast<offile_off_t>(size));
    in.setEos();
    DcmFileFormat file;
    file.transferInit();
    // A full parse: readUntilTag(DCM_PixelData) would skip copying the pixels but logs a warning
    // per instance; a memcpy of the pixel data is cheap next to the download.
    OFCondition status = file.read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    file.transferEnd();
    if (status.bad())
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          std::string("not a DICOM instance: ") + status.text());

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

}  // namespace bridge
