#pragma once
// The absolute base URL clients see (for RetrieveURL and BulkDataURI), from configuration or
// from the request's proxy headers (RFC 7239 Forwarded, X-Forwarded-Host/-Proto, Host).
// Pure; thread-safe.

#include <string>

namespace bridge::web {

struct ForwardingHeaders {
    std::string forwarded;        ///< RFC 7239 "Forwarded"
    std::string xForwardedHost;   ///< "X-Forwarded-Host"
    std::string xForwardedProto;  ///< "X-Forwarded-Proto"
    std::string xForwardedPrefix; ///< "X-Forwarded-Prefix" (path the proxy mounts us under)
    std::string host;             ///< "Host"
    std::string localAddress;     ///< the socket's own host:port, used when Host is missing
    bool secure = false;          ///< the request came over TLS: the default scheme is https
};

/// "scheme://host[:port][prefix]" without a trailing slash. A non-empty `configured` value
/// (WebSettings::publicBaseUrl) wins; then Forwarded (first element's host= / proto=), then
/// X-Forwarded-Host / X-Forwarded-Proto (first of a comma list), then Host, then localAddress.
std::string publicBaseUrl(const std::string& configured, const ForwardingHeaders& headers);

}  // namespace bridge::web
