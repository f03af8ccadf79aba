#include "bridge/idc/IdcParsers.h"

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/Node.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/Exception.h>
#include <Poco/SAX/InputSource.h>
#include <Poco/XML/XMLException.h>
#include <json/json.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>
#include <sstream>

#include "bridge/common/Error.h"
#include "bridge/tcia/HttpTransport.h"
#include "bridge/tcia/TciaJsonParser.h"

namespace bridge::idc {

namespace {

std::string excerpt(std::string_view s) {
    std::string t(s.substr(0, 200));
    std::replace(t.begin(), t.end(), '\n', ' ');
    return t;
}

bool parseJson(std::string_view body, Json::Value& out) {
    Json::CharReaderBuilder builder;
    builder["collectComments"] = false;
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    std::string errors;
    return reader->parse(body.data(), body.data() + body.size(), &out, &errors);
}

std::string textOf(const Json::Value& v) {
    if (v.isNull()) return "";
    if (v.isString()) return v.asString();
    if (v.isBool()) return v.asBool() ? "true" : "false";
    if (v.isIntegral()) return v.isUInt64() ? std::to_string(v.asUInt64()) : std::to_string(v.asInt64());
    if (v.isDouble()) {
        std::ostringstream s;
        s.precision(15);
        s << v.asDouble();
        return s.str();
    }
    Json::StreamWriterBuilder w;
    w["indentation"] = "";
    return Json::writeString(w, v);
}

std::optional<std::int64_t> integerOf(const std::string& text) {
    if (text.empty()) return std::nullopt;
    try {
        std::size_t used = 0;
        const double d = std::stod(text, &used);
        if (used != text.size()) return std::nullopt;
        return static_cast<std::int64_t>(d);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

/// The local name of an element ("s3:Key" and "Key" alike).
std::string localName(const Poco::XML::Node* node) {
    std::string name = node->nodeName();
    const auto colon = name.find(':');
    return colon == std::string::npos ? name : name.substr(colon + 1);
}

Poco::AutoPtr<Poco::XML::Document> parseXml(std::string_view xml) {
    Poco::XML::DOMParser parser;
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, false);
    parser.setFeature(Poco::XML::DOMParser::FEATURE_FILTER_WHITESPACE, true);
    // No DTDs, no external entities: S3 sends none, and an attacker-controlled bucket must not
    // make the parser fetch anything.
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
    try {
        return parser.parseMemory(xml.data(), xml.size());
    } catch (const Poco::Exception& e) {
        throw BridgeError(ErrorCode::UpstreamBadResponse, "IDC bucket answered XML that does not parse (" +
                                                              e.displayText() + "): " + excerpt(xml));
    }
}

/// Text content of the direct children of `parent`, by local name (the last one wins).
std::map<std::string, std::string> childTexts(const Poco::XML::Node* parent) {
    std::map<std::string, std::string> out;
    for (auto* c = parent->firstChild(); c; c = c->nextSibling())
        if (c->nodeType() == Poco::XML::Node::ELEMENT_NODE) out[localName(c)] = c->innerText();
    return out;
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

std::string unquoteEtag(std::string etag) {
    etag = trim(std::move(etag));
    const std::string quot = "&quot;";  // in case the entity arrived double-escaped
    if (etag.size() >= 2 * quot.size() && etag.compare(0, quot.size(), quot) == 0 &&
        etag.compare(etag.size() - quot.size(), quot.size(), quot) == 0)
        etag = etag.substr(quot.size(), etag.size() - 2 * quot.size());
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    return etag;
}

}  // namespace

std::string sqlQuote(std::string_view value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'') out += '\'';
        out += c;
    }
    out += '\'';
    return out;
}

std::string column(const SqlRow& row, const std::string& name) {
    auto it = row.find(name);
    return it == row.end() ? std::string() : it->second;
}

std::string describeApiError(std::string_view body) {
    Json::Value v;
    if (parseJson(body, v) && v.isObject()) {
        if (v["error"].isObject()) {
            const auto& e = v["error"];
            return textOf(e["code"]) + ": " + textOf(e["message"]);
        }
        if (v.isMember("detail")) return "invalid request: " + excerpt(textOf(v["detail"]));
        if (v.isMember("message")) return textOf(v["message"]);
    }
    return excerpt(body);
}

SqlPage parseSqlPage(std::string_view body) {
    Json::Value v;
    if (!parseJson(body, v) || !v.isObject())
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "IDC /sql answered something that is not a JSON object: " + excerpt(body));
    if (v["error"].isObject()) {
        const std::string code = textOf(v["error"]["code"]);
        const std::string what = "IDC /sql: " + describeApiError(body);
        if (code == "query_timeout") throw BridgeError(ErrorCode::UpstreamTimeout, what);
        if (code == "not_found") throw BridgeError(ErrorCode::NotFound, what);
        throw BridgeError(ErrorCode::UpstreamBadResponse, what);
    }
    SqlPage page;
    page.truncated = v["truncated"].isBool() ? v["truncated"].asBool() : textOf(v["truncated"]) == "true";
    const Json::Value& rows = v["rows"];
    if (rows.isNull()) return page;
    if (!rows.isArray())
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "IDC /sql: `rows` is not an array: " + excerpt(body));
    // Rows are objects {col: val}; a row given as an array is matched to `columns` by position.
    const Json::Value& columns = v["columns"];
    page.rows.reserve(rows.size());
    for (const auto& r : rows) {
        SqlRow row;
        if (r.isObject()) {
            for (const auto& name : r.getMemberNames()) row[name] = textOf(r[name]);
        } else if (r.isArray() && columns.isArray()) {
            for (Json::ArrayIndex i = 0; i < r.size() && i < columns.size(); ++i) {
                const Json::Value& c = columns[i];
                const std::string name = c.isObject() ? textOf(c["name"]) : textOf(c);
                if (!name.empty()) row[name] = textOf(r[i]);
            }
        } else {
            continue;  // unknown shape: tolerated, skipped
        }
        page.rows.push_back(std::move(row));
    }
    return page;
}

