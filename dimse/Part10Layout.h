#pragma once
// Where the dataset of a DICOM Part-10 file starts, found without a DCMTK parse (PS3.10 7.1):
// a 128-byte preamble, "DICM", then the File Meta Information -- group 0002 elements, always
// Explicit VR Little Endian -- and then the dataset, encoded in the meta header's Transfer
// Syntax UID (0002,0010). The C-STORE sender uses it to send a cached file's dataset bytes as
// they are when the destination accepted that syntax (the meta header is never sent, PS3.7 8.2).
// Pure; never throws.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace bridge::dimse {

/// The dataset part of a Part-10 buffer.
struct Part10Layout {
    std::size_t datasetOffset = 0;  ///< first byte after the last group 0002 element
    std::string transferSyntaxUid;  ///< (0002,0010), trailing NUL/space padding removed
};

/// nullopt when the buffer is not a well-formed Part-10 file: no preamble + "DICM", a meta
/// element running past the end, no (0002,0010), or no dataset byte after the meta header.
std::optional<Part10Layout> locatePart10Dataset(const std::uint8_t* data, std::size_t size);

}  // namespace bridge::dimse
