// bridge::jsonQuote (bridge/common/Text.h), the one JSON string escaper of the hand-built JSON
// (logs, audit, status, landing page): each row parses back to its input with Poco's parser.
#include "bridge/common/Text.h"

#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>

#include <string>

using namespace bridge;

BOOST_AUTO_TEST_SUITE(JsonQuoteTest)

BOOST_AUTO_TEST_CASE(round_trip_table) {
    struct Row {
        std::string text;
        const char* why;
    };
    const Row rows[] = {
        {"", "empty"},
        {"LIDC-IDRI", "plain"},
        {"say \"hi\"", "quotes"},
        {"C:\\dicom\\", "backslashes"},
        {"a\nb\rc\td", "short escapes"},
        {std::string("nul\0x", 5), "NUL"},
        {"\x01\x08\x0c\x1f", "other control characters"},
        {"\x7f", "DEL needs no escape"},
        {"M\xc3\xbcller^J\xc3\xb6rg", "UTF-8 passes through"},
        {"</script>", "slash and angle brackets"},
    };
    for (const auto& row : rows) {
        const std::string quoted = jsonQuote(row.text);
        BOOST_TEST(quoted.front() == '"', row.why);
        BOOST_TEST(quoted.back() == '"', row.why);
        for (char c : quoted) BOOST_TEST(static_cast<unsigned char>(c) >= 0x20, row.why << ": raw control character");
        Poco::JSON::Parser parser;
        BOOST_TEST(parser.parse("[" + quoted + "]").extract<Poco::JSON::Array::Ptr>()->getElement<std::string>(0) == row.text,
                   row.why << ": " << quoted);
    }
}

BOOST_AUTO_TEST_CASE(exact_forms) {
    BOOST_TEST(jsonQuote("plain") == "\"plain\"");
    BOOST_TEST(jsonQuote("a\"b\\c") == "\"a\\\"b\\\\c\"");
    BOOST_TEST(jsonQuote("a\nb") == "\"a\\nb\"");
    BOOST_TEST(jsonQuote("a/b") == "\"a/b\"");
    BOOST_TEST(jsonQuote("\xc3\xa9") == "\"\xc3\xa9\"");
}

BOOST_AUTO_TEST_SUITE_END()
