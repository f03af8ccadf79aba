#pragma once
// HTTP Accept header parsing and DICOMweb media-type negotiation (PS3.18 8.7). Pure functions,
// thread-safe. Lenient by design: quoted or unquoted `type=`, any parameter order, q-values,
// duplicated parameters (OHIF #3990 doubled `transfer-syntax=*`), `*/*` and `type/*`. The header
// syntax (elements, parameters, quoted strings) is Poco's MessageHeader::splitElements /
// splitParameters, the same splitter Poco::Net::MediaType uses; the negotiation rules are here.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bridge::web {

/// One element of an Accept header. Media type and parameter names are lower-case; parameter
/// values are unquoted and keep their case (except `type`, lower-cased).
struct MediaRange {
    std::string mediaType;  ///< e.g. "multipart/related", "application/dicom+json", "*/*"
    std::map<std::string, std::string> parameters;  ///< e.g. {"type","application/octet-stream"}
    double quality = 1.0;
    /// Parameter value or empty.
    std::string parameter(const std::string& name) const;
    /// True when this range covers `type` (exact, `*/*` or `major/*`).
    bool covers(const std::string& type) const;
};

/// Parses an Accept header; elements with q=0 are dropped; the result is sorted by quality
/// (stable: equal qualities keep header order). An empty header yields one `*/*`.
std::vector<MediaRange> parseAccept(const std::string& header);

/// Transfer syntax wanted for a representation: "*" = as stored (original).
inline const char* const kAnyTransferSyntax = "*";
inline const char* const kExplicitVrLittleEndian = "1.2.840.10008.1.2.1";

/// What a client may receive for a representation, in preference order.
struct AcceptableRepresentation {
    std::string mediaType;       ///< part media type, e.g. "application/dicom", "image/jls"
    std::string transferSyntax;  ///< "*" or a UID
    bool multipart = true;       ///< false: the client asked for the bare type (single part)
};

/// Metadata and QIDO answers: true when the Accept allows application/dicom+json (or
/// application/json, */*). OHIF sends a combined list; any acceptable element suffices.
bool acceptsDicomJson(const std::vector<MediaRange>& ranges);

/// WADO-RS instance retrieval (PS3.18 8.7.3.5): multipart/related; type="application/dicom".
/// Absent type means application/dicom; absent transfer-syntax means "*" here (the bridge
/// serves what TCIA stores unless told otherwise). Empty when nothing is acceptable.
std::vector<AcceptableRepresentation> acceptableInstanceTypes(const std::vector<MediaRange>& ranges);

/// WADO-RS frames / bulk data: part media types the client takes, each with its transfer
/// syntax ("*" = any). application/octet-stream with "*" or absent transfer-syntax means
/// uncompressed little endian is fine; image/jls, image/jpeg, image/jp2... want the frame as
/// compressed in that syntax.
std::vector<AcceptableRepresentation> acceptableFrameTypes(const std::vector<MediaRange>& ranges);

/// Rendered / thumbnail: "image/jpeg" or "image/png" (first acceptable), nullopt otherwise.
std::optional<std::string> negotiateRenderedType(const std::vector<MediaRange>& ranges);

/// Accept-Encoding (RFC 9110 12.5.3): true when the first `gzip` (or `x-gzip`) coding listed
/// has a q-value above 0. Same splitter as parseAccept; `*` does not count (the bridge gzips
/// only for clients that name it).
bool acceptsGzipEncoding(const std::string& acceptEncoding);

/// The compressed-frame media type of a transfer syntax (PS3.18 Table 8.7.3-2), e.g.
/// JPEG-LS lossless -> "image/jls". Empty for native syntaxes and unknown ones.
std::string mediaTypeForTransferSyntax(const std::string& transferSyntaxUid);
/// True for the uncompressed syntaxes (implicit/explicit little endian, big endian, deflate).
bool isNativeTransferSyntax(const std::string& transferSyntaxUid);

}  // namespace bridge::web
