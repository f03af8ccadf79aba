#include "web/WadoResource.h"

#include "web/DicomJson.h"
#include "web/ImageRenderer.h"
#include "web/InstanceCodec.h"
#include "web/MultipartWriter.h"

#include <Poco/Exception.h>

#include <dcmtk/dcmdata/dcdeftag.h>

#include <functional>
#include <map>
#include <sstream>

namespace bridge::web {
namespace {

using namespace std::chrono_literals;

RetrieveRequest requestFor(WebExchange& exchange, const WebRoute& route) {
    RetrieveRequest request;
    request.level = route.level;
    request.studyInstanceUids = {route.studyInstanceUid};
    if (!route.seriesInstanceUid.empty()) request.seriesInstanceUids = {route.seriesInstanceUid};
    if (!route.sopInstanceUid.empty()) request.sopInstanceUids = {route.sopInstanceUid};
    request.scope = exchange.scope();
    exchange.notes().retrieve = request;
    return request;
}

/// Calls `each` for every delivered instance until it returns false or the stream ends.
/// Returns the stream (for failure details). Cancels the stream if `each` throws.
std::unique_ptr<InstanceStream> forEachInstance(WebExchange& exchange, const RetrievePlan& plan,
                                                const std::function<bool(const DicomInstance&)>& each,
                                                const RequestContext* context = nullptr) {
    auto stream = exchange.context().retrieve.open(plan, context ? *context : exchange.requestContext());
    DicomInstance instance;
    try {
        while (true) {
            auto status = stream->next(instance, 1000ms);
            if (status == InstanceStream::Status::End) break;
            if (status == InstanceStream::Status::Waiting) continue;
            if (!each(instance)) {
                stream->cancel();
                break;
            }
        }
    } catch (...) {
        stream->cancel();
        throw;
    }
    return stream;
}

[[noreturn]] void throwDeliveryFailure(const InstanceStream& stream) {
    std::string reason = stream.failureReason();
    throw BridgeError(ErrorCode::UpstreamUnavailable, reason.empty() ? "no instance could be retrieved" : reason);
}

/// The one instance an IMAGE-level route names.
DicomInstance fetchInstance(WebExchange& exchange, const WebRoute& route) {
    WebRoute r = route;
    r.level = QueryLevel::Image;
    RetrievePlan plan = exchange.context().retrieve.plan(requestFor(exchange, r), exchange.requestContext());
    DicomInstance found;
    bool got = false;
    auto stream = forEachInstance(exchange, plan, [&](const DicomInstance& instance) {
        if (instance.sopInstanceUid != route.sopInstanceUid) return true;
        found = instance;
        got = true;
        return false;
    });
    if (got) exchange.notes().instances = 1;
    if (!got) {
        if (stream->failedCount() > 0 || !stream->failedSopInstanceUids().empty()) throwDeliveryFailure(*stream);
        throw BridgeError(ErrorCode::NotFound, "instance not found");
    }
    return found;
}

/// The first instance of a study/series/instance route (for rendered/thumbnail).
DicomInstance firstInstance(WebExchange& exchange, const WebRoute& route) {
    if (!route.sopInstanceUid.empty()) return fetchInstance(exchange, route);
    RetrievePlan plan = exchange.context().retrieve.plan(requestFor(exchange, route), exchange.requestContext());
    if (plan.series.empty()) throw BridgeError(ErrorCode::NotFound, "nothing to render");
    RetrievePlan one;
    one.series.push_back(plan.series.front());
    one.instanceCount = static_cast<std::size_t>(plan.series.front().imageCount);
    DicomInstance found;
    bool got = false;
    auto stream = forEachInstance(exchange, one, [&](const DicomInstance& instance) {
        found = instance;
        got = true;
        return false;
    });
    if (got) exchange.notes().instances = 1;
    if (!got) throwDeliveryFailure(*stream);
    return found;
}

std::string instanceUrl(WebExchange& exchange, const DicomInstance& i) {
    return exchange.dicomWebRoot() + "/studies/" + i.studyInstanceUid + "/series/" + i.seriesInstanceUid + "/instances/" +
           i.sopInstanceUid;
}

std::string instanceMetadataJson(WebExchange& exchange, const DicomInstance& instance) {
    auto file = parseInstance(*instance.bytes);
    const std::string base = instanceUrl(exchange, instance);
    return datasetToJson(*file->getDataset(), [&](const DcmTagKey& tag) {
        char hex[9];
        std::snprintf(hex, sizeof hex, "%04X%04X", tag.getGroup(), tag.getElement());
        return base + "/bulkdata/" + hex;
    });
}

std::string joinArray(const std::vector<std::string>& objects) {
    std::string out = "[";
    for (std::size_t i = 0; i < objects.size(); ++i) {
        if (i) out += ',';
        out += objects[i];
    }
    return out + "]";
}

// Strips the outer brackets of a JSON array text ("[a,b]" -> "a,b").
std::string arrayBody(const std::string& array) {
    if (array.size() < 2) return {};
    return array.substr(1, array.size() - 2);
}

}  // namespace

void WadoResource::retrieveInstances(WebExchange& exchange, const WebRoute& route) {
    auto reps = acceptableInstanceTypes(exchange.accept());
    if (reps.empty())
        throw BridgeError(ErrorCode::NotAcceptable, "instances are served as multipart/related; type=\"application/dicom\"");
    RetrievePlan plan = exchange.context().retrieve.plan(requestFor(exchange, route), exchange.requestContext());

    std::ostream* body = nullptr;
    std::unique_ptr<MultipartWriter> writer;
    std::size_t skipped = 0;
    std::string skipReason;
    auto stream = forEachInstance(exchange, plan, [&](const DicomInstance& instance) {
        // PS3.18 8.7.3.5.2: "*" = as stored; a native syntax = decode if needed; a compressed
        // syntax other than the stored one cannot be produced (no encoders here).
        const AcceptableRepresentation* chosen = nullptr;
        for (const auto& rep : reps) {
            if (rep.transferSyntax == kAnyTransferSyntax || rep.transferSyntax == instance.transferSyntaxUid ||
                isNativeTransferSyntax(rep.transferSyntax)) {
                chosen = &rep;
                break;
            }
        }
        std::shared_ptr<const std::vector<std::uint8_t>> bytes = instance.bytes;
        std::string ts = instance.transferSyntaxUid;
        try {
            if (chosen == nullptr) throw BridgeError(ErrorCode::NotAcceptable, "transfer syntax " + ts + " not acceptable");
            if (chosen->transferSyntax != kAnyTransferSyntax && chosen->transferSyntax != ts) {
                bytes = std::make_shared<const std::vector<std::uint8_t>>(transcodeInstance(*instance.bytes, chosen->transferSyntax));
                ts = chosen->transferSyntax;
            }
        } catch (const BridgeError& e) {
            ++skipped;
            if (skipReason.empty()) skipReason = e.what();
            return true;
        }
        if (!writer) {
            std::string boundary = MultipartWriter::makeBoundary();
            body = &exchange.beginStream("multipart/related; type=\"application/dicom\"; boundary=" + boundary);
            writer = std::make_unique<MultipartWriter>(*body, boundary);
        }
        writer->writePart("application/dicom; transfer-syntax=" + ts, bytes->data(), bytes->size(),
                          {{"Content-Location", instanceUrl(exchange, instance)}});
        exchange.notes().instances = exchange.notes().instances.value_or(0) + 1;
        return true;
    });
    if (!writer) {
        if (skipped > 0) throw BridgeError(ErrorCode::NotAcceptable, skipReason);
        throwDeliveryFailure(*stream);
    }
    // Instances missing after parts went out: no closing delimiter; the handler aborts the
    // chunked stream, so the body can never pass for the whole series.
    if (stream->failedCount() > 0 || !stream->failedSopInstanceUids().empty()) throwDeliveryFailure(*stream);
    writer->finish();
}

void WadoResource::retrieveMetadata(WebExchange& exchange, const WebRoute& route) {
    // OHIF sends a combined Accept; any element allowing DICOM JSON suffices (ORT-DW 1.21).
    if (!acceptsDicomJson(exchange.accept()))
        throw BridgeError(ErrorCode::NotAcceptable, "metadata is served as application/dicom+json");
    if (route.level == QueryLevel::Image) {
        DicomInstance instance = fetchInstance(exchange, route);
        exchange.sendJson(200, "[" + instanceMetadataJson(exchange, instance) + "]");
        return;
    }
    RetrievePlan plan = exchange.context().retrieve.plan(requestFor(exchange, route), exchange.requestContext());
    auto& cache = exchange.context().metadataCache;
    std::vector<std::string> seriesArrays;
    for (const auto& locator : plan.series) {
        const std::string key = exchange.dicomWebRoot() + "|" + locator.seriesInstanceUid;
        // Shared by concurrent requesters of the series: the build runs under its own token,
        // which stops only when every requester has gone (not when the first one does).
        auto gz = cache.findOrBuild(
            key,
            [&](const RequestContext& shared) -> std::pair<std::string, bool> {
                RetrievePlan one;
                one.series.push_back(locator);
                one.instanceCount = static_cast<std::size_t>(locator.imageCount);
                std::vector<std::string> objects;
                auto stream = forEachInstance(
                    exchange, one,
                    [&](const DicomInstance& instance) {
                        objects.push_back(instanceMetadataJson(exchange, instance));
                        return true;
                    },
                    &shared);
                if (objects.empty()) throwDeliveryFailure(*stream);
                // Instances missing: an error, never a shorter array that passes for the whole series.
                const bool failed = stream->failedCount() > 0 || !stream->failedSopInstanceUids().empty();
                if (failed) throwDeliveryFailure(*stream);
                // Only a complete, whole-series answer may be cached.
                const bool complete = !locator.sopInstanceUids;
                return {joinArray(objects), complete};
            },
            exchange.requestContext());
        if (plan.series.size() == 1) {
            exchange.sendGzippedJson(*gz);
            return;
        }
        seriesArrays.push_back(MetadataCache::gunzip(*gz));
    }
    std::string all = "[";
    bool first = true;
    for (const auto& a : seriesArrays) {
        std::string inner = arrayBody(a);
        if (inner.empty()) continue;
        if (!first) all += ',';
        all += inner;
        first = false;
    }
    all += "]";
    exchange.sendJson(200, all);
}

void WadoResource::retrieveFrames(WebExchange& exchange, const WebRoute& route) {
    auto reps = acceptableFrameTypes(exchange.accept());
    if (reps.empty()) throw BridgeError(ErrorCode::NotAcceptable, "frames are served as multipart/related");
    DicomInstance instance = fetchInstance(exchange, route);
    auto file = parseInstance(*instance.bytes);
    const int frames = frameCount(*file);
    if (frames == 0) throw BridgeError(ErrorCode::NotFound, "instance has no pixel data");
    // Everything that can fail on the request is checked before the first byte goes out.
    // Repeats are allowed, but the list may not be longer than the instance has frames, so a
    // response never holds more than the instance's pixel data (issue 9 finding 5).
    if (route.frames.size() > static_cast<std::size_t>(frames))
        throw BridgeError(ErrorCode::InvalidArgument, "frame list of " + std::to_string(route.frames.size()) +
                                                          " numbers is longer than the instance's " + std::to_string(frames) + " frames");
    for (int number : route.frames)
        if (number > frames)
            throw BridgeError(ErrorCode::NotFound, "frame " + std::to_string(number) + " out of range 1.." + std::to_string(frames));

    // Each distinct frame is decoded once; a decoded frame is kept only until its last mention.
    std::map<int, std::size_t> remaining;
    for (int number : route.frames) ++remaining[number];
    std::map<int, std::shared_ptr<const FrameData>> decoded;
    bool multipart = true;
    auto frame = [&](int number) -> std::shared_ptr<const FrameData> {
        auto it = decoded.find(number);
        std::shared_ptr<const FrameData> out;
        if (it != decoded.end()) {
            out = it->second;
        } else {
            std::unique_ptr<FrameData> chosen;
            for (const auto& rep : reps) {
                if (rep.mediaType == "application/octet-stream" &&
                    (rep.transferSyntax == kAnyTransferSyntax || isNativeTransferSyntax(rep.transferSyntax))) {
                    // "*" with octet-stream: the bridge always sends native little endian, the
                    // encoding every client can display (PS3.18 8.7.3.3.2).
                    chosen = std::make_unique<FrameData>(uncompressedFrame(*file, number));
                } else if (rep.mediaType != "application/octet-stream") {
                    auto compressed = compressedFrame(*file, number);
                    if (compressed && compressed->mediaType == rep.mediaType &&
                        (rep.transferSyntax == kAnyTransferSyntax || rep.transferSyntax == compressed->transferSyntax))
                        chosen = std::move(compressed);
                }
                if (chosen) {
                    multipart = rep.multipart;
                    break;
                }
            }
            if (!chosen)
                throw BridgeError(ErrorCode::NotAcceptable,
                                  "frame available as application/octet-stream or in its stored syntax " + transferSyntaxOf(*file));
            out = std::move(chosen);
            decoded[number] = out;
        }
        if (--remaining[number] == 0) decoded.erase(number);
        return out;
    };

    // The first frame decides the media type (and surfaces 406) before the headers go out.
    auto first = frame(route.frames.front());
    if (!multipart && route.frames.size() == 1) {
        exchange.sendBytes(200, first->mediaType, first->bytes.data(), first->bytes.size());
        return;
    }
    // Streamed part by part (chunked): memory holds one frame, not the whole body twice.
    const std::string boundary = MultipartWriter::makeBoundary();
    std::ostream& body = exchange.beginStream("multipart/related; type=\"" + first->mediaType + "\"; boundary=" + boundary);
    MultipartWriter writer(body, boundary);
    const std::string base = instanceUrl(exchange, instance) + "/frames/";
    for (std::size_t i = 0; i < route.frames.size(); ++i) {
        auto data = i == 0 ? first : frame(route.frames[i]);
        writer.writePart(data->mediaType + "; transfer-syntax=" + data->transferSyntax, data->bytes.data(), data->bytes.size(),
                         {{"Content-Location", base + std::to_string(route.frames[i])}});
    }
    writer.finish();
}

void WadoResource::retrieveBulkData(WebExchange& exchange, const WebRoute& route) {
    DicomInstance instance = fetchInstance(exchange, route);
    auto file = parseInstance(*instance.bytes);
    unsigned long v = std::stoul(route.bulkDataTag, nullptr, 16);
    DcmTagKey tag(static_cast<Uint16>(v >> 16), static_cast<Uint16>(v & 0xffff));
    auto bytes = bulkDataValue(*file, tag);
    bool multipart = false;
    bool acceptable = false;
    for (const auto& r : exchange.accept()) {
        if (r.mediaType == "multipart/related" || r.mediaType == "*/*") {
            multipart = r.mediaType == "multipart/related";
            acceptable = true;
            break;
        }
        if (r.covers("application/octet-stream")) {
            acceptable = true;
            break;
        }
    }
    if (!acceptable) throw BridgeError(ErrorCode::NotAcceptable, "bulk data is served as application/octet-stream");
    const std::string partType = std::string("application/octet-stream; transfer-syntax=") + kExplicitVrLittleEndian;
    if (!multipart) {
        exchange.sendBytes(200, "application/octet-stream", bytes.data(), bytes.size());
        return;
    }
    std::ostringstream body;
    MultipartWriter writer(body, MultipartWriter::makeBoundary());
    writer.writePart(partType, bytes.data(), bytes.size());
    writer.finish();
    const std::string text = body.str();
    exchange.sendBytes(200, writer.contentType("application/octet-stream"), text.data(), text.size());
}

void WadoResource::retrieveRendered(WebExchange& exchange, const WebRoute& route, bool thumbnail) {
    auto type = negotiateRenderedType(exchange.accept());
    if (!type) throw BridgeError(ErrorCode::NotAcceptable, "rendered images are image/jpeg or image/png");
    RenderOptions options;
    options.mediaType = *type;
    if (thumbnail) {
        options.viewportWidth = options.viewportHeight = 128;
        options.quality = 75;
    }
    parseRenderParameters(exchange.parameters(), options);
    if (!route.frames.empty()) options.frameNumber = route.frames.front();
    DicomInstance instance = firstInstance(exchange, route);
    auto file = parseInstance(*instance.bytes);
    auto image = renderFrame(*file, options);
    exchange.sendBytes(200, options.mediaType, image.data(), image.size());
}

void WadoResource::wadoUri(WebExchange& exchange) {
    // PS3.18 9.1.2: requestType=WADO, studyUID, seriesUID, objectUID are required.
    if (exchange.parameter("requestType") != "WADO")
        throw BridgeError(ErrorCode::InvalidArgument, "requestType must be WADO");
    WebRoute route;
    route.kind = WebRoute::Kind::Retrieve;
    route.level = QueryLevel::Image;
    route.studyInstanceUid = exchange.parameter("studyUID");
    route.seriesInstanceUid = exchange.parameter("seriesUID");
    route.sopInstanceUid = exchange.parameter("objectUID");
    if (route.studyInstanceUid.empty() || route.seriesInstanceUid.empty() || route.sopInstanceUid.empty())
        throw BridgeError(ErrorCode::InvalidArgument, "studyUID, seriesUID and objectUID are required");
    // Validated like WADO-RS path UIDs (issue 9 finding 10), before anything reaches TCIA.
    checkedUid(route.studyInstanceUid, "studyUID");
    checkedUid(route.seriesInstanceUid, "seriesUID");
    checkedUid(route.sopInstanceUid, "objectUID");
    std::string contentType = exchange.parameter("contentType");
    if (contentType.empty()) contentType = "image/jpeg";  // PS3.18 9.1.2.2.1 default for single-frame
    const std::string ts = exchange.parameter("transferSyntax");
    if (contentType == "application/dicom") {
        DicomInstance instance = fetchInstance(exchange, route);
        if (!ts.empty() && ts != kAnyTransferSyntax && ts != instance.transferSyntaxUid) {
            if (!isNativeTransferSyntax(ts)) throw BridgeError(ErrorCode::NotAcceptable, "cannot encode to " + ts);
            auto bytes = transcodeInstance(*instance.bytes, ts);
            exchange.sendBytes(200, "application/dicom", bytes.data(), bytes.size());
            return;
        }
        exchange.sendBytes(200, "application/dicom", instance.bytes->data(), instance.bytes->size());
        return;
    }
    if (contentType != "image/jpeg" && contentType != "image/png")
        throw BridgeError(ErrorCode::NotAcceptable, "contentType must be application/dicom, image/jpeg or image/png");
    RenderOptions options;
    options.mediaType = contentType;
    parseWadoUriRenderParameters(exchange.parameters(), options);  // bounded by kMaxRenderDimension
    DicomInstance instance = fetchInstance(exchange, route);
    auto file = parseInstance(*instance.bytes);
    auto image = renderFrame(*file, options);
    exchange.sendBytes(200, contentType, image.data(), image.size());
}

}  // namespace bridge::web
