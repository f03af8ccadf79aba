// Fuzzes what a DICOMweb request target goes through before any I/O: Poco::URI (as WebExchange
// does), parseWebRoute on the path below /dicom-web, parseQidoParameters on the query string and
// buildQidoQuery for a search. Input: one request target, e.g. an OHIF request
// "/dicom-web/studies?limit=101&offset=0&includefield=00081030,00080060".
// Properties: only BridgeError(InvalidArgument) escapes; a parsed route's UIDs are UIDs and its
// frame numbers positive; a built query names each tag once.
#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "bridge/common/DicomRecord.h"
#include "fuzz/FuzzSupport.h"
#include "web/QidoParameters.h"
#include "web/WebRoute.h"

using namespace bridge;
using namespace bridge::web;

namespace {

void checkUid(const std::string& uid, bool required) {
    if (uid.empty() && !required) return;
    if (uid.empty() || uid.size() > 64 ||
        !std::all_of(uid.begin(), uid.end(), [](unsigned char c) { return std::isdigit(c) || c == '.'; }))
        fuzz::finding("parseWebRoute accepted a UID that is not one: '" + uid.substr(0, 80) + "'");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string target(reinterpret_cast<const char*>(data), size);
    std::string path;
    Poco::URI::QueryParameters parameters;
    try {
        Poco::URI uri(target);
        path = uri.getPath();
        parameters = uri.getQueryParameters();
    } catch (const Poco::Exception&) {
        return 0;  // WebRequestHandler answers 400 "malformed request URI"
    }
    const std::string root = "/dicom-web";
    if (path.rfind(root + "/", 0) == 0) path = path.substr(root.size());

    std::optional<WebRoute> route;
    fuzz::expectOnlyBridgeError("parseWebRoute", ErrorCode::InvalidArgument, [&] { route = parseWebRoute(path); });
    if (route) {
        checkUid(route->studyInstanceUid, false);
        checkUid(route->seriesInstanceUid, false);
        checkUid(route->sopInstanceUid, false);
        for (int f : route->frames)
            if (f < 1) fuzz::finding("parseWebRoute returned frame number " + std::to_string(f));
    }

    QidoParameters qido;
    bool parsed = false;
    fuzz::expectOnlyBridgeError("parseQidoParameters", ErrorCode::InvalidArgument, [&] {
        qido = parseQidoParameters(parameters);
        parsed = true;
    });
    if (parsed && route && route->kind == WebRoute::Kind::Search) {
        QidoPath qidoPath{route->level, route->studyInstanceUid, route->seriesInstanceUid};
        fuzz::expectOnlyBridgeError("buildQidoQuery", ErrorCode::InvalidArgument, [&] {
            Query query = buildQidoQuery(qidoPath, qido);
            std::set<DcmTagKey, TagLess> seen;
            for (const auto& k : query.keys)
                if (!seen.insert(k.tag).second) fuzz::finding("buildQidoQuery named a tag twice: " + std::string(DcmTag(k.tag).getTagName()));
        });
    }
    return 0;
}
