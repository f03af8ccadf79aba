#include "web/RequestId.h"

#include "bridge/common/Logging.h"

namespace bridge::web {

std::optional<std::string> acceptedRequestId(const std::string& header) {
    if (header.empty() || header.size() > kMaxRequestIdLength) return std::nullopt;
    for (const char c : header) {
        const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && std::string_view("-_.:/+=@").find(c) == std::string_view::npos) return std::nullopt;
    }
    return header;
}

std::string requestIdFor(const std::string& header) {
    if (auto id = acceptedRequestId(header)) return *id;
    return nextLogContextId('h');
}

}  // namespace bridge::web
