#include "web/StatusPage.h"

#include "bridge/common/Text.h"
#include "web/WebExchange.h"

#include <Poco/URI.h>

#include <ctime>

namespace bridge::web {
namespace {


std::string isoTime(std::int64_t epoch) {
    if (epoch <= 0) return "";
    const std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string jsonTime(std::int64_t epoch) { return epoch > 0 ? jsonQuote(isoTime(epoch)) : "null"; }

std::vector<const CollectionHarvestState*> visible(const StatusSnapshot& s, const CollectionScope& scope) {
    std::vector<const CollectionHarvestState*> out;
    for (const auto& c : s.collections)
        if (c.listed && scope.allows(c.name)) out.push_back(&c);
    return out;
}

std::string levelState(std::int64_t at, bool fresh) {
    if (at <= 0) return "pending";
    return fresh ? "done" : "stale";
}

}  // namespace

std::string renderStatusJson(const StatusSnapshot& s, const CollectionScope& scope) {
    const auto shown = visible(s, scope);
    std::size_t studyDone = 0, seriesDone = 0;
    for (const auto* c : shown) {
        if (c->studyLevelFresh) ++studyDone;
        if (c->seriesLevelFresh) ++seriesDone;
    }
    std::string out = "{\"harvest\":";
    if (s.harvest) {
        const auto& h = *s.harvest;
        // Counts are of the collections this caller may see, like everything else here.
        out += "{\"enabled\":true,\"phase\":" + jsonQuote(h.phase) + ",\"current\":" +
               jsonQuote(scope.allows(h.current) ? h.current : std::string()) +
               ",\"collections\":" + std::to_string(shown.size()) + ",\"studyLevelDone\":" + std::to_string(studyDone) +
               ",\"seriesLevelDone\":" + std::to_string(seriesDone) +
               ",\"studyLevelComplete\":" + (h.studyLevelComplete ? "true" : "false") +
               ",\"complete\":" + (h.complete ? "true" : "false") + ",\"passes\":" + std::to_string(h.passes) +
               ",\"failures\":" + std::to_string(h.failures) + ",\"startedAt\":" + jsonTime(h.startedAt) +
               ",\"studyLevelCompleteAt\":" + jsonTime(h.studyLevelCompleteAt) + ",\"completeAt\":" + jsonTime(h.completeAt) +
               "}";
    } else {
        out += "{\"enabled\":false,\"collections\":" + std::to_string(shown.size()) +
               ",\"studyLevelDone\":" + std::to_string(studyDone) + ",\"seriesLevelDone\":" + std::to_string(seriesDone) +
               "}";
    }
    out += ",\"collections\":[";
    bool first = true;
    for (const auto* c : shown) {
        if (!first) out += ',';
        first = false;
        out += "{\"name\":" + jsonQuote(c->name) + ",\"studyLevel\":" + jsonQuote(levelState(c->studiesAt, c->studyLevelFresh)) +
               ",\"seriesLevel\":" + jsonQuote(levelState(c->seriesAt, c->seriesLevelFresh)) +
               ",\"patients\":" + std::to_string(c->patients) + ",\"studies\":" + std::to_string(c->studies) +
               ",\"series\":" + std::to_string(c->series) + ",\"studyLevelAt\":" + jsonTime(c->studiesAt) +
               ",\"seriesLevelAt\":" + jsonTime(c->seriesAt) + ",\"lastRefresh\":" + jsonTime(c->refreshedAt) +
               ",\"lastError\":" + jsonQuote(c->lastError) + "}";
    }
    out += "],\"cache\":";
    if (s.cache)
        out += "{\"bytes\":" + std::to_string(s.cache->bytes) + ",\"maxBytes\":" + std::to_string(s.cache->maxBytes) +
               ",\"series\":" + std::to_string(s.cache->series) + ",\"instances\":" + std::to_string(s.cache->instances) + "}";
    else
        out += "null";
    out += ",\"dimse\":";
    if (s.dimseEnabled)
        out += "{\"aeTitle\":" + jsonQuote(s.aeTitle) + ",\"host\":" + jsonQuote(s.dimseHost) +
               ",\"port\":" + std::to_string(s.dimsePort) + "}";
    else
        out += "null";
    out += ",\"source\":{\"name\":" + jsonQuote(s.source);
    if (s.source == "idc") out += ",\"idcVersion\":" + jsonQuote(s.idcVersion);
    return out + "}}";
}

std::string renderStatusHtml(const StatusSnapshot& s, const CollectionScope& scope, const std::string& dicomWebRoot) {
    std::string out;
    out += "<h2>Connect</h2>\n";
    if (s.dimseEnabled) {
        const std::string dest = s.moveDestinationExample.empty() ? "YOUR_PACS_AE" : s.moveDestinationExample;
        out += "<p>DICOM (DIMSE Q/R): called AE title <code>" + htmlEscape(s.aeTitle) + "</code>, host <code>" +
               htmlEscape(s.dimseHost) + "</code>, port <code>" + std::to_string(s.dimsePort) +
               "</code>. Add your PACS's AE title, host and port to <code>dimse.peers</code> so C-MOVE can send "
               "to it. Example:</p>\n<pre>findscu -S -aec " + htmlEscape(s.aeTitle) + " -k QueryRetrieveLevel=STUDY -k PatientID= -k StudyInstanceUID= " +
               htmlEscape(s.dimseHost) + " " + std::to_string(s.dimsePort) + "\nmovescu -S -aec " + htmlEscape(s.aeTitle) +
               " -aem " + htmlEscape(dest) + " -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=&lt;UID&gt; " + htmlEscape(s.dimseHost) +
               " " + std::to_string(s.dimsePort) + "</pre>\n";
    }
    out += "<p>DICOMweb (QIDO-RS / WADO-RS, e.g. for OHIF): <code>" + htmlEscape(dicomWebRoot) + "</code></p>\n";

    const auto shown = visible(s, scope);
    out += "<h2>Catalog harvest</h2>\n";
    if (s.harvest) {
        std::size_t studyDone = 0, seriesDone = 0;
        for (const auto* c : shown) {
            if (c->studyLevelFresh) ++studyDone;
            if (c->seriesLevelFresh) ++seriesDone;
        }
        out += "<p>" + htmlEscape(s.harvest->phase) + ": " + std::to_string(studyDone) + " of " + std::to_string(shown.size()) +
               " collections at study level, " + std::to_string(seriesDone) + " at series level. Broad searches answer "
               "from what is harvested and say so until it is complete (<a href=\"status\">status as JSON</a>).</p>\n";
    } else {
        out += "<p>Harvest on start is off; broad searches need collections harvested by <code>tcia-bridge sync</code> "
               "(<a href=\"status\">status as JSON</a>).</p>\n";
    }
    if (!shown.empty()) {
        out += "<table><thead><tr><th>Collection</th><th>Study level</th><th>Series level</th><th>Patients</th>"
               "<th>Studies</th><th>Series</th><th>Last refresh</th></tr></thead><tbody>\n";
        for (const auto* c : shown) {
            std::string query;
            Poco::URI::encode(c->name, "&=?#+/ ", query);
            out += "<tr><td><a href=\"" + htmlEscape(dicomWebRoot + "/studies?ClinicalTrialProtocolID=" + query) + "\">" +
                   htmlEscape(c->name) + "</a></td><td>" + levelState(c->studiesAt, c->studyLevelFresh) + "</td><td>" +
                   levelState(c->seriesAt, c->seriesLevelFresh) + "</td><td>" + std::to_string(c->patients) + "</td><td>" +
                   std::to_string(c->studies) + "</td><td>" + std::to_string(c->series) + "</td><td>" +
                   htmlEscape(isoTime(std::max(c->refreshedAt, std::max(c->seriesAt, c->studiesAt)))) + "</td></tr>\n";
        }
        out += "</tbody></table>\n";
    }
    if (s.cache) {
        out += "<h2>Instance cache</h2>\n<p>" + std::to_string(s.cache->bytes / (1024 * 1024)) + " MiB of " +
               std::to_string(s.cache->maxBytes / (1024 * 1024)) + " MiB used, " + std::to_string(s.cache->series) +
               " series, " + std::to_string(s.cache->instances) + " instances.</p>\n";
    }
    return out;
}

}  // namespace bridge::web
