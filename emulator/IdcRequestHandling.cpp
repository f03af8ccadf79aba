// EmulatorRequestHandler's IDC face: /v1, /v2, /v3 (IdcService) and /s3/{bucket}/... (the AWS
// buckets), with the same fault rules as the NBIA routes (FaultPlan endpoints "v3/sql",
// "v3/version", "v3/collections", "v3/collection", "v3/cohort/manifest", "v3/cohort/counts",
// "ListObjectsV2", "GetObject", "HeadObject"; "*" matches these too).

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SocketImpl.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/URI.h>

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "emulator/EmulatorRequestHandler.h"
#include "emulator/EmulatorServer.h"
#include "emulator/S3Protocol.h"

namespace emulator {

namespace {
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

constexpr std::streamsize kMaxIdcBody = 1024 * 1024;  // request bodies of /v3 (a SQL text is small)

void closeConnection(HTTPServerRequest& request, bool reset) {
    auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(request);
    Poco::Net::StreamSocket socket = impl.detachSocket();
    try {
        if (reset)
            socket.setLinger(true, 0);
        else
            socket.shutdown();
        socket.close();
    } catch (...) {
    }
}

/// Sends bytes [first, first + length) of the file at `path` on the request's connection with
/// sendfile(2), after the response's headers went out; throws when the file cannot be read or
/// the client went away (the server then drops the connection, as for a failed write).
void sendFileRange(HTTPServerRequest& request, const std::string& path, std::int64_t first, std::int64_t length) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(request);
    const int sock = impl.socket().impl()->sockfd();
    off_t offset = static_cast<off_t>(first);
    std::int64_t left = length;
    while (left > 0) {
        const ssize_t n = ::sendfile(sock, fd, &offset, static_cast<std::size_t>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int saved = errno;
            ::close(fd);
            throw std::runtime_error(n == 0 ? std::string("file shorter than its listing: ") + path
                                            : std::string("client went away: ") + std::strerror(saved));
        }
        left -= n;
    }
    ::close(fd);
}

std::string requestId() {
    static std::atomic<unsigned long long> counter{0x5EED0000};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016llX", counter.fetch_add(1));
    return buf;
}

std::string httpDate(const std::string& iso) {
    int tz = 0;
    Poco::DateTime dt;
    if (!Poco::DateTimeParser::tryParse("%Y-%m-%dT%H:%M:%S", iso.substr(0, 19), dt, tz)) return {};
    return Poco::DateTimeFormatter::format(dt, Poco::DateTimeFormat::HTTP_FORMAT);
}

/// Sends `body` with Content-Length; with a truncate fault only part of it, then a reset.
int sendBody(HTTPServerRequest& request, HTTPServerResponse& response, int status,
             const std::string& contentType, const std::string& body, const Fault* truncate,
             bool head = false) {
    response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
    response.setContentType(contentType);
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    if (head) {
        response.send();
        return status;
    }
    if (truncate) {
        const auto cut =
            static_cast<std::size_t>(truncate->option("bytes", static_cast<int>(body.size() / 2)));
        std::ostream& out = response.send();
        out.write(body.data(), static_cast<std::streamsize>(std::min(cut, body.size())));
        out.flush();
        closeConnection(request, true);
        return status;
    }
    response.send() << body;
    return status;
}

/// Common fault kinds before the answer: drop, slow (sleep), an HTTP status. Returns the status
/// sent (0 for a dropped connection) or -1 when the answer should go ahead.
int applyFault(HTTPServerRequest& request, HTTPServerResponse& response, const Fault& fault, bool s3,
               bool head, const std::string& rid = {}) {
    if (fault.kind == "drop") {
        closeConnection(request, false);
        return 0;
    }
    if (fault.kind == "slow")
        std::this_thread::sleep_for(std::chrono::milliseconds(fault.option("delay-ms", 3000)));
    if (!std::isdigit(static_cast<unsigned char>(fault.kind[0]))) return -1;
    const int code = std::stoi(fault.kind);
    const auto reason = HTTPResponse::getReasonForStatus(static_cast<HTTPResponse::HTTPStatus>(code));
    if (s3) {
        s3::Error e{code, "InternalError", "We encountered an internal error. Please try again.", {}};
        if (code == 503)
            e = {503, "SlowDown", "Please reduce your request rate.", {}};
        else if (code == 403)
            e = {403, "AccessDenied", "Access Denied", {}};
        else if (code != 500)
            e = {code, "ServiceUnavailable", reason, {}};
        return sendBody(request, response, code, "application/xml", s3::errorXml(e, rid), nullptr, head);
    }
    if (code == 429 || code == 503)
        response.set("Retry-After", std::to_string(fault.option("retry-after", 1)));
    const std::string body =
        "<html><body><h1>" + std::to_string(code) + " " + reason + "</h1></body></html>\n";
    return sendBody(request, response, code, "text/html", body, nullptr);
}
}  // namespace

