#include "bridge/tcia/TciaJsonParser.h"

#include <json/json.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <memory>

#include "bridge/common/Dates.h"
#include "bridge/common/Error.h"

namespace bridge::tcia {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string excerpt(std::string_view text) {
    std::string t(trim(text));
    if (t.size() > 300) t = t.substr(0, 300) + "...";
    return t;
}

/// Parses the body into an array of objects. Empty body -> empty array (API.md 2.3).
Json::Value parseArray(std::string_view body) {
    std::string_view t = trim(body);
    if (t.empty()) return Json::Value(Json::arrayValue);
    if (t.front() != '[' && t.front() != '{')
        throw BridgeError(ErrorCode::UpstreamBadResponse, "TCIA answered with an error: " + excerpt(t));
    Json::CharReaderBuilder builder;
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value root;
    std::string errors;
    if (!reader->parse(t.data(), t.data() + t.size(), &root, &errors))
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "TCIA answered malformed JSON (" + excerpt(errors) + "): " + excerpt(t));
    if (root.isObject()) {
        // Bindaas-era errors: {"errorMessage":"..."} (API.md 9).
        if (root.isMember("errorMessage"))
            throw BridgeError(ErrorCode::UpstreamBadResponse,
                              "TCIA answered with an error: " + root["errorMessage"].asString());
        Json::Value wrapped(Json::arrayValue);
        wrapped.append(root);
        return wrapped;
    }
    if (!root.isArray())
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "TCIA answered JSON that is not a list: " + excerpt(t));
    return root;
}

const Json::Value* find(const Json::Value& obj, std::initializer_list<const char*> names) {
    if (!obj.isObject()) return nullptr;
    for (const char* name : names) {
        const Json::Value* v = obj.find(name, name + std::char_traits<char>::length(name));
        if (v && !v->isNull()) return v;
    }
    return nullptr;
}

std::string numberText(double d) {
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) {
        return std::to_string(static_cast<long long>(d));
    }
    Json::Value v(d);
    return v.asString();
}

std::string str(const Json::Value& obj, std::initializer_list<const char*> names) {
    const Json::Value* v = find(obj, names);
    if (!v) return {};
    if (v->isString()) return v->asString();
    if (v->isBool()) return v->asBool() ? "true" : "false";
    if (v->isIntegral()) return v->isUInt64() ? std::to_string(v->asUInt64()) : std::to_string(v->asInt64());
    if (v->isDouble()) return numberText(v->asDouble());
    return {};
}

std::string date(const Json::Value& obj, std::initializer_list<const char*> names) {
    return toDicomDate(str(obj, names));
}

std::optional<double> parseDouble(std::string_view text) {
    std::string t(trim(text));
    if (t.empty()) return std::nullopt;
    char* end = nullptr;
    double d = std::strtod(t.c_str(), &end);
    if (end == t.c_str() || *end != '\0' || !std::isfinite(d)) return std::nullopt;
    return d;
}

std::optional<double> dbl(const Json::Value& obj, std::initializer_list<const char*> names) {
    const Json::Value* v = find(obj, names);
    if (!v) return std::nullopt;
    if (v->isNumeric() && !v->isBool()) return v->asDouble();
    if (v->isString()) return parseDouble(v->asString());
    return std::nullopt;
}

std::optional<std::int64_t> int64(const Json::Value& obj, std::initializer_list<const char*> names) {
    const Json::Value* v = find(obj, names);
    if (!v) return std::nullopt;
    if (v->isIntegral() && !v->isBool()) return v->asInt64();
    auto d = dbl(obj, names);  // "27844690", "4.000000", 4.0
    if (!d || std::floor(*d) != *d || std::fabs(*d) > 9.0e18) return std::nullopt;
    return static_cast<std::int64_t>(*d);
}

std::optional<bool> boolean(const Json::Value& obj, std::initializer_list<const char*> names) {
    const Json::Value* v = find(obj, names);
    if (!v) return std::nullopt;
    if (v->isBool()) return v->asBool();
    if (v->isNumeric()) return v->asDouble() != 0.0;
    if (v->isString()) {
        std::string s(trim(v->asString()));
        for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (s == "1" || s == "YES" || s == "Y" || s == "TRUE") return true;
        if (s == "0" || s == "NO" || s == "N" || s == "FALSE") return false;
    }
    return std::nullopt;
}

PatientRecord toPatient(const Json::Value& o) {
    PatientRecord p;
    p.patientId = str(o, {"PatientId", "PatientID", "Subject ID"});
    p.patientName = str(o, {"PatientName"});
    p.patientBirthDate = date(o, {"PatientBirthDate"});
    p.patientSex = str(o, {"PatientSex"});
    p.ethnicGroup = str(o, {"EthnicGroup"});
    p.collection = str(o, {"Collection"});
    p.phantom = str(o, {"Phantom"});
    p.speciesCode = str(o, {"SpeciesCode"});
    p.speciesDescription = str(o, {"SpeciesDescription"});
    p.authorized = boolean(o, {"Authorized"});
    return p;
}

StudyRecord toStudy(const Json::Value& o) {
    StudyRecord s;
    s.studyInstanceUid = str(o, {"StudyInstanceUID", "Study UID"});
    s.studyDate = date(o, {"StudyDate", "Study Date"});
    s.studyDescription = str(o, {"StudyDescription", "StudyDesc"});
    s.admittingDiagnosesDescription =
        str(o, {"AdmittingDiagnosesDescription", "AdmittingDiagnosisDescription"});
    s.studyId = str(o, {"StudyID"});
    s.patientAge = str(o, {"PatientAge"});
    s.patientId = str(o, {"PatientID", "PatientId", "Subject ID"});
    s.patientName = str(o, {"PatientName"});
    s.patientBirthDate = date(o, {"PatientBirthDate"});
    s.patientSex = str(o, {"PatientSex"});
    s.ethnicGroup = str(o, {"EthnicGroup"});
    s.collection = str(o, {"Collection"});
    auto count = int64(o, {"SeriesCount"});
    if (count) s.seriesCount = static_cast<int>(*count);
    s.longitudinalTemporalEventType = str(o, {"LongitudinalTemporalEventType"});
    s.longitudinalTemporalOffsetFromEvent = dbl(o, {"LongitudinalTemporalOffsetFromEvent"});
    s.authorized = boolean(o, {"Authorized"});
    return s;
}

