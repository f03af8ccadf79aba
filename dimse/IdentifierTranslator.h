#pragma once
// Pure translation between DIMSE identifiers and the core's types:
//   C-FIND identifier            -> Query            (PS3.4 C.4.1.1.3, C.2.2.2 matching keys)
//   C-MOVE / C-GET identifier    -> RetrieveRequest  (PS3.4 C.4.2.1.4, C.4.3.1.3)
//   DicomRecord (a match)        -> C-FIND response identifier
// No DCMTK network types here, no I/O: every function is table-testable (tests/unit/dimse).

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dctag.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bridge/common/DicomRecord.h"
#include "bridge/query/Query.h"
#include "bridge/retrieve/RetrieveService.h"

namespace bridge::dimse {

/// The information model of a Q/R SOP Class UID (FIND, MOVE or GET; Patient or Study Root),
/// or nullopt for any other SOP class.
std::optional<InformationModel> modelForSopClass(const std::string& sopClassUid);

/// Builds a Query from a C-FIND identifier. The identifier is not modified.
/// - QueryRetrieveLevel (0008,0052) is required and must suit the model (no PATIENT in Study Root).
/// - SpecificCharacterSet (0008,0005): values are converted to UTF-8 (ISO_IR 100, ISO_IR 192, and
///   whatever else DCMTK's iconv converter knows); an unconvertible set is an error.
/// - Group length elements, groups below 0008, RetrieveAETitle (added by the adapter) are skipped;
///   sequences are ignored and reported in `warnings`.
/// Throws BridgeError(InvalidArgument) with a message fit for ErrorComment (status A900).
Query identifierToQuery(const DcmDataset& identifier, InformationModel model,
                        std::vector<std::string>* warnings = nullptr);

/// Builds a RetrieveRequest from a C-MOVE / C-GET identifier (UID lists split on '\').
/// Throws BridgeError(InvalidArgument) when the level or the unique key of the level is missing.
RetrieveRequest identifierToRetrieveRequest(const DcmDataset& identifier, InformationModel model);

/// The C-FIND response identifier for one match: exactly the query's keys (zero-length when the
/// record lacks them) plus QueryRetrieveLevel, RetrieveAETitle (= `retrieveAeTitle`, the called
/// AE), SpecificCharacterSet ("ISO_IR 192" when any value is not ASCII) and InstanceAvailability.
std::unique_ptr<DcmDataset> recordToIdentifier(const DicomRecord& record, const Query& query,
                                               const std::string& retrieveAeTitle);

/// The response element tags of `query`'s keys (dictionary look-ups and VR choices of
/// recordToIdentifier), computed once per query instead of once per match.
struct ResponseLayout {
    std::vector<DcmTag> keys;  ///< one per Query::keys entry, same order
};
ResponseLayout responseLayout(const Query& query);

/// recordToIdentifier with the layout of `query` (responseLayout(query)); same result.
std::unique_ptr<DcmDataset> recordToIdentifier(const DicomRecord& record, const Query& query,
                                               const std::string& retrieveAeTitle, const ResponseLayout& layout);

/// Splits a multi-valued DICOM string on '\' and trims spaces; empty parts dropped.
std::vector<std::string> splitValues(const std::string& value);

}  // namespace bridge::dimse
