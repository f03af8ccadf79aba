#pragma once
// The Poco request handler of DicomWebServer: routes one request and turns every failure into
// a JSON error (never lets an exception reach Poco). One instance per request; runs on a Poco
// worker thread.

#include "web/WebContext.h"

#include <Poco/Net/HTTPRequestHandler.h>

#include <functional>
#include <utility>

namespace bridge::web {

class LandingPage;

class WebRequestHandler : public Poco::Net::HTTPRequestHandler {
public:
    WebRequestHandler(WebContext& context, LandingPage& landing) : context_(context), landing_(landing) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

    /// Receives the request's cancel action once its exchange exists, before it is served
    /// (DicomWebServer hands it to ClientConnectionGuard::watchHangUp: a client that closes its
    /// connection cancels its request's context, issue 11 item 1).
    using HangUpWatch = std::function<void(std::function<void()> cancel)>;
    void setHangUpWatch(HangUpWatch watch) { hangUpWatch_ = std::move(watch); }

private:
    HangUpWatch hangUpWatch_;
    WebContext& context_;
    LandingPage& landing_;
};

}  // namespace bridge::web
