#include "emulator/EndpointService.h"

#include "emulator/JettisonJson.h"
#include "emulator/ParameterPolicy.h"
#include "emulator/TciaDates.h"

#include <Poco/String.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace emulator {

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

std::string param(const Params& p, const std::string& name) {
    for (const auto& [k, v] : p)
        if (k == name) return v;  // parameter names are case-sensitive (JAX-RS @QueryParam)
    return {};
}

// Filters are exact but case-insensitive (API.md 2.4); an empty filter matches everything.
bool matches(const std::string& filter, const std::string& value) {
    return filter.empty() || Poco::icompare(filter, value) == 0;
}

std::string upper(const std::string& s) { return Poco::toUpper(s); }

JsonValue ts1(const std::string& v) { return stringOrNull(TciaDates::v1Timestamp(v)); }
JsonValue mdy(const std::string& v) { return stringOrNull(TciaDates::monthDayYear(v)); }

JsonValue nameOrNull(const std::optional<std::string>& v) {
    if (!v) return std::monostate{};
    return *v;  // an empty string is a value, not NULL
}

JsonValue optInt(const std::optional<std::int64_t>& v) {
    if (!v) return std::monostate{};
    return *v;
}

// Object lists have no ORDER BY in NBIA: shuffle, deterministically for the same request.
std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return h;
}

std::string requestSeed(const ApiRequest& r) {
    std::string seed = r.endpoint;
    for (const auto& [k, v] : r.params) seed += "&" + k + "=" + v;
    return seed;
}

template <typename T>
void shuffle(std::vector<T>& rows, const std::string& seed) {
    std::mt19937_64 rng(fnv1a(seed));
    std::shuffle(rows.begin(), rows.end(), rng);
}

ApiResponse text(int status, const std::string& body, const std::string& contentType = "application/json") {
    ApiResponse r;
    r.status = status;
    r.body = body;
    r.contentType = contentType;
    return r;
}

// Rows in JSON (default) or CSV (format=csv: single column unquoted, objects fully quoted).
ApiResponse rowsResponse(const std::vector<JsonRow>& rows, const Params& params) {
    const std::string format = Poco::toLower(param(params, "format"));
    if (format != "csv") return text(200, JettisonJson::array(rows));
    ApiResponse r;
    r.contentType = "text/csv";
    if (rows.empty()) return r;
    const bool single = rows.front().size() == 1;
    auto cell = [&](const JsonValue& v) -> std::string {
        std::string s;
        if (const auto* str = std::get_if<std::string>(&v)) s = *str;
        else if (!std::holds_alternative<std::monostate>(v)) s = JettisonJson::value(v);
        if (single) return s;
        return "\"" + Poco::replace(s, "\"", "\"\"") + "\"";
    };
    for (std::size_t i = 0; i < rows.front().size(); ++i)
        r.body += (i ? "," : "") + (single ? rows.front()[i].first : "\"" + rows.front()[i].first + "\"");
    r.body += "\n";
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) r.body += (i ? "," : "") + cell(row[i].second);
        r.body += "\n";
    }
    return r;
}

// getSeriesMetaData strips every character outside [a-zA-Z0-9 .-] from descriptions (API.md 3.11).
std::string sanitise(const std::string& s) {
    std::string out;
    for (char c : s)
        if (std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '.' || c == '-') out += c;
    return out;
}

std::string seriesNumberText(const std::optional<std::int64_t>& n) {
    if (!n) return {};
    return std::to_string(*n) + ".000000";
}

std::string licenseText(const SeriesRecord& r) {
    return "The data in this archive were downloaded from The Cancer Imaging Archive (TCIA) emulator.\n"
           "Collection: " + r.collection + "\n" +
           "License: " + r.licenseName + "\n" +
           "License URL: " + r.licenseUri + "\n" +
           "Citation (DOI): " + r.doi + "\n"
           "Users must abide by the TCIA Data Usage Policy and the license above.\n";
}

}  // namespace

EndpointService::EndpointService(std::shared_ptr<const DataIndex> index) : index_(std::move(index)) {}

