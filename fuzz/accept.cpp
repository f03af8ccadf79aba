// Fuzzes Accept header parsing and every negotiation built on it (web/AcceptParser.h). Input: the
// header value, e.g. OHIF's combined 'multipart/related; type="application/octet-stream";
// transfer-syntax=*, ...'. Properties: nothing throws; ranges come out sorted by quality, none
// with q <= 0; the negotiated rendered type is image/jpeg or image/png.
#include "fuzz/FuzzSupport.h"
#include "web/AcceptParser.h"

using namespace bridge;
using namespace bridge::web;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string header(reinterpret_cast<const char*>(data), size);
    try {
        const auto ranges = parseAccept(header);
        for (std::size_t i = 0; i < ranges.size(); ++i) {
            if (!(ranges[i].quality > 0)) fuzz::finding("parseAccept kept a range with q <= 0 or NaN");
            if (i > 0 && ranges[i - 1].quality < ranges[i].quality) fuzz::finding("parseAccept result not sorted by quality");
            if (ranges[i].mediaType.empty()) fuzz::finding("parseAccept returned an empty media type");
        }
        (void)acceptsDicomJson(ranges);
        for (const auto& r : acceptableInstanceTypes(ranges))
            if (r.mediaType != "application/dicom") fuzz::finding("instance type other than application/dicom: " + r.mediaType);
        (void)acceptableFrameTypes(ranges);
        if (auto t = negotiateRenderedType(ranges); t && *t != "image/jpeg" && *t != "image/png")
            fuzz::finding("negotiateRenderedType returned " + *t);
        (void)mediaTypeForTransferSyntax(header);
        (void)isNativeTransferSyntax(header);
    } catch (const std::exception& e) {
        fuzz::finding(std::string("Accept negotiation threw: ") + e.what());
    }
    return 0;
}
