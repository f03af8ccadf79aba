#include "web/ErrorJson.h"

#include "bridge/common/Text.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>

#include <string>

using namespace bridge;
using namespace bridge::web;

namespace {
// What the handlers built by concatenation before errorJson() existed (the golden shape).
std::string concatenated(const std::string& name, const std::string& message, int status) {
    return "{\"error\":" + jsonQuote(name) + ",\"message\":" + jsonQuote(message) + ",\"status\":" + std::to_string(status) + "}";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(ErrorJsonTest)

BOOST_AUTO_TEST_CASE(same_bytes_as_the_old_concatenation_for_every_error_code) {
    const ErrorCode codes[] = {ErrorCode::InvalidArgument,     ErrorCode::NotFound,        ErrorCode::NotAcceptable,
                               ErrorCode::Forbidden,           ErrorCode::Unauthorized,    ErrorCode::UnknownDestination,
                               ErrorCode::QueryTooBroad,       ErrorCode::Unsupported,     ErrorCode::UpstreamUnavailable,
                               ErrorCode::UpstreamTimeout,     ErrorCode::UpstreamBadResponse, ErrorCode::Cancelled,
                               ErrorCode::Overloaded,          ErrorCode::Unauthenticated, ErrorCode::Internal};
    for (ErrorCode code : codes) {
        const auto& m = errorMapping(code);
        BOOST_TEST(errorJson(code, "malformed request URI") == concatenated(m.name, "malformed request URI", m.httpStatus), m.name);
    }
}

BOOST_AUTO_TEST_CASE(messages_are_escaped_and_parse_back) {
    struct Case {
        std::string message;
        const char* why;
    };
    const Case cases[] = {
        {"plain", "plain text"},
        {"quote \" and backslash \\", "JSON specials"},
        {"line\nfeed\rtab\t", "short escapes"},
        {std::string("nul \0 unit \x1f", 12), "control characters as \\u00XX"},
        {"UID 1.2.3 not found: \xc3\xa9t\xc3\xa9", "UTF-8 passes through"},
        {"path /dicom-web/studies?x=<script>", "slash and angle brackets"},
        {"", "empty message"},
    };
    for (const auto& c : cases) {
        const std::string body = errorJson("not-ready", c.message, 503);
        Poco::JSON::Parser parser;
        auto object = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
        BOOST_TEST(object->getValue<std::string>("error") == "not-ready", c.why);
        BOOST_TEST(object->getValue<std::string>("message") == c.message, c.why);
        BOOST_TEST(object->getValue<int>("status") == 503, c.why);
        BOOST_TEST(body.rfind("{\"error\":\"not-ready\",\"message\":", 0) == 0u, c.why << ": " << body);
    }
}

BOOST_AUTO_TEST_SUITE_END()
