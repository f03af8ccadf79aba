#include "web/QidoResource.h"

#include "web/DicomJson.h"

#include <dcmtk/dcmdata/dcdeftag.h>

namespace bridge::web {
namespace {

// Same threshold as WebExchange::sendJson: tiny bodies are not worth compressing.
constexpr std::size_t kGzipMinBytes = 512;

const char* const kTruncatedWarning =
    "299 tcia-bridge: \"The number of results exceeded the maximum supported by the server. Additional results can be requested.\"";

// Runs the search and builds the JSON array (RetrieveURLs under `root`).
std::shared_ptr<QidoResponseCache::Answer> runSearch(WebExchange& exchange, const WebRoute& route,
                                                     const Query& query, const std::string& root) {
    auto cursor = exchange.context().query.find(query, exchange.requestContext());
    std::vector<DicomRecord> records;
    while (auto record = cursor->next()) {
        // RetrieveURL (0008,1190) is the web adapter's to add (QueryService.h contract).
        const std::string study = record->get(DCM_StudyInstanceUID);
        std::string url = root + "/studies/" + study;
        if (route.level != QueryLevel::Study) {
            const std::string series = record->get(DCM_SeriesInstanceUID);
            if (!series.empty()) url += "/series/" + series;
            if (route.level == QueryLevel::Image) {
                const std::string sop = record->get(DCM_SOPInstanceUID);
                if (!sop.empty()) url += "/instances/" + sop;
            }
        }
        if (!study.empty()) record->set(DCM_RetrieveURL, url);
        // QueryRetrieveLevel is a DIMSE notion; DICOM JSON results don't carry it.
        record->erase(DCM_QueryRetrieveLevel);
        records.push_back(std::move(*record));
    }
    auto answer = std::make_shared<QidoResponseCache::Answer>();
    answer->json = recordsToJsonArray(records);
    answer->truncated = cursor->truncated();
    answer->matches = records.size();
    answer->incomplete = cursor->incompleteness();
    return answer;
}

/// A warn-text is a quoted-string (RFC 7234 5.5): no quotes or backslashes inside.
std::string quotedWarnText(const std::string& text) {
    std::string out = "\"";
    for (char c : text)
        if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) out += c;
    return out + "\"";
}

void sendAnswer(WebExchange& exchange, const QidoResponseCache::Answer& answer) {
    exchange.notes().matches = answer.matches;
    // Both conditions may hold: one Warning header, comma-separated values (RFC 7234 5.5).
    std::string warning;
    if (answer.truncated) warning = kTruncatedWarning;
    if (!answer.incomplete.empty())
        warning += (warning.empty() ? "" : ", ") + std::string("299 tcia-bridge: ") + quotedWarnText(answer.incomplete);
    if (!warning.empty()) exchange.request().response().set("Warning", warning);
    if (answer.json.size() > kGzipMinBytes && exchange.acceptsGzip()) {
        const std::string& gz = answer.gzip();
        exchange.request().response().set("Content-Encoding", "gzip");
        exchange.request().response().set("Vary", "Accept-Encoding");
        exchange.sendBytes(200, "application/dicom+json", gz.data(), gz.size());
        return;
    }
    exchange.sendJson(200, answer.json);
}

}  // namespace

void QidoResource::search(WebExchange& exchange, const WebRoute& route) {
    if (!acceptsDicomJson(exchange.accept()))
        throw BridgeError(ErrorCode::NotAcceptable, "QIDO-RS answers application/dicom+json only");
    QidoPath path{route.level, route.studyInstanceUid, route.seriesInstanceUid};
    Query query = buildQidoQuery(path, parseQidoParameters(exchange.parameters()));
    query.scope = exchange.scope();
    exchange.notes().query = query;
    const std::string root = exchange.dicomWebRoot();

    // Cacheable only when the source tracks its changes (the catalog). IMAGE level also reads
    // the instance cache, which has no generation: never cached.
    auto& context = exchange.context();
    std::optional<std::uint64_t> generation;
    if (context.metadata != nullptr && route.level != QueryLevel::Image) generation = context.metadata->generation();
    if (!generation) return sendAnswer(exchange, *runSearch(exchange, route, query, root));

    const std::string key = QidoResponseCache::key(query, root);
    if (auto cached = context.qidoCache.find(key, *generation)) return sendAnswer(exchange, *cached);
    // Built under the generation read before the search: a write during it makes the entry stale.
    auto answer = runSearch(exchange, route, query, root);
    // A partial answer (harvest still running) is never kept: the next search re-asks the catalog.
    if (answer->incomplete.empty()) context.qidoCache.store(key, *generation, answer);
    sendAnswer(exchange, *answer);
}

}  // namespace bridge::web
