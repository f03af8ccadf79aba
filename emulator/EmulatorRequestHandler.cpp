#include "emulator/EmulatorRequestHandler.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "emulator/EmulatorServer.h"
#include "emulator/ZipStreamWriter.h"

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <iostream>
#include <sstream>
#include <mutex>
#include <ostream>
#include <thread>

namespace emulator {

namespace {
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

/// {"name":"value",...} in the given order, escaped by Poco::JSON: error bodies echo what the
/// client sent (a fault spec, a grant type), which may hold quotes and backslashes.
std::string jsonFields(std::initializer_list<std::pair<const char*, std::string>> fields) {
    Poco::JSON::Object object(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const auto& [name, value] : fields) object.set(name, value);
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

/// Thrown by the ZIP sink when a truncate fault's byte budget is used up.
struct TruncateNow {};

// Closes the connection without an HTTP answer (fault "drop"), or resets it mid-body.
void dropConnection(HTTPServerRequest& request, bool reset) {
    auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(request);
    Poco::Net::StreamSocket socket = impl.detachSocket();
    try {
        if (reset) socket.setLinger(true, 0);  // RST instead of FIN
        else socket.shutdown();
        socket.close();
    } catch (...) {
    }
}

std::mutex logMutex;
}  // namespace

void EmulatorRequestHandler::handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) {
    const auto started = std::chrono::steady_clock::now();
    int status = 0;
    const std::string uri = request.getURI();
    try {
        const std::string path = Poco::URI(uri).getPath();
        static const std::string apiPrefix = "/nbia-api/services/";
        if (path == "/nbia-api/oauth/token" || path == "/nbia-api/services/oauth/token") {
            status = handleToken(request, response);
        } else if (path.rfind("/v3/", 0) == 0 || path.rfind("/v2/", 0) == 0 || path.rfind("/v1/", 0) == 0 ||
                   path == "/v3" || path == "/v2" || path == "/v1") {
            status = handleIdc(request, response, path);
        } else if (path.rfind("/s3/", 0) == 0) {
            status = handleS3(request, response, path);
        } else if (path.rfind("/emulator/", 0) == 0) {
            status = handleAdmin(request, response, path);
        } else if (path.rfind(apiPrefix, 0) == 0) {
            const std::string rest = path.substr(apiPrefix.size());
            const auto slash = rest.find('/');
            if (slash == std::string::npos) {
                status = 404;
                response.setStatusAndReason(HTTPResponse::HTTP_NOT_FOUND);
                response.setContentLength(0);
                response.send();
            } else {
                status = handleApi(request, response, rest.substr(0, slash), rest.substr(slash + 1));
            }
        } else {
            status = 404;
            response.setStatusAndReason(HTTPResponse::HTTP_NOT_FOUND);
            response.setContentType("text/plain");
            const std::string body = "Not found\n";
            response.setContentLength(static_cast<std::streamsize>(body.size()));
            response.send() << body;
        }
    } catch (const std::exception& e) {
        status = 500;
        if (!response.sent()) {
            response.setStatusAndReason(HTTPResponse::HTTP_INTERNAL_SERVER_ERROR);
            response.setContentType("text/plain");
            const std::string body = std::string("Server was not able to process your request\n") + e.what();
            response.setContentLength(static_cast<std::streamsize>(body.size()));
            try {
                response.send() << body;
            } catch (...) {
            }
        }
    }
    if (!state_->quiet) {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
        std::lock_guard<std::mutex> lock(logMutex);
        std::fprintf(stderr, "%s %s %d %lldms\n", request.getMethod().c_str(), uri.c_str(), status,
                     static_cast<long long>(ms));
    }
}

int EmulatorRequestHandler::handleApi(HTTPServerRequest& request, HTTPServerResponse& response,
                                      const std::string& version, const std::string& endpoint) {
    ApiRequest api;
    api.version = version;
    api.endpoint = endpoint;
    api.method = request.getMethod();
    if (request.getMethod() == "POST") {
        // getSeriesMetadata (v4) takes an HTML form body; HTMLForm also reads the query string.
        // Clients send up to 10,000 UIDs per call (tcia_utils chunks there): lift Poco's limits
        // of 100 fields / 256 KiB per value.
        Poco::Net::HTMLForm form;
        form.setFieldLimit(20000);
        form.setValueLengthLimit(16 * 1024 * 1024);
        form.load(request, request.stream());
        for (const auto& kv : form) api.params.emplace_back(kv.first, kv.second);
    } else {
        const Poco::URI uri(request.getURI());
        for (const auto& kv : uri.getQueryParameters()) api.params.push_back(kv);
    }
    std::string seriesUid;
    bool unfiltered = endpoint == "getSeries";
    for (const auto& [k, v] : api.params) {
        if (k == "SeriesInstanceUID") seriesUid = v;
        if (k != "format") unfiltered = false;
    }
    const bool download = endpoint == "getImage" || endpoint == "getImageWithMD5Hash";
    state_->stats.count(endpoint, download ? seriesUid : std::string(), unfiltered);

    const auto fault = state_->faults.take(endpoint);
    if (fault) {
        if (fault->kind == "drop") {
            dropConnection(request, false);
            return 0;
        }
        if (fault->kind == "slow" && !download) {
            std::this_thread::sleep_for(std::chrono::milliseconds(fault->option("delay-ms", 3000)));
        }
        if (std::isdigit(static_cast<unsigned char>(fault->kind[0]))) {
            const int code = std::stoi(fault->kind);
            response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(code));
            if (code == 429 || code == 503) response.set("Retry-After", std::to_string(fault->option("retry-after", 1)));
            response.setContentType("text/html");
            const std::string body = "<html><body><h1>" + std::to_string(code) + " " +
                                     HTTPResponse::getReasonForStatus(static_cast<HTTPResponse::HTTPStatus>(code)) +
                                     "</h1><hr><center>nginx</center></body></html>\n";
            response.set("Server", "nginx");
            response.setContentLength(static_cast<std::streamsize>(body.size()));
            response.send() << body;
            return code;
        }
    }

