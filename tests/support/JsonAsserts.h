#pragma once
// Test helpers (header-only): JSON text to Json::Value inside a Boost.Test case. A text that
// does not parse fails the current test case (BOOST_REQUIRE) with the start of the text.

#include <json/json.h>

#include <boost/test/unit_test.hpp>
#include <memory>
#include <sstream>
#include <string>

namespace bridge::test {

/// jsoncpp's default (lenient: comments, trailing commas) reader.
inline Json::Value parseJson(const std::string& text) {
    Json::Value v;
    Json::CharReaderBuilder b;
    std::string errors;
    std::istringstream in(text);
    BOOST_REQUIRE_MESSAGE(Json::parseFromStream(b, in, &v, &errors), "not JSON: " + text.substr(0, 200));
    return v;
}

/// RFC 8259 only (jsoncpp strictMode: no comments, no bare nan/inf, one root value).
inline Json::Value strictParseJson(const std::string& text) {
    Json::CharReaderBuilder builder;
    Json::CharReaderBuilder::strictMode(&builder.settings_);
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value value;
    std::string errors;
    BOOST_REQUIRE_MESSAGE(reader->parse(text.data(), text.data() + text.size(), &value, &errors),
                          "not strict JSON (" << errors << "): " << text.substr(0, 400));
    return value;
}

}  // namespace bridge::test
