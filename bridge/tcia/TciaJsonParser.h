#pragma once
// Pure parsers: a TCIA JSON response body -> the typed model (Model.h).
//
// Tolerant by design, because TCIA drifts (API.md sections 2.2, 11): an empty body is an empty
// result; `{}` elements are skipped in value lists; unknown keys are ignored and missing keys
// leave the field empty; numbers may arrive as strings ("4.000000", "27844690") and booleans as
// true / 1 / "1" / "YES"; key spellings differ between endpoints and versions (PatientId /
// PatientID, StudyDesc / StudyDescription, CollectionURI / DataDescriptionURI, TimeStamp /
// MaxSubmissionTimestamp, AdmittingDiagnoses / AdmittingDiagnosis, the spaced names of
// getSeriesMetaData). A body that is not JSON at all (TCIA's plain-text error sentences come
// labelled application/json) throws BridgeError(UpstreamBadResponse) carrying the text.
// All functions are pure and thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "bridge/tcia/Model.h"

namespace bridge::tcia {

/// getPatient, NewPatientsInCollection, getPatientByCollectionAndModality.
std::vector<PatientRecord> parsePatients(std::string_view body, ApiVersion version);
/// getPatientStudy, NewStudiesInPatientCollection.
std::vector<StudyRecord> parseStudies(std::string_view body, ApiVersion version);
/// getSeries, getUpdatedSeries, getContentsByName, v1 getSeriesMetaData (spaced names).
std::vector<SeriesRecord> parseSeries(std::string_view body, ApiVersion version);
/// A single-column value list (getCollectionValues -> "Collection", getModalityValues ->
/// "Modality", getSOPInstanceUIDs -> "SOPInstanceUID", ...). `{}` and empty values are skipped.
std::vector<std::string> parseValues(std::string_view body, const std::string& column);
/// getSeriesSize. `[{}]` or an empty body give a SeriesSize with both fields empty.
SeriesSize parseSeriesSize(std::string_view body);
/// getSOPInstanceUIDs.
std::vector<std::string> parseSopInstanceUids(std::string_view body);

/// IS text normalisation: "4.000000" -> "4", " 12 " -> "12"; other text returned trimmed.
std::string normalizeIntegerString(std::string_view text);

}  // namespace bridge::tcia
