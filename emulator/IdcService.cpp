#include "emulator/IdcService.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <set>

namespace emulator::idc {

namespace {

using Poco::JSON::Object;

ApiResponse json(int status, std::string body) {
    ApiResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

std::string str(const std::string& s) { return s.empty() ? "null" : jsonQuote(s); }

/// FastAPI/pydantic 422: {"detail":[{"type","loc":["body",...],"msg","input"}]}.
ApiResponse unprocessable(const std::string& type, const std::vector<std::string>& loc,
                          const std::string& msg, const std::string& inputJson = "null") {
    std::string l = "[\"body\"";
    for (const auto& p : loc)
        l += "," + (p.find_first_not_of("0123456789") == std::string::npos ? p : jsonQuote(p));
    l += "]";
    return json(422, "{\"detail\":[{\"type\":" + jsonQuote(type) + ",\"loc\":" + l +
                         ",\"msg\":" + jsonQuote(msg) + ",\"input\":" + inputJson + "}]}");
}

/// Parses a JSON object body; on failure fills `error` with the 422.
Object::Ptr parseBody(const std::string& body, std::optional<ApiResponse>& error) {
    Poco::Dynamic::Var v;
    try {
        Poco::JSON::Parser parser;
        v = parser.parse(body.empty() ? std::string("null") : body);
    } catch (const std::exception&) {
        error = unprocessable("json_invalid", {"0"}, "JSON decode error", "{}");
        return nullptr;
    }
    if (v.type() != typeid(Object::Ptr)) {
        error = unprocessable("model_attributes_type", {},
                              "Input should be a valid dictionary or object to extract fields from");
        return nullptr;
    }
    return v.extract<Object::Ptr>();
}

/// An integer field: nullopt if absent/null; error 422 if not an integer.
std::optional<long long> intField(const Object::Ptr& o, const std::string& key,
                                  std::optional<ApiResponse>& error) {
    if (!o->has(key) || o->isNull(key)) return std::nullopt;
    const auto v = o->get(key);
    if (v.isBoolean() || v.isString() || !v.isNumeric()) {
        error = unprocessable("int_type", {key}, "Input should be a valid integer");
        return std::nullopt;
    }
    const double d = v.convert<double>();
    if (std::floor(d) != d || std::fabs(d) > 9e15) {
        error = unprocessable("int_from_float", {key},
                              "Input should be a valid integer, got a number with a fractional part");
        return std::nullopt;
    }
    return static_cast<long long>(d);
}

const std::set<std::string> kTermAttributes{
    "collection_id",  "analysis_result_id", "PatientID",    "StudyInstanceUID",      "SeriesInstanceUID",
    "Modality",       "BodyPartExamined",   "Manufacturer", "ManufacturerModelName", "PatientSex",
    "sop_class_name", "license_short_name", "source_DOI"};
const std::set<std::string> kRangeAttributes{
    "instanceCount", "series_size_MB", "series_init_idc_version", "series_revised_idc_version",
    "StudyDate",     "SeriesDate"};

std::string termValue(const IndexRow& r, const std::string& a) {
    if (a == "collection_id") return r.collection_id;
    if (a == "PatientID") return r.PatientID;
    if (a == "StudyInstanceUID") return r.StudyInstanceUID;
    if (a == "SeriesInstanceUID") return r.SeriesInstanceUID;
    if (a == "Modality") return r.Modality;
    if (a == "BodyPartExamined") return r.BodyPartExamined;
    if (a == "Manufacturer") return r.Manufacturer;
    if (a == "ManufacturerModelName") return r.ManufacturerModelName;
    if (a == "PatientSex") return r.PatientSex;
    if (a == "sop_class_name") return r.sop_class_name;
    if (a == "license_short_name") return r.license_short_name;
    if (a == "source_DOI") return r.source_DOI;
    return {};  // analysis_result_id: NULL for every emulated series
}

/// A compiled filter: every predicate must hold.
using Predicate = std::function<bool(const IndexRow&)>;

std::optional<ApiResponse> compileFilters(const Object::Ptr& filters, std::vector<Predicate>& out) {
    if (!filters) return std::nullopt;
    for (const auto& [section, value] : *filters) {
        if (section != "terms" && section != "ranges")
            return idcError(400, "invalid_query", "Unknown filter section: " + section);
        if (value.isEmpty()) continue;
        if (value.type() != typeid(Object::Ptr))
            return unprocessable("dict_type", {"filters", section}, "Input should be a valid dictionary");
        const auto attrs = value.extract<Object::Ptr>();
        for (const auto& [attr, spec] : *attrs) {
            if (section == "terms") {
                if (!kTermAttributes.count(attr))
                    return idcError(400, "invalid_query", "Unsupported term filter attribute: " + attr);
                std::set<std::string> wanted;
                if (spec.type() == typeid(Poco::JSON::Array::Ptr)) {
                    for (const auto& v : *spec.extract<Poco::JSON::Array::Ptr>())
                        wanted.insert(v.convert<std::string>());
                } else if (!spec.isEmpty()) {
                    wanted.insert(spec.convert<std::string>());
                }
                out.push_back([attr = attr, wanted](const IndexRow& r) {
                    return wanted.count(termValue(r, attr)) > 0;
                });
            } else {
                if (!kRangeAttributes.count(attr))
                    return idcError(400, "invalid_query", "Unsupported range filter attribute: " + attr);
                if (spec.type() != typeid(Object::Ptr))
                    return unprocessable("dict_type", {"filters", "ranges", attr},
                                         "Input should be a valid dictionary");
                const auto bounds = spec.extract<Object::Ptr>();
                const bool text = attr == "StudyDate" || attr == "SeriesDate";
                for (const auto& [op, bound] : *bounds) {
                    if (op != "gte" && op != "lte" && op != "gt" && op != "lt")
                        return idcError(400, "invalid_query", "Unsupported range operator: " + op);
                    if (text) {
                        const std::string b = bound.convert<std::string>();
                        out.push_back([attr = attr, op = op, b](const IndexRow& r) {
                            const std::string& v = attr == "StudyDate" ? r.StudyDate : r.SeriesDate;
                            if (v.empty()) return false;
                            return op == "gte" ? v >= b : op == "lte" ? v <= b : op == "gt" ? v > b : v < b;
                        });
                    } else {
                        double b = 0;
                        try {
                            b = bound.convert<double>();
                        } catch (const std::exception&) {
                            return unprocessable("float_parsing", {"filters", "ranges", attr, op},
                                                 "Input should be a valid number");
                        }
                        out.push_back([attr = attr, op = op, b](const IndexRow& r) {
                            const double v = attr == "instanceCount"    ? static_cast<double>(r.instanceCount)
                                             : attr == "series_size_MB" ? r.series_size_MB
                                             : attr == "series_init_idc_version"
                                                 ? static_cast<double>(r.series_init_idc_version)
                                                 : static_cast<double>(r.series_revised_idc_version);
                            return op == "gte" ? v >= b : op == "lte" ? v <= b : op == "gt" ? v > b : v < b;
                        });
                    }
                }
            }
        }
    }
    return std::nullopt;
}

struct Counts {
    std::set<std::string> patients, studies;
    std::int64_t series = 0, instances = 0;
    double mb = 0;
    void add(const IndexRow& r) {
        patients.insert(r.collection_id + "\n" + r.PatientID);
        studies.insert(r.StudyInstanceUID);
        ++series;
        instances += r.instanceCount;
        mb += r.series_size_MB;
    }
    std::string json() const {
        return "{\"patients\":" + std::to_string(patients.size()) +
               ",\"studies\":" + std::to_string(studies.size()) + ",\"series\":" + std::to_string(series) +
               ",\"instances\":" + std::to_string(instances) + ",\"size_TB\":" + jsonNumber(mb / 1e6) + "}";
    }
};

}  // namespace

ApiResponse idcError(int status, const std::string& code, const std::string& message) {
    return json(status,
                "{\"error\":{\"code\":" + jsonQuote(code) + ",\"message\":" + jsonQuote(message) + "}}");
}

std::string IdcService::endpointName(const std::string& path) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (p.rfind("/v3/collections/", 0) == 0) return "v3/collection";
    return p.empty() ? p : p.substr(1);
}

ApiResponse IdcService::handle(const std::string& method, const std::string& rawPath,
                               const std::string& body) const {
    std::string path = rawPath;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path.rfind("/v1/", 0) == 0 || path == "/v1" || path.rfind("/v2/", 0) == 0 || path == "/v2") {
        const std::string v = path.substr(1, 2);
        return json(
            410, "{\"code\":410,\"message\":\"IDC " + v + " API endpoints have been deprecated\"," +
                     "\"details\":\"Use the v3 API: https://api.imaging.datacommons.cancer.gov/v3/docs\"}");
    }
    auto methodNotAllowed = [] { return json(405, "{\"detail\":\"Method Not Allowed\"}"); };
    if (path == "/v3/version") {
        if (method != "GET") return methodNotAllowed();
        const auto [idc, data] = catalog_->version();
        return json(200, "{\"idc_version\":" + jsonQuote(idc) + ",\"idc_index_data_version\":" +
                             jsonQuote(data) + ",\"api_version\":\"3.0.0b2\",\"build\":null}");
    }
    if (path == "/v3/health") return method == "GET" ? json(200, "{\"status\":\"ok\"}") : methodNotAllowed();
    if (path == "/v3/collections") return method == "GET" ? collections() : methodNotAllowed();
    if (path.rfind("/v3/collections/", 0) == 0)
        return method == "GET" ? collection(path.substr(std::string("/v3/collections/").size()))
                               : methodNotAllowed();
    if (path == "/v3/sql") return method == "POST" ? sql(body) : methodNotAllowed();
    if (path == "/v3/cohort/manifest") return method == "POST" ? manifest(body, false) : methodNotAllowed();
    if (path == "/v3/cohort/counts") return method == "POST" ? manifest(body, true) : methodNotAllowed();
    return json(404, "{\"detail\":\"Not Found\"}");
}

