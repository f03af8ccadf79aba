#include "web/InstanceCodec.h"

#include "bridge/common/Error.h"
#include "bridge/retrieve/Part10Dataset.h"
#include "web/AcceptParser.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>


namespace bridge::web {

std::unique_ptr<DcmFileFormat> parseInstance(const std::vector<std::uint8_t>& bytes) {
    return parsePart10(bytes.data(), bytes.size(), "(" + std::to_string(bytes.size()) + " bytes)");
}

std::string transferSyntaxOf(DcmFileFormat& file) {
    DcmXfer xfer(file.getDataset()->getCurrentXfer());
    return xfer.getXferID();
}

std::vector<std::uint8_t> transcodeInstance(const std::vector<std::uint8_t>& bytes, const std::string& transferSyntaxUid) {
    auto file = parseInstance(bytes);
    DcmXfer target(transferSyntaxUid.c_str());
    if (target.getXfer() == EXS_Unknown || target.isEncapsulated())
        throw BridgeError(ErrorCode::NotAcceptable, "cannot transcode to transfer syntax " + transferSyntaxUid);
    DcmDataset* ds = file->getDataset();
    if (ds->chooseRepresentation(target.getXfer(), nullptr).bad() || !ds->canWriteXfer(target.getXfer()))
        throw BridgeError(ErrorCode::NotAcceptable,
                          "cannot convert " + transferSyntaxOf(*file) + " to " + transferSyntaxUid + " (no codec)");
    ds->removeAllButCurrentRepresentations();
    // Size the buffer generously; DcmOutputBufferStream fails rather than grows.
    std::vector<std::uint8_t> out(file->calcElementLength(target.getXfer(), EET_ExplicitLength) + 4096);
    DcmOutputBufferStream stream(out.data(), static_cast<offile_off_t>(out.size()));
    file->transferInit();
    OFCondition cond = file->write(stream, target.getXfer(), EET_ExplicitLength, nullptr, EGL_recalcGL, EPD_withoutPadding);
    file->transferEnd();
    if (cond.bad()) throw BridgeError(ErrorCode::Internal, std::string("cannot write transcoded instance: ") + cond.text());
    void* buffer = nullptr;
    offile_off_t length = 0;
    stream.flushBuffer(buffer, length);
    out.resize(static_cast<std::size_t>(length));
    return out;
}

int frameCount(DcmFileFormat& file) {
    DcmDataset* ds = file.getDataset();
    if (!ds->tagExists(DCM_PixelData)) return 0;
    Sint32 frames = 1;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
    return frames;
}

FrameData uncompressedFrame(DcmFileFormat& file, int frameNumber) {
    registerDicomDecoders();
    DcmDataset* ds = file.getDataset();
    DcmElement* element = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr)
        throw BridgeError(ErrorCode::NotFound, "instance has no pixel data");
    const int frames = frameCount(file);
    if (frameNumber < 1 || frameNumber > frames)
        throw BridgeError(ErrorCode::NotFound, "frame " + std::to_string(frameNumber) + " out of range 1.." + std::to_string(frames));
    auto* pixel = static_cast<DcmPixelData*>(element);
    Uint32 frameSize = 0;
    if (pixel->getUncompressedFrameSize(ds, frameSize).bad() || frameSize == 0)
        throw BridgeError(ErrorCode::UpstreamBadResponse, "cannot compute the frame size (image pixel module incomplete)");
    FrameData out;
    out.bytes.resize(frameSize);
    Uint32 startFragment = 0;
    OFString colorModel;
    // DICOM frame numbers are 1-based (PS3.18 8.7.3.3.2); DCMTK's are 0-based.
    OFCondition cond = pixel->getUncompressedFrame(ds, static_cast<Uint32>(frameNumber - 1), startFragment, out.bytes.data(),
                                                   frameSize, colorModel);
    if (cond.bad())
        throw BridgeError(ErrorCode::NotAcceptable, std::string("cannot decompress frame: ") + cond.text());
    // An odd frame size is padded to even by DCMTK's buffer; the frame itself is exactly the size.
    out.mediaType = "application/octet-stream";
    out.transferSyntax = kExplicitVrLittleEndian;
    return out;
}

std::unique_ptr<FrameData> compressedFrame(DcmFileFormat& file, int frameNumber) {
    DcmDataset* ds = file.getDataset();
    DcmXfer xfer(ds->getCurrentXfer());
    if (!xfer.isEncapsulated()) return nullptr;
    DcmElement* element = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) return nullptr;
    auto* pixel = static_cast<DcmPixelData*>(element);
    DcmPixelSequence* sequence = nullptr;
    if (pixel->getEncapsulatedRepresentation(xfer.getXfer(), nullptr, sequence).bad() || sequence == nullptr) return nullptr;
    const int frames = frameCount(file);
    const unsigned long fragments = sequence->card() > 0 ? sequence->card() - 1 : 0;  // item 0: offset table
    if (frameNumber < 1 || frameNumber > frames || fragments == 0) return nullptr;
    auto out = std::make_unique<FrameData>();
    auto append = [&](unsigned long index) {
        DcmPixelItem* item = nullptr;
        if (sequence->getItem(item, index).bad() || item == nullptr) return false;
        Uint8* data = nullptr;
        if (item->getUint8Array(data).bad()) return false;
        out->bytes.insert(out->bytes.end(), data, data + item->getLength());
        return true;
    };
    if (frames == 1) {
        for (unsigned long i = 1; i <= fragments; ++i)
            if (!append(i)) return nullptr;
    } else if (fragments == static_cast<unsigned long>(frames)) {
        if (!append(static_cast<unsigned long>(frameNumber))) return nullptr;
    } else {
        return nullptr;  // fragments span frames: let the caller decompress instead
    }
    out->transferSyntax = xfer.getXferID();
    out->mediaType = mediaTypeForTransferSyntax(out->transferSyntax);
    if (out->mediaType.empty()) out->mediaType = "application/octet-stream";
    return out;
}

std::vector<std::uint8_t> bulkDataValue(DcmFileFormat& file, const DcmTagKey& tag) {
    DcmDataset* ds = file.getDataset();
    if (tag == DCM_PixelData) {
        const int frames = frameCount(file);
        if (frames == 0) throw BridgeError(ErrorCode::NotFound, "instance has no pixel data");
        std::vector<std::uint8_t> all;
        for (int f = 1; f <= frames; ++f) {
            auto frame = uncompressedFrame(file, f);
            all.insert(all.end(), frame.bytes.begin(), frame.bytes.end());
        }
        return all;
    }
    DcmElement* element = nullptr;
    if (ds->findAndGetElement(tag, element).bad() || element == nullptr)
        throw BridgeError(ErrorCode::NotFound, "attribute not present in the instance");
    Uint8* data = nullptr;
    if (element->getUint8Array(data).bad() || data == nullptr) {
        // Not a byte array (OW and friends): the 16-bit words in host (little-endian) order.
        Uint16* words = nullptr;
        if (element->getUint16Array(words).bad() || words == nullptr)
            throw BridgeError(ErrorCode::InvalidArgument, "attribute is not bulk data");
        auto* bytes = reinterpret_cast<std::uint8_t*>(words);
        return std::vector<std::uint8_t>(bytes, bytes + element->getLength());
    }
    return std::vector<std::uint8_t>(data, data + element->getLength());
}

}  // namespace bridge::web