std::string parseIdcVersion(std::string_view body) {
    Json::Value v;
    if (!parseJson(body, v) || !v.isObject())
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "IDC /version answered something that is not JSON: " + excerpt(body));
    return textOf(v["idc_version"]);
}

std::vector<std::pair<std::string, std::string>> parseCollectionList(std::string_view body) {
    Json::Value v;
    if (!parseJson(body, v))
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "IDC /collections answered something that is not JSON: " + excerpt(body));
    const Json::Value& list = v.isObject() && v["collections"].isArray() ? v["collections"] : v;
    std::vector<std::pair<std::string, std::string>> out;
    if (!list.isArray()) return out;
    for (const auto& c : list) {
        if (!c.isObject()) continue;
        const std::string id = textOf(c["collection_id"]);
        if (id.empty()) continue;
        std::string name = textOf(c["collection_name"]);
        out.emplace_back(name.empty() ? id : name, id);
    }
    return out;
}

ListPage parseListObjects(std::string_view xml) {
    auto doc = parseXml(xml);
    const Poco::XML::Element* root = doc->documentElement();
    if (!root || localName(root) != "ListBucketResult") {
        auto error = parseS3Error(xml);
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "IDC bucket listing is not a ListBucketResult: " +
                              (error ? error->code + " " + error->message : excerpt(xml)));
    }
    ListPage page;
    for (auto* c = root->firstChild(); c; c = c->nextSibling()) {
        if (c->nodeType() != Poco::XML::Node::ELEMENT_NODE) continue;
        const std::string name = localName(c);
        if (name == "IsTruncated") {
            page.truncated = trim(c->innerText()) == "true";
        } else if (name == "NextContinuationToken") {
            page.nextContinuationToken = trim(c->innerText());
        } else if (name == "Contents") {
            auto fields = childTexts(c);
            S3Object object;
            object.key = fields["Key"];
            object.etag = unquoteEtag(fields["ETag"]);
            if (auto n = integerOf(trim(fields["Size"])); n && *n >= 0)
                object.size = static_cast<std::uint64_t>(*n);
            if (!object.key.empty()) page.objects.push_back(std::move(object));
        }
    }
    if (page.truncated && page.nextContinuationToken.empty())
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "IDC bucket listing is truncated but carries no NextContinuationToken");
    return page;
}

