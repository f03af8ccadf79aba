#include "web/LandingPage.h"

#include "bridge/common/Text.h"
#include "bridge/tcia/Model.h"

#include <Poco/URI.h>

#include <algorithm>

namespace bridge::web {
namespace {


// Only http(s) links become anchors; anything else (javascript:, data:) is shown as text.
bool safeLink(const std::string& url) { return url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0; }

std::string link(const std::string& url, const std::string& text) {
    if (!safeLink(url)) return htmlEscape(text);
    return "<a href=\"" + htmlEscape(url) + "\">" + htmlEscape(text) + "</a>";
}

}  // namespace

bool isNonCommercialLicence(const std::string& licenseName) {
    std::string u = licenseName;
    for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u.find("BY-NC") != std::string::npos || u.find("NONCOMMERCIAL") != std::string::npos ||
           u.find("NON-COMMERCIAL") != std::string::npos;
}

std::string renderLandingHtml(const std::vector<CollectionInfo>& collections, const std::string& dicomWebRoot,
                              bool fromIdc) {
    std::string out =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>TCIA DICOM bridge</title></head><body>\n"
        "<h1>TCIA DICOM bridge</h1>\n"
        "<p>This server presents public collections of <a href=\"https://www.cancerimagingarchive.net/\">The Cancer Imaging "
        "Archive (TCIA)</a> as a DICOM node: a DICOMweb service (QIDO-RS, WADO-RS, WADO-URI) at <code>" +
        htmlEscape(dicomWebRoot) +
        "</code> and a DIMSE query/retrieve service. It is read-only; images are fetched from TCIA on demand.</p>\n"
        "<p>Use of these data is governed by the <a href=\"" + std::string(kTciaDataUsagePolicyUrl) +
        "\">TCIA Data Usage Policy</a> and by each collection's license below. When you publish work using a collection, "
        "cite its data citation (DOI) and acknowledge TCIA: <em>Clark K, et al. The Cancer Imaging Archive (TCIA): "
        "Maintaining and Operating a Public Information Repository. J Digit Imaging 26(6):1045-1057, 2013. "
        "https://doi.org/10.1007/s10278-013-9622-7</em>.</p>\n" +
        (fromIdc ? std::string("<p>Images and metadata are served from NCI's <a href=\"https://portal.imaging.datacommons."
                               "cancer.gov/\">Imaging Data Commons (IDC)</a>, which mirrors TCIA's public collections. "
                               "Cite IDC as well: <em>") +
                       htmlEscape(kIdcCitation) + "</em>.</p>\n"
                 : std::string()) +
        "<h2>Collections</h2>\n";
    if (collections.empty()) {
        out += "<p>No collections are visible to you.</p>\n";
    } else {
        out += "<table><thead><tr><th>Collection</th><th>License</th><th>Citation</th></tr></thead><tbody>\n";
        for (const auto& c : collections) {
            std::string encoded;
            Poco::URI::encode(c.name, "&=?#+/ ", encoded);
            out += "<tr><td><a href=\"" + htmlEscape(dicomWebRoot + "/studies?ClinicalTrialProtocolID=" + encoded) + "\">" +
                   htmlEscape(c.name) + "</a></td><td>" +
                   (c.licenseName.empty() && c.licenseUri.empty() ? std::string("see TCIA")
                                                                  : link(c.licenseUri, c.licenseName.empty() ? c.licenseUri : c.licenseName)) +
                   (isNonCommercialLicence(c.licenseName) ? std::string(" <strong>(non-commercial use only)</strong>")
                                                          : std::string()) +
                   "</td><td>" + (c.dataDescriptionUri.empty() ? std::string("&mdash;") : link(c.dataDescriptionUri, c.dataDescriptionUri)) +
                   "</td></tr>\n";
        }
        out += "</tbody></table>\n";
    }
    out += "<p>Machine-readable: <a href=\"collections\">collections</a> &middot; <a href=\"status\">status</a> &middot; <a href=\"health\">health</a></p>\n</body></html>\n";
    return out;
}

std::string renderCollectionsJson(const std::vector<CollectionInfo>& collections, const std::string& dicomWebRoot,
                                  bool fromIdc) {
    std::string out = "{\"dicomWebRoot\":" + jsonQuote(dicomWebRoot) + ",\"dataUsagePolicy\":" + jsonQuote(kTciaDataUsagePolicyUrl) +
                      ",\"attribution\":" +
                      jsonQuote("Data from The Cancer Imaging Archive (TCIA); cite each collection's DOI and the TCIA publication "
                                "https://doi.org/10.1007/s10278-013-9622-7") +
                      (fromIdc ? ",\"source\":\"idc\",\"idcCitation\":" + jsonQuote(kIdcCitation) : std::string()) +
                      ",\"collections\":[";
    for (std::size_t i = 0; i < collections.size(); ++i) {
        const auto& c = collections[i];
        if (i) out += ',';
        out += "{\"name\":" + jsonQuote(c.name) + ",\"licenseName\":" + jsonQuote(c.licenseName) + ",\"licenseURI\":" +
               jsonQuote(c.licenseUri) + ",\"dataDescriptionURI\":" + jsonQuote(c.dataDescriptionUri) +
               ",\"nonCommercial\":" + (isNonCommercialLicence(c.licenseName) ? "true" : "false") + "}";
    }
    return out + "]}";
}

std::vector<CollectionInfo> LandingPage::visibleCollections(WebExchange& exchange) {
    MetadataSource* source = exchange.context().metadata;
    std::vector<CollectionInfo> all;
    if (source != nullptr) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!loaded_ || std::chrono::steady_clock::now() - loadedAt_ > std::chrono::minutes(10)) {
            // License and DOI come from one series of each collection. Against a large archive
            // that is one getSeries per collection, so each refresh spends at most a few
            // seconds on it; collections not reached yet are shown without license and are
            // looked up on the next refresh (facts found once are kept).
            const auto budgetEnd = std::chrono::steady_clock::now() + std::chrono::seconds(3);
            std::vector<CollectionInfo> fresh;
            const RequestContext& request = exchange.requestContext();
            // The per-collection lookups below share the budget as their deadline: a slow
            // TCIA answer is cut at budgetEnd rather than finished.
            const RequestContext lookups = request.child();
            lookups.setDeadline(budgetEnd);
            std::vector<std::string> names = source->collections(request);
            for (const auto& name : source->restrictedCollections(request))
                if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
            for (const auto& name : names) {
                CollectionInfo info{name, "", "", ""};
                auto known = std::find_if(all_.begin(), all_.end(), [&](const CollectionInfo& c) { return c.name == name; });
                if (known != all_.end() && (!known->licenseName.empty() || !known->dataDescriptionUri.empty())) {
                    fresh.push_back(*known);
                    continue;
                }
                if (std::chrono::steady_clock::now() < budgetEnd) {
                    try {
                        tcia::SeriesFilter filter;
                        filter.collection = name;
                        for (const auto& s : source->series(filter, lookups)) {
                            if (info.licenseName.empty()) info.licenseName = s.licenseName;
                            if (info.licenseUri.empty()) info.licenseUri = s.licenseUri;
                            if (info.dataDescriptionUri.empty()) info.dataDescriptionUri = s.dataDescriptionUri;
                            if (!info.licenseName.empty() && !info.dataDescriptionUri.empty()) break;
                        }
                    } catch (const std::exception&) {
                        // A collection whose series cannot be listed is still shown, without license.
                    }
                }
                fresh.push_back(std::move(info));
            }
            all_ = std::move(fresh);
            loadedAt_ = std::chrono::steady_clock::now();
            loaded_ = true;
        }
        all = all_;
    }
    std::vector<CollectionInfo> visible;
    const CollectionScope& scope = exchange.scope();
    for (auto& c : all)
        if (scope.allows(c.name)) visible.push_back(std::move(c));
    return visible;
}

void LandingPage::serveHtml(WebExchange& exchange, bool withStatus) {
    auto page = renderLandingHtml(visibleCollections(exchange), exchange.dicomWebRoot(),
                                  exchange.context().source == "idc");
    if (const auto& source = exchange.context().status; source && withStatus) {
        const auto at = page.find("<h2>Collections</h2>");
        if (at != std::string::npos)
            page.insert(at, renderStatusHtml(source(), exchange.scope(), exchange.dicomWebRoot()));
    }
    exchange.sendBytes(200, "text/html; charset=utf-8", page.data(), page.size());
}

void LandingPage::serveJson(WebExchange& exchange) {
    exchange.sendJson(200,
                      renderCollectionsJson(visibleCollections(exchange), exchange.dicomWebRoot(),
                                            exchange.context().source == "idc"),
                      "application/json");
}

}  // namespace bridge::web
