#pragma once
// QIDO-RS searches (PS3.18 10.6): URL -> Query -> QueryService cursor -> DICOM JSON array.
// Stateless; one call per request on the serving thread; blocks while the core queries TCIA.

#include "web/WebExchange.h"
#include "web/WebRoute.h"

namespace bridge::web {

class QidoResource {
public:
    /// Answers 200 with a JSON array (`[]` when nothing matches: OHIF and dicomweb-client
    /// treat it like PS3.18's optional 204, and a body-less 204 breaks some fetch code), or a
    /// JSON error. A "Warning: 299" header reports truncation (PS3.18 8.3.4.4 / 10.6.3.3).
    static void search(WebExchange& exchange, const WebRoute& route);
};

}  // namespace bridge::web
