#include "web/WebRequestHandler.h"

#include "web/LandingPage.h"
#include "web/QidoResource.h"
#include "web/WadoResource.h"
#include "web/WebExchange.h"
#include "web/WebRoute.h"

#include <Poco/Exception.h>

#include <iostream>

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
    if (method != "GET" && method != "HEAD") {
        request.response().set("Allow", "GET, HEAD, OPTIONS");
        if (method == "POST" && path.rfind(kRoot + "/studies", 0) == 0)
            throw BridgeError(ErrorCode::Unsupported, "STOW-RS is not supported: this bridge is read-only");
        throw BridgeError(ErrorCode::Unsupported, "method " + method + " not allowed: this bridge is read-only");
    }

    if (path == "/" || path.empty()) return landing.serveHtml(exchange);
    if (path == "/collections") return landing.serveJson(exchange);
    if (path == "/status") {
        const auto& source = exchange.context().status;
        const StatusSnapshot snapshot = source ? source() : StatusSnapshot{};
        return exchange.sendJson(200, renderStatusJson(snapshot, exchange.scope()), "application/json");
    }
    if (path == "/health") {
        const auto& gate = exchange.context().gate;
        return exchange.sendJson(200,
                                 "{\"status\":\"ok\",\"activeRequests\":" + std::to_string(gate.active()) +
                                     ",\"waitingRequests\":" + std::to_string(gate.waiting()) +
                                     ",\"refusedRequests\":" + std::to_string(gate.refused()) +
                                     ",\"metadataCacheHits\":" + std::to_string(exchange.context().metadataCache.hits()) +
                                     ",\"metadataCacheMisses\":" + std::to_string(exchange.context().metadataCache.misses()) + "}",
                                 "application/json");
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

// Sends the JSON error unless the response already started; never throws (the client may be gone).
void answerError(WebExchange& exchange, ErrorCode code, const std::string& message) noexcept {
    if (exchange.headersSent()) return;
    try {
        exchange.sendError(code, message);
    } catch (...) {
    }
}

}  // namespace

void WebRequestHandler::handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    std::unique_ptr<WebExchange> exchange;
    try {
        exchange = std::make_unique<WebExchange>(context_, request, response);
    } catch (const std::exception& e) {
        // A URI Poco cannot even parse.
        response.set("Access-Control-Allow-Origin", context_.settings.allowedOrigin);
        response.setStatus(Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
        response.setContentType("application/json");
        response.send() << "{\"error\":\"invalid-argument\",\"message\":\"malformed request URI\",\"status\":400}";
        return;
    }
    RequestGate::Ticket ticket(context_.gate);
    try {
        if (!ticket.admitted() && request.getMethod() != "OPTIONS")
            throw BridgeError(ErrorCode::Overloaded, "server busy: too many requests, retry later");
        dispatch(*exchange, landing_);
    } catch (const BridgeError& e) {
        answerError(*exchange, e.code(), e.what());
        // Headers already out (a streamed multipart): the body just ends; the client sees a
        // truncated multipart without the closing delimiter.
    } catch (const Poco::Exception& e) {
        // Mostly the client going away mid-stream (broken pipe / reset): nothing to answer.
        exchange->cancel().cancel();
        answerError(*exchange, ErrorCode::Internal, e.displayText());
    } catch (const std::exception& e) {
        std::cerr << "tcia-bridge web: unexpected error on " << request.getURI().substr(0, 200) << ": " << e.what() << "\n";
        answerError(*exchange, ErrorCode::Internal, e.what());
    }
}

}  // namespace bridge::web
