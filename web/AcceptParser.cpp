#include "web/AcceptParser.h"

#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/String.h>

#include <algorithm>
#include <cstdlib>

namespace bridge::web {
namespace {

struct CompressedType {
    const char* transferSyntax;
    const char* mediaType;
};
// PS3.18 Table 8.7.3-2 (frame / bulk pixel data media types).
constexpr CompressedType kCompressed[] = {
    {"1.2.840.10008.1.2.4.50", "image/jpeg"},  {"1.2.840.10008.1.2.4.51", "image/jpeg"},
    {"1.2.840.10008.1.2.4.57", "image/jpeg"},  {"1.2.840.10008.1.2.4.70", "image/jpeg"},
    {"1.2.840.10008.1.2.4.80", "image/jls"},   {"1.2.840.10008.1.2.4.81", "image/jls"},
    {"1.2.840.10008.1.2.4.90", "image/jp2"},   {"1.2.840.10008.1.2.4.91", "image/jp2"},
    {"1.2.840.10008.1.2.4.92", "image/jpx"},   {"1.2.840.10008.1.2.4.93", "image/jpx"},
    {"1.2.840.10008.1.2.5", "image/dicom-rle"},
};

}  // namespace

std::string MediaRange::parameter(const std::string& name) const {
    auto it = parameters.find(name);
    return it == parameters.end() ? std::string() : it->second;
}

bool MediaRange::covers(const std::string& type) const {
    if (mediaType == "*/*" || mediaType == "*") return true;
    if (mediaType == type) return true;
    if (mediaType.size() > 2 && mediaType.compare(mediaType.size() - 2, 2, "/*") == 0)
        return type.compare(0, mediaType.size() - 1, mediaType, 0, mediaType.size() - 1) == 0;
    return false;
}

std::vector<MediaRange> parseAccept(const std::string& header) {
    // Poco splits the elements and their parameters (RFC 9110 5.6: commas and semicolons inside
    // quoted strings do not split; values come back unquoted); the negotiation rules stay here.
    std::vector<std::string> elements;
    Poco::Net::MessageHeader::splitElements(header, elements, true);
    std::vector<MediaRange> out;
    for (const auto& element : elements) {
        std::string type;
        Poco::Net::NameValueCollection parameters;
        Poco::Net::MessageHeader::splitParameters(element, type, parameters);
        MediaRange range;
        range.mediaType = Poco::toLower(type);
        if (range.mediaType.empty()) continue;
        bool drop = false;
        for (const auto& [rawName, rawValue] : parameters) {
            const std::string name = Poco::toLower(rawName);
            // A parameter without a value ("; charset" or "; type=") counts as absent.
            if (name.empty() || rawValue.empty()) continue;
            if (name == "q") {
                range.quality = std::atof(rawValue.c_str());
                // RFC 9110 12.4.2: a qvalue is 0..1. "q=nan" kept a NaN that broke the sort's
                // ordering (fuzz/accept); NaN or <= 0 drops the range, above 1 counts as 1.
                if (!(range.quality > 0)) drop = true;
                if (range.quality > 1) range.quality = 1;
                continue;
            }
            // A doubled parameter keeps its first value (OHIF #3990 sends transfer-syntax twice).
            range.parameters.emplace(name, name == "type" ? Poco::toLower(rawValue) : rawValue);
        }
        if (!drop) out.push_back(std::move(range));
    }
    if (out.empty() && Poco::trim(header).empty()) out.push_back(MediaRange{"*/*", {}, 1.0});
    std::stable_sort(out.begin(), out.end(), [](const MediaRange& a, const MediaRange& b) { return a.quality > b.quality; });
    return out;
}

bool acceptsDicomJson(const std::vector<MediaRange>& ranges) {
    for (const auto& r : ranges)
        if (r.covers("application/dicom+json") || r.mediaType == "application/json") return true;
    return false;
}

std::vector<AcceptableRepresentation> acceptableInstanceTypes(const std::vector<MediaRange>& ranges) {
    std::vector<AcceptableRepresentation> out;
    for (const auto& r : ranges) {
        std::string ts = r.parameter("transfer-syntax");
        if (ts.empty()) ts = kAnyTransferSyntax;
        if (r.mediaType == "multipart/related") {
            std::string type = r.parameter("type");
            if (type.empty() || type == "application/dicom") out.push_back({"application/dicom", ts, true});
        } else if (r.mediaType == "application/dicom") {
            out.push_back({"application/dicom", ts, false});
        } else if (r.mediaType == "*/*" || r.mediaType == "multipart/*") {
            out.push_back({"application/dicom", ts, true});
        }
    }
    return out;
}

std::vector<AcceptableRepresentation> acceptableFrameTypes(const std::vector<MediaRange>& ranges) {
    std::vector<AcceptableRepresentation> out;
    auto add = [&](const std::string& type, std::string ts, bool multipart) {
        if (ts.empty()) ts = type == "application/octet-stream" ? kExplicitVrLittleEndian : kAnyTransferSyntax;
        out.push_back({type, ts, multipart});
    };
    for (const auto& r : ranges) {
        const std::string ts = r.parameter("transfer-syntax");
        if (r.mediaType == "multipart/related") {
            std::string type = r.parameter("type");
            if (type.empty()) type = "application/octet-stream";
            add(type, ts, true);
        } else if (r.mediaType == "*/*" || r.mediaType == "multipart/*") {
            add("application/octet-stream", ts, true);
        } else if (r.mediaType == "application/octet-stream" || r.mediaType.rfind("image/", 0) == 0) {
            add(r.mediaType, ts, false);
        }
    }
    return out;
}

std::optional<std::string> negotiateRenderedType(const std::vector<MediaRange>& ranges) {
    for (const auto& r : ranges) {
        if (r.covers("image/jpeg")) return std::string("image/jpeg");
        if (r.covers("image/png")) return std::string("image/png");
    }
    return std::nullopt;
}

bool acceptsGzipEncoding(const std::string& acceptEncoding) {
    std::vector<std::string> elements;
    Poco::Net::MessageHeader::splitElements(acceptEncoding, elements, true);
    for (const auto& element : elements) {
        std::string coding;
        Poco::Net::NameValueCollection parameters;
        Poco::Net::MessageHeader::splitParameters(element, coding, parameters);
        if (Poco::icompare(coding, std::string("gzip")) != 0 && Poco::icompare(coding, std::string("x-gzip")) != 0) continue;
        for (const auto& [name, value] : parameters)
            if (Poco::icompare(name, std::string("q")) == 0) return std::atof(value.c_str()) > 0;
        return true;
    }
    return false;
}

std::string mediaTypeForTransferSyntax(const std::string& uid) {
    for (const auto& c : kCompressed)
        if (uid == c.transferSyntax) return c.mediaType;
    return {};
}

bool isNativeTransferSyntax(const std::string& uid) {
    return uid == "1.2.840.10008.1.2" || uid == "1.2.840.10008.1.2.1" || uid == "1.2.840.10008.1.2.2" ||
           uid == "1.2.840.10008.1.2.1.99";
}

}  // namespace bridge::web
