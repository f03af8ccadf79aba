#include "web/WebRoute.h"

#include "bridge/common/Error.h"
#include "bridge/common/Text.h"

#include <Poco/String.h>

#include <algorithm>
#include <cctype>

namespace bridge::web {
namespace {

std::vector<std::string> segments(const std::string& path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < path.size()) {
        auto slash = path.find('/', start);
        if (slash == std::string::npos) slash = path.size();
        if (slash > start) out.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

const std::string& uid(const std::string& s) { return checkedUid(s); }

}  // namespace

const std::string& checkedUid(const std::string& text, const std::string& name) {
    if (!isValidUid(text)) throw BridgeError(ErrorCode::InvalidArgument,
                          "not a valid UID" + (name.empty() ? std::string() : " in " + name) + ": '" + text.substr(0, 80) + "'");
    return text;
}

std::vector<int> parseFrameList(const std::string& text) {
    std::vector<int> frames;
    std::size_t start = 0;
    while (start <= text.size()) {
        if (frames.size() == kMaxFramesPerRequest)
            throw BridgeError(ErrorCode::InvalidArgument,
                              "frame list too long: at most " + std::to_string(kMaxFramesPerRequest) + " frame numbers per request");
        auto comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        std::string item = text.substr(start, comma - start);
        if (item.empty() || item.size() > 9 ||
            !std::all_of(item.begin(), item.end(), [](unsigned char c) { return std::isdigit(c); }))
            throw BridgeError(ErrorCode::InvalidArgument, "bad frame list: '" + text.substr(0, 80) + "'");
        int n = std::stoi(item);
        if (n < 1) throw BridgeError(ErrorCode::InvalidArgument, "frame numbers start at 1");
        frames.push_back(n);
        start = comma + 1;
    }
    return frames;
}

std::optional<WebRoute> parseWebRoute(const std::string& path) {
    auto seg = segments(path);
    WebRoute r;
    const std::size_t n = seg.size();
    if (n == 0) return std::nullopt;
    if (n == 1) {
        if (seg[0] == "studies") r.level = QueryLevel::Study;
        else if (seg[0] == "series") r.level = QueryLevel::Series;
        else if (seg[0] == "instances") r.level = QueryLevel::Image;
        else return std::nullopt;
        return r;
    }
    if (seg[0] != "studies") return std::nullopt;
    r.studyInstanceUid = uid(seg[1]);
    std::size_t i = 2;
    r.level = QueryLevel::Study;
    auto tail = [&](std::size_t at) -> std::optional<WebRoute> {
        // What may follow a study/series/instance resource.
        if (at == n) {
            r.kind = WebRoute::Kind::Retrieve;
            return r;
        }
        const std::string& s = seg[at];
        if (at + 1 == n && s == "metadata") r.kind = WebRoute::Kind::Metadata;
        else if (at + 1 == n && s == "rendered") r.kind = WebRoute::Kind::Rendered;
        else if (at + 1 == n && s == "thumbnail") r.kind = WebRoute::Kind::Thumbnail;
        else return std::nullopt;
        return r;
    };
    if (i == n) return tail(i);
    if (seg[i] == "series" && i + 1 == n) {
        r.kind = WebRoute::Kind::Search;
        r.level = QueryLevel::Series;
        return r;
    }
    if (seg[i] == "instances" && i + 1 == n) {
        r.kind = WebRoute::Kind::Search;
        r.level = QueryLevel::Image;
        return r;
    }
    if (seg[i] != "series") return tail(i);
    r.seriesInstanceUid = uid(seg[i + 1]);
    r.level = QueryLevel::Series;
    i += 2;
    if (i == n) return tail(i);
    if (seg[i] == "instances" && i + 1 == n) {
        r.kind = WebRoute::Kind::Search;
        r.level = QueryLevel::Image;
        return r;
    }
    if (seg[i] != "instances") return tail(i);
    r.sopInstanceUid = uid(seg[i + 1]);
    r.level = QueryLevel::Image;
    i += 2;
    if (i == n) return tail(i);
    if (seg[i] == "frames" && i + 2 <= n) {
        r.frames = parseFrameList(seg[i + 1]);
        if (i + 2 == n) {
            r.kind = WebRoute::Kind::Frames;
            return r;
        }
        if (i + 3 == n && (seg[i + 2] == "rendered" || seg[i + 2] == "thumbnail")) {
            if (r.frames.size() != 1) throw BridgeError(ErrorCode::InvalidArgument, "rendered frames take one frame number");
            r.kind = seg[i + 2] == "rendered" ? WebRoute::Kind::Rendered : WebRoute::Kind::Thumbnail;
            return r;
        }
        return std::nullopt;
    }
    if ((seg[i] == "bulkdata" || seg[i] == "bulk") && i + 2 == n) {
        const std::string tag = Poco::toUpper(seg[i + 1]);
        if (tag.size() != 8 || !std::all_of(tag.begin(), tag.end(), [](unsigned char c) { return std::isxdigit(c); }))
            throw BridgeError(ErrorCode::InvalidArgument, "bulk data path must be a tag of 8 hex digits");
        r.kind = WebRoute::Kind::BulkData;
        r.bulkDataTag = tag;
        return r;
    }
    if (seg[i] == "pixeldata" && i + 1 == n) {
        r.kind = WebRoute::Kind::BulkData;
        r.bulkDataTag = "7FE00010";
        return r;
    }
    return tail(i);
}

}  // namespace bridge::web

namespace bridge::web {

std::string routeLabel(const std::string& path) {
    if (path.empty() || path == "/") return "landing";
    if (path == "/collections") return "collections";
    if (path == "/health") return "health";
    if (path == "/ready") return "ready";
    if (path == "/metrics") return "metrics";
    if (path == "/wado" || path == "/dicom-web/wado") return "wado-uri";
    const std::string root = "/dicom-web";
    if (path.rfind(root + "/", 0) != 0) return "other";
    try {
        auto route = parseWebRoute(path.substr(root.size()));
        if (!route) return "other";
        switch (route->kind) {
            case WebRoute::Kind::Search:
                return route->level == QueryLevel::Study    ? "qido-studies"
                       : route->level == QueryLevel::Series ? "qido-series"
                                                            : "qido-instances";
            case WebRoute::Kind::Retrieve:
                return route->level == QueryLevel::Study    ? "wado-study"
                       : route->level == QueryLevel::Series ? "wado-series"
                                                            : "wado-instance";
            case WebRoute::Kind::Metadata: return "metadata";
            case WebRoute::Kind::Frames: return "frames";
            case WebRoute::Kind::BulkData: return "bulkdata";
            case WebRoute::Kind::Rendered: return "rendered";
            case WebRoute::Kind::Thumbnail: return "thumbnail";
        }
    } catch (...) {
    }
    return "other";
}

}  // namespace bridge::web
