#pragma once
// The JSON body of every HTTP error the bridge sends: {"error":<name>,"message":<text>,"status":<n>}.
// One renderer (Poco::JSON, keys in this order) for the request handler, the exchange, the
// per-client connection refusal and /ready, so the shape cannot drift. Pure, thread-safe.

#include "bridge/common/Error.h"

#include <string>

namespace bridge::web {

/// The body for `code` through the one error table (name and HTTP status from errorMapping()).
std::string errorJson(ErrorCode code, const std::string& message);

/// The same shape for answers that are not an ErrorCode (e.g. "not-ready", 503).
std::string errorJson(const std::string& error, const std::string& message, int status);

}  // namespace bridge::web
