#pragma once
// One HTTP request/response pair as the DICOMweb handlers see it: parsed query parameters and
// Accept header, the caller's public base URL and collection scope, and the ways to answer
// (JSON with optional gzip, bytes, a streamed chunked body, errors as JSON). Every response
// carries the CORS and CORP headers (PS3.18 doesn't require them; browsers do: OHIF #517).
// Used by one thread at a time (the Poco worker serving the request).

#include "bridge/common/RequestContext.h"
#include "bridge/common/Error.h"
#include "web/AcceptParser.h"
#include "web/QidoParameters.h"
#include "bridge/common/Text.h"
#include "web/WebContext.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <memory>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace bridge::web {

class WebExchange {
public:
    /// `requestId` names the request in its RequestContext (web/RequestId.h; empty = none).
    WebExchange(WebContext& context, Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                const std::string& requestId = {});
    ~WebExchange();

    WebContext& context() { return context_; }
    Poco::Net::HTTPServerRequest& request() { return request_; }
    const std::string& path() const { return path_; }
    const QueryParameterList& parameters() const { return parameters_; }
    /// First value of a query parameter (case-insensitive name), or empty.
    std::string parameter(const std::string& name) const;
    const std::vector<MediaRange>& accept() const { return accept_; }
    /// e.g. "http://127.0.0.1:8080" (no trailing slash), from settings or proxy headers.
    const std::string& baseUrl() const { return baseUrl_; }
    /// baseUrl + "/dicom-web".
    std::string dicomWebRoot() const { return baseUrl_ + "/dicom-web"; }
    /// The caller's collection scope (from the authenticated principal, else the bearer token);
    /// computed on first use.
    const CollectionScope& scope();
    /// Sets the caller authenticated by HttpAuthenticator (before the first scope()).
    void setPrincipal(HttpPrincipal principal) { principal_ = std::move(principal); }
    /// The request's context (stop signal, request id, caller "HTTP from <address>"): what the
    /// core calls of this request take, scope resolution included.
    const RequestContext& requestContext() const { return requestContext_; }

    bool headersSent() const { return sent_; }
    /// JSON body (gzip when Accept-Encoding allows and the body is not tiny).
    void sendJson(int status, const std::string& json, const std::string& contentType = "application/dicom+json");
    /// Already-gzipped JSON (from the metadata cache): sent as is or inflated for clients without gzip.
    void sendGzippedJson(const std::string& gz, const std::string& contentType = "application/dicom+json");
    void sendBytes(int status, const std::string& contentType, const void* data, std::size_t size);
    /// {"error": name, "message": ..., "status": N} with errorMapping(code).httpStatus.
    void sendError(ErrorCode code, const std::string& message);
    /// Starts a chunked 200 response and returns the body stream (Poco owns it).
    std::ostream& beginStream(const std::string& contentType);
    /// After beginStream: flushes what was written, then closes the connection WITHOUT the
    /// terminating zero-length chunk, so the client sees a cut body, never a complete-looking
    /// one (a multipart series with instances missing). No-op when no stream was started;
    /// never throws.
    void abortStream() noexcept;

    bool acceptsGzip() const;

    /// What the audit record and metrics of this request report (set by the resources).
    struct Notes {
        std::optional<Query> query;                 ///< QIDO: the search run
        std::optional<RetrieveRequest> retrieve;    ///< WADO: what was retrieved
        std::optional<std::uint64_t> matches;       ///< QIDO: results sent
        std::optional<std::uint64_t> instances;     ///< WADO: instances sent
    };
    Notes& notes() { return notes_; }
    /// Who the caller is, for the audit trail: the authenticated principal's name (HTTP
    /// authentication), else "token:<first 12 hex digits of SHA-256(bearer token)>" (never the
    /// token), else "".
    std::string principal() const;
    /// Body bytes handed to Poco so far (sendBytes and the streamed body; 0 for HEAD).
    std::uint64_t bytesSent() const;

private:
    void addCommonHeaders();

    WebContext& context_;
    Poco::Net::HTTPServerRequest& request_;
    Poco::Net::HTTPServerResponse& response_;
    std::string path_;
    QueryParameterList parameters_;
    std::vector<MediaRange> accept_;
    std::string baseUrl_;
    std::optional<HttpPrincipal> principal_;
    std::optional<CollectionScope> scope_;
    RequestContext requestContext_;
    bool sent_ = false;
    std::ostream* stream_ = nullptr;  ///< the chunked body, once beginStream ran
    Notes notes_;
    std::uint64_t bytesSent_ = 0;
    class CountingBody;
    std::unique_ptr<CountingBody> counter_;
};


}  // namespace bridge::web
