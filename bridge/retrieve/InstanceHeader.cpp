#include "bridge/retrieve/InstanceHeader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dctag.h>

#include <algorithm>

#include "bridge/common/Error.h"
#include "bridge/tcia/Part10Scan.h"

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

std::optional<DicomRecord> scanInstanceHeader(const std::uint8_t* data, std::size_t size) {
    // The wanted tags with their dictionary VRs, sorted; empty (no fast path at all) when one of
    // them has a VR whose DCMTK string form the walk does not reproduce.
    static const std::vector<tcia::Part10Wanted> wanted = [] {
        std::vector<tcia::Part10Wanted> out;
        for (const DcmTagKey& key : instanceHeaderTags()) {
            const std::string vr = DcmTag(key).getVR().getVRName();
            if (!tcia::part10ReadsVr(vr)) return std::vector<tcia::Part10Wanted>{};
            out.push_back({(static_cast<std::uint32_t>(key.getGroup()) << 16) | key.getElement(), {vr[0], vr[1], 0}});
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.tag < b.tag; });
        return out;
    }();
    if (wanted.empty()) return std::nullopt;
    auto scan = tcia::scanPart10(data, size, wanted);
    if (!scan) return std::nullopt;
    DicomRecord record;
    for (auto& [tag, value] : scan->values)
        record.set(DcmTagKey(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF)), std::move(value));
    record.set(DCM_TransferSyntaxUID, scan->transferSyntaxUid);
    if (record.get(DCM_SOPInstanceUID).empty()) return std::nullopt;  // DCMTK decides (and says why)
    return record;
}

DicomRecord peekInstanceHeader(const std::uint8_t* data, std::size_t size) {
    if (auto record = scanInstanceHeader(data, size)) return std::move(*record);
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