ApiResponse IdcService::sql(const std::string& body) const {
    std::optional<ApiResponse> error;
    const auto o = parseBody(body, error);
    if (error) return *error;
    if (!o->has("sql") || o->isNull("sql")) return unprocessable("missing", {"sql"}, "Field required", "{}");
    const auto q = o->get("sql");
    if (!q.isString()) return unprocessable("string_type", {"sql"}, "Input should be a valid string");
    const auto maxRows = intField(o, "max_rows", error);
    if (error) return *error;
    if (maxRows && *maxRows < 1)
        return unprocessable("greater_than_equal", {"max_rows"}, "Input should be greater than or equal to 1",
                             std::to_string(*maxRows));
    // 5,000 by default, never more than 10,000 (larger requests are lowered, and echoed as such).
    const int rows = maxRows ? static_cast<int>(std::min<long long>(*maxRows, 10000)) : 5000;
    const SqlOutcome outcome = catalog_->sql(q.extract<std::string>(), rows);
    if (!outcome.errorCode.empty()) return idcError(outcome.status, outcome.errorCode, outcome.message);
    return json(200, outcome.body);
}

ApiResponse IdcService::manifest(const std::string& body, bool countsOnly) const {
    std::optional<ApiResponse> error;
    const auto o = parseBody(body, error);
    if (error) return *error;
    Object::Ptr filters;
    if (countsOnly) {
        filters = o;  // /cohort/counts takes {"terms":{},"ranges":{}} directly
    } else if (o->has("filters") && !o->isNull("filters")) {
        if (o->get("filters").type() != typeid(Object::Ptr))
            return unprocessable("dict_type", {"filters"}, "Input should be a valid dictionary");
        filters = o->getObject("filters");
    }
    std::vector<Predicate> predicates;
    if (auto e = compileFilters(filters, predicates)) return *e;
    long long page = 0, pageSize = 100;
    bool includeRows = true;
    if (!countsOnly) {
        if (auto p = intField(o, "page", error)) page = *p;
        if (error) return *error;
        if (page < 0)
            return unprocessable("greater_than_equal", {"page"}, "Input should be greater than or equal to 0",
                                 std::to_string(page));
        if (auto p = intField(o, "page_size", error)) pageSize = std::clamp<long long>(*p, 1, 5000);
        if (error) return *error;
        if (o->has("include_rows") && !o->isNull("include_rows")) {
            const auto v = o->get("include_rows");
            if (!v.isBoolean())
                return unprocessable("bool_type", {"include_rows"}, "Input should be a valid boolean");
            includeRows = v.extract<bool>();
        }
    }
    constexpr std::size_t kManifestCap = 100000;  // "A manifest stops at 100,000 series."
    Counts counts;
    std::vector<const IndexRow*> matched;
    for (const auto& r : catalog_->rows()) {  // already in collection/patient/study/series order
        if (catalog_->withdrawn(r.SeriesInstanceUID)) continue;
        if (!std::all_of(predicates.begin(), predicates.end(), [&](const Predicate& p) { return p(r); }))
            continue;
        counts.add(r);
        if (matched.size() < kManifestCap) matched.push_back(&r);
    }
    if (countsOnly) return json(200, counts.json());

    std::string rows;
    std::size_t returned = 0;
    const std::size_t first = static_cast<std::size_t>(
        std::min<long long>(page * pageSize, static_cast<long long>(matched.size())));
    const std::size_t last = std::min(matched.size(), first + static_cast<std::size_t>(pageSize));
    if (includeRows) {
        for (std::size_t i = first; i < last; ++i) {
            const IndexRow& r = *matched[i];
            rows +=
                std::string(returned++ ? "," : "") + "{\"collection_id\":" + str(r.collection_id) +
                ",\"PatientID\":" + str(r.PatientID) + ",\"StudyInstanceUID\":" + str(r.StudyInstanceUID) +
                ",\"SeriesInstanceUID\":" + str(r.SeriesInstanceUID) + ",\"Modality\":" + str(r.Modality) +
                ",\"SeriesDescription\":" + str(r.SeriesDescription) +
                ",\"instanceCount\":" + std::to_string(r.instanceCount) +
                ",\"series_size_MB\":" + jsonNumber(r.series_size_MB) +
                ",\"aws_bucket\":" + str(r.aws_bucket) + ",\"crdc_series_uuid\":" + str(r.crdc_series_uuid) +
                ",\"series_aws_url\":" + str(r.series_aws_url) + "}";
        }
    }
    std::string preview;
    for (std::size_t i = 0; i < std::min<std::size_t>(matched.size(), 10); ++i)
        preview += std::string(i ? "," : "") + jsonQuote(matched[i]->series_aws_url);
    const std::string download =
        "{\"total_series\":" + std::to_string(counts.series) + ",\"size_TB\":" + jsonNumber(counts.mb / 1e6) +
        ",\"idc_commands\":[\"s5cmd --no-sign-request --endpoint-url https://s3.amazonaws.com run "
        "manifest.txt\"]"
        ",\"manifest_preview\":[" +
        preview + "],\"manifest_truncated\":" +
        (static_cast<std::size_t>(counts.series) > kManifestCap ? "true" : "false") +
        ",\"note\":\"Each line copies one series prefix; POST /v3/cohort/manifest.txt for the full list.\"}";
    return json(200, "{\"counts\":" + counts.json() + ",\"page\":" + std::to_string(page) +
                         ",\"page_size\":" + std::to_string(pageSize) + ",\"returned\":" +
                         std::to_string(returned) + ",\"total_series\":" + std::to_string(counts.series) +
                         ",\"series\":[" + rows + "],\"download\":" + download + "}");
}