JsonRow EndpointService::seriesRow(const std::string& version, const SeriesRecord& r) {
    const JsonValue annotations = r.annotationsFlag ? JsonValue(true) : JsonValue(std::monostate{});
    if (version != "v4") {
        // v1/v2 getSeries, 24 columns (API.md 3.7).
        return {{"SeriesInstanceUID", r.seriesUid},
                {"StudyInstanceUID", r.studyUid},
                {"Modality", stringOrNull(r.modality)},
                {"ProtocolName", stringOrNull(r.protocolName)},
                {"SeriesDate", ts1(r.seriesDate)},
                {"SeriesDescription", stringOrNull(r.seriesDescription)},
                {"BodyPartExamined", stringOrNull(r.bodyPart)},
                {"SeriesNumber", optInt(r.seriesNumber)},
                {"AnnotationsFlag", annotations},
                {"Collection", r.collection},
                {"PatientID", stringOrNull(r.patientId)},
                {"Manufacturer", stringOrNull(r.manufacturer)},
                {"ManufacturerModelName", stringOrNull(r.manufacturerModelName)},
                {"SoftwareVersions", stringOrNull(r.softwareVersions)},
                {"ImageCount", r.imageCount},
                {"TimeStamp", ts1(r.maxSubmissionTimestamp)},
                {"LicenseName", stringOrNull(r.licenseName)},
                {"LicenseURI", stringOrNull(r.licenseUri)},
                {"CollectionURI", stringOrNull(r.doi)},
                {"FileSize", r.fileSize},
                {"DateReleased", ts1(r.dateReleased)},
                {"StudyDesc", stringOrNull(r.studyDescription)},
                {"StudyDate", ts1(r.studyDate)},
                {"ThirdPartyAnalysis", stringOrNull(r.thirdPartyAnalysis)}};
    }
    // v4 getSeries / getUpdatedSeries, 30 columns (API.md 5).
    return {{"SeriesInstanceUID", r.seriesUid},
            {"StudyInstanceUID", r.studyUid},
            {"Modality", stringOrNull(r.modality)},
            {"ProtocolName", stringOrNull(r.protocolName)},
            {"SeriesDate", mdy(r.seriesDate)},
            {"SeriesDescription", stringOrNull(r.seriesDescription)},
            {"BodyPartExamined", stringOrNull(r.bodyPart)},
            {"SeriesNumber", optInt(r.seriesNumber)},
            {"AnnotationsFlag", annotations},
            {"Collection", r.collection},
            {"Site", stringOrNull(r.site)},
            {"PatientID", stringOrNull(r.patientId)},
            {"PatientSex", stringOrNull(r.patientSex)},
            {"PatientAge", stringOrNull(r.patientAge)},
            {"AdmittingDiagnosisDescription", stringOrNull(r.admittingDiagnoses)},
            {"Manufacturer", stringOrNull(r.manufacturer)},
            {"ManufacturerModelName", stringOrNull(r.manufacturerModelName)},
            {"SoftwareVersions", stringOrNull(r.softwareVersions)},
            {"ImageCount", r.imageCount},
            {"MaxSubmissionTimestamp", mdy(r.maxSubmissionTimestamp)},
            {"LicenseName", stringOrNull(r.licenseName)},
            {"LicenseURI", stringOrNull(r.licenseUri)},
            {"DataDescriptionURI", stringOrNull(r.doi)},
            {"FileSize", r.fileSize},
            {"ReleasedStatus", std::string("Released")},
            {"DateReleased", mdy(r.dateReleased)},
            {"StudyDesc", stringOrNull(r.studyDescription)},
            {"StudyDate", mdy(r.studyDate)},
            {"ThirdPartyAnalysis", stringOrNull(r.thirdPartyAnalysis)},
            {"Authorized", std::int64_t{1}}};
}

JsonRow EndpointService::updatedSeriesRowV1(const SeriesRecord& r) {
    JsonRow full = seriesRow("v1", r);
    JsonRow out(full.begin(), full.begin() + 15);  // up to ImageCount (API.md 3.8)
    out.emplace_back("DateReleased", ts1(r.dateReleased));
    return out;
}

