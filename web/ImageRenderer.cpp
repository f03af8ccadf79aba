#include "web/ImageRenderer.h"

#include "bridge/common/Error.h"
#include "bridge/common/Text.h"
#include "bridge/retrieve/Part10Dataset.h"
#include "web/InstanceCodec.h"

#include <dcmtk/dcmimage/diregist.h>  // registers color image support with DicomImage
#include <dcmtk/dcmimage/dipipng.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/dipijpeg.h>

#include <Poco/String.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace bridge::web {
namespace {

std::vector<double> numbers(const std::string& text, const std::string& name) {
    std::vector<double> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        std::string item = text.substr(start, comma - start);
        char* end = nullptr;
        double v = std::strtod(item.c_str(), &end);
        if (item.empty() || end != item.c_str() + item.size()) {
            if (out.size() >= 2 && name == "window") break;  // third item: function name (linear, sigmoid)
            throw BridgeError(ErrorCode::InvalidArgument, "bad '" + name + "' parameter: '" + text + "'");
        }
        out.push_back(v);
        start = comma + 1;
    }
    return out;
}

}  // namespace

void parseRenderParameters(const std::vector<std::pair<std::string, std::string>>& parameters, RenderOptions& options) {
    for (const auto& [name, value] : parameters) {
        if (name == "viewport") {
            auto v = numbers(value, name);
            if (v.size() < 2 || v[0] < 1 || v[1] < 1 || v[0] > kMaxRenderDimension || v[1] > kMaxRenderDimension)
                throw BridgeError(ErrorCode::InvalidArgument,
                                  "viewport must be width,height in 1.." + std::to_string(kMaxRenderDimension));
            options.viewportWidth = static_cast<int>(v[0]);
            options.viewportHeight = static_cast<int>(v[1]);
        } else if (name == "quality") {
            auto v = numbers(value, name);
            if (v.size() != 1 || v[0] < 1 || v[0] > 100) throw BridgeError(ErrorCode::InvalidArgument, "quality must be 1..100");
            options.quality = static_cast<int>(v[0]);
        } else if (name == "window") {
            auto v = numbers(value, name);
            if (v.size() < 2 || v[1] <= 0) throw BridgeError(ErrorCode::InvalidArgument, "window must be center,width[,function]");
            options.window = std::make_pair(v[0], v[1]);
        }
    }
}

void parseWadoUriRenderParameters(const std::vector<std::pair<std::string, std::string>>& parameters, RenderOptions& options) {
    auto value = [&](const char* wanted) -> std::optional<std::string> {
        for (const auto& [name, v] : parameters)
            if (Poco::icompare(name, std::string(wanted)) == 0) return v;
        return std::nullopt;
    };
    auto integer = [](const std::string& text, const char* name, std::int64_t low, std::int64_t high) {
        auto v = parseDecimal(text);
        if (!v || *v < low || *v > high)
            throw BridgeError(ErrorCode::InvalidArgument, std::string(name) + " must be an integer in " + std::to_string(low) + ".." +
                                                              std::to_string(high) + ", got '" + text.substr(0, 40) + "'");
        return static_cast<int>(*v);
    };
    auto real = [](const std::string& text, const char* name) {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
            throw BridgeError(ErrorCode::InvalidArgument, std::string(name) + " must be a number, got '" + text.substr(0, 40) + "'");
        return v;
    };
    const auto rows = value("rows"), columns = value("columns");
    if (rows || columns) {
        // PS3.18 9.1.2.2.2/.3: one of the two alone bounds only its own dimension.
        options.viewportHeight = rows ? integer(*rows, "rows", 1, kMaxRenderDimension) : kMaxRenderDimension;
        options.viewportWidth = columns ? integer(*columns, "columns", 1, kMaxRenderDimension) : kMaxRenderDimension;
    }
    const auto center = value("windowCenter"), width = value("windowWidth");
    if (center && width) {
        const double c = real(*center, "windowCenter"), w = real(*width, "windowWidth");
        if (w <= 0) throw BridgeError(ErrorCode::InvalidArgument, "windowWidth must be positive");
        options.window = std::make_pair(c, w);
    } else if (center || width) {
        throw BridgeError(ErrorCode::InvalidArgument, "windowCenter and windowWidth go together");
    }
    if (auto quality = value("imageQuality")) options.quality = integer(*quality, "imageQuality", 1, 100);
    if (auto frame = value("frameNumber")) options.frameNumber = integer(*frame, "frameNumber", 1, 999'999'999);
}

std::vector<std::uint8_t> renderFrame(DcmFileFormat& file, const RenderOptions& options) {
    registerDicomDecoders();
    const int frames = frameCount(file);
    if (frames == 0) throw BridgeError(ErrorCode::NotAcceptable, "instance has no pixel data to render as an image");
    if (options.frameNumber < 1 || options.frameNumber > frames)
        throw BridgeError(ErrorCode::NotFound, "frame " + std::to_string(options.frameNumber) + " out of range");
    DicomImage image(&file, file.getDataset()->getOriginalXfer(), CIF_UsePartialAccessToPixelData,
                     static_cast<unsigned long>(options.frameNumber - 1), 1);
    if (image.getStatus() != EIS_Normal)
        throw BridgeError(ErrorCode::NotAcceptable,
                          std::string("cannot render: ") + DicomImage::getString(image.getStatus()));
    if (image.isMonochrome()) {
        if (options.window)
            image.setWindow(options.window->first, options.window->second);
        else if (image.getWindowCount() > 0)
            image.setWindow(0);
        else
            image.setMinMaxWindow();
    }
    std::unique_ptr<DicomImage> scaled;
    DicomImage* out = &image;
    if (options.viewportWidth > 0 && options.viewportHeight > 0) {
        const double sx = double(options.viewportWidth) / image.getWidth();
        const double sy = double(options.viewportHeight) / image.getHeight();
        const double s = std::min(sx, sy);
        unsigned long w = std::max(1UL, static_cast<unsigned long>(image.getWidth() * s));
        unsigned long h = std::max(1UL, static_cast<unsigned long>(image.getHeight() * s));
        scaled.reset(image.createScaledImage(w, h, 1 /* bilinear */, 0));
        if (!scaled) throw BridgeError(ErrorCode::Internal, "cannot scale image");
        out = scaled.get();
    }
    char* buffer = nullptr;
    size_t size = 0;
    FILE* stream = open_memstream(&buffer, &size);
    if (stream == nullptr) throw BridgeError(ErrorCode::Internal, "open_memstream failed");
    int ok = 0;
    if (options.mediaType == "image/png") {
        DiPNGPlugin plugin;
        ok = out->writePluginFormat(&plugin, stream, 0);
    } else {
        DiJPEGPlugin plugin;
        plugin.setQuality(static_cast<unsigned int>(options.quality));
        ok = out->writePluginFormat(&plugin, stream, 0);
    }
    std::fclose(stream);
    std::vector<std::uint8_t> bytes(reinterpret_cast<std::uint8_t*>(buffer), reinterpret_cast<std::uint8_t*>(buffer) + size);
    std::free(buffer);
    if (!ok || bytes.empty()) throw BridgeError(ErrorCode::Internal, "image encoding failed");
    return bytes;
}

}  // namespace bridge::web
