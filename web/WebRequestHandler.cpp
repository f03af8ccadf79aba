#include "web/WebRequestHandler.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>

#include <optional>
#include <sstream>

#include "bridge/common/Logging.h"
#include "bridge/common/MetricsRegistry.h"
#include "bridge/retrieve/AuditDescription.h"
#include "web/ErrorJson.h"
#include "web/HttpAuthenticator.h"
#include "web/LandingPage.h"
#include "web/QidoResource.h"
#include "web/RequestId.h"
#include "web/WadoResource.h"
#include "web/WebExchange.h"
#include "web/WebRoute.h"

namespace bridge::web {
namespace {

const std::string kRoot = "/dicom-web";

void dispatch(WebExchange& exchange, LandingPage& landing) {
    auto& request = exchange.request();
    const std::string& method = request.getMethod();
    const std::string& path = exchange.path();

    if (method == "OPTIONS") {
        // CORS preflight (Fetch standard): allow the headers OHIF and dicomweb-client send.
        auto& response = request.response();
        response.set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
        response.set("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type, Accept-Encoding, Range");
        response.set("Access-Control-Max-Age", "600");
        response.set("Allow", "GET, HEAD, OPTIONS");
        response.setStatus(Poco::Net::HTTPResponse::HTTP_NO_CONTENT);
        response.setContentLength(0);
        response.send();
        return;
    }
    // Auth on and no valid credentials: public paths are served, /status only as liveness
    // ({"status":"ok"}) unless listed in auth.publicPaths, the landing page without the
    // operational sections (DIMSE address, harvest, cache): docs/security.md.
    bool anonymousUnderAuth = false;
    bool statusDetailsPublic = false;
    if (const auto& auth = exchange.context().auth) {
        // Auth on (docs/security.md): preflight above stays open; public paths are served
        // anonymously unless valid credentials come along; everything else needs them.
        AuthDecision decision = auth->authenticate(request.get("Authorization", ""));
        statusDetailsPublic = auth->isPublic("/status");
        if (decision.authenticated) {
            exchange.setPrincipal(std::move(decision.principal));
        } else if (auth->isPublic(path) || path == "/status") {
            anonymousUnderAuth = true;
        } else {
            for (const auto& challenge : auth->challenges(decision)) request.response().add("WWW-Authenticate", challenge);
            throw BridgeError(ErrorCode::Unauthenticated, decision.reason);
        }
    }
    if (method != "GET" && method != "HEAD") {
        request.response().set("Allow", "GET, HEAD, OPTIONS");
        if (method == "POST" && path.rfind(kRoot + "/studies", 0) == 0)
            throw BridgeError(ErrorCode::Unsupported, "STOW-RS is not supported: this bridge is read-only");
        throw BridgeError(ErrorCode::Unsupported, "method " + method + " not allowed: this bridge is read-only");
    }

    if (path == "/" || path.empty()) return landing.serveHtml(exchange, !anonymousUnderAuth || statusDetailsPublic);
    if (path == "/collections") return landing.serveJson(exchange);
    if (path == "/status" && anonymousUnderAuth && !statusDetailsPublic)
        return exchange.sendJson(200, "{\"status\":\"ok\"}", "application/json");
    if (path == "/status") {
        const auto& source = exchange.context().status;
        const StatusSnapshot snapshot = source ? source() : StatusSnapshot{};
        return exchange.sendJson(200, renderStatusJson(snapshot, exchange.scope()), "application/json");
    }
    if (path == "/health") {
        const auto& gate = exchange.context().gate;
        Poco::JSON::Object health(Poco::JSON_PRESERVE_KEY_ORDER);
        health.set("status", "ok");
        health.set("activeRequests", gate.active());
        health.set("waitingRequests", gate.waiting());
        health.set("refusedRequests", gate.refused());
        health.set("metadataCacheHits", exchange.context().metadataCache.hits());
        health.set("metadataCacheMisses", exchange.context().metadataCache.misses());
        std::ostringstream json;
        health.stringify(json);
        return exchange.sendJson(200, json.str(), "application/json");
    }
    if (path == "/metrics") {
        std::string text = metrics().render();
        if (exchange.context().extraMetrics) text += exchange.context().extraMetrics();
        const auto& gate = exchange.context().gate;
        text += "# HELP tcia_bridge_http_requests_active HTTP requests being worked on now\n"
                "# TYPE tcia_bridge_http_requests_active gauge\ntcia_bridge_http_requests_active " +
                std::to_string(gate.active()) +
                "\n# HELP tcia_bridge_http_requests_waiting HTTP requests waiting for a slot\n"
                "# TYPE tcia_bridge_http_requests_waiting gauge\ntcia_bridge_http_requests_waiting " +
                std::to_string(gate.waiting()) +
                "\n# HELP tcia_bridge_http_requests_refused_total HTTP requests refused with 503 (overload)\n"
                "# TYPE tcia_bridge_http_requests_refused_total counter\ntcia_bridge_http_requests_refused_total " +
                std::to_string(gate.refused()) + "\n";
        return exchange.sendBytes(200, "text/plain; version=0.0.4; charset=utf-8", text.data(), text.size());
    }
    if (path == "/ready") {
        const auto& readiness = exchange.context().readiness;
        const std::string reason = readiness ? readiness() : std::string();
        // 503 (not an ErrorCode: nothing failed, the bridge is just not ready), same JSON shape.
        if (!reason.empty())
            return exchange.sendJson(503, errorJson("not-ready", "not ready: " + reason, 503), "application/json");
        return exchange.sendJson(200, "{\"status\":\"ready\"}", "application/json");
    }
    if (path == "/wado" || path == kRoot + "/wado") return WadoResource::wadoUri(exchange);

    if (path.rfind(kRoot + "/", 0) == 0) {
        auto route = parseWebRoute(path.substr(kRoot.size()));
        if (route) {
            switch (route->kind) {
            case WebRoute::Kind::Search: return QidoResource::search(exchange, *route);
            case WebRoute::Kind::Retrieve: return WadoResource::retrieveInstances(exchange, *route);
            case WebRoute::Kind::Metadata: return WadoResource::retrieveMetadata(exchange, *route);
            case WebRoute::Kind::Frames: return WadoResource::retrieveFrames(exchange, *route);
            case WebRoute::Kind::BulkData: return WadoResource::retrieveBulkData(exchange, *route);
            case WebRoute::Kind::Rendered: return WadoResource::retrieveRendered(exchange, *route, false);
            case WebRoute::Kind::Thumbnail: return WadoResource::retrieveRendered(exchange, *route, true);
            }
        }
    }
    throw BridgeError(ErrorCode::NotFound, "no such resource: " + path.substr(0, 200));
}

/// Whether a body follows the header (RFC 9112 6.3: Transfer-Encoding, or a Content-Length
/// other than 0).
bool carriesBody(const Poco::Net::HTTPServerRequest& request) {
    if (request.has("Transfer-Encoding")) return true;
    if (!request.has("Content-Length")) return false;
    const std::string& length = request.get("Content-Length");
    return length.find_first_not_of("0 \t") != std::string::npos || length.empty();
}

/// Metrics and the audit record of one answered request. Never throws.
void observe(WebExchange* exchange, Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
             const std::string& route, const Stopwatch& watch, const std::string& detail) noexcept {
    try {
        const int status = static_cast<int>(response.getStatus());
        const std::uint64_t bytes = exchange ? exchange->bytesSent() : 0;
        metrics().add("tcia_bridge_http_requests_total", {route, request.getMethod(), std::to_string(status)});
        metrics().observe("tcia_bridge_http_request_duration_seconds", {route}, watch.seconds());
        metrics().add("tcia_bridge_http_response_bytes_total", {route}, static_cast<double>(bytes));
        if (!exchange || !exchange->context().audit) return;
        auto& notes = exchange->notes();
        const bool qido = route.rfind("qido-", 0) == 0;
        const bool wado = route.rfind("wado-", 0) == 0 || route == "metadata" || route == "frames" ||
                          route == "bulkdata" || route == "rendered" || route == "thumbnail";
        if (!qido && !wado) return;
        AuditEvent e;
        e.type = qido ? AuditEvent::Type::Query : AuditEvent::Type::InstancesTransferred;
        e.interface = "dicomweb";
        e.principal = exchange->principal();
        e.peer = request.clientAddress().host().toString();
        e.target = route;
        e.context = currentLogContext();
        if (notes.query) describeQuery(e, *notes.query);
        if (notes.retrieve) describeRetrieve(e, *notes.retrieve);
        e.status = std::to_string(status);
        e.outcome = auditOutcomeForHttp(status);
        e.matches = notes.matches;
        if (wado) {
            e.instances = notes.instances;
            e.bytes = bytes;
        }
        e.detail = detail;
        exchange->context().audit->record(e);
    } catch (...) {
    }
}

// Sends the JSON error unless the response already started, in which case a streamed body is
// cut (abortStream) so it never ends like a complete one; never throws (the client may be gone).
void answerError(WebExchange& exchange, ErrorCode code, const std::string& message) noexcept {
    if (exchange.headersSent()) {
        exchange.abortStream();
        return;
    }
    try {
        exchange.sendError(code, message);
    } catch (...) {
    }
}

}  // namespace

void WebRequestHandler::handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    // The request id (the client's X-Request-ID if well-formed, else "h-<n>"): every log line of
    // this request, its RequestContext and its audit record carry it; the response echoes it.
    const std::string requestId = requestIdFor(request.get("X-Request-ID", ""));
    LogScope scope(requestId);
    response.set("X-Request-ID", requestId);
    Stopwatch watch;
    std::string route = "other";
    std::string detail;
    std::unique_ptr<WebExchange> exchange;
    try {
        exchange = std::make_unique<WebExchange>(context_, request, response, requestId);
        route = request.getMethod() == "OPTIONS" ? "preflight" : routeLabel(exchange->path());
    } catch (const std::exception& e) {
        // A URI Poco cannot even parse.
        response.set("Access-Control-Allow-Origin", context_.settings.allowedOrigin);
        response.setStatus(Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
        response.setContentType("application/json");
        response.send() << errorJson(ErrorCode::InvalidArgument, "malformed request URI");
        observe(nullptr, request, response, route, watch, "malformed request URI");
        return;
    }
    // A client that closes its connection while this request waits (on TCIA, mostly) cancels it.
    if (hangUpWatch_) hangUpWatch_([context = exchange->requestContext()] { context.cancel(); });
    if (carriesBody(request)) {
        // The bridge never reads a request body, so after this response it must not stay on
        // the connection to be parsed as the next request (issue 9 finding 7: desync behind a
        // keep-alive proxy). Writes get their 405 below; a body on GET/HEAD/OPTIONS is refused.
        response.setKeepAlive(false);
        const std::string& method = request.getMethod();
        if (method == "GET" || method == "HEAD" || method == "OPTIONS") {
            answerError(*exchange, ErrorCode::InvalidArgument, "a " + method + " request must not carry a body");
            observe(exchange.get(), request, response, route, watch, "request body refused");
            return;
        }
    }
    {
        // Probes and scrapes bypass admission: an overloaded bridge is alive and says so.
        const bool exempt = route == "health" || route == "ready" || route == "metrics";
        std::optional<RequestGate::Ticket> ticket;
        if (!exempt) ticket.emplace(context_.gate);
        try {
            if (ticket && !ticket->admitted() && request.getMethod() != "OPTIONS")
                throw BridgeError(ErrorCode::Overloaded, "server busy: too many requests, retry later");
            dispatch(*exchange, landing_);
        } catch (const BridgeError& e) {
            detail = e.what();
            answerError(*exchange, e.code(), e.what());
            // Headers already out (a streamed multipart): the connection was closed without the
            // last chunk; the client sees a cut body without the closing delimiter.
        } catch (const Poco::Exception& e) {
            // Mostly the client going away mid-stream (broken pipe / reset): nothing to answer.
            detail = e.displayText();
            exchange->requestContext().cancel();
            answerError(*exchange, ErrorCode::Internal, e.displayText());
        } catch (const std::exception& e) {
            detail = e.what();
            Poco::Logger::get("bridge.web").error("unexpected error on %s: %s", request.getURI().substr(0, 200),
                                                  std::string(e.what()));
            answerError(*exchange, ErrorCode::Internal, e.what());
        }
    }
    Poco::Logger& log = Poco::Logger::get("bridge.web");
    if (log.debug())
        log.debug("%s %s -> %d (%s, %Lu bytes, %.1f ms)", request.getMethod(), exchange->path().substr(0, 200),
                  static_cast<int>(response.getStatus()), route, static_cast<Poco::UInt64>(exchange->bytesSent()),
                  watch.seconds() * 1000);
    observe(exchange.get(), request, response, route, watch, detail);
}

}  // namespace bridge::web
