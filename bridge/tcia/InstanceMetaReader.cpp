#include "bridge/tcia/InstanceMetaReader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstring>

#include "bridge/tcia/Part10Scan.h"

namespace bridge::tcia {

namespace {

std::string getString(DcmItem& item, const DcmTagKey& tag) {
    OFString value;
    if (item.findAndGetOFString(tag, value).good()) return std::string(value.c_str());
    return {};
}

}  // namespace

std::optional<InstanceUids> InstanceMetaReader::read(const std::uint8_t* data, std::size_t size) {
    if (!data || size < 8) return std::nullopt;
    // The meta group by the walk (no DCMTK objects, no dictionary lock), when it reads it.
    if (auto meta = scanPart10(data, size, {}, /*metaOnly=*/true); meta && !meta->mediaSopInstanceUid.empty())
        return InstanceUids{std::move(meta->mediaSopInstanceUid), std::move(meta->mediaSopClassUid),
                            std::move(meta->transferSyntaxUid)};
    const bool partTen = size >= 132 && std::memcmp(data + 128, "DICM", 4) == 0;
    DcmInputBufferStream in;
    in.setBuffer(data, static_cast<offile_off_t>(size));
    in.setEos();
    DcmFileFormat file;
    file.transferInit();
    OFCondition cond;
    if (partTen) {
        // Part-10 file (PS3.10 7.1): read only the preamble, "DICM" and group 0002.
        file.setReadMode(ERM_metaOnly);
        cond = file.read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    } else {
        // A raw dataset: read up to (0008,0019), so the pixel data is never parsed.
        cond = file.readUntilTag(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, DcmTagKey(0x0008, 0x0019));
    }
    file.transferEnd();
    if (cond.bad() && cond != EC_StreamNotifyClient) return std::nullopt;
    InstanceUids uids;
    DcmMetaInfo* meta = file.getMetaInfo();
    DcmDataset* dataset = file.getDataset();
    if (meta) {
        uids.sopInstanceUid = getString(*meta, DCM_MediaStorageSOPInstanceUID);
        uids.sopClassUid = getString(*meta, DCM_MediaStorageSOPClassUID);
        uids.transferSyntaxUid = getString(*meta, DCM_TransferSyntaxUID);
    }
    if (dataset) {
        if (uids.sopInstanceUid.empty()) uids.sopInstanceUid = getString(*dataset, DCM_SOPInstanceUID);
        if (uids.sopClassUid.empty()) uids.sopClassUid = getString(*dataset, DCM_SOPClassUID);
    }
    if (uids.sopInstanceUid.empty()) return std::nullopt;
    return uids;
}

}  // namespace bridge::tcia
