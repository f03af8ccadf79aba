// Fuzzes the TCIA JSON parsers (bridge/tcia/TciaJsonParser.h). Input: one response body, as TCIA
// (or something pretending to be TCIA) sends it; every parser reads it, as the body of any
// endpoint may be anything. Property: only BridgeError(UpstreamBadResponse) escapes.
#include "bridge/tcia/TciaJsonParser.h"
#include "fuzz/FuzzSupport.h"

using namespace bridge;
using namespace bridge::tcia;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    constexpr ErrorCode promised = ErrorCode::UpstreamBadResponse;
    for (ApiVersion v : {ApiVersion::V1, ApiVersion::V4}) {
        fuzz::expectOnlyBridgeError("parsePatients", promised, [&] { (void)parsePatients(body, v); });
        fuzz::expectOnlyBridgeError("parseStudies", promised, [&] { (void)parseStudies(body, v); });
        fuzz::expectOnlyBridgeError("parseSeries", promised, [&] { (void)parseSeries(body, v); });
    }
    fuzz::expectOnlyBridgeError("parseValues", promised, [&] { (void)parseValues(body, "Collection"); });
    fuzz::expectOnlyBridgeError("parseSeriesSize", promised, [&] { (void)parseSeriesSize(body); });
    fuzz::expectOnlyBridgeError("parseSopInstanceUids", promised, [&] { (void)parseSopInstanceUids(body); });
    fuzz::expectOnlyBridgeError("normalizeIntegerString", promised, [&] { (void)normalizeIntegerString(body); });
    return 0;
}