JsonRow EndpointService::patientRow(const std::string& version, const SeriesRecord& r) {
    if (version != "v4") {
        return {{"PatientId", r.patientId},
                {"PatientName", nameOrNull(r.patientName)},
                {"PatientBirthDate", ts1(r.patientBirthDate)},
                {"PatientSex", stringOrNull(r.patientSex)},
                {"EthnicGroup", stringOrNull(r.ethnicGroup)},
                {"Collection", r.collection},
                {"Phantom", r.phantom},
                {"SpeciesCode", r.speciesCode},
                {"SpeciesDescription", r.speciesDescription}};
    }
    return {{"PatientId", r.patientId},
            {"PatientName", nameOrNull(r.patientName)},
            {"PatientSex", stringOrNull(r.patientSex)},
            {"EthnicGroup", stringOrNull(r.ethnicGroup)},
            {"Collection", r.collection},
            {"Phantom", r.phantom},
            {"SpeciesCode", r.speciesCode},
            {"SpeciesDescription", r.speciesDescription},
            {"Authorized", std::int64_t{1}}};
}

JsonRow EndpointService::studyRow(const std::string& version, const SeriesRecord& r, std::int64_t seriesCount) {
    const bool v4 = version == "v4";
    JsonValue offset = std::monostate{};
    if (r.longitudinalOffset) offset = *r.longitudinalOffset;
    JsonRow row{{"StudyInstanceUID", r.studyUid},
                {"StudyDate", v4 ? mdy(r.studyDate) : ts1(r.studyDate)},
                {"StudyDescription", stringOrNull(r.studyDescription)},
                {"AdmittingDiagnosesDescription", stringOrNull(r.admittingDiagnoses)},
                {"StudyID", stringOrNull(r.studyId)},
                {"PatientAge", stringOrNull(r.patientAge)},
                {"PatientID", stringOrNull(r.patientId)},
                {"PatientName", nameOrNull(r.patientName)}};
    if (!v4) row.emplace_back("PatientBirthDate", ts1(r.patientBirthDate));
    row.emplace_back("PatientSex", stringOrNull(r.patientSex));
    row.emplace_back("EthnicGroup", stringOrNull(r.ethnicGroup));
    row.emplace_back("Collection", r.collection);
    row.emplace_back("SeriesCount", seriesCount);
    row.emplace_back("LongitudinalTemporalEventType", stringOrNull(r.longitudinalEventType));
    row.emplace_back("LongitudinalTemporalOffsetFromEvent", offset);
    if (v4) row.emplace_back("Authorized", std::int64_t{1});
    return row;
}

JsonRow EndpointService::seriesMetaDataRowV1(const SeriesRecord& r) {
    // 27 columns, every value a string (API.md 3.11); "File Location" carries the StudyID.
    return {{"Series UID", r.seriesUid},
            {"Collection", r.collection},
            {"3rd Party Analysis", stringOrNull(r.thirdPartyAnalysis)},
            {"Data Description URI", stringOrNull(r.doi)},
            {"Subject ID", stringOrNull(r.patientId)},
            {"Study UID", r.studyUid},
            {"Study Description", stringOrNull(sanitise(r.studyDescription))},
            {"Study Date", mdy(r.studyDate)},
            {"Series Description", stringOrNull(sanitise(r.seriesDescription))},
            {"Manufacturer", stringOrNull(Poco::replace(r.manufacturer, ",", " "))},
            {"Modality", stringOrNull(r.modality)},
            {"SOP Class UID", stringOrNull(r.sopClassUid)},
            {"Number of Images", std::to_string(r.imageCount)},
            {"File Size", std::to_string(r.fileSize)},
            {"File Location", stringOrNull(r.studyId)},
            {"Series Number", stringOrNull(seriesNumberText(r.seriesNumber))},
            {"License Name", stringOrNull(r.licenseName)},
            {"License URL", stringOrNull(r.licenseUri)},
            {"Annotation Size", std::string("0")},
            {"Date Released", mdy(r.dateReleased)},
            {"Series Date", mdy(r.seriesDate)},
            {"Protocol Name", stringOrNull(r.protocolName)},
            {"Body Part Examined", stringOrNull(r.bodyPart)},
            {"Annotations Flag", r.annotationsFlag ? JsonValue(std::string("true")) : JsonValue(std::monostate{})},
            {"Manufacturer Model Name", stringOrNull(r.manufacturerModelName)},
            {"Software Versions", stringOrNull(r.softwareVersions)},
            {"TimeStamp", mdy(r.maxSubmissionTimestamp)}};
}

