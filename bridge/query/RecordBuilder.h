#pragma once
// TCIA model -> DicomRecord, per query level, with standard tags (API.md section 10 mapping).
//
// Pure functions, no I/O. The records built here are "full": every attribute TCIA gives for that
// level is present -- with an empty value when TCIA omitted it (a known blank). Attributes TCIA
// never provides (AccessionNumber, StudyTime, ReferringPhysicianName, per-instance attributes
// of uncached series ...) are left out, which the Matcher treats as "unknown: matches any key"
// (see Matcher.h). project() then cuts a full record down to what the query asked for, adding
// empty values for the unknown ones.
//
// The collection is carried in ClinicalTrialProtocolID (0012,0020) = bridge::kCollectionTag.

#include "bridge/common/DicomRecord.h"
#include "bridge/query/Query.h"
#include "bridge/tcia/Model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bridge {

/// The data-use terms of a collection as TCIA gives them on each series (for landing pages,
/// QIDO response headers, logs). Empty strings when TCIA omitted them.
struct CollectionLicense {
    std::string collection;
    std::string licenseName;         ///< e.g. "CC BY 4.0"
    std::string licenseUri;          ///< e.g. "https://creativecommons.org/licenses/by/4.0/"
    std::string dataDescriptionUri;  ///< the DOI URL to cite
};

class RecordBuilder {
public:
    /// PATIENT level: PatientID, PatientName, PatientSex, PatientBirthDate, EthnicGroup,
    /// PatientSpeciesDescription, QualityControlSubject (from Phantom), collection.
    static DicomRecord patient(const tcia::PatientRecord& patient);

    /// STUDY level: the patient attributes TCIA repeats on the study plus StudyInstanceUID,
    /// StudyDate, StudyDescription, StudyID, PatientAge, AdmittingDiagnosesDescription,
    /// Longitudinal* and NumberOfStudyRelatedSeries (from SeriesCount, when TCIA gave it).
    static DicomRecord study(const tcia::StudyRecord& study);

    /// SERIES level: series attributes plus the study/patient attributes TCIA repeats on the
    /// series (PatientID, PatientSex, PatientAge, StudyInstanceUID, StudyDate,
    /// StudyDescription) and NumberOfSeriesRelatedInstances (ImageCount). When `study` is given
    /// (not owned, may be null) its attributes (PatientName, StudyID ...) are merged in first.
    static DicomRecord series(const tcia::SeriesRecord& series, const tcia::StudyRecord* study = nullptr);

    /// IMAGE level: SOPInstanceUID plus the series record's attributes; `cached` (may be null)
    /// holds what the instance cache knows (SOPClassUID, InstanceNumber, Rows, Columns,
    /// NumberOfFrames ...) and is merged last.
    static DicomRecord instance(const std::string& sopInstanceUid, const DicomRecord& seriesRecord,
                                const DicomRecord* cached);

    /// Adds ModalitiesInStudy (sorted, distinct, `\`-joined), NumberOfStudyRelatedSeries and
    /// NumberOfStudyRelatedInstances (sum of ImageCount) computed over the study's series.
    static void addStudyAggregates(DicomRecord& study, const std::vector<const tcia::SeriesRecord*>& seriesOfStudy);

    /// Adds NumberOfPatientRelatedStudies/Series/Instances.
    static void addPatientAggregates(DicomRecord& patient, std::size_t studies, std::size_t series,
                                     std::int64_t instances);

    /// The record a FindCursor returns: exactly the query's keys (empty when unknown; SQ keys
    /// empty) plus QueryRetrieveLevel, InstanceAvailability "ONLINE", and SpecificCharacterSet
    /// "ISO_IR 192" when any value is not ASCII. When all values are ASCII SpecificCharacterSet
    /// is left out (absent = the default repertoire, which is exactly right; "ISO_IR 100" would
    /// claim Latin-1 for nothing), unless the query asked for it, then it is empty.
    static DicomRecord project(const DicomRecord& full, const Query& query);

    /// The license fields of a series' collection.
    static CollectionLicense license(const tcia::SeriesRecord& series);

    /// True when every byte is 7-bit ASCII.
    static bool isAscii(const std::string& text);
};

}  // namespace bridge
