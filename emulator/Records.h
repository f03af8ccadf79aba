#pragma once
// The emulator's view of TCIA's database: collections, series (with their study and patient
// columns denormalised, like NBIA's general_series join) and instances. Plain value types.
// Dates are DICOM DA "YYYYMMDD"; timestamps "YYYYMMDDHHMMSS"; "" means SQL NULL.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace emulator {

/// One TCIA collection ("project") and its license / DOI / release metadata.
struct CollectionInfo {
    std::string name;
    std::string licenseName;
    std::string licenseUri;
    std::string doi;           ///< DataDescriptionURI / CollectionURI, e.g. https://doi.org/10.7937/...
    std::string dateReleased;  ///< timestamp
    std::string site;          ///< v4 "Site"
    bool restricted = false;   ///< visible only with a valid bearer token
};

/// One stored DICOM file.
struct InstanceRecord {
    std::string sopInstanceUid;
    std::string sopClassUid;
    std::string path;  ///< absolute path of the Part-10 file
    std::int64_t instanceNumber = 0;
    std::int64_t acquisitionNumber = 0;
    std::int64_t fileSize = 0;
    std::string md5;   ///< lower-case hex
};

/// One released series with its study, patient and collection columns.
struct SeriesRecord {
    // collection
    std::string collection;
    std::string site;
    std::string licenseName;
    std::string licenseUri;
    std::string doi;
    bool restricted = false;
    bool synthetic = false;  ///< metadata only (no files): getImage answers "not in public domain"
    // patient
    std::string patientId;
    std::optional<std::string> patientName;  ///< nullopt = NULL; "" is kept (LIDC-IDRI has "")
    std::string patientSex;
    std::string patientBirthDate;
    std::string ethnicGroup;
    std::string phantom = "NO";
    std::string speciesCode = "337915000";
    std::string speciesDescription = "Homo sapiens";
    // study
    std::string studyUid;
    std::string studyDate;
    std::string studyDescription;
    std::string studyId;
    std::string patientAge;
    std::string admittingDiagnoses;
    std::string longitudinalEventType;
    std::optional<double> longitudinalOffset;
    // series
    std::string seriesUid;
    std::string modality;
    std::string protocolName;
    std::string seriesDate;
    std::string seriesDescription;
    std::string bodyPart;
    std::optional<std::int64_t> seriesNumber;
    bool annotationsFlag = false;
    std::string manufacturer;
    std::string manufacturerModelName;
    std::string softwareVersions;
    std::string sopClassUid;
    std::string pixelSpacingRow;
    std::string sliceThickness;
    std::int64_t imageCount = 0;
    std::int64_t fileSize = 0;
    std::string maxSubmissionTimestamp;
    std::string dateReleased;
    std::string thirdPartyAnalysis;
};

}  // namespace emulator