int EmulatorRequestHandler::handleIdc(HTTPServerRequest& request, HTTPServerResponse& response,
                                      const std::string& path) {
    const std::string endpoint = idc::IdcService::endpointName(path);
    state_->stats.count(endpoint, {}, false);
    std::string body;
    if (request.getMethod() == "POST") {
        if (request.hasContentLength() && request.getContentLength() > kMaxIdcBody) {
            // Read (and drop) a moderately oversized body first, so the client, still sending,
            // sees the 413 instead of a reset; close the connection after it.
            if (request.getContentLength() <= 8 * kMaxIdcBody) {
                std::vector<char> sink(64 * 1024);
                while (request.stream().read(sink.data(), static_cast<std::streamsize>(sink.size())) ||
                       request.stream().gcount() > 0) {
                }
            }
            response.setKeepAlive(false);
            const auto e = idc::idcError(413, "invalid_query", "Request body over 1 MiB");
            return sendBody(request, response, 413, e.contentType, e.body, nullptr);
        }
        std::vector<char> buf(64 * 1024);
        std::istream& in = request.stream();
        while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
            body.append(buf.data(), static_cast<std::size_t>(in.gcount()));
            if (static_cast<std::streamsize>(body.size()) > kMaxIdcBody) {
                const auto e = idc::idcError(413, "invalid_query", "Request body over 1 MiB");
                response.setKeepAlive(false);
                return sendBody(request, response, 413, e.contentType, e.body, nullptr);
            }
        }
    }
    const auto fault = state_->faults.take(endpoint);
    if (fault && fault->kind != "truncate") {
        const int sent = applyFault(request, response, *fault, false, false);
        if (sent >= 0) return sent;
    }
    const ApiResponse answer = state_->idc->handle(request.getMethod(), path, body);
    for (const auto& [k, v] : answer.headers) response.set(k, v);
    return sendBody(request, response, answer.status, answer.contentType, answer.body,
                    fault && fault->kind == "truncate" ? &*fault : nullptr);
}

int EmulatorRequestHandler::handleS3(HTTPServerRequest& request, HTTPServerResponse& response,
                                     const std::string& path) {
    const Poco::URI uri(request.getURI());
    const std::string rest = path.substr(4);  // after "/s3/"
    const auto slash = rest.find('/');
    const std::string bucketName = rest.substr(0, slash);
    const std::string key = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
    const bool head = request.getMethod() == "HEAD";
    const std::string endpoint = key.empty() ? "ListObjectsV2" : head ? "HeadObject" : "GetObject";
    state_->stats.count(endpoint, {}, false);
    const std::string rid = requestId();
    response.set("x-amz-request-id", rid);
    response.set("Server", "AmazonS3");
    auto error = [&](const s3::Error& e) {
        return sendBody(request, response, e.status, "application/xml", s3::errorXml(e, rid), nullptr, head);
    };

    const auto fault = state_->faults.take(endpoint);
    if (fault && fault->kind != "truncate") {
        const int sent = applyFault(request, response, *fault, true, head, rid);
        if (sent >= 0) return sent;
    }
    const Fault* truncate = fault && fault->kind == "truncate" ? &*fault : nullptr;
    if (request.getMethod() != "GET" && !head)
        return error(
            {405,
             "MethodNotAllowed",
             "The specified method is not allowed against this resource.",
             {{"Method", request.getMethod()}, {"ResourceType", key.empty() ? "BUCKET" : "OBJECT"}}});
    const auto* objects = state_->idc->catalog().bucket(bucketName);
    if (!objects)
        return error(
            {404, "NoSuchBucket", "The specified bucket does not exist", {{"BucketName", bucketName}}});

    if (key.empty()) {
        std::vector<std::pair<std::string, std::string>> query;
        bool v2 = false;
        for (const auto& kv : uri.getQueryParameters()) {
            if (kv.first == "list-type" && kv.second == "2") v2 = true;
            query.push_back(kv);
        }
        if (!v2)
            return error({501,
                          "NotImplemented",
                          "Only ListObjectsV2 (list-type=2) is implemented by this emulator",
                          {}});
        try {
            const s3::ListRequest list = s3::parseListQuery(query);
            const s3::ListPage page = s3::listPage(*objects, list);
            return sendBody(request, response, 200, "application/xml", s3::listXml(bucketName, list, page),
                            truncate, head);
        } catch (const s3::Error& e) {
            return error(e);
        }
    }

    const std::string& decodedKey = key;  // Poco::URI::getPath() has already percent-decoded it
    const auto it = objects->find(decodedKey);
    if (it == objects->end())
        return error({404, "NoSuchKey", "The specified key does not exist.", {{"Key", decodedKey}}});
    const s3::Object& o = it->second;
    const s3::RangePlan range = s3::parseRange(request.get("Range", ""), o.size);
    response.set("ETag", "\"" + o.etag + "\"");
    response.set("Last-Modified", httpDate(o.lastModified));
    response.set("Accept-Ranges", "bytes");
    if (range.kind == s3::RangePlan::Kind::Unsatisfiable)
        return error(
            {416,
             "InvalidRange",
             "The requested range is not satisfiable",
             {{"RangeRequested", request.get("Range", "")}, {"ActualObjectSize", std::to_string(o.size)}}});
    std::int64_t first = 0, last = o.size - 1;
    int status = 200;
    if (range.kind == s3::RangePlan::Kind::Partial) {
        first = range.first;
        last = range.last;
        status = 206;
        response.set("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                                          std::to_string(o.size));
    }
    const std::int64_t length = o.size == 0 ? 0 : last - first + 1;
    response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
    response.setContentType(o.path.empty() ? "application/x-directory" : "application/dicom");
    response.setContentLength64(length);
    if (head) {
        response.send();
        return status;
    }
    std::ostream& out = response.send();
    std::int64_t budget = length;
    if (truncate)
        budget = std::min<std::int64_t>(length, truncate->option("bytes", static_cast<int>(length / 2)));
    // The body (or, with a truncate fault, its first `budget` bytes) from the page cache to the
    // socket in the kernel (sendfile(2)): S3's serving costs this machine nothing in reality, so
    // the emulator should cost it little (bench/run times the bridge and the curl baseline
    // against it on the same cores).
    out.flush();  // the status line and headers, buffered in the fixed-length stream
    if (!o.path.empty() && budget > 0) sendFileRange(request, o.path, first, budget);
    if (truncate) closeConnection(request, true);
    return status;
}

}  // namespace emulator
