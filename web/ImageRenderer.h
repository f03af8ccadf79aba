#pragma once
// Renders one frame of an instance to JPEG or PNG with DCMTK dcmimage (PS3.18 8.3.5.1.3
// rendered / 9.x thumbnail). Stateless; thread-safe; blocking CPU work.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bridge::web {

struct RenderOptions {
    std::string mediaType = "image/jpeg";  ///< "image/jpeg" or "image/png"
    int frameNumber = 1;                   ///< 1-based
    int viewportWidth = 0;                 ///< 0: native size; else fit (aspect kept) into the viewport
    int viewportHeight = 0;
    int quality = 90;                      ///< JPEG quality 1..100
    /// window=center,width[,function]: overrides the instance's VOI window. Without it the
    /// instance's first window is used, or a min-max window when it has none.
    std::optional<std::pair<double, double>> window;
};

/// The largest width or height of a rendered image, shared by WADO-RS `viewport` and WADO-URI
/// `rows`/`columns` (issue 9 finding 4: rows=columns=12000 took 6.8 s and 800 MB; an int
/// overflow grew memory to 2.1 GB). Beyond it: 400. Not 8192, /rendered's former cap: one
/// 8192x8192 render of a 512x512 CT took 9.5 s and 360 MB peak RSS on the shared test machine.
inline constexpr int kMaxRenderDimension = 4096;

/// Parses the rendered query parameters (`viewport=w,h`, `quality=q`, `window=c,w,fn`) into
/// `options`. Throws BridgeError(InvalidArgument) for malformed values.
void parseRenderParameters(const std::vector<std::pair<std::string, std::string>>& parameters, RenderOptions& options);

/// Parses the WADO-URI presentation parameters (PS3.18 9.1.2.2: `rows`, `columns`,
/// `windowCenter` + `windowWidth`, `imageQuality`, `frameNumber`; names case-insensitive) into
/// `options`. Strict: integers are plain decimal digits, rows/columns 1..kMaxRenderDimension
/// (a missing one of the two is unconstrained), imageQuality 1..100, frameNumber >= 1.
/// Throws BridgeError(InvalidArgument) naming the parameter.
void parseWadoUriRenderParameters(const std::vector<std::pair<std::string, std::string>>& parameters, RenderOptions& options);

/// The encoded image. Throws BridgeError(NotFound) when the frame does not exist,
/// NotAcceptable (406: no image representation exists) when the instance has no renderable
/// pixel data (SR, SEG without pixels...).
std::vector<std::uint8_t> renderFrame(DcmFileFormat& file, const RenderOptions& options);

}  // namespace bridge::web
