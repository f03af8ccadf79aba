#pragma once
// Reads the identifying UIDs of a DICOM Part-10 file held in memory, looking only at the file meta
// information group (PS3.10 7.1: 128-byte preamble, "DICM", group 0002) -- the pixel data is never
// parsed. The meta group is read by scanPart10 (no DCMTK); a meta group it cannot read, or one
// without (0002,0003), goes to DCMTK, and files without a meta header (raw datasets) fall back to
// reading the dataset's (0008,0016)/(0008,0018) with DCMTK, stopping before the pixel data. Pure;
// thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace bridge::tcia {

struct InstanceUids {
    std::string sopInstanceUid;
    std::string sopClassUid;
    std::string transferSyntaxUid;  ///< empty when the file had no meta header
};

class InstanceMetaReader {
public:
    /// nullopt when the bytes are not DICOM or carry no SOP Instance UID.
    static std::optional<InstanceUids> read(const std::uint8_t* data, std::size_t size);
};

}  // namespace bridge::tcia
