#include "web/AcceptParser.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace bridge::web {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    auto e = s.find_last_not_of(" \t");
    return s.substr(b, e - b + 1);
}

std::string unquote(std::string v) {
    v = trim(v);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        std::string out;
        for (std::size_t i = 1; i + 1 < v.size(); ++i) {
            if (v[i] == '\\' && i + 2 < v.size()) ++i;
            out += v[i];
        }
        return out;
    }
    return v;
}

// Splits on `sep` outside double quotes.
std::vector<std::string> splitOutsideQuotes(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '"') quoted = !quoted;
        if (c == '\\' && quoted && i + 1 < s.size()) {
            cur += c;
            cur += s[++i];
            continue;
        }
        if (c == sep && !quoted) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

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
    std::vector<MediaRange> out;
    for (const auto& element : splitOutsideQuotes(header, ',')) {
        auto pieces = splitOutsideQuotes(element, ';');
        MediaRange range;
        range.mediaType = lower(trim(pieces[0]));
        if (range.mediaType.empty()) continue;
        bool drop = false;
        for (std::size_t i = 1; i < pieces.size(); ++i) {
            auto eq = pieces[i].find('=');
            if (eq == std::string::npos) continue;
            std::string name = lower(trim(pieces[i].substr(0, eq)));
            std::string value = unquote(pieces[i].substr(eq + 1));
            if (name == "q") {
                range.quality = std::atof(value.c_str());
                // RFC 9110 12.4.2: a qvalue is 0..1. "q=nan" kept a NaN that broke the sort's
                // ordering (fuzz/accept); NaN or <= 0 drops the range, above 1 counts as 1.
                if (!(range.quality > 0)) drop = true;
                if (range.quality > 1) range.quality = 1;
                continue;
            }
            if (name == "type") value = lower(value);
            // A doubled parameter keeps its first value (OHIF #3990 sends transfer-syntax twice).
            range.parameters.emplace(name, value);
        }
        if (!drop) out.push_back(std::move(range));
    }
    if (out.empty() && trim(header).empty()) out.push_back(MediaRange{"*/*", {}, 1.0});
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