ApiResponse IdcService::collections() const {
    std::string out = "[";
    bool firstRow = true;
    for (const auto& c : catalog_->collections()) {
        out += std::string(firstRow ? "" : ",") + "{\"collection_id\":" + str(c.collection_id) +
               ",\"collection_name\":" + str(c.collection_name) +
               ",\"cancer_types\":null,\"tumor_locations\":" + str(c.tumor_locations) +
               ",\"species\":\"Human\",\"subjects\":" + std::to_string(c.subjects) +
               ",\"supporting_data\":null,\"description\":" + str(c.description) + "}";
        firstRow = false;
    }
    return json(200, out + "]");
}

ApiResponse IdcService::collection(const std::string& id) const {
    const CollectionRow* c = catalog_->collection(id);
    if (!c) return idcError(404, "not_found", "Collection '" + id + "' not found");
    Counts counts;
    std::set<std::string> modalities;
    std::map<std::string, std::pair<std::int64_t, double>> licenses;
    for (const auto& r : catalog_->rows()) {
        if (r.collection_id != id || catalog_->withdrawn(r.SeriesInstanceUID)) continue;
        counts.add(r);
        if (!r.Modality.empty()) modalities.insert(r.Modality);
        auto& l = licenses[r.license_short_name];
        ++l.first;
        l.second += r.series_size_MB;
    }
    std::string mods, lics;
    for (const auto& m : modalities) mods += (mods.empty() ? "" : ",") + jsonQuote(m);
    for (const auto& [name, v] : licenses)
        lics += std::string(lics.empty() ? "" : ",") + "{\"license_short_name\":" + str(name) +
                ",\"series\":" + std::to_string(v.first) + ",\"size_TB\":" + jsonNumber(v.second / 1e6) + "}";
    return json(200, "{\"collection_id\":" + str(c->collection_id) +
                         ",\"collection_name\":" + str(c->collection_name) +
                         ",\"cancer_types\":null,\"tumor_locations\":" + str(c->tumor_locations) +
                         ",\"species\":\"Human\",\"subjects\":" + std::to_string(c->subjects) +
                         ",\"supporting_data\":null,\"description\":" + str(c->description) +
                         ",\"patients\":" + std::to_string(counts.patients.size()) +
                         ",\"studies\":" + std::to_string(counts.studies.size()) +
                         ",\"series\":" + std::to_string(counts.series) + ",\"instances\":" +
                         std::to_string(counts.instances) + ",\"size_TB\":" + jsonNumber(counts.mb / 1e6) +
                         ",\"modalities\":[" + mods + "],\"licenses\":[" + lics + "]}");
}

}  // namespace emulator::idc
