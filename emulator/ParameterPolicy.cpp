#include "emulator/ParameterPolicy.h"

#include <map>

namespace emulator {

namespace {
const std::map<std::string, std::vector<std::string>>& allowLists() {
    // API.md section 5 table, names exactly as the V4_* classes' Set.of(...) lists them.
    static const std::map<std::string, std::vector<std::string>> lists{
        {"getCollectionValues", {"format"}},
        {"getModalityValues", {"Collection", "BodyPartExamined", "format"}},
        {"getBodyPartValues", {"Collection", "Modality", "format"}},
        {"getManufacturerValues", {"Collection", "Modality", "BodyPartExamined", "format"}},
        {"getPatient", {"Collection", "PatientId", "format"}},
        {"getPatientByCollectionAndModality", {"Collection", "Modality", "format"}},
        {"NewPatientsInCollection", {"Collection", "fromDate", "format"}},
        {"getPatientStudy", {"Collection", "PatientID", "StudyInstanceUID", "format"}},
        {"NewStudiesInPatientCollection", {"Collection", "PatientID", "fromDate", "format"}},
        {"getSeries",
         {"Collection", "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "Modality", "BodyPartExamined",
          "Manufacturer", "ManufacturerModelName", "format"}},
        {"getUpdatedSeries", {"fromDate", "format"}},
        {"getSeriesSize", {"SeriesInstanceUID", "format"}},
        {"getSOPInstanceUIDs", {"SeriesInstanceUID", "format"}},
        {"getSeriesMetadata", {"list", "format"}},
        {"getImage", {"SeriesInstanceUID", "NewFileNames", "IncludeMD5"}},
        {"getImageWithMD5Hash", {"SeriesInstanceUID"}},
        {"getSingleImage", {"SeriesInstanceUID", "SOPInstanceUID"}},
        {"getMD5HashForImage", {"SOPInstanceUID"}},
    };
    return lists;
}
}  // namespace

std::vector<std::string> ParameterPolicy::v4AllowList(const std::string& endpoint) {
    auto it = allowLists().find(endpoint);
    return it == allowLists().end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> ParameterPolicy::required(const std::string& version, const std::string& endpoint) {
    const bool v4 = version == "v4";
    if (endpoint == "getPatientByCollectionAndModality") return {"Collection", "Modality"};
    if (endpoint == "NewPatientsInCollection" || endpoint == "NewStudiesInPatientCollection")
        return {"Collection", v4 ? "fromDate" : "Date"};
    if (endpoint == "getSeriesSize" || endpoint == "getSOPInstanceUIDs" || endpoint == "getSeriesMetaData" ||
        endpoint == "getImage" || endpoint == "getImageWithMD5Hash")
        return {"SeriesInstanceUID"};
    if (endpoint == "getSeriesMetadata") return {"list"};
    if (endpoint == "getSingleImage") return {"SeriesInstanceUID", "SOPInstanceUID"};
    if (endpoint == "getMD5HashForImage") return {"SOPInstanceUID"};
    if (endpoint == "getM5HashForImage") return {"SOPInstanceUid"};
    return {};
}

std::optional<std::string> ParameterPolicy::v4Violation(
    const std::string& endpoint, const std::vector<std::pair<std::string, std::string>>& params) {
    const auto allowed = v4AllowList(endpoint);
    for (const auto& [name, value] : params) {
        bool ok = false;
        for (const auto& a : allowed) ok = ok || a == name;  // case-sensitive, like Set.contains
        if (ok) continue;
        std::string list;
        for (std::size_t i = 0; i < allowed.size(); ++i) list += (i ? ", " : "") + allowed[i];
        return "Invalid query parameter: '" + name + "'. Allowed parameters are: [" + list + "]";
    }
    return std::nullopt;
}

std::optional<std::string> ParameterPolicy::missingRequired(
    const std::string& version, const std::string& endpoint,
    const std::vector<std::pair<std::string, std::string>>& params) {
    for (const auto& name : required(version, endpoint)) {
        bool present = false;
        for (const auto& [k, v] : params) present = present || (k == name && !v.empty());
        if (!present) return "A parameter, " + name + " is required for this API call.";
    }
    return std::nullopt;
}

}  // namespace emulator