    // Authorization: no header or "Bearer undefined" = guest (API.md 5); unknown/expired => 401.
    if (request.has("Authorization")) {
        const std::string auth = request.get("Authorization");
        if (Poco::icompare(auth.substr(0, 7), "Bearer ") == 0) {
            const std::string token = Poco::trim(auth.substr(7));
            if (token != "undefined") {
                const auto access = state_->tokens->check(token);
                if (access == TokenRegistry::Access::Invalid) {
                    response.setStatusAndReason(HTTPResponse::HTTP_UNAUTHORIZED);
                    response.setContentType("application/json");
                    response.set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
                    const std::string body =
                        jsonFields({{"error", "invalid_token"}, {"error_description", "Access token expired or unknown"}});
                    response.setContentLength(static_cast<std::streamsize>(body.size()));
                    response.send() << body;
                    return 401;
                }
                api.authorized = access == TokenRegistry::Access::Granted;
            }
        }
    }

    ApiResponse answer = state_->service->handle(api);
    if (answer.isZip && fault && fault->kind == "corrupt") corruptEntry(answer, *fault);
    if (answer.isZip) return streamZip(request, response, answer, fault ? &*fault : nullptr);
    if (answer.stream && fault && fault->kind == "truncate") {
        answer.stream([&](const std::string& piece) { answer.body += piece; });
        answer.stream = nullptr;
    }
    if (answer.stream) return sendStreamed(response, answer);
    if (fault && fault->kind == "truncate") {
        // Non-ZIP answers: half the body, then the connection ends.
        response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(answer.status));
        response.setContentType(answer.contentType);
        response.setChunkedTransferEncoding(true);
        std::ostream& out = response.send();
        out << answer.body.substr(0, answer.body.size() / 2);
        out.flush();
        dropConnection(request, true);
        return answer.status;
    }
    return send(response, answer, fault ? &*fault : nullptr);
}

int EmulatorRequestHandler::sendStreamed(HTTPServerResponse& response, const ApiResponse& answer) {
    // Small answers get a Content-Length; past 256 KiB the body goes out chunked as it is made
    // (a servlet container does the same once its response buffer overflows).
    constexpr std::size_t kBuffer = 256 * 1024;
    response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(answer.status));
    response.setContentType(answer.contentType);
    for (const auto& [k, v] : answer.headers) response.set(k, v);
    std::string buffer;
    std::ostream* out = nullptr;
    answer.stream([&](const std::string& piece) {
        if (out) {
            out->write(piece.data(), static_cast<std::streamsize>(piece.size()));
            if (!*out) throw std::runtime_error("client went away");
            return;
        }
        buffer += piece;
        if (buffer.size() > kBuffer) {
            response.setChunkedTransferEncoding(true);
            out = &response.send();
            out->write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            buffer.clear();
        }
    });
    if (!out) {
        response.setContentLength(static_cast<std::streamsize>(buffer.size()));
        response.send() << buffer;
    } else {
        out->flush();
    }
    return answer.status;
}

