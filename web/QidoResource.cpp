#include "web/QidoResource.h"

#include "web/DicomJson.h"

#include <dcmtk/dcmdata/dcdeftag.h>

namespace bridge::web {

void QidoResource::search(WebExchange& exchange, const WebRoute& route) {
    if (!acceptsDicomJson(exchange.accept()))
        throw BridgeError(ErrorCode::NotAcceptable, "QIDO-RS answers application/dicom+json only");
    QidoPath path{route.level, route.studyInstanceUid, route.seriesInstanceUid};
    Query query = buildQidoQuery(path, parseQidoParameters(exchange.parameters()));
    query.scope = exchange.scope();

    auto cursor = exchange.context().query.find(query, exchange.cancel());
    std::vector<DicomRecord> records;
    const std::string root = exchange.dicomWebRoot();
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
    if (cursor->truncated())
        exchange.request().response().set(
            "Warning", "299 tcia-bridge: \"The number of results exceeded the maximum supported by the server. Additional results can be requested.\"");
    exchange.sendJson(200, recordsToJsonArray(records));
}

}  // namespace bridge::web
