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

/// "1,3,5" -> {1,3,5}. Throws BridgeError(InvalidArgument) on anything else.
std::vector<int> parseFrameList(const std::string& text);

}  // namespace bridge::web

namespace bridge::web {

/// A low-cardinality name of the route a request path addresses, for metrics and audit:
/// "qido-studies", "qido-series", "qido-instances", "wado-study", "wado-series",
/// "wado-instance", "metadata", "frames", "bulkdata", "rendered", "thumbnail", "wado-uri",
/// "landing", "collections", "health", "ready", "metrics", or "other". Pure; never throws.
std::string routeLabel(const std::string& path);

}  // namespace bridge::web
