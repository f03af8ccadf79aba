#pragma once
// Maps a DICOMweb resource path (below the /dicom-web root) to a typed route. Pure; thread-safe.

#include "bridge/query/Query.h"

#include <optional>
#include <string>
#include <vector>

namespace bridge::web {

struct WebRoute {
    enum class Kind { Search, Retrieve, Metadata, Frames, BulkData, Rendered, Thumbnail };
    Kind kind = Kind::Search;
    /// Search: the level searched. Others: the level of the resource addressed
    /// (Study, Series, Image); frame-level rendered/thumbnail are Image with `frames` set.
    QueryLevel level = QueryLevel::Study;
    std::string studyInstanceUid;
    std::string seriesInstanceUid;
    std::string sopInstanceUid;
    std::vector<int> frames;  ///< 1-based frame numbers (Frames; frame-level Rendered/Thumbnail)
    std::string bulkDataTag;  ///< BulkData: 8 hex digits, upper-case (e.g. "7FE00010")
};

/// Parses e.g. "/studies/1.2/series/3.4/instances/5.6/frames/1,3". nullopt when the path is
/// not a DICOMweb resource. Throws BridgeError(InvalidArgument) for a malformed frame list or
/// UID (frames must be positive integers; UIDs only digits and dots, at most 64 characters).
std::optional<WebRoute> parseWebRoute(const std::string& path);

/// Most frame numbers one frames request may list (issue 9 finding 5: a list of 8,000 copies of
/// one frame amplified an 8 KB frame into 68 MB). WadoResource also refuses a list longer
/// than the instance's frame count, so a response never exceeds the instance's pixel data.
inline constexpr std::size_t kMaxFramesPerRequest = 1000;

/// "1,3,5" -> {1,3,5}. Throws BridgeError(InvalidArgument) on anything else, and for a list
/// of more than kMaxFramesPerRequest numbers.
std::vector<int> parseFrameList(const std::string& text);

/// `text` when it is a UID (isValidUid, PS3.5 9.1); else throws BridgeError(InvalidArgument)
/// "not a valid UID in <name>: '...'". The one UID check of WADO-RS paths and WADO-URI parameters.
const std::string& checkedUid(const std::string& text, const std::string& name = {});

}  // namespace bridge::web

namespace bridge::web {

/// A low-cardinality name of the route a request path addresses, for metrics and audit:
/// "qido-studies", "qido-series", "qido-instances", "wado-study", "wado-series",
/// "wado-instance", "metadata", "frames", "bulkdata", "rendered", "thumbnail", "wado-uri",
/// "landing", "collections", "health", "ready", "metrics", or "other". Pure; never throws.
std::string routeLabel(const std::string& path);

}  // namespace bridge::web