int EmulatorRequestHandler::send(HTTPServerResponse& response, const ApiResponse& answer, const Fault*) {
    response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(answer.status));
    for (const auto& [k, v] : answer.headers) response.set(k, v);
    if (answer.status == 204) {
        response.send();
        return 204;
    }
    response.setContentType(answer.contentType);
    response.setContentLength(static_cast<std::streamsize>(answer.body.size()));
    response.send() << answer.body;
    return answer.status;
}

int EmulatorRequestHandler::streamZip(HTTPServerRequest& request, HTTPServerResponse& response,
                                      const ApiResponse& answer, const Fault* fault) {
    response.setStatusAndReason(HTTPResponse::HTTP_OK);
    response.setContentType(answer.contentType);
    for (const auto& [k, v] : answer.headers) response.set(k, v);
    response.setChunkedTransferEncoding(true);  // JAX-RS StreamingOutput: no Content-Length
    std::ostream& out = response.send();

    const bool slow = fault && fault->kind == "slow";
    const bool truncate = fault && fault->kind == "truncate";
    const bool reset = truncate && fault->options.count("mode") && fault->options.at("mode") == "reset";
    const auto entryDelay = slow ? std::chrono::milliseconds(fault->option("delay-ms", 3000) /
                                                            static_cast<int>(std::max<std::size_t>(answer.zip.size(), 1)))
                                 : std::chrono::milliseconds(0);
    std::uint64_t budget = UINT64_MAX;
    if (truncate && fault->options.count("bytes")) budget = static_cast<std::uint64_t>(fault->option("bytes", 0));
    // Default cut: in the middle of the entry halfway through the list.
    const std::size_t cutEntry = answer.zip.size() / 2;

    std::uint64_t sent = 0;
    ZipStreamWriter zip([&](const char* data, std::size_t size) {
        if (sent + size > budget) {
            out.write(data, static_cast<std::streamsize>(budget - sent));
            sent = budget;
            throw TruncateNow{};
        }
        out.write(data, static_cast<std::streamsize>(size));
        sent += size;
        if (!out) throw std::runtime_error("client went away");
    });
    try {
        for (std::size_t i = 0; i < answer.zip.size(); ++i) {
            const auto& e = answer.zip[i];
            if (truncate && budget == UINT64_MAX && i == cutEntry) budget = sent + 200;
            if (slow) {
                out.flush();  // the entries so far reach the client before the pause
                std::this_thread::sleep_for(entryDelay);
            }
            if (e.path.empty()) zip.addEntry(e.name, e.data);
            else zip.addFile(e.name, e.path);
        }
        zip.finish();
    } catch (const TruncateNow&) {
        out.flush();
        if (reset) dropConnection(request, true);
        // Otherwise the chunked body ends normally with a cut ZIP: NBIA swallows errors
        // mid-stream and closes the stream (API.md 8.1).
        return 200;
    }
    out.flush();
    return 200;
}

void EmulatorRequestHandler::corruptEntry(ApiResponse& answer, const Fault& fault) {
    std::vector<std::size_t> data;  // indices of the DICOM entries
    std::size_t manifest = answer.zip.size();
    for (std::size_t i = 0; i < answer.zip.size(); ++i) {
        if (answer.zip[i].name == "md5hashes.csv") manifest = i;
        else if (answer.zip[i].name != "LICENSE") data.push_back(i);
    }
    if (data.empty()) return;
    const int wanted = fault.option("entry", static_cast<int>(data.size() / 2));
    ZipEntryPlan& victim = answer.zip[data[static_cast<std::size_t>(std::clamp(wanted, 0, static_cast<int>(data.size()) - 1))]];
    const bool hash = fault.options.count("what") && fault.options.at("what") == "hash";
    if (hash) {
        if (manifest == answer.zip.size()) return;
        std::string& csv = answer.zip[manifest].data;
        const auto line = csv.find("\n" + victim.name + ",");
        if (line == std::string::npos) return;
        const auto hashAt = line + 1 + victim.name.size() + 1;
        csv[hashAt] = csv[hashAt] == '0' ? '1' : '0';
        return;
    }
    if (!victim.path.empty()) {
        std::ifstream in(victim.path, std::ios::binary);
        victim.data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        victim.path.clear();
    }
    if (!victim.data.empty()) victim.data.back() = static_cast<char>(victim.data.back() ^ 0x5A);
}

