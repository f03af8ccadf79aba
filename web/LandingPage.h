#pragma once
// GET / (text/html) and GET /collections (JSON twin): what this server is, the collections the
// caller may see with each one's license and citation (DOI), the TCIA Data Usage Policy link
// and attribution. Restricted collections appear only for callers granted them. Collection
// facts are cached for 10 minutes (they come from the catalog / TCIA). Thread-safe.

#include "web/WebExchange.h"

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace bridge::web {

/// One collection as shown on the landing page.
struct CollectionInfo {
    std::string name;
    std::string licenseName;
    std::string licenseUri;
    std::string dataDescriptionUri;  ///< DOI URL: the citation
};

/// Pure renderers (unit-tested): HTML-escaped page and JSON document.
std::string renderLandingHtml(const std::vector<CollectionInfo>& collections, const std::string& dicomWebRoot);
std::string renderCollectionsJson(const std::vector<CollectionInfo>& collections, const std::string& dicomWebRoot);

class LandingPage {
public:
    void serveHtml(WebExchange& exchange);
    void serveJson(WebExchange& exchange);

private:
    std::vector<CollectionInfo> visibleCollections(WebExchange& exchange);

    std::mutex mutex_;
    std::vector<CollectionInfo> all_;
    std::chrono::steady_clock::time_point loadedAt_{};
    bool loaded_ = false;
};

inline const char* const kTciaDataUsagePolicyUrl = "https://www.cancerimagingarchive.net/data-usage-policies-and-restrictions/";

}  // namespace bridge::web
