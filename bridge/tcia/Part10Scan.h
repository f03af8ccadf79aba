#pragma once
// A walk over a DICOM Part-10 file held in memory that reads a few top-level attributes without
// DCMTK (issue 12: DCMTK's parse of each cached instance's header -- one DcmElement per element,
// a dictionary lookup under a global lock -- was ~6% of a cold C-MOVE's CPU). It handles what
// TCIA and IDC serve: a "DICM" file meta group, then the dataset in Implicit or Explicit VR
// Little Endian (the encapsulated syntaxes included: their dataset is Explicit VR Little Endian)
// up to Pixel Data, sequences of defined and undefined length walked item by item. Whatever
// DCMTK would read differently is declined (nullopt) and the caller asks DCMTK, which decides:
// no meta group, Big Endian, Deflate (JPIP Referenced Deflate too), a private transfer syntax, a
// meta group that does not end at its (0002,0000) length, tags out of order or repeated, an item
// or delimiter outside a sequence, an item running past its defined-length sequence, OB/UT/...
// of undefined length, an odd-length string, a wanted tag with another VR, a truncated element.
// The values come out as DCMTK's findAndGetOFStringArray() gives them with its default input
// correction, cut at a NUL as the bridge stores them. Pure; thread-safe. Tests compare it with
// DCMTK's full read (tests/unit/retrieve/InstanceHeaderScanTest.cpp).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bridge::tcia {

/// One attribute to read: its tag (group << 16 | element) and the VR it must carry in an
/// Explicit VR file, one for which part10ReadsVr() is true.
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

/// True for the VRs whose DCMTK string form the walk reproduces (and its tests compare): UI, IS,
/// DA, TM, CS and US.
bool part10ReadsVr(const std::string& vr);

/// Reads the file meta group and, unless `metaOnly`, the dataset's `wanted` attributes (sorted
/// by tag); the elements up to Pixel Data are walked (their values skipped), Pixel Data's value
/// is never touched. nullopt when the file is not one this walk handles (see above).
std::optional<Part10Header> scanPart10(const std::uint8_t* data, std::size_t size,
                                       const std::vector<Part10Wanted>& wanted, bool metaOnly = false);

}  // namespace bridge::tcia
