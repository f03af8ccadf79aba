#pragma once
// HTTP(S) to TCIA: Poco HTTPClientSession / HTTPSClientSession with
//  * certificate verification against the system store (or TciaSettings::caFile), hostname checked;
//  * connect and read timeouts from TciaSettings;
//  * keep-alive session reuse (an idle pool per host; a session is returned only after its
//    response body was read completely);
//  * retries on connection errors, timeouts, 5xx, 408 and 429 with exponential backoff + full
//    jitter (RetryPolicy), honouring Retry-After, bounded by maxRetries;
//  * a per-host concurrency limit (maxConcurrentRequests): excess callers block until a slot frees
//    (or their RequestContext stops);
//  * a stop of the caller's RequestContext (cancel() or its deadline) ends the call at once,
//    signalled: the slot wait (condition_variable_any on the stop token) and the backoff
//    (RequestContext::sleepFor) wake, and a std::stop_callback shuts the session's socket down so
//    a blocked connect/read returns; the deadline so bounds the whole call, retries included.
//    A stopped call throws Cancelled (UpstreamTimeout for the deadline), is never retried, and is
//    counted as status "cancelled" in tcia_bridge_tcia_requests_total.
// Other statuses (2xx, 3xx, 4xx except 408/429) are returned to the caller, which maps them.
// One log line per request on Poco::Logger "bridge.tcia.http" (debug level; retries at info, final
// failures at warning): method, endpoint path, status, ms, retries, [context requestId]; metrics per endpoint
// (tcia_bridge_tcia_*, MetricsRegistry.h);
// never query strings of token calls, form bodies or headers (credentials are redacted).
// Thread-safe: one HttpTransport serves every thread of the bridge.

#include <Poco/AutoPtr.h>
#include <Poco/Net/Context.h>

#include <chrono>
#include <functional>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bridge/common/RequestContext.h"
#include "bridge/common/Config.h"

namespace bridge::tcia {

/// A completed HTTP exchange (body fully read).
struct HttpResponse {
    int status = 0;
    std::string reason;
    std::string contentType;
    std::string body;
    int retries = 0;  ///< attempts after the first that this exchange needed
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;
using FormFields = std::vector<std::pair<std::string, std::string>>;

class HttpTransport {
public:
    explicit HttpTransport(const TciaSettings& settings);
    ~HttpTransport();
    HttpTransport(const HttpTransport&) = delete;
    HttpTransport& operator=(const HttpTransport&) = delete;

    /// GET an absolute URL; blocks. Throws BridgeError UpstreamUnavailable (connection refused,
    /// 5xx/429 after all retries), UpstreamTimeout (timeouts after all retries), Cancelled.
    HttpResponse get(const std::string& url, const HttpHeaders& headers, const RequestContext* context = nullptr);

    /// POST application/x-www-form-urlencoded. `logName` replaces the URL in the log line.
    /// The form is never logged. Same errors as get().
    HttpResponse postForm(const std::string& url, const FormFields& form, const std::string& logName);

    /// POST a body of `contentType` (e.g. application/json for IDC's /v3/sql). `logName` replaces
    /// the URL in the log line; the body is never logged. Same errors and retries as get().
    HttpResponse postBody(const std::string& url, const std::string& contentType, const std::string& body,
                          const std::string& logName, const RequestContext* context = nullptr);

    /// GET whose 200 body is read into `bytes` (replaced) instead of HttpResponse::body. With a
    /// Content-Length of up to 16 MiB: sized once (a `bytes` already that large is not cleared
    /// first, so a recycled buffer costs no zero-fill) and read from the socket straight into it
    /// in large reads (Poco's HTTPSession::read, not the response stream's 4 KiB buffer). Beyond
    /// that, and for chunked bodies: through the stream, the buffer doubling as bytes arrive. A body longer
    /// than `maxBytes` (declared or read) throws BridgeError(UpstreamBadResponse) naming the bound,
    /// never retried. Other statuses, errors and retries (a cut body included) as get().
    HttpResponse getBytes(const std::string& url, const HttpHeaders& headers, std::vector<std::uint8_t>& bytes,
                          std::uint64_t maxBytes, const RequestContext* context = nullptr);

    /// GET whose 200 body is handed to `onBody` as a stream while it arrives (the concurrency
    /// slot is held until onBody returns; the session is not reused afterwards). Exceptions from
    /// onBody propagate unchanged and are never retried here. For a non-200 status the body is
    /// read into the returned response and onBody is not called. Same errors as get().
    HttpResponse getStream(const std::string& url, const HttpHeaders& headers,
                           const std::function<void(std::istream&)>& onBody,
                           const RequestContext* context = nullptr);


    /// RFC 3986 percent-encoding of a query value (everything but unreserved characters).
    static std::string encodeQueryValue(const std::string& value);

    /// The endpoint path of a URL without its query, for logs ("/nbia-api/services/v4/getSeries").
    static std::string pathForLog(const std::string& url);

private:
    class HostLimiter;
    struct Request;
    HttpResponse execute(const Request& request);
    HostLimiter& limiterFor(const std::string& hostKey);

    TciaSettings settings_;
    std::mutex mutex_;
    std::once_flag sslInit_;
    Poco::AutoPtr<Poco::Net::Context> sslContext_;  ///< created on first https use
    std::map<std::string, std::unique_ptr<HostLimiter>> limiters_;
};

}  // namespace bridge::tcia