SeriesRecord toSeries(const Json::Value& o) {
    SeriesRecord r;
    r.seriesInstanceUid = str(o, {"SeriesInstanceUID", "Series UID", "Series ID"});
    r.studyInstanceUid = str(o, {"StudyInstanceUID", "Study UID"});
    r.modality = str(o, {"Modality"});
    r.protocolName = str(o, {"ProtocolName", "Protocol Name"});
    r.seriesDate = date(o, {"SeriesDate", "Series Date"});
    r.seriesDescription = str(o, {"SeriesDescription", "Series Description"});
    r.bodyPartExamined = str(o, {"BodyPartExamined", "Body Part Examined"});
    r.seriesNumber = normalizeIntegerString(str(o, {"SeriesNumber", "Series Number"}));
    r.annotationsFlag = boolean(o, {"AnnotationsFlag", "Annotations Flag"});
    r.collection = str(o, {"Collection", "Collection Name"});
    r.site = str(o, {"Site"});
    r.patientId = str(o, {"PatientID", "PatientId", "Subject ID"});
    r.patientSex = str(o, {"PatientSex"});
    r.patientAge = str(o, {"PatientAge"});
    r.admittingDiagnosisDescription =
        str(o, {"AdmittingDiagnosisDescription", "AdmittingDiagnosesDescription"});
    r.manufacturer = str(o, {"Manufacturer"});
    r.manufacturerModelName = str(o, {"ManufacturerModelName", "Manufacturer Model Name"});
    r.softwareVersions = str(o, {"SoftwareVersions", "Software Versions"});
    r.imageCount = int64(o, {"ImageCount", "Number of Images", "Image Count"});
    r.maxSubmissionTimestamp = str(o, {"MaxSubmissionTimestamp", "TimeStamp"});
    r.licenseName = str(o, {"LicenseName", "License Name"});
    r.licenseUri = str(o, {"LicenseURI", "License URL"});
    r.dataDescriptionUri = str(o, {"DataDescriptionURI", "CollectionURI", "Data Description URI"});
    r.fileSize = int64(o, {"FileSize", "File Size", "File Size (Bytes)"});
    r.releasedStatus = str(o, {"ReleasedStatus"});
    r.dateReleased = date(o, {"DateReleased", "Date Released"});
    // getSeriesMetaData sanitises its "Study Description" (API.md 3.11): used only as a fallback.
    r.studyDescription = str(o, {"StudyDesc", "StudyDescription", "Study Description"});
    r.studyDate = date(o, {"StudyDate", "Study Date"});
    r.thirdPartyAnalysis = str(o, {"ThirdPartyAnalysis", "3rd Party Analysis"});
    r.authorized = boolean(o, {"Authorized"});
    return r;
}

bool isEmptyObject(const Json::Value& v) { return !v.isObject() || v.empty(); }

}  // namespace

std::string normalizeIntegerString(std::string_view text) {
    std::string_view t = trim(text);
    if (t.empty()) return {};
    auto d = parseDouble(t);
    if (d && std::floor(*d) == *d && std::fabs(*d) < 9.0e15)
        return std::to_string(static_cast<long long>(*d));
    return std::string(t);
}

std::vector<PatientRecord> parsePatients(std::string_view body, ApiVersion) {
    std::vector<PatientRecord> out;
    for (const auto& o : parseArray(body))
        if (!isEmptyObject(o)) out.push_back(toPatient(o));
    return out;
}

std::vector<StudyRecord> parseStudies(std::string_view body, ApiVersion) {
    std::vector<StudyRecord> out;
    for (const auto& o : parseArray(body))
        if (!isEmptyObject(o)) out.push_back(toStudy(o));
    return out;
}

std::vector<SeriesRecord> parseSeries(std::string_view body, ApiVersion) {
    std::vector<SeriesRecord> out;
    for (const auto& o : parseArray(body))
        if (!isEmptyObject(o)) out.push_back(toSeries(o));
    return out;
}

std::vector<std::string> parseValues(std::string_view body, const std::string& column) {
    std::vector<std::string> out;
    for (const auto& o : parseArray(body)) {
        if (o.isString()) {  // the swagger's bare-string arrays (API.md 2.2), tolerated
            if (!o.asString().empty()) out.push_back(o.asString());
            continue;
        }
        if (isEmptyObject(o)) continue;  // a NULL value: `{}` (API.md 2.2)
        std::string v = str(o, {column.c_str()});
        if (!v.empty()) out.push_back(std::move(v));
    }
    return out;
}

SeriesSize parseSeriesSize(std::string_view body) {
    SeriesSize size;
    for (const auto& o : parseArray(body)) {
        if (isEmptyObject(o)) continue;
        size.totalSizeInBytes = int64(o, {"TotalSizeInBytes", "seriesSize"});
        size.objectCount = int64(o, {"ObjectCount", "imageCount"});
        break;
    }
    return size;
}

std::vector<std::string> parseSopInstanceUids(std::string_view body) {
    return parseValues(body, "SOPInstanceUID");
}

}  // namespace bridge::tcia
