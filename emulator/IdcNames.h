#pragma once
// Pure naming rules of the emulator's IDC face (/work/shared/idc/API.md sections 1, 2 and 4):
// TCIA collection name -> IDC collection_id, licence URL -> license_short_name, the AWS bucket
// of a collection, deterministic crdc UUIDs and ISO dates. No state; safe from any thread.

#include <string>

namespace emulator::idc {

/// IDC collection_id for a TCIA collection name: lower case, '-' and ' ' -> '_'
/// ("TCGA-LUAD" -> "tcga_luad", API.md 4, inferred from IDC's examples).
std::string collectionId(const std::string& tciaName);

/// license_short_name ("CC BY 4.0", "CC BY-NC 4.0", ...) from a Creative Commons licence URL
/// (http(s)://creativecommons.org/licenses/<kind>/<version>/); other URLs give longName.
std::string licenseShortName(const std::string& licenseUri, const std::string& longName);

/// True for a non-commercial short name ("CC BY-NC ...").
bool isNonCommercial(const std::string& licenseShortName);

/// AWS bucket of a collection (API.md 1): CC BY-NC -> idc-open-data-cr; possible head scans
/// -> idc-open-data-two; everything else idc-open-data. Non-commercial wins over head scans.
std::string awsBucket(bool nonCommercial, bool possibleHeadScans);

/// Deterministic name-based UUID (RFC 4122 version 3, lower-case) for a DICOM UID: `kind` is
/// "series" (crdc_series_uuid) or "instance" (crdc_instance_uuid). Same input, same UUID.
std::string crdcUuid(const std::string& kind, const std::string& dicomUid);

/// "YYYYMMDD" -> "YYYY-MM-DD"; anything else -> "" (SQL NULL).
std::string isoDate(const std::string& da);

/// "YYYYMMDDHHMMSS" (or a date) -> "YYYY-MM-DDTHH:MM:SS.000Z" (S3 LastModified); "" if unparsable.
std::string isoTimestamp(const std::string& ts);

/// Bare DOI from a DOI URL ("https://doi.org/10.7937/X" -> "10.7937/X"); bare input unchanged.
std::string bareDoi(const std::string& doiOrUrl);

}  // namespace emulator::idc
