#pragma once
// QIDO-RS query parameters (PS3.18 8.3.4 / 10.6.1): a pure parser from the URL's query string
// to the pieces of a bridge::Query, plus the default return attributes of each level
// (PS3.18 Table 6.7.1-2, -2a, -2b). No I/O; thread-safe.

#include "bridge/query/Query.h"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bridge::web {

using QueryParameterList = std::vector<std::pair<std::string, std::string>>;

struct QidoParameters {
    std::vector<QueryKey> matchKeys;       ///< attribute=value pairs (commas became '\')
    std::vector<DcmTagKey> includeFields;  ///< includefield=..., without duplicates
    bool includeAll = false;               ///< includefield=all
    std::optional<std::size_t> limit;
    std::size_t offset = 0;
    /// fuzzymatching=true: handed to Query::fuzzyMatching (the core then matches person names
    /// word-prefix and case-insensitively, see bridge/query/Matcher.h). false or absent: exact
    /// PS3.4 matching.
    bool fuzzyMatching = false;
};

/// Parses decoded (name, value) pairs. Names: `limit`, `offset`, `includefield`,
/// `fuzzymatching`, a DICOM keyword (`PatientName`) or a tag as 8 hex digits (`00100020`).
/// Empty names are skipped (Weasis sends `?&includefield=`); an empty includefield is ignored.
/// Throws BridgeError(InvalidArgument) for an unknown keyword, a bad number, a repeated
/// attribute, a sequence path, or fuzzymatching other than true/false.
QidoParameters parseQidoParameters(const QueryParameterList& parameters);

/// A keyword or 8-hex-digit tag to a tag. nullopt when unknown or malformed.
std::optional<DcmTagKey> parseAttributeName(const std::string& name);

/// Dictionary VR of a tag (EVR_UN when not in the dictionary).
DcmEVR dictionaryVr(const DcmTagKey& tag);

/// PS3.18 Table 6.7.1-2 (study), -2a (series), -2b (instance) default return attributes,
/// without RetrieveURL (the web adapter computes it) and without sequences.
std::vector<DcmTagKey> defaultReturnAttributes(QueryLevel level);

/// Path UIDs of the nested QIDO routes (/studies/{s}/series/{se}/instances).
struct QidoPath {
    QueryLevel level = QueryLevel::Study;
    std::string studyInstanceUid;
    std::string seriesInstanceUid;
};

/// Builds the core Query: path UIDs and match keys as matching keys, then the level's default
/// attributes, the study (series) attributes when no study (series) UID narrows a series
/// (instance) search (as ORT-DW does), the include fields, and `all` = every attribute the
/// core knows at that level. Each tag appears once. Throws BridgeError(InvalidArgument) when a
/// match key repeats a path UID with another value.
Query buildQidoQuery(const QidoPath& path, const QidoParameters& parameters);

}  // namespace bridge::web
