#include "bridge/common/Error.h"

#include <array>

namespace bridge {
namespace {
// PS3.4 statuses used:
//   A700 Refused: Out of resources           C-FIND/C-MOVE
//   A701 Refused: Out of resources - unable to calculate number of matches (C-MOVE)
//   A702 Refused: Out of resources - unable to perform sub-operations (C-MOVE)
//   A801 Refused: Move destination unknown   C-MOVE
//   A900 Error: Identifier does not match SOP Class
//   C000-CFFF Failed: Unable to process (C001 upstream, C002 timeout, C003 bad upstream data)
//   FE00 Cancel
//   0124 Refused: Not authorized (PS3.7 C.4 general status)
constexpr std::array<ErrorMapping, 15> kTable{{
    {ErrorCode::InvalidArgument, "invalid-argument", 400, 0xA900, 0xA900},
    {ErrorCode::NotFound, "not-found", 404, 0xC000, 0xA701},
    {ErrorCode::NotAcceptable, "not-acceptable", 406, 0xC000, 0xA702},
    {ErrorCode::Forbidden, "forbidden", 403, 0x0124, 0x0124},
    {ErrorCode::Unauthorized, "upstream-unauthorized", 502, 0xC004, 0xC004},
    {ErrorCode::UnknownDestination, "unknown-destination", 400, 0xA801, 0xA801},
    {ErrorCode::QueryTooBroad, "query-too-broad", 422, 0xA700, 0xA701},
    {ErrorCode::Unsupported, "unsupported", 405, 0xC000, 0xC000},
    {ErrorCode::UpstreamUnavailable, "upstream-unavailable", 502, 0xC001, 0xC001},
    {ErrorCode::UpstreamTimeout, "upstream-timeout", 504, 0xC002, 0xC002},
    {ErrorCode::UpstreamBadResponse, "upstream-bad-response", 502, 0xC003, 0xC003},
    {ErrorCode::Cancelled, "cancelled", 499, 0xFE00, 0xFE00},
    {ErrorCode::Overloaded, "overloaded", 503, 0xA700, 0xA700},
    {ErrorCode::Unauthenticated, "unauthenticated", 401, 0x0124, 0x0124},
    {ErrorCode::Internal, "internal", 500, 0xC000, 0xC000},
}};
}  // namespace

const ErrorMapping& errorMapping(ErrorCode code) {
    for (const auto& m : kTable)
        if (m.code == code) return m;
    return kTable.back();
}

ErrorCode classifyException(const std::exception& e) noexcept {
    if (auto* be = dynamic_cast<const BridgeError*>(&e)) return be->code();
    return ErrorCode::Internal;
}

}  // namespace bridge
