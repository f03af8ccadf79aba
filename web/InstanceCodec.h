#pragma once
// DCMTK work on one Part-10 instance held in memory: parse, transcode to explicit VR little
// endian, cut out frames (native or still compressed), read bulk data values. Stateless
// functions; thread-safe (each registers the decoders first: bridge/retrieve/Part10Dataset).
// Blocking CPU work: decompression can take tens of milliseconds per frame.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bridge::web {

/// Parses Part-10 bytes (with or without meta header): parsePart10 of the whole buffer.
/// Throws BridgeError(UpstreamBadResponse).
std::unique_ptr<DcmFileFormat> parseInstance(const std::vector<std::uint8_t>& bytes);

/// The transfer syntax UID the dataset is currently in.
std::string transferSyntaxOf(DcmFileFormat& file);

/// Re-encodes as Part 10 in `transferSyntaxUid` (a native syntax: decompresses if needed).
/// Throws BridgeError(NotAcceptable) when DCMTK cannot convert (unsupported codec).
std::vector<std::uint8_t> transcodeInstance(const std::vector<std::uint8_t>& bytes, const std::string& transferSyntaxUid);

/// One frame's bytes and how to label them.
struct FrameData {
    std::vector<std::uint8_t> bytes;
    std::string mediaType;       ///< "application/octet-stream" or e.g. "image/jls"
    std::string transferSyntax;  ///< UID of the bytes' encoding
};

/// Number of frames (NumberOfFrames, default 1). 0 when there is no pixel data.
int frameCount(DcmFileFormat& file);

/// Frame `frameNumber` (1-based) decompressed to native little endian (PS3.18 8.7.3.3.2:
/// application/octet-stream). Throws BridgeError(NotFound) for a frame out of range,
/// NotAcceptable when the codec is missing.
FrameData uncompressedFrame(DcmFileFormat& file, int frameNumber);

/// Frame `frameNumber` as stored, when the instance is encapsulated and the fragments map to
/// frames unambiguously (one frame, or one fragment per frame). nullopt otherwise.
std::unique_ptr<FrameData> compressedFrame(DcmFileFormat& file, int frameNumber);

/// Raw value bytes of a top-level binary attribute (bulk data). Pixel data comes back
/// uncompressed (all frames concatenated). Throws BridgeError(NotFound) when absent.
std::vector<std::uint8_t> bulkDataValue(DcmFileFormat& file, const DcmTagKey& tag);

}  // namespace bridge::web
