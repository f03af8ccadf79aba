#pragma once
// A walk over a DICOM Part-10 file held in memory that reads a few top-level attributes without
// DCMTK (issue 12: DCMTK's parse of each cached instance's header -- one DcmElement per element,
// a dictionary lookup under a global lock -- was ~6% of a cold C-MOVE's CPU). It handles what
// TCIA and IDC serve: a "DICM" file meta group, then the dataset in Implicit or Explicit VR
// Little Endian (the encapsulated syntaxes included: their dataset is Explicit VR Little Endian),
// sequences of defined and undefined length skipped. Anything else -- no meta group, Big Endian,
// Deflate, a private transfer syntax, a VR it does not expect on a wanted tag, a truncated
// element -- is "not handled" (nullopt), and the caller asks DCMTK, which then decides. The
// values come out as DCMTK's findAndGetOFStringArray() gives them (normalized). Pure;
// thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bridge::tcia {

/// One attribute to read: its tag (group << 16 | element) and the VR it must carry in an
/// Explicit VR file ("UI", "IS", "DS", "DA", "TM", "CS", "LO", "SH" or "US").
struct Part10Wanted {
    std::uint32_t tag;
    char vr[3];
};

struct Part10Header {
    std::string transferSyntaxUid;    ///< (0002,0010)
    std::string mediaSopClassUid;     ///< (0002,0002)
    std::string mediaSopInstanceUid;  ///< (0002,0003)
    /// The wanted attributes present in the dataset, in file order (a zero-length one as "").
    std::vector<std::pair<std::uint32_t, std::string>> values;
};

/// Reads the file meta group and, unless `metaOnly`, the dataset's `wanted` attributes (sorted
/// by tag) up to the first element beyond the last of them (Pixel Data is never reached for the
/// usual header tags). nullopt when the file is not one this walk handles (see above).
std::optional<Part10Header> scanPart10(const std::uint8_t* data, std::size_t size,
                                       const std::vector<Part10Wanted>& wanted, bool metaOnly = false);

}  // namespace bridge::tcia
