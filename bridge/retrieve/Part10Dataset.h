#pragma once
// DCMTK's full parse of one Part-10 instance held in memory, and the decoders it may need: the
// one place both faces (WADO-RS rendering and frames, C-STORE transcoding) read a whole dataset.
// Headers alone are read without DCMTK (tcia::scanPart10, retrieve/InstanceHeader).

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace bridge {

/// Registers DCMTK's JPEG, JPEG-LS and RLE decoders, once per process (thread-safe).
void registerDicomDecoders();

/// Parses `size` bytes of a Part-10 file (or a bare dataset) and loads every value into memory:
/// nothing refers to `data` afterwards. Registers the decoders first. Throws
/// BridgeError(UpstreamBadResponse) naming `what` (e.g. the SOP Instance UID) when DCMTK cannot
/// read it.
std::unique_ptr<DcmFileFormat> parsePart10(const std::uint8_t* data, std::size_t size, const std::string& what);

}  // namespace bridge
