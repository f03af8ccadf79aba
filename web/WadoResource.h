#pragma once
// WADO-RS (PS3.18 10.4) and WADO-URI (PS3.18 9) retrievals over the RetrieveService:
// instances (multipart/related; type="application/dicom", streamed as they arrive),
// metadata (DICOM JSON from the real instances, bulk data by URI, cached gzipped per series),
// frames, bulk data, rendered and thumbnail. Stateless; blocking on the serving thread.

#include "web/WebExchange.h"
#include "web/WebRoute.h"

namespace bridge::web {

class WadoResource {
public:
    static void retrieveInstances(WebExchange& exchange, const WebRoute& route);
    static void retrieveMetadata(WebExchange& exchange, const WebRoute& route);
    static void retrieveFrames(WebExchange& exchange, const WebRoute& route);
    static void retrieveBulkData(WebExchange& exchange, const WebRoute& route);
    /// Rendered and thumbnail at study, series, instance and frame level (thumbnail = rendered
    /// into a 128x128 viewport unless `viewport` says otherwise).
    static void retrieveRendered(WebExchange& exchange, const WebRoute& route, bool thumbnail);
    /// GET /wado?requestType=WADO&studyUID=..&seriesUID=..&objectUID=..[&contentType=..]
    static void wadoUri(WebExchange& exchange);
};

}  // namespace bridge::web
