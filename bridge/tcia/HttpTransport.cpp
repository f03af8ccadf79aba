#include "bridge/tcia/HttpTransport.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <istream>
#include <optional>
#include <random>
#include <stop_token>
#include <thread>

#include "bridge/common/ByteBuffers.h"
#include "bridge/common/Error.h"
#include "bridge/common/MetricsRegistry.h"
#include "bridge/tcia/RetryPolicy.h"

namespace bridge::tcia {

namespace {

using Clock = std::chrono::steady_clock;

Poco::Logger& log() { return Poco::Logger::get("bridge.tcia.http"); }

/// "getSeries" from "/nbia-api/services/v4/getSeries" (bounded metric label cardinality).
std::string endpointLabel(const std::string& logName) {
    std::string path = logName.substr(0, logName.find('?'));
    auto slash = path.find_last_of('/');
    std::string last = slash == std::string::npos ? path : path.substr(slash + 1);
    if (last.empty() || last.size() > 64) return "other";
    for (char c : last)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return "other";
    return last;
}

/// One finished TCIA call: requests by endpoint and status, latency, retries, last answer time.
void observeCall(const std::string& logName, const std::string& status, int retries, double seconds, bool answered) {
    const std::string endpoint = endpointLabel(logName);
    metrics().add("tcia_bridge_tcia_requests_total", {endpoint, status});
    metrics().observe("tcia_bridge_tcia_request_duration_seconds", {endpoint}, seconds);
    if (retries > 0) metrics().add("tcia_bridge_tcia_retries_total", {endpoint}, retries);
    if (answered)
        metrics().set("tcia_bridge_tcia_last_success_timestamp_seconds", {},
                      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
}

double uniform01() {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

std::string excerpt(const std::string& s) {
    std::string t = s.substr(0, 200);
    std::replace(t.begin(), t.end(), '\n', ' ');
    return t;
}

Poco::Timespan toTimespan(std::chrono::milliseconds ms) {
    return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

}  // namespace

/// Concurrency slots and idle keep-alive sessions of one scheme://host:port.
class HttpTransport::HostLimiter {
public:
    explicit HostLimiter(int slots) : free_(std::max(1, slots)), capacity_(std::max(1, slots)) {}

    /// Blocks until a slot is free; a stop of `context` wakes the wait and throws.
    void acquire(const RequestContext* context) {
        std::unique_lock lock(mutex_);
        if (context) {
            if (!context->wait(cv_, lock, [this] { return free_ > 0; })) context->throwIfCancelled();
        } else {
            cv_.wait(lock, [this] { return free_ > 0; });
        }
        --free_;
    }
    void release() {
        {
            std::lock_guard lock(mutex_);
            ++free_;
        }
        cv_.notify_one();
    }
    std::unique_ptr<Poco::Net::HTTPClientSession> takeIdle() {
        std::lock_guard lock(mutex_);
        if (idle_.empty()) return nullptr;
        auto s = std::move(idle_.back());
        idle_.pop_back();
        return s;
    }
    void giveBack(std::unique_ptr<Poco::Net::HTTPClientSession> s) {
        std::lock_guard lock(mutex_);
        if (static_cast<int>(idle_.size()) < capacity_) idle_.push_back(std::move(s));
    }

private:
    std::mutex mutex_;
    std::condition_variable_any cv_;  ///< waits also wake on the caller's stop token
    int free_;
    int capacity_;
    std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> idle_;
};

struct HttpTransport::Request {
    std::string method;
    std::string url;
    std::string logName;
    HttpHeaders headers;
    std::string formBody;  // POST only
    const std::function<void(std::istream&)>* onBody = nullptr;
    const RequestContext* context = nullptr;
    std::string contentType{};  // POST only; empty = form
    std::vector<std::uint8_t>* bytesOut = nullptr;  // getBytes: where a 200 body goes
    std::uint64_t maxBytes = 0;                      // getBytes: its bound
};

namespace {

/// Bodies up to this declared length are allocated in one piece (readBody, readBodyDirect).
constexpr std::uint64_t kDirectReadMaxBytes = 16u << 20;

/// Reads the rest of `is` into `bytes` (replaced). With a declared length: one read of it when it
/// is at most 16 MiB (an object's usual case: sized once, no reallocation); the declared length is
/// the sender's word, so beyond that the buffer grows as bytes really arrive (doubling). Over
/// `maxBytes`, declared or read, throws BridgeError(UpstreamBadResponse).
void readBody(std::istream& is, const Poco::Net::HTTPResponse& resp, std::vector<std::uint8_t>& bytes,
              std::uint64_t maxBytes, const std::string& logName) {
    const auto tooLarge = [&](const std::string& what) {
        throw BridgeError(ErrorCode::UpstreamBadResponse, logName + ": the response body " + what + " " +
                                                               std::to_string(maxBytes) + " bytes: refused");
    };
    constexpr std::uint64_t kFirst = kDirectReadMaxBytes;
    constexpr std::uint64_t kChunk = 1u << 20;
    std::optional<std::uint64_t> declared;
    if (resp.hasContentLength()) {
        const Poco::Int64 length = resp.getContentLength64();
        if (length < 0 || static_cast<std::uint64_t>(length) > maxBytes) tooLarge("is declared larger than");
        declared = static_cast<std::uint64_t>(length);
    }
    bytes.clear();
    std::size_t size = 0;
    for (;;) {
        if (declared && size == *declared) break;  // Poco's fixed-length stream ends there
        if (size == bytes.size()) {  // full: the first buffer, or twice the bytes so far
            std::uint64_t next = size > 0 ? 2 * size : (declared ? kFirst : kChunk);
            if (declared) next = std::min(next, *declared);  // > size: not yet at the declared end
            resizeForWrite(bytes, static_cast<std::size_t>(next));
        }
        is.read(reinterpret_cast<char*>(bytes.data() + size), static_cast<std::streamsize>(bytes.size() - size));
        const auto got = static_cast<std::size_t>(is.gcount());
        size += got;
        if (size > maxBytes) tooLarge("is larger than");
        if (!is) break;  // end of the body (or a cut one: the caller compares the declared length)
    }
    bytes.resize(size);
}

/// Poco's HTTPSession::read (protected) made reachable for a fixed-length body: the bytes the
/// session buffered with the header first, then recv() straight into the caller's buffer. The
/// response stream instead reads through a 4 KiB buffer (HTTPBufferAllocator::BUFFER_SIZE): one
/// recv(2) per 4 KiB plus a copy -- for a 0.5 MB IDC object ~130 system calls instead of a few.
class DirectBodyRead {
public:
    virtual ~DirectBodyRead() = default;
    /// Up to `length` body bytes; 0 at the end of the connection. Throws as Poco's read does.
    virtual int readDirect(char* buffer, std::streamsize length) = 0;
};

class DirectHttpSession : public Poco::Net::HTTPClientSession, public DirectBodyRead {
public:
    using Poco::Net::HTTPClientSession::HTTPClientSession;
    int readDirect(char* buffer, std::streamsize length) override { return read(buffer, length); }
};

class DirectHttpsSession : public Poco::Net::HTTPSClientSession, public DirectBodyRead {
public:
    using Poco::Net::HTTPSClientSession::HTTPSClientSession;
    int readDirect(char* buffer, std::streamsize length) override { return read(buffer, length); }
};

/// Reads a body of `declared` bytes (at most 16 MiB, see readBody) from the session into
/// `bytes` (resized to it: a buffer that is already that large is not cleared first). Stops
/// early at the end of the connection; the caller compares the size with the declared length.
void readBodyDirect(DirectBodyRead& session, std::uint64_t declared, std::vector<std::uint8_t>& bytes) {
    resizeForOverwrite(bytes, static_cast<std::size_t>(declared));
    std::size_t size = 0;
    while (size < bytes.size()) {
        const std::size_t want = std::min<std::size_t>(bytes.size() - size, std::size_t(1) << 30);
        const int got = session.readDirect(reinterpret_cast<char*>(bytes.data() + size),
                                           static_cast<std::streamsize>(want));
        if (got <= 0) break;
        size += static_cast<std::size_t>(got);
    }
    bytes.resize(size);
}

}  // namespace

HttpTransport::HttpTransport(const TciaSettings& settings) : settings_(settings) {}
HttpTransport::~HttpTransport() = default;

HttpTransport::HostLimiter& HttpTransport::limiterFor(const std::string& hostKey) {
    std::lock_guard lock(mutex_);
    auto& slot = limiters_[hostKey];
    if (!slot) slot = std::make_unique<HostLimiter>(settings_.maxConcurrentRequests);
    return *slot;
}

std::string HttpTransport::encodeQueryValue(const std::string& value) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : value) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string HttpTransport::pathForLog(const std::string& url) {
    try {
        return Poco::URI(url).getPath();
    } catch (const Poco::Exception&) {
        return "<bad url>";
    }
}

HttpResponse HttpTransport::get(const std::string& url, const HttpHeaders& headers,
                                const RequestContext* context) {
    Request r{"GET", url, pathForLog(url), headers, {}, nullptr, context};
    return execute(r);
}

HttpResponse HttpTransport::postForm(const std::string& url, const FormFields& form,
                                     const std::string& logName) {
    std::string body;
    for (const auto& [k, v] : form) {
        if (!body.empty()) body += '&';
        body += encodeQueryValue(k) + "=" + encodeQueryValue(v);
    }
    Request r{"POST", url, logName, {}, std::move(body), nullptr, nullptr};
    return execute(r);
}

HttpResponse HttpTransport::postBody(const std::string& url, const std::string& contentType,
                                     const std::string& body, const std::string& logName,
                                     const RequestContext* context) {
    Request r{"POST", url, logName, {}, body, nullptr, context, contentType};
    return execute(r);
}

HttpResponse HttpTransport::getBytes(const std::string& url, const HttpHeaders& headers,
                                     std::vector<std::uint8_t>& bytes, std::uint64_t maxBytes,
                                     const RequestContext* context) {
    Request r{"GET", url, pathForLog(url), headers, {}, nullptr, context};
    r.bytesOut = &bytes;
    r.maxBytes = maxBytes;
    return execute(r);
}

HttpResponse HttpTransport::getStream(const std::string& url, const HttpHeaders& headers,
                                      const std::function<void(std::istream&)>& onBody,
                                      const RequestContext* context) {
    Request r{"GET", url, pathForLog(url), headers, {}, &onBody, context};
    return execute(r);
}

HttpResponse HttpTransport::execute(const Request& request) {
    Poco::URI uri;
    try {
        uri = Poco::URI(request.url);
    } catch (const Poco::Exception& e) {
        throw BridgeError(ErrorCode::InvalidArgument, "bad TCIA URL: " + e.displayText());
    }
    const bool https = uri.getScheme() == "https";
    if (!https && uri.getScheme() != "http")
        throw BridgeError(ErrorCode::InvalidArgument, "TCIA URL must be http or https: " + request.logName);
    const std::string hostKey = uri.getScheme() + "://" + uri.getHost() + ":" + std::to_string(uri.getPort());
    HostLimiter& limiter = limiterFor(hostKey);

    const auto started = Clock::now();
    auto elapsedMs = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    };
    int retries = 0;
    bool staleRetryUsed = false;
    // The log lines name the request this call serves (it may run on a worker thread).
    const std::string requestNote = request.context && !request.context->requestId().empty()
                                        ? " [" + request.context->requestId() + "]"
                                        : std::string();
    // Stop (cancel or deadline) ends the call at once, wherever it waits; never retried.
    auto throwIfStopped = [&] {
        if (!request.context || !request.context->cancelled()) return;
        log().information("%s %s -> stopped after %Ld ms (%d retries): %s%s", request.method, request.logName,
                          static_cast<Poco::Int64>(elapsedMs()), retries,
                          std::string(request.context->stopReason() == RequestContext::StopReason::DeadlineExceeded
                                          ? "deadline passed"
                                          : "cancelled"),
                          requestNote);
        observeCall(request.logName, "cancelled", retries, elapsedMs() / 1000.0, false);
        request.context->throwIfCancelled();
    };
    for (int attempt = 0;; ++attempt) {
        throwIfStopped();
        std::optional<std::chrono::milliseconds> retryAfter;
        ErrorCode failure = ErrorCode::UpstreamUnavailable;
        std::string failureText;
        std::exception_ptr bodyError;
        bool staleConnection = false;
        {
            limiter.acquire(request.context);
            struct SlotRelease {
                HostLimiter& l;
                ~SlotRelease() { l.release(); }
            } slotRelease{limiter};

            std::unique_ptr<Poco::Net::HTTPClientSession> session = limiter.takeIdle();
            const bool reused = session != nullptr;
            // A stop while this attempt waits in connect/read shuts the session's socket down,
            // which wakes the blocked call at once (Poco throws; throwIfStopped below reports it).
            std::optional<std::stop_callback<std::function<void()>>> wakeOnStop;
            try {
                if (!session) {
                    if (https) {
                        std::call_once(sslInit_, [] { Poco::Net::initializeSSL(); });
                        {
                            std::lock_guard lock(mutex_);
                            if (!sslContext_) {
                                // VERIFY_RELAXED on a client still requires a valid chain; the
                                // hostname is checked by SecureSocketImpl (extended verification).
                                sslContext_ = new Poco::Net::Context(
                                    Poco::Net::Context::TLS_CLIENT_USE, settings_.caFile,
                                    Poco::Net::Context::VERIFY_RELAXED, 9, settings_.caFile.empty());
                            }
                        }
                        session =
                            std::make_unique<DirectHttpsSession>(uri.getHost(), uri.getPort(), sslContext_);
                    } else {
                        session = std::make_unique<DirectHttpSession>(uri.getHost(), uri.getPort());
                    }
                    session->setTimeout(toTimespan(settings_.connectTimeout),
                                        toTimespan(settings_.readTimeout), toTimespan(settings_.readTimeout));
                    session->setKeepAlive(true);
                }
                if (request.context) {
                    Poco::Net::HTTPClientSession* blocked = session.get();
                    wakeOnStop.emplace(request.context->stopToken(), std::function<void()>([blocked] {
                                           try {
                                               blocked->socket().shutdown();
                                           } catch (...) {
                                               // not connected yet: the check after connecting stops it
                                           }
                                       }));
                }
                Poco::Net::HTTPRequest req(request.method, uri.getPathEtc(),
                                           Poco::Net::HTTPMessage::HTTP_1_1);
                req.setKeepAlive(true);
                for (const auto& [k, v] : request.headers) req.set(k, v);
                if (request.method == "POST") {
                    req.setContentType(request.contentType.empty() ? std::string("application/x-www-form-urlencoded")
                                                                   : request.contentType);
                    req.setContentLength(static_cast<std::streamsize>(request.formBody.size()));
                }
                std::ostream& os = session->sendRequest(req);
                if (!request.formBody.empty()) os << request.formBody;
                throwIfStopped();  // a stop during connect found no socket to shut down
                Poco::Net::HTTPResponse resp;
                std::istream& is = session->receiveResponse(resp);
                const int status = resp.getStatus();

                if (status == 200 && request.onBody) {
                    try {
                        (*request.onBody)(is);
                    } catch (...) {
                        bodyError = std::current_exception();
                    }
                    wakeOnStop.reset();
                    if (bodyError) throwIfStopped();  // a read cut by the stop: Cancelled, not I/O
                    log().debug("%s %s -> 200 streamed in %Ld ms (%d retries)%s%s", request.method,
                                request.logName, static_cast<Poco::Int64>(elapsedMs()), retries,
                                std::string(bodyError ? " body aborted" : ""), requestNote);
                    observeCall(request.logName, bodyError ? "200-aborted" : "200", retries, elapsedMs() / 1000.0,
                                true);
                    if (bodyError) std::rethrow_exception(bodyError);
                    HttpResponse out;
                    out.status = status;
                    out.reason = resp.getReason();
                    out.contentType = resp.getContentType();
                    out.retries = retries;
                    return out;
                }
                HttpResponse out;
                out.status = status;
                out.reason = resp.getReason();
                out.contentType = resp.getContentType();
                out.retries = retries;
                std::size_t bodySize = 0;
                auto* direct = dynamic_cast<DirectBodyRead*>(session.get());
                if (status == 200 && request.bytesOut && direct && !resp.getChunkedTransferEncoding() &&
                    resp.hasContentLength() && resp.getContentLength64() >= 0 &&
                    static_cast<std::uint64_t>(resp.getContentLength64()) <=
                        std::min<std::uint64_t>(request.maxBytes, kDirectReadMaxBytes)) {
                    readBodyDirect(*direct, static_cast<std::uint64_t>(resp.getContentLength64()),
                                   *request.bytesOut);
                    bodySize = request.bytesOut->size();
                } else if (status == 200 && request.bytesOut) {
                    readBody(is, resp, *request.bytesOut, request.maxBytes, request.logName);
                    bodySize = request.bytesOut->size();
                } else {
                    Poco::StreamCopier::copyToString(is, out.body);
                    bodySize = out.body.size();
                }
                // istream swallows the read error of a connection cut inside the body (badbit,
                // and libstdc++ then reports 0 bytes read), and Poco ends a cut fixed-length or
                // chunked body like a whole one: without this check a cut answer becomes an empty
                // or short one -- an empty TCIA answer means "no results" (API.md 2.3).
                if (is.bad() ||
                    (resp.hasContentLength() && static_cast<Poco::Int64>(bodySize) != resp.getContentLength64()))
                    throw Poco::IOException("connection ended inside the response body after " +
                                            std::to_string(bodySize) + " bytes");
                wakeOnStop.reset();  // never shut down a session handed back to the pool
                if (resp.getKeepAlive()) limiter.giveBack(std::move(session));

                if (!RetryPolicy::isRetryableStatus(status)) {
                    log().debug("%s %s -> %d in %Ld ms (%d retries)%s", request.method, request.logName, status,
                                static_cast<Poco::Int64>(elapsedMs()), retries, requestNote);
                    observeCall(request.logName, std::to_string(status), retries, elapsedMs() / 1000.0, status < 500);
                    return out;
                }
                failureText = "HTTP " + std::to_string(status) + " " + out.reason +
                              (out.body.empty() ? std::string() : ": " + excerpt(out.body));
                if (resp.has("Retry-After"))
                    retryAfter = RetryPolicy::parseRetryAfter(resp.get("Retry-After"),
                                                              std::chrono::system_clock::now());
            } catch (const BridgeError&) {
                throw;  // from onBody (re-thrown above) or context: never retried here
            } catch (const Poco::Net::SSLException& e) {
                // Certificate or handshake failure: retrying cannot help.
                log().error("%s %s -> TLS failure after %Ld ms: %s", request.method, request.logName,
                            static_cast<Poco::Int64>(elapsedMs()), e.displayText());
                observeCall(request.logName, "tls-failure", retries, elapsedMs() / 1000.0, false);
                throw BridgeError(ErrorCode::UpstreamUnavailable,
                                  "TLS failure talking to TCIA: " + e.displayText());
            } catch (const Poco::TimeoutException& e) {
                if (bodyError) std::rethrow_exception(bodyError);
                failure = ErrorCode::UpstreamTimeout;
                failureText = "timeout: " + e.displayText();
            } catch (const Poco::Exception& e) {
                if (bodyError) std::rethrow_exception(bodyError);
                failureText = e.displayText();
                staleConnection = reused;
            } catch (const std::exception& e) {
                if (bodyError) std::rethrow_exception(bodyError);
                failureText = e.what();
                staleConnection = reused;
            }
        }
        throwIfStopped();  // the failure was (or raced with) the stop: no retry
        // A kept-alive connection the server already closed: retry at once on a fresh one (RFC 9112 9.3.1).
        if (staleConnection && !staleRetryUsed) {
            staleRetryUsed = true;
            --attempt;
            continue;
        }
        if (attempt >= settings_.maxRetries) {
            log().warning("%s %s -> failed in %Ld ms (%d retries): %s%s", request.method, request.logName,
                          static_cast<Poco::Int64>(elapsedMs()), retries, failureText, requestNote);
            observeCall(request.logName, failure == ErrorCode::UpstreamTimeout ? "timeout" : "unavailable", retries,
                        elapsedMs() / 1000.0, false);
            throw BridgeError(failure, "TCIA " + request.logName + " failed after " +
                                           std::to_string(retries) + " retries: " + failureText);
        }
        auto delay = RetryPolicy::backoffDelay(attempt, settings_.retryBaseDelay, settings_.retryMaxDelay,
                                               uniform01());
        if (retryAfter) delay = std::min(*retryAfter, settings_.retryMaxDelay);  // honoured up to the cap
        log().information("%s %s: %s; retry %d in %Ld ms%s", request.method, request.logName, failureText,
                          retries + 1, static_cast<Poco::Int64>(delay.count()), requestNote);
        ++retries;
        if (request.context) {
            try {
                request.context->sleepFor(delay);  // wakes on stop (no polling)
            } catch (const BridgeError&) {
                throwIfStopped();
                throw;
            }
        } else {
            std::this_thread::sleep_for(delay);  // polling-guard: backoff of a call nobody can stop (no context)
        }
    }
}

}  // namespace bridge::tcia