JsonRow EndpointService::seriesMetadataRowV4(const SeriesRecord& r) {
    JsonValue offset = std::monostate{};
    if (r.longitudinalOffset) offset = std::to_string(*r.longitudinalOffset);
    return {{"PatientID", stringOrNull(r.patientId)},
            {"PatientName", nameOrNull(r.patientName)},
            {"PatientSex", stringOrNull(r.patientSex)},
            {"EthnicGroup", stringOrNull(r.ethnicGroup)},
            {"Phantom", r.phantom},
            {"SpeciesCode", r.speciesCode},
            {"SpeciesDescription", r.speciesDescription},
            {"StudyInstanceUID", r.studyUid},
            {"StudyDate", mdy(r.studyDate)},
            {"StudyDesc", stringOrNull(r.studyDescription)},
            {"AdmittingDiagnosisDescription", stringOrNull(r.admittingDiagnoses)},
            {"StudyID", stringOrNull(r.studyId)},
            {"PatientAge", stringOrNull(r.patientAge)},
            {"LongitudinalTemporalEventType", stringOrNull(r.longitudinalEventType)},
            {"LongitudinalTemporalOffsetFromEvent", offset},
            {"SeriesInstanceUID", r.seriesUid},
            {"Collection", r.collection},
            {"Site", stringOrNull(r.site)},
            {"Modality", stringOrNull(r.modality)},
            {"ProtocolName", stringOrNull(r.protocolName)},
            {"SeriesDate", mdy(r.seriesDate)},
            {"SeriesDescription", stringOrNull(r.seriesDescription)},
            {"BodyPartExamined", stringOrNull(r.bodyPart)},
            {"SeriesNumber", stringOrNull(seriesNumberText(r.seriesNumber))},
            {"AnnotationsFlag", r.annotationsFlag ? JsonValue(std::string("1")) : JsonValue(std::monostate{})},
            {"Manufacturer", stringOrNull(r.manufacturer)},
            {"ManufacturerModelName", stringOrNull(r.manufacturerModelName)},
            {"PixelSpacing(mm)-Row", stringOrNull(r.pixelSpacingRow)},
            {"SliceThickness(mm)", stringOrNull(r.sliceThickness)},
            {"SoftwareVersions", stringOrNull(r.softwareVersions)},
            {"ImageCount", r.imageCount},
            {"MaxSubmissionTimestamp", mdy(r.maxSubmissionTimestamp)},
            {"LicenseName", stringOrNull(r.licenseName)},
            {"LicenseURI", stringOrNull(r.licenseUri)},
            {"DataDescriptionURI", stringOrNull(r.doi)},
            {"FileSize", r.fileSize},
            {"ReleasedStatus", std::string("Released")},
            {"DateReleased", mdy(r.dateReleased)},
            {"ThirdPartyAnalysis", stringOrNull(r.thirdPartyAnalysis)},
            {"Authorized", std::string("1")}};
}

std::vector<std::pair<std::string, const InstanceRecord*>> EndpointService::zipNames(
    const std::vector<InstanceRecord>& instances, bool newFileNames, const std::string& seed) {
    std::vector<const InstanceRecord*> order;
    for (const auto& i : instances) order.push_back(&i);
    std::vector<std::pair<std::string, const InstanceRecord*>> out;
    if (!newFileNames) {
        // "%08d" counter in database order, i.e. unsorted (API.md 8.1).
        shuffle(order, seed);
        char buf[32];
        for (std::size_t i = 0; i < order.size(); ++i) {
            std::snprintf(buf, sizeof buf, "%08zu.dcm", i + 1);
            out.emplace_back(buf, order[i]);
        }
        return out;
    }
    // NewFileNames=Yes: sorted by InstanceNumber; <acq> ordinal increments when AcquisitionNumber
    // changes, <inst> a running ordinal per acquisition; zero-padded to the width of the maximum
    // (ImageDAO2Impl.setNewFileNames).
    std::stable_sort(order.begin(), order.end(),
                     [](const InstanceRecord* a, const InstanceRecord* b) { return a->instanceNumber < b->instanceNumber; });
    std::vector<std::pair<std::size_t, std::size_t>> ordinals;
    std::size_t acq = 0, inst = 0, maxInst = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (i == 0 || order[i]->acquisitionNumber != order[i - 1]->acquisitionNumber) {
            ++acq;
            inst = 0;
        }
        ++inst;
        maxInst = std::max(maxInst, inst);
        ordinals.emplace_back(acq, inst);
    }
    const int acqWidth = static_cast<int>(std::to_string(acq).size());
    const int instWidth = static_cast<int>(std::to_string(maxInst).size());
    char buf[64];
    for (std::size_t i = 0; i < order.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%0*zu-%0*zu.dcm", acqWidth, ordinals[i].first, instWidth, ordinals[i].second);
        out.emplace_back(buf, order[i]);
    }
    return out;
}