std::optional<S3Error> parseS3Error(std::string_view xml) {
    if (xml.find("<Error") == std::string_view::npos) return std::nullopt;
    try {
        auto doc = parseXml(xml);
        const Poco::XML::Element* root = doc->documentElement();
        if (!root || localName(root) != "Error") return std::nullopt;
        auto fields = childTexts(root);
        return S3Error{trim(fields["Code"]), trim(fields["Message"])};
    } catch (const BridgeError&) {
        return std::nullopt;
    }
}

bool isMd5Etag(std::string_view etag) {
    return etag.size() == 32 && std::all_of(etag.begin(), etag.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c));
           });
}

bool isInstanceObject(const S3Object& object) {
    if (object.key.empty() || object.key.back() == '/') return false;
    if (object.size && *object.size == 0) return false;
    return true;
}

std::string bucketObjectUrl(const std::string& templ, const std::string& bucket, const std::string& key) {
    std::string url = templ;
    const std::string marker = "{bucket}";
    if (url.find(marker) != std::string::npos) {
        if (bucket.empty())
            throw BridgeError(ErrorCode::UpstreamBadResponse, "IDC series has no aws_bucket for " + templ);
        for (char c : bucket)
            if (!(std::islower(static_cast<unsigned char>(c)) ||
                  std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
                throw BridgeError(ErrorCode::UpstreamBadResponse,
                                  "IDC aws_bucket is not a bucket name: " + bucket);
        for (auto at = url.find(marker); at != std::string::npos; at = url.find(marker, at + bucket.size()))
            url.replace(at, marker.size(), bucket);
    }
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (key.empty()) return url + "/";
    // Object keys are "<uuid>/<uuid>.dcm": encode each segment, keep the slashes.
    std::string encoded;
    std::size_t start = 0;
    while (true) {
        const auto slash = key.find('/', start);
        encoded += tcia::HttpTransport::encodeQueryValue(key.substr(start, slash - start));
        if (slash == std::string::npos) break;
        encoded += '/';
        start = slash + 1;
    }
    return url + "/" + encoded;
}

std::string listObjectsUrl(const std::string& templ, const std::string& bucket, const std::string& prefix,
                           const std::string& continuationToken) {
    std::string url = bucketObjectUrl(templ, bucket, "") +
                      "?list-type=2&prefix=" + tcia::HttpTransport::encodeQueryValue(prefix) +
                      "&max-keys=1000";
    if (!continuationToken.empty())
        url += "&continuation-token=" + tcia::HttpTransport::encodeQueryValue(continuationToken);
    return url;
}

std::string collectionIdFromName(std::string_view tciaName) {
    std::string out;
    for (char c : tciaName) {
        if (c == '-' || c == ' ')
            out += '_';
        else
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string isoToDicomDate(std::string_view text) {
    auto digits = [](std::string_view s) {
        return std::all_of(s.begin(), s.end(),
                           [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    };
    if (text.size() >= 10 && text[4] == '-' && text[7] == '-' && digits(text.substr(0, 4)) &&
        digits(text.substr(5, 2)) && digits(text.substr(8, 2)))
        return std::string(text.substr(0, 4)) + std::string(text.substr(5, 2)) +
               std::string(text.substr(8, 2));
    if (text.size() == 8 && digits(text)) return std::string(text);
    return "";
}

namespace {

std::string collectionName(const SqlRow& row, const CollectionNames& names) {
    std::string name = column(row, "collection_name");
    if (!name.empty()) return name;
    const std::string id = column(row, "collection_id");
    auto it = names.find(id);
    return it == names.end() ? id : it->second;
}

std::string doiUrl(const std::string& doi) {
    if (doi.empty() || doi.rfind("http", 0) == 0) return doi;
    return "https://doi.org/" + doi;
}

}  // namespace

tcia::SeriesRecord seriesFromRow(const SqlRow& row, const CollectionNames& names) {
    tcia::SeriesRecord s;
    s.seriesInstanceUid = column(row, "SeriesInstanceUID");
    s.studyInstanceUid = column(row, "StudyInstanceUID");
    s.modality = column(row, "Modality");
    s.seriesDate = isoToDicomDate(column(row, "SeriesDate"));
    s.seriesDescription = column(row, "SeriesDescription");
    s.bodyPartExamined = column(row, "BodyPartExamined");
    s.seriesNumber = tcia::normalizeIntegerString(column(row, "SeriesNumber"));
    s.collection = collectionName(row, names);
    s.patientId = column(row, "PatientID");
    s.patientSex = column(row, "PatientSex");
    s.patientAge = column(row, "PatientAge");
    s.manufacturer = column(row, "Manufacturer");
    s.manufacturerModelName = column(row, "ManufacturerModelName");
    s.imageCount = integerOf(column(row, "instanceCount"));
    s.licenseName = column(row, "license_short_name");
    s.dataDescriptionUri = doiUrl(column(row, "source_DOI"));
    const std::string mb = column(row, "series_size_MB");
    if (!mb.empty()) {
        try {
            s.fileSize = static_cast<std::int64_t>(std::stod(mb) * 1e6);
        } catch (const std::exception&) {
        }
    }
    s.studyDescription = column(row, "StudyDescription");
    s.studyDate = isoToDicomDate(column(row, "StudyDate"));
    s.thirdPartyAnalysis = column(row, "analysis_result_id").empty() ? "" : "YES";
    s.maxSubmissionTimestamp = column(row, "series_revised_idc_version");
    return s;
}

tcia::StudyRecord studyFromRow(const SqlRow& row, const CollectionNames& names) {
    tcia::StudyRecord s;
    s.studyInstanceUid = column(row, "StudyInstanceUID");
    s.studyDate = isoToDicomDate(column(row, "StudyDate"));
    s.studyDescription = column(row, "StudyDescription");
    s.patientAge = column(row, "PatientAge");
    s.patientId = column(row, "PatientID");
    s.patientSex = column(row, "PatientSex");
    s.collection = collectionName(row, names);
    if (auto n = integerOf(column(row, "series_count"))) s.seriesCount = static_cast<int>(*n);
    return s;
}

tcia::PatientRecord patientFromRow(const SqlRow& row, const CollectionNames& names) {
    tcia::PatientRecord p;
    p.patientId = column(row, "PatientID");
    p.patientSex = column(row, "PatientSex");
    p.collection = collectionName(row, names);
    return p;
}

CollectionInfo collectionInfoFromRow(const SqlRow& row) {
    CollectionInfo info;
    info.name = column(row, "collection_name");
    info.id = column(row, "collection_id");
    if (info.name.empty()) info.name = info.id;
    info.idcName = info.name;
    Json::Value sources;
    if (parseJson(column(row, "sources"), sources) && sources.isArray()) {
        for (const auto& s : sources) {
            if (!s.isObject()) continue;
            const Json::Value& license = s["license"];
            const std::string shortName = license.isObject() ? textOf(license["license_short_name"]) : "";
            info.sources.push_back(CollectionSource{textOf(s["source_doi"]), shortName,
                                                    license.isObject() ? textOf(license["license_url"]) : "",
                                                    textOf(s["citation"])});
            if (info.sourceDoi.empty()) info.sourceDoi = textOf(s["source_doi"]);
            if (info.citation.empty()) info.citation = textOf(s["citation"]);
            if (info.licenseShortName.empty() && !shortName.empty()) {
                info.licenseShortName = shortName;
                info.licenseUrl = textOf(license["license_url"]);
                info.sourceDoi = textOf(s["source_doi"]);
                if (!textOf(s["citation"]).empty()) info.citation = textOf(s["citation"]);
            }
        }
    }
    if (info.licenseShortName.empty()) info.licenseShortName = column(row, "license_short_name");
    std::string upper = info.licenseShortName;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    info.nonCommercial =
        upper.find("BY-NC") != std::string::npos || upper.find("NON-COMMERCIAL") != std::string::npos;
    return info;
}

std::string normalDoi(std::string_view doiOrUrl) {
    std::string s(doiOrUrl);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* prefix : {"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"})
        if (s.rfind(prefix, 0) == 0) {
            s.erase(0, std::string(prefix).size());
            break;
        }
    return s;
}

namespace {
std::string upperOf(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}
}  // namespace

CollectionDirectory joinCollections(const std::vector<CollectionInfo>& idc,
                                    const std::map<std::string, std::string>& tciaNames) {
    std::map<std::string, std::string> tciaByDoi;  // normalDoi -> TCIA name
    for (const auto& [name, doi] : tciaNames)
        if (!name.empty() && !normalDoi(doi).empty()) tciaByDoi[normalDoi(doi)] = name;
    // How many collections list each DOI: a shared DOI names no collection by itself.
    std::map<std::string, int> owners;
    for (const auto& c : idc) {
        std::set<std::string> mine;
        for (const auto& s : c.sources)
            if (!normalDoi(s.doi).empty()) mine.insert(normalDoi(s.doi));
        if (mine.empty() && !normalDoi(c.sourceDoi).empty()) mine.insert(normalDoi(c.sourceDoi));
        for (const auto& d : mine) ++owners[d];
    }
    CollectionDirectory out;
    for (const auto& c : idc) {
        if (c.id.empty()) continue;
        std::vector<std::string> dois;
        for (const auto& s : c.sources)
            if (!normalDoi(s.doi).empty()) dois.push_back(normalDoi(s.doi));
        if (dois.empty() && !normalDoi(c.sourceDoi).empty()) dois.push_back(normalDoi(c.sourceDoi));
        std::string name = c.name.empty() ? c.id : c.name;
        for (const auto& d : dois)
            if (owners[d] == 1)
                if (auto it = tciaByDoi.find(d); it != tciaByDoi.end()) {
                    name = it->second;
                    break;
                }
        CollectionInfo info = c;
        info.idcName = c.idcName.empty() ? c.name : c.idcName;
        info.name = name;
        out.nameById[c.id] = name;
        out.idByName[upperOf(name)] = c.id;
        out.idByName.emplace(upperOf(info.idcName.empty() ? c.id : info.idcName), c.id);
        out.idByName.emplace(upperOf(c.id), c.id);
        for (const auto& d : dois)
            if (owners[d] == 1) out.nameByDoi[d] = name;
        for (const auto& s : c.sources)
            if (!normalDoi(s.doi).empty() && owners[normalDoi(s.doi)] == 1) out.sourceByDoi[normalDoi(s.doi)] = s;
        out.infoByName[upperOf(name)] = std::move(info);
    }
    return out;
}

std::string tciaCollectionName(const CollectionDirectory& directory, const std::string& collectionId,
                               const std::string& sourceDoi) {
    if (const std::string doi = normalDoi(sourceDoi); !doi.empty())
        if (auto it = directory.nameByDoi.find(doi); it != directory.nameByDoi.end()) return it->second;
    if (auto it = directory.nameById.find(collectionId); it != directory.nameById.end()) return it->second;
    return collectionId;
}

tcia::SeriesRecord joinedSeriesFromRow(const SqlRow& row, const CollectionDirectory& directory) {
    tcia::SeriesRecord s = seriesFromRow(row, directory.nameById);
    s.collection = tciaCollectionName(directory, column(row, "collection_id"), column(row, "source_DOI"));
    return s;
}

tcia::StudyRecord joinedStudyFromRow(const SqlRow& row, const CollectionDirectory& directory) {
    tcia::StudyRecord s = studyFromRow(row, directory.nameById);
    s.collection = tciaCollectionName(directory, column(row, "collection_id"), column(row, "source_DOI"));
    return s;
}

tcia::PatientRecord joinedPatientFromRow(const SqlRow& row, const CollectionDirectory& directory) {
    tcia::PatientRecord p = patientFromRow(row, directory.nameById);
    p.collection = tciaCollectionName(directory, column(row, "collection_id"), column(row, "source_DOI"));
    return p;
}

}  // namespace bridge::idc
