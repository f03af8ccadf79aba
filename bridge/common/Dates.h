#pragma once
// Pure date conversions between TCIA's many date spellings and DICOM DA ("YYYYMMDD").
//
// TCIA emits "yyyy-MM-dd HH:mm:ss.S" (v1/v2 timestamps), "MM-dd-yyyy" (v4 and v1
// getSeriesMetaData), Bindaas used "yyyy-MM-dd"; its date *parameters* use yet other formats
// (see /work/shared/tcia/API.md section 2.5). All functions are pure and thread-safe.

#include <string>
#include <string_view>

namespace bridge {

/// Normalises a date to DICOM DA. Accepts "MM-dd-yyyy", "yyyy-MM-dd HH:mm:ss.S" (any time part
/// after the date is ignored), "yyyy-MM-dd", "yyyyMMdd", "yyyy/MM/dd" (surrounding blanks ignored).
/// Returns "" when the text is empty or not a valid calendar date.
std::string toDicomDate(std::string_view text);

/// DA (or any format toDicomDate accepts) -> "yyyy/MM/dd", the v1 `Date` parameter of
/// NewPatientsInCollection / NewStudiesInPatientCollection.
/// Throws BridgeError(InvalidArgument) when the input is not a valid date.
std::string formatV1NewDate(std::string_view date);

/// DA -> "dd/MM/yyyy", the v1 `fromDate` parameter of getUpdatedSeries.
/// Throws BridgeError(InvalidArgument) when the input is not a valid date.
std::string formatV1UpdatedDate(std::string_view date);

/// DA -> "MM-dd-yyyy", every v4 `fromDate` parameter.
/// Throws BridgeError(InvalidArgument) when the input is not a valid date.
std::string formatV4Date(std::string_view date);

}  // namespace bridge
