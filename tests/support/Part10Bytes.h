#pragma once
// A DCMTK file object written into memory as Part-10 bytes: what the tests that build their own
// instances (header scans, codecs, the retrieve doubles) hand to the code under test.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <cstdint>
#include <vector>

namespace bridge::test {

/// `file` as Part-10 bytes in `xfer` (its meta header made to match), sequences and items with
/// `lengths`. Throws std::runtime_error with DCMTK's reason when it cannot be written.
std::vector<std::uint8_t> part10Bytes(DcmFileFormat& file, E_TransferSyntax xfer,
                                      E_EncodingType lengths = EET_ExplicitLength);

}  // namespace bridge::test
