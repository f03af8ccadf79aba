#pragma once
// The typed request both front ends build: a C-FIND identifier (dimse/) and a QIDO-RS URL (web/)
// both become one Query. Matching semantics are PS3.4 C.2.2.2 and are implemented once, in
// Matcher.h.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctagkey.h>
#include <dcmtk/dcmdata/dcvr.h>

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bridge {

enum class QueryLevel { Patient, Study, Series, Image };
enum class InformationModel { PatientRoot, StudyRoot };

const char* toString(QueryLevel level);  ///< "PATIENT", "STUDY", "SERIES", "IMAGE"
std::optional<QueryLevel> parseQueryLevel(const std::string& text);

/// One attribute of the identifier. An empty value is a return key (universal match);
/// a non-empty value is a matching key, interpreted per its VR (single value, UID list,
/// wildcard, range, list).
struct QueryKey {
    DcmTagKey tag;
    DcmEVR vr = EVR_UNKNOWN;
    std::string value;
};

/// Which collections a caller may see. Records of other collections are never returned.
struct CollectionScope {
    /// When set, only these collections (case-insensitive): a collection-scoped AE, say.
    std::optional<std::set<std::string>> only;
    /// Never these (restricted collections the caller was not granted).
    std::set<std::string> denied;
    /// When set, nothing outside these is visible at all (fail closed): the collections TCIA
    /// lists without credentials plus those granted to the caller (AccessPolicy). A collection
    /// known only from a credentialed answer or a foreign cache is therefore never shown.
    std::optional<std::set<std::string>> visible;
    /// Case-insensitive. An empty (blank) collection is allowed only by a scope that restricts
    /// nothing: a record whose collection is unknown cannot be proved visible.
    bool allows(const std::string& collection) const;
    /// True when this scope limits nothing (no only, no denied, no visible).
    bool unrestricted() const { return !only && denied.empty() && !visible; }
};

struct Query {
    QueryLevel level = QueryLevel::Study;
    InformationModel model = InformationModel::StudyRoot;
    std::vector<QueryKey> keys;  ///< in request order, no duplicates
    std::optional<std::size_t> limit;
    std::size_t offset = 0;
    bool fuzzyMatching = false;             ///< QIDO fuzzymatching=true (see Matcher.h for meaning)
    bool caseSensitivePersonNames = false;  ///< config; PS3.4 allows either, PACS users expect insensitive
    CollectionScope scope;

    const QueryKey* key(const DcmTagKey& tag) const;
    /// Non-empty value of a key, or empty.
    std::string value(const DcmTagKey& tag) const;
};

/// Most values one list key that fans out to TCIA -- PatientID, StudyInstanceUID,
/// SeriesInstanceUID, the collection -- may hold in one query (C-FIND, QIDO-RS) or retrieve
/// (C-MOVE, C-GET, WADO): each value costs one TCIA call and catalog cache rows (issue 9
/// finding 6: 300 StudyInstanceUIDs made 300 getPatientStudy calls).
inline constexpr std::size_t kMaxFanOutValues = 100;

/// Throws BridgeError(InvalidArgument) "too many values in <keyword>: N (at most
/// kMaxFanOutValues per request); split the request" when `count` exceeds kMaxFanOutValues.
/// The one check and message behind QIDO (400), C-FIND (A900 + ErrorComment) and C-MOVE/C-GET.
void checkFanOut(const std::string& keyword, std::size_t count);

/// The private-free tag that carries the TCIA collection name in identifiers and results.
/// ClinicalTrialProtocolID (0012,0020): TCIA's own de-identification fills the Clinical Trial
/// module with the collection, so a PACS shows it in the usual place.
inline const DcmTagKey kCollectionTag{0x0012, 0x0020};

}  // namespace bridge