int EmulatorRequestHandler::handleToken(HTTPServerRequest& request, HTTPServerResponse& response) {
    Poco::Net::HTMLForm form(request, request.stream());
    const std::string grant = form.get("grant_type", "");
    std::optional<TokenRegistry::Issued> issued;
    if (grant == "password") issued = state_->tokens->passwordGrant(form.get("username", ""), form.get("password", ""));
    else if (grant == "refresh_token") issued = state_->tokens->refreshGrant(form.get("refresh_token", ""));
    response.setContentType("application/json");
    std::string body;
    int status = 200;
    if (grant != "password" && grant != "refresh_token") {
        status = 400;
        body = jsonFields({{"error", "unsupported_grant_type"}, {"error_description", "Unsupported grant type: " + grant}});
    } else if (!issued) {
        status = 401;
        body = jsonFields({{"error", "invalid_grant"},
                           {"error_description", grant == "password" ? "Invalid user credentials" : "Invalid refresh token"}});
    } else {
        body = issued->json;
    }
    response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send() << body;
    return status;
}

int EmulatorRequestHandler::handleAdmin(HTTPServerRequest& request, HTTPServerResponse& response,
                                        const std::string& path) {
    const std::string method = request.getMethod();
    int status = 200;
    std::string body;
    if (path == "/emulator/stats" && method == "GET") {
        body = state_->stats.toJson();
    } else if (path == "/emulator/stats/reset" && method == "POST") {
        state_->stats.reset();
        body = "{}";
    } else if (path == "/emulator/faults" && method == "GET") {
        body = state_->faults.toJson();
    } else if (path == "/emulator/idc/version" && (method == "GET" || method == "POST")) {
        // Changes the version /v3/version reports, so a client's re-harvest can be tested.
        if (method == "POST") {
            Poco::Net::HTMLForm form;
            if (request.hasContentLength() || request.getChunkedTransferEncoding())
                form.load(request, request.stream());
            else
                form.load(request);
            state_->idc->catalog().setVersion(form.get("idc_version", ""), form.get("idc_index_data_version", ""));
            // withdraw=<SeriesInstanceUID> (repeatable): the new release no longer lists them.
            std::vector<std::string> withdraw;
            for (auto it = form.find("withdraw"); it != form.end() && it->first == "withdraw"; ++it)
                withdraw.push_back(it->second);
            if (!withdraw.empty()) state_->idc->catalog().withdraw(withdraw);
        }
        const auto [idcVersion, dataVersion] = state_->idc->catalog().version();
        body = "{\"idc_version\":" + idc::jsonQuote(idcVersion) + ",\"idc_index_data_version\":" +
               idc::jsonQuote(dataVersion) + "}";
    } else if (path == "/emulator/faults" && method == "DELETE") {
        state_->faults.clear();
        body = "[]";
    } else if (path == "/emulator/faults" && method == "POST") {
        try {
            std::vector<std::string> specs;
            // Query string, plus a form body when one is announced: Poco reads a POST without
            // Content-Length or chunked encoding until EOF (`curl -X POST URL` waited 60 s).
            Poco::Net::HTMLForm form;
            if (request.hasContentLength() || request.getChunkedTransferEncoding())
                form.load(request, request.stream());
            else
                form.load(request);
            for (const auto& [k, v] : form)
                if (k == "spec") specs.push_back(v);
            std::vector<Fault> parsed;
            for (const auto& s : specs) parsed.push_back(FaultPlan::parse(s));
            for (const auto& f : parsed) state_->faults.add(f);
            body = state_->faults.toJson();
        } catch (const std::invalid_argument& e) {
            status = 400;
            body = jsonFields({{"error", e.what()}});
        }
    } else {
        status = 404;
        body = jsonFields({{"error", "unknown admin path"}});
    }
    response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
    response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send() << body;
    return status;
}

}  // namespace emulator
