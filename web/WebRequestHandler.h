#pragma once
// The Poco request handler of DicomWebServer: routes one request and turns every failure into
// a JSON error (never lets an exception reach Poco). One instance per request; runs on a Poco
// worker thread.

#include "web/WebContext.h"

#include <Poco/Net/HTTPRequestHandler.h>

namespace bridge::web {

class LandingPage;

class WebRequestHandler : public Poco::Net::HTTPRequestHandler {
public:
    WebRequestHandler(WebContext& context, LandingPage& landing) : context_(context), landing_(landing) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

private:
    WebContext& context_;
    LandingPage& landing_;
};

}  // namespace bridge::web
