#pragma once
// The few attributes of one DICOM instance the bridge keeps beside the cached file, so that
// IMAGE-level C-FIND / QIDO instance searches never parse a Part-10 file (see InstanceCache).
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bridge/common/DicomRecord.h"

namespace bridge {

/// The attributes copied from each instance header into the cache's sidecar index
/// (SOPClassUID, SOPInstanceUID, InstanceNumber, Rows, Columns, NumberOfFrames, ...).
const std::vector<DcmTagKey>& instanceHeaderTags();

/// Parses a Part-10 file held in memory, up to (not including) Pixel Data, and returns the
/// instanceHeaderTags() it carries (absent ones are left out) plus the file meta's
/// TransferSyntaxUID under (0002,0010). Throws BridgeError(UpstreamBadResponse) when the bytes
/// are not DICOM.
DicomRecord readInstanceHeader(const std::uint8_t* data, std::size_t size);

/// As readInstanceHeader, but parses only the file's first bytes (up to 64 KiB, more only when
/// the attributes lie beyond them): Pixel Data is neither parsed nor copied (issue 11: ~5-10x
/// cheaper for a 512x512 CT slice). It proves the header is DICOM, NOT that the rest of the file
/// is whole -- for bytes whose integrity the caller knows otherwise (their MD5). Throws
/// BridgeError(UpstreamBadResponse) when the header is not DICOM.
/// Tries scanInstanceHeader() first, then DCMTK.
DicomRecord peekInstanceHeader(const std::uint8_t* data, std::size_t size);

/// The same record as readInstanceHeader() without DCMTK (tcia::scanPart10), for the files that
/// walk handles -- TCIA's and IDC's usual ones; nullopt for any other (and for one without a
/// SOP Instance UID), which DCMTK must then read.
std::optional<DicomRecord> scanInstanceHeader(const std::uint8_t* data, std::size_t size);

}  // namespace bridge
