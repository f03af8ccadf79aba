#include "web/ErrorJson.h"

#include <Poco/JSON/Object.h>

#include <sstream>

namespace bridge::web {

std::string errorJson(ErrorCode code, const std::string& message) {
    const auto& m = errorMapping(code);
    return errorJson(m.name, message, m.httpStatus);
}

std::string errorJson(const std::string& error, const std::string& message, int status) {
    Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
    body.set("error", error);
    body.set("message", message);
    body.set("status", status);
    std::ostringstream out;
    body.stringify(out);
    return out.str();
}

}  // namespace bridge::web
