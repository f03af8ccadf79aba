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

/// Pure renderers (unit-tested): HTML-escaped page and JSON document. A CC BY-NC licence is
/// marked non-commercial. `fromIdc`: the data come from NCI Imaging Data Commons (source idc),
/// whose own citation (Fedorov et al. 2023) is shown next to TCIA's.
std::string renderLandingHtml(const std::vector<CollectionInfo>& collections, const std::string& dicomWebRoot,
                              bool fromIdc = false);
std::string renderCollectionsJson(const std::vector<CollectionInfo>& collections, const std::string& dicomWebRoot,
                                  bool fromIdc = false);
/// Whether a licence name is a non-commercial one ("CC BY-NC 4.0", "CC BY-NC-SA 3.0", ...). Pure.
bool isNonCommercialLicence(const std::string& licenseName);

class LandingPage {
public:
    /// `withStatus`: include the connection help, harvest and cache sections (off for an
    /// anonymous caller when auth is on, like /status; docs/security.md).
    void serveHtml(WebExchange& exchange, bool withStatus = true);
    void serveJson(WebExchange& exchange);

private:
    std::vector<CollectionInfo> visibleCollections(WebExchange& exchange);

    std::mutex mutex_;
    std::vector<CollectionInfo> all_;
    std::chrono::steady_clock::time_point loadedAt_{};
    bool loaded_ = false;
};

inline const char* const kIdcCitation =
    "Fedorov A, et al. National Cancer Institute Imaging Data Commons: Toward Transparency, Reproducibility, and "
    "Scalability in Imaging Artificial Intelligence. RadioGraphics 2023;43(12):e230180. "
    "https://doi.org/10.1148/rg.230180";
inline const char* const kTciaDataUsagePolicyUrl = "https://www.cancerimagingarchive.net/data-usage-policies-and-restrictions/";

}  // namespace bridge::web
