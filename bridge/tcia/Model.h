#pragma once
// The typed model both TCIA API versions (v4, v1) are parsed into.
//
// Conventions (enforced by the parsers in TciaJsonParser):
//  * Dates are DICOM DA ("YYYYMMDD") whatever TCIA sent ("MM-dd-yyyy", "yyyy-MM-dd HH:mm:ss.S",
//    "yyyy-MM-dd"); empty when absent or unparsable.
//  * Strings are empty when TCIA omitted the key (TCIA omits NULLs) -- absence and "" are
//    treated alike; numbers are std::optional.
//  * Name drift is resolved: PatientId/PatientID, StudyDesc/StudyDescription,
//    CollectionURI/DataDescriptionURI, TimeStamp/MaxSubmissionTimestamp,
//    AdmittingDiagnosesDescription/AdmittingDiagnosisDescription.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bridge::tcia {

enum class ApiVersion { V1, V4 };

struct PatientRecord {
    std::string patientId;
    std::string patientName;
    std::string patientBirthDate;  ///< DA
    std::string patientSex;
    std::string ethnicGroup;
    std::string collection;
    std::string phantom;             ///< "YES" / "NO"
    std::string speciesCode;         ///< SNOMED code, e.g. "337915000"
    std::string speciesDescription;  ///< e.g. "Homo sapiens"
    std::optional<bool> authorized;  ///< v4 only
};

struct StudyRecord {
    std::string studyInstanceUid;
    std::string studyDate;  ///< DA
    std::string studyDescription;
    std::string admittingDiagnosesDescription;
    std::string studyId;
    std::string patientAge;  ///< AS, e.g. "049Y"
    std::string patientId;
    std::string patientName;
    std::string patientBirthDate;  ///< DA
    std::string patientSex;
    std::string ethnicGroup;
    std::string collection;
    std::optional<int> seriesCount;
    std::string longitudinalTemporalEventType;
    std::optional<double> longitudinalTemporalOffsetFromEvent;
    std::optional<bool> authorized;
};

struct SeriesRecord {
    std::string seriesInstanceUid;
    std::string studyInstanceUid;
    std::string modality;
    std::string protocolName;
    std::string seriesDate;  ///< DA
    std::string seriesDescription;
    std::string bodyPartExamined;
    std::string seriesNumber;  ///< IS text, "4.000000" normalised to "4"
    std::optional<bool> annotationsFlag;
    std::string collection;
    std::string site;
    std::string patientId;
    std::string patientSex;
    std::string patientAge;
    std::string admittingDiagnosisDescription;
    std::string manufacturer;
    std::string manufacturerModelName;
    std::string softwareVersions;
    std::optional<std::int64_t> imageCount;
    std::string maxSubmissionTimestamp;  ///< as sent (v1 TimeStamp / v4 MaxSubmissionTimestamp)
    std::string licenseName;
    std::string licenseUri;
    std::string dataDescriptionUri;  ///< DOI URL (v1 CollectionURI / v4 DataDescriptionURI)
    std::optional<std::int64_t> fileSize;  ///< bytes
    std::string releasedStatus;
    std::string dateReleased;  ///< DA
    std::string studyDescription;  ///< from StudyDesc
    std::string studyDate;         ///< DA
    std::string thirdPartyAnalysis;
    std::optional<bool> authorized;
};

struct SeriesSize {
    std::optional<std::int64_t> totalSizeInBytes;
    std::optional<std::int64_t> objectCount;
};

/// Filters for getSeries; empty string = not sent. TCIA matches each exactly (case-insensitively).
struct SeriesFilter {
    std::string collection, patientId, studyInstanceUid, seriesInstanceUid, modality, bodyPartExamined,
        manufacturer, manufacturerModelName;
};

/// Filters for getPatientStudy.
struct StudyFilter {
    std::string collection, patientId, studyInstanceUid;
};

/// Filters for getPatient.
struct PatientFilter {
    std::string collection, patientId;
};

/// Filters for the value-list endpoints (which ones apply depends on the endpoint).
struct ValueFilter {
    std::string collection, modality, bodyPartExamined;
};

}  // namespace bridge::tcia
