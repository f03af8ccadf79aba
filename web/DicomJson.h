#pragma once
// DICOM JSON (PS3.18 Annex F) through DCMTK's writer (DcmDataset::writeJson +
// DcmJsonFormatCompact), so VRs come from the dictionary, numbers are JSON numbers, PN values
// are {"Alphabetic": ...} objects and empty attributes carry only "vr" (ORT-DW #111/#112).
// Pure functions; thread-safe (the DCMTK dictionary is read-locked internally).

#include "bridge/common/DicomRecord.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bridge::web {

/// A record as a dataset: each value put with its dictionary VR; an empty value becomes a
/// zero-length element. Tags unknown to the dictionary are encoded as LO (TCIA metadata is text).
std::unique_ptr<DcmDataset> recordToDataset(const DicomRecord& record);

/// One record as a JSON object.
std::string recordToJson(const DicomRecord& record);

/// Records as a JSON array ("[]" when empty).
std::string recordsToJsonArray(const std::vector<DicomRecord>& records);

/// Decides the BulkDataURI of a top-level tag; return empty to inline the value.
using BulkDataUriFunction = std::function<std::string(const DcmTagKey& tag)>;

/// A full instance dataset as a JSON object for WADO-RS metadata: PixelData, FloatPixelData,
/// DoubleFloatPixelData and any other binary (OB/OW/OF/OD/OL/OV/UN) top-level value longer than
/// `inlineLimit` bytes become {"vr":..,"BulkDataURI": uri(tag)}; smaller ones stay InlineBinary.
/// Text is converted to UTF-8 first when the dataset declares another character set.
/// A NaN or infinite FL/FD value (JSON has none) becomes a null array element, logged as a warning;
/// the same holds for recordToJson (without the warning).
/// The dataset is modified only by the character set conversion.
std::string datasetToJson(DcmDataset& dataset, const BulkDataUriFunction& bulkDataUri, std::size_t inlineLimit = 1024);

}  // namespace bridge::web