ApiResponse EndpointService::handle(const ApiRequest& req) const {
    const std::string& v = req.version;
    const bool v4 = v == "v4";
    // Path segments are case-sensitive in JAX-RS; v1 spells getSeriesMetaData, v4 getSeriesMetadata.
    const std::string& ep = req.endpoint;
    const Params& p = req.params;

    static const std::set<std::string> v1Endpoints{
        "getCollectionValues", "getModalityValues", "getBodyPartValues", "getManufacturerValues", "getPatient",
        "getPatientByCollectionAndModality", "NewPatientsInCollection", "getPatientStudy",
        "NewStudiesInPatientCollection", "getSeries", "getUpdatedSeries", "getSeriesSize", "getSOPInstanceUIDs",
        "getSeriesMetaData", "getImage", "getImageWithMD5Hash", "getSingleImage", "getM5HashForImage",
        "getMD5HashForImage"};
    const bool knownVersion = v == "v1" || v == "v2" || v4;
    const bool known = knownVersion && (v4 ? !ParameterPolicy::v4AllowList(ep).empty() : v1Endpoints.count(ep) > 0);
    if (!known) return text(404, "", "text/html");

    if (v4) {
        if (auto violation = ParameterPolicy::v4Violation(ep, p)) return text(400, *violation);
    }
    if (auto missing = ParameterPolicy::missingRequired(v, ep, p)) return text(400, *missing);

    const bool authorized = req.authorized;
    auto visible = [&](const SeriesRecord& r) { return !r.restricted || authorized; };
    // The date parameter of NewPatientsInCollection / NewStudiesInPatientCollection.
    auto newSince = [&]() {
        return v4 ? TciaDates::parseMonthDash(param(p, "fromDate")) : TciaDates::parseYearSlash(param(p, "Date"));
    };
    // v1: date_released > :date; v4 New* endpoints: >= (API.md 2.5).
    auto releasedBefore = [&](const std::optional<std::string>& since, const SeriesRecord& r) {
        if (!since) return false;
        const std::string from = TciaDates::toTimestamp(*since);
        const std::string released = TciaDates::toTimestamp(r.dateReleased);
        return v4 ? released < from : released <= from;
    };
    const std::string seed = requestSeed(req);

    // --- value lists -------------------------------------------------------------------------
    if (ep == "getCollectionValues") {
        std::set<std::string> names;  // code-point order, like the real list (API.md 2.2)
        for (const auto& c : index_->collections())
            if (!c.restricted || authorized) names.insert(c.name);
        std::vector<JsonRow> rows;
        for (const auto& n : names) rows.push_back({{"Collection", n}});
        return rowsResponse(rows, p);
    }
    if (ep == "getModalityValues" || ep == "getBodyPartValues" || ep == "getManufacturerValues") {
        const std::string collection = param(p, "Collection");
        const std::string modality = param(p, "Modality");
        const std::string bodyPart = param(p, "BodyPartExamined");
        const std::string column = ep == "getModalityValues" ? "Modality"
                                   : ep == "getBodyPartValues" ? "BodyPartExamined"
                                                               : "Manufacturer";
        // v1 upper-cases body parts only; v4 upper-cases all three. ORDER BY upper(...), NULL first.
        const bool upperCase = v4 || ep == "getBodyPartValues";
        // SELECT DISTINCT <value or upper(value)> ... ORDER BY upper(value): ties keep both spellings.
        std::set<std::pair<std::string, std::string>> values;  // (upper, emitted)
        bool sawNull = false;
        SeriesHint hint;
        hint.collection = collection;
        index_->forEachSeries(hint, [&](const SeriesRecord& r) {
            if (!visible(r) || !matches(collection, r.collection)) return;
            if (ep != "getModalityValues" && !matches(modality, r.modality)) return;
            if (ep != "getBodyPartValues" && !matches(bodyPart, r.bodyPart)) return;
            const std::string& value = ep == "getModalityValues" ? r.modality
                                       : ep == "getBodyPartValues" ? r.bodyPart
                                                                   : r.manufacturer;
            if (value.empty()) {
                sawNull = true;
                return;
            }
            values.emplace(upper(value), upperCase ? upper(value) : value);  // set: distinct pairs
        });
        std::vector<JsonRow> rows;
        if (sawNull) rows.push_back({{column, std::monostate{}}});
        for (const auto& [key, value] : values) rows.push_back({{column, value}});
        return rowsResponse(rows, p);
    }

    // --- patients ----------------------------------------------------------------------------
    if (ep == "getPatient" || ep == "NewPatientsInCollection" || ep == "getPatientByCollectionAndModality") {
        const std::string collection = param(p, "Collection");
        const std::string patientId = ep == "getPatient" ? param(p, "PatientId") : std::string();
        const std::string modality = ep == "getPatientByCollectionAndModality" ? param(p, "Modality") : std::string();
        std::optional<std::string> since;
        if (ep == "NewPatientsInCollection") {
            since = newSince();
            if (!since) return text(200, "");  // unparsable date: the parse exception is swallowed
        }
        std::map<std::pair<std::string, std::string>, JsonRow> distinct;
        SeriesHint hint;
        hint.collection = collection;
        hint.patientId = patientId;
        index_->forEachSeries(hint, [&](const SeriesRecord& r) {
            if (!visible(r) || !matches(collection, r.collection) || !matches(patientId, r.patientId)) return;
            if (!matches(modality, r.modality) || releasedBefore(since, r)) return;
            const auto key = std::make_pair(r.collection, r.patientId);
            if (distinct.count(key)) return;
            if (ep == "getPatientByCollectionAndModality") {
                JsonRow row{{"PatientId", r.patientId}};
                if (v4) row.emplace_back("Authorized", std::int64_t{1});
                distinct.emplace(key, row);
            } else {
                distinct.emplace(key, patientRow(v, r));
            }
        });
        std::vector<JsonRow> rows;
        for (auto& [k, row] : distinct) rows.push_back(std::move(row));
        shuffle(rows, seed);
        return rowsResponse(rows, p);
    }

    // --- studies -----------------------------------------------------------------------------
    if (ep == "getPatientStudy" || ep == "NewStudiesInPatientCollection") {
        const std::string collection = param(p, "Collection");
        const std::string patientId = param(p, "PatientID");
        const std::string studyUid = ep == "getPatientStudy" ? param(p, "StudyInstanceUID") : std::string();
        std::optional<std::string> since;
        if (ep == "NewStudiesInPatientCollection") {
            since = newSince();
            if (!since) return text(200, "");
        }
        std::map<std::string, std::pair<SeriesRecord, std::int64_t>> studies;
        std::vector<std::string> order;
        SeriesHint hint;
        hint.collection = collection;
        hint.patientId = patientId;
        hint.studyUid = studyUid;
        index_->forEachSeries(hint, [&](const SeriesRecord& r) {
            if (!visible(r) || !matches(collection, r.collection) || !matches(patientId, r.patientId) ||
                !matches(studyUid, r.studyUid) || releasedBefore(since, r))
                return;
            auto [it, fresh] = studies.try_emplace(r.studyUid, r, 0);
            if (fresh) order.push_back(r.studyUid);
            ++it->second.second;  // SeriesCount = released series of the study
        });
        std::vector<JsonRow> rows;
        for (const auto& uid : order) rows.push_back(studyRow(v, studies[uid].first, studies[uid].second));
        shuffle(rows, seed);
        return rowsResponse(rows, p);
    }

    // --- series ------------------------------------------------------------------------------
    if (ep == "getSeries" || ep == "getUpdatedSeries") {
        SeriesHint hint;
        std::optional<std::string> since;
        if (ep == "getSeries") {
            hint.collection = param(p, "Collection");
            hint.patientId = param(p, "PatientID");
            hint.studyUid = param(p, "StudyInstanceUID");
            hint.seriesUid = param(p, "SeriesInstanceUID");
        } else {
            const std::string from = param(p, "fromDate");
            if (from.empty()) since = "19000101";
            else since = v4 ? TciaDates::parseMonthDash(from) : TciaDates::parseDaySlash(from);
            if (!since) return text(200, "");
        }
        const std::string modality = param(p, "Modality");
        const std::string bodyPart = param(p, "BodyPartExamined");
        const std::string manufacturer = param(p, "Manufacturer");
        const std::string model = param(p, "ManufacturerModelName");
        const bool v1Updated = ep == "getUpdatedSeries" && !v4;
        auto accept = [=](const SeriesRecord& r) {
            if ((r.restricted && !authorized) || !matches(hint.collection, r.collection) ||
                !matches(hint.patientId, r.patientId) || !matches(hint.studyUid, r.studyUid) ||
                !matches(hint.seriesUid, r.seriesUid) || !matches(modality, r.modality) ||
                !matches(bodyPart, r.bodyPart) || !matches(manufacturer, r.manufacturer) ||
                !matches(model, r.manufacturerModelName))
                return false;
            // getUpdatedSeries: date_released > fromDate, strict in v1 and v4 (API.md 2.5).
            return !since || TciaDates::toTimestamp(r.dateReleased) > TciaDates::toTimestamp(*since);
        };
        if (Poco::toLower(param(p, "format")) == "csv") {
            std::vector<JsonRow> rows;
            index_->forEachSeries(hint, [&](const SeriesRecord& r) {
                if (accept(r)) rows.push_back(v1Updated ? updatedSeriesRowV1(r) : seriesRow(v, r));
            });
            shuffle(rows, seed);
            return rowsResponse(rows, p);
        }
        // Streamed: an unfiltered getSeries on the synthetic catalog is a million rows. Rows are
        // shuffled per block of 20,000 (the whole answer for any realistic query), so memory
        // stays bounded; the order is still arbitrary and deterministic per request.
        ApiResponse r;
        auto index = index_;
        r.stream = [index, hint, accept, v1Updated, v, seed](const BodySink& sink) {
            std::vector<std::string> block;
            bool first = true;
            std::size_t blockNumber = 0;
            auto flush = [&] {
                shuffle(block, seed + "#" + std::to_string(blockNumber++));
                for (auto& row : block) {
                    sink((first ? "[" : ",") + row);
                    first = false;
                }
                block.clear();
            };
            index->forEachSeries(hint, [&](const SeriesRecord& s) {
                if (!accept(s)) return;
                block.push_back(JettisonJson::object(v1Updated ? updatedSeriesRowV1(s) : seriesRow(v, s)));
                if (block.size() >= 20000) flush();
            });
            flush();
            if (!first) sink("]");  // no rows: an empty body, not "[]"
        };
        return r;
    }

    const std::string seriesUid = param(p, "SeriesInstanceUID");
    std::optional<SeriesRecord> series;
    if (!seriesUid.empty()) {
        series = index_->series(seriesUid);
        if (series && !visible(*series)) series.reset();
    }

    if (ep == "getSeriesSize") {
        // An aggregate always yields one row: SUM is NULL (omitted) and COUNT 0 for unknown UIDs.
        JsonRow row{{"TotalSizeInBytes", series ? JsonValue(series->fileSize) : JsonValue(std::monostate{})},
                    {"ObjectCount", series ? series->imageCount : std::int64_t{0}}};
        return rowsResponse({row}, p);
    }
    if (ep == "getSOPInstanceUIDs") {
        std::vector<JsonRow> rows;
        if (series && series->synthetic) {
            // Metadata-only series: SOP Instance UIDs <series>.<n>, as many as ImageCount says.
            for (std::int64_t i = 1; i <= series->imageCount; ++i)
                rows.push_back({{"SOPInstanceUID", series->seriesUid + "." + std::to_string(i)}});
        } else if (series) {
            for (const auto& i : index_->instances(series->seriesUid)) rows.push_back({{"SOPInstanceUID", i.sopInstanceUid}});
        }
        shuffle(rows, seed);
        return rowsResponse(rows, p);
    }
    if (ep == "getSeriesMetaData") {
        if (!series) return text(204, "");
        return rowsResponse({seriesMetaDataRowV1(*series)}, p);
    }
    if (ep == "getSeriesMetadata") {
        std::vector<JsonRow> rows;
        for (const auto& [k, value] : p) {
            if (k != "list") continue;
            std::string cleaned;  // the UID list is sanitised to [0-9,.] (API.md 5)
            for (char c : value)
                if (std::isdigit(static_cast<unsigned char>(c)) || c == ',' || c == '.') cleaned += c;
            std::stringstream ss(cleaned);
            std::string uid;
            while (std::getline(ss, uid, ',')) {
                if (uid.empty()) continue;
                auto s = index_->series(uid);
                if (s && visible(*s)) rows.push_back(seriesMetadataRowV4(*s));
            }
        }
        const std::string format = Poco::toLower(param(p, "format"));
        if (format == "json") return rowsResponse(rows, p);
        // Default: CSV download (API.md 5).
        Params csv{{"format", "csv"}};
        ApiResponse r = rowsResponse(rows, csv);
        r.headers.emplace_back("Content-Disposition", "attachment; filename=\"SeriesMetaData.csv\"");
        return r;
    }

    // --- downloads ---------------------------------------------------------------------------
    if (ep == "getImage" || ep == "getImageWithMD5Hash") {
        if (!series || series->synthetic || index_->instances(series->seriesUid).empty()) {
            if (v4 || v == "v2")
                return text(400, "The user has not been granted the access to image with given SeriesInstanceUID," +
                                     seriesUid + ". Please contact System Admin to resolve this issue.",
                            "text/plain");
            return text(400, "Image with given SeriesInstanceUID," + seriesUid + ", is not in public domain.",
                        "text/plain");
        }
        const bool withMd5Endpoint = ep == "getImageWithMD5Hash";
        const bool newNames = !withMd5Endpoint && Poco::icompare(param(p, "NewFileNames"), "yes") == 0;
        const bool md5 = withMd5Endpoint || (v4 && Poco::icompare(param(p, "IncludeMD5"), "yes") == 0);
        ApiResponse r;
        r.contentType = "application/octet-stream";
        r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + series->seriesUid + ".zip\"");
        r.isZip = true;
        if (!withMd5Endpoint) r.zip.push_back({"LICENSE", licenseText(*series), ""});
        std::string csv = "Filename,MD5Hash\n";
        for (const auto& [name, inst] : zipNames(index_->instances(series->seriesUid), newNames, seed)) {
            r.zip.push_back({name, "", inst->path});
            csv += name + "," + inst->md5 + "\n";
        }
        if (md5) r.zip.push_back({"md5hashes.csv", csv, ""});
        return r;
    }
    if (ep == "getSingleImage") {
        const std::string sop = param(p, "SOPInstanceUID");
        std::string owner;
        const InstanceRecord* inst = index_->instance(sop, &owner);
        if (!series || !inst || owner != series->seriesUid) {
            // An NPE in the DAO, mapped by UncaughtException (API.md 2.3).
            return text(500, "Server was not able to process your request\nnull", "text/plain");
        }
        std::ifstream in(inst->path, std::ios::binary);
        std::ostringstream bytes;
        bytes << in.rdbuf();
        ApiResponse r;
        r.contentType = "application/dicom";
        r.body = bytes.str();
        r.headers.emplace_back("Content-Disposition", "attachment; filename=" + sop + ".dcm");
        return r;
    }
    if (ep == "getMD5HashForImage" || ep == "getM5HashForImage") {
        const std::string sop = param(p, ep == "getM5HashForImage" ? "SOPInstanceUid" : "SOPInstanceUID");
        std::string owner;
        const InstanceRecord* inst = index_->instance(sop, &owner);
        if (inst) {
            auto s = index_->series(owner);
            if (s && !visible(*s)) inst = nullptr;
        }
        if (!inst) return text(200, "", "text/plain");
        return text(200, inst->md5, "text/plain");
    }
    return text(404, "", "text/html");
}

}  // namespace emulator
