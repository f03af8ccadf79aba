#pragma once
// The request id of one HTTP request (issue 11 item 1: the request context carries it): the
// client's X-Request-ID when it is well-formed and bounded, else one the bridge makes ("h-<n>",
// the log context id). The id names the request in every log line written while it is served,
// in the RequestContext the core receives, in the audit record, and in the X-Request-ID response
// header (exposed to browsers through CORS), so a client, a proxy and the bridge's log can
// follow one request end to end (the convention of nginx $request_id, Heroku, Envoy).

#include <optional>
#include <string>

namespace bridge::web {

/// Longest client X-Request-ID honoured (a UUID is 36 characters; proxies' ids stay below 64).
constexpr std::size_t kMaxRequestIdLength = 64;

/// The incoming X-Request-ID value if it is 1..kMaxRequestIdLength characters of
/// [A-Za-z0-9] and "-_.:/+=@" (so it can neither break a text log line -- no space, bracket,
/// quote or control character -- nor grow one without bound); nullopt otherwise (then the
/// bridge makes its own). Pure.
std::optional<std::string> acceptedRequestId(const std::string& header);

/// acceptedRequestId(header), or a fresh process-unique "h-<n>" id. Thread-safe.
std::string requestIdFor(const std::string& header);

}  // namespace bridge::web
