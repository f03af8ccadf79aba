#include "web/WebExchange.h"

#include <Poco/SHA2Engine.h>

#include "web/ErrorJson.h"
#include "web/MetadataCache.h"
#include "web/PublicUrl.h"

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace bridge::web {

WebExchange::WebExchange(WebContext& context, Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                         const std::string& requestId)
    : context_(context),
      request_(request),
      response_(response),
      requestContext_(requestId, "HTTP from " + request.clientAddress().host().toString()) {
    addCommonHeaders();
    Poco::URI uri(request.getURI());
    path_ = uri.getPath();
    // PS3.18 8.3.4: a value may hold commas; Poco decodes %2C so both spellings split alike.
    parameters_ = uri.getQueryParameters();
    accept_ = parseAccept(request.get("Accept", ""));
    ForwardingHeaders fh;
    fh.forwarded = request.get("Forwarded", "");
    fh.xForwardedHost = request.get("X-Forwarded-Host", "");
    fh.xForwardedProto = request.get("X-Forwarded-Proto", "");
    fh.xForwardedPrefix = request.get("X-Forwarded-Prefix", "");
    fh.host = request.get("Host", "");
    fh.localAddress = request.serverAddress().toString();
    fh.secure = request.secure();
    baseUrl_ = publicBaseUrl(context.settings.publicBaseUrl, fh);
}

/// The streamed body as handed out by beginStream(): counts bytes, forwards writes in bulk.
class WebExchange::CountingBody : public std::streambuf {
public:
    explicit CountingBody(std::ostream& out) : out_(out), stream(this) {}
    std::uint64_t count = 0;

private:
    int_type overflow(int_type c) override {
        if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
        if (!out_.put(traits_type::to_char_type(c))) return traits_type::eof();
        ++count;
        return c;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        if (!out_.write(s, n)) return 0;
        count += static_cast<std::uint64_t>(n);
        return n;
    }
    int sync() override { return out_.flush() ? 0 : -1; }
    std::ostream& out_;

public:
    std::ostream stream;
};

WebExchange::~WebExchange() = default;

std::string WebExchange::principal() const {
    if (principal_ && !principal_->name.empty()) return principal_->name;
    const std::string auth = request_.get("Authorization", "");
    if (auth.size() <= 7 || Poco::icompare(auth, 0, 7, std::string("bearer ")) != 0) return {};
    Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
    sha.update(auth.substr(7));
    return "token:" + Poco::DigestEngine::digestToHex(sha.digest()).substr(0, 12);
}

std::uint64_t WebExchange::bytesSent() const { return bytesSent_ + (counter_ ? counter_->count : 0); }

std::string WebExchange::parameter(const std::string& name) const {
    for (const auto& [n, v] : parameters_)
        if (Poco::icompare(n, name) == 0) return v;
    return {};
}

const CollectionScope& WebExchange::scope() {
    if (!scope_) {
        if (!principal_) {
            principal_.emplace();
            // Auth on: only an authenticated principal counts (set by the handler); a raw token
            // must not widen the scope of a public route.
            const std::string auth = context_.auth ? std::string() : request_.get("Authorization", "");
            if (auth.size() > 7 && Poco::icompare(auth, 0, 7, std::string("bearer ")) == 0) {
                std::string t = auth.substr(7);
                t.erase(0, t.find_first_not_of(' '));
                if (!t.empty()) principal_->bearerToken = t;
            }
        }
        scope_ = context_.scope ? context_.scope(*principal_, requestContext_) : CollectionScope{};
    }
    return *scope_;
}

void WebExchange::addCommonHeaders() {
    // CORS on every response, errors included (OHIF #517; MS dicom-server #2021).
    response_.set("Access-Control-Allow-Origin", context_.settings.allowedOrigin);
    if (context_.settings.allowedOrigin != "*") response_.set("Vary", "Origin");
    response_.set("Access-Control-Expose-Headers", "Content-Type, Content-Length, Content-Encoding, Warning, WWW-Authenticate, X-Request-ID");
    // OHIF pages with COEP require-corp may embed /rendered and thumbnails (anchors.md 3.3).
    response_.set("Cross-Origin-Resource-Policy", "cross-origin");
}

bool WebExchange::acceptsGzip() const { return acceptsGzipEncoding(request_.get("Accept-Encoding", "")); }

void WebExchange::sendJson(int status, const std::string& json, const std::string& contentType) {
    if (acceptsGzip() && json.size() > 512) {
        const std::string gz = MetadataCache::gzip(json);
        response_.set("Content-Encoding", "gzip");
        response_.set("Vary", "Accept-Encoding");
        sendBytes(status, contentType, gz.data(), gz.size());
        return;
    }
    sendBytes(status, contentType, json.data(), json.size());
}

void WebExchange::sendGzippedJson(const std::string& gz, const std::string& contentType) {
    if (acceptsGzip()) {
        response_.set("Content-Encoding", "gzip");
        response_.set("Vary", "Accept-Encoding");
        sendBytes(200, contentType, gz.data(), gz.size());
        return;
    }
    const std::string json = MetadataCache::gunzip(gz);
    sendBytes(200, contentType, json.data(), json.size());
}

void WebExchange::sendBytes(int status, const std::string& contentType, const void* data, std::size_t size) {
    // With the reason phrase: "400 Bad Request", not Poco's leftover "400 OK".
    response_.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    response_.setContentType(contentType);
    response_.setContentLength64(static_cast<Poco::UInt64>(size));
    sent_ = true;
    if (request_.getMethod() == "HEAD") {
        response_.send();
        return;
    }
    response_.sendBuffer(data, size);
    bytesSent_ += size;
}

void WebExchange::sendError(ErrorCode code, const std::string& message) {
    response_.erase("Content-Encoding");
    const std::string body = errorJson(code, message);
    // 499 (client closed) is not a real status; nobody reads it anyway.
    sendBytes(errorMapping(code).httpStatus, "application/json", body.data(), body.size());
}

std::ostream& WebExchange::beginStream(const std::string& contentType) {
    response_.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
    response_.setContentType(contentType);
    response_.setChunkedTransferEncoding(true);
    sent_ = true;
    counter_ = std::make_unique<CountingBody>(response_.send());
    stream_ = &counter_->stream;
    return *stream_;
}

void WebExchange::abortStream() noexcept {
    if (stream_ == nullptr) return;
    try {
        stream_->flush();  // the parts already written reach the client
    } catch (...) {
    }
    try {
        response_.setKeepAlive(false);
        // Closing the socket here means the chunked stream's destructor can no longer write
        // its last chunk (it throws InvalidSocketException without a syscall, which Poco swallows).
        if (auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request_)) {
            impl->socket().shutdown();
            impl->socket().close();
        }
    } catch (...) {
    }
    stream_ = nullptr;
}

}  // namespace bridge::web
