#include "emulator/JettisonJson.h"
#include "emulator/TciaDates.h"

#include <boost/test/unit_test.hpp>

using namespace emulator;

BOOST_AUTO_TEST_SUITE(JettisonJsonSuite)

BOOST_AUTO_TEST_CASE(solidus_is_escaped_like_jettison) {
    BOOST_TEST(JettisonJson::quote("http://creativecommons.org/licenses/by/3.0/") ==
               R"("http:\/\/creativecommons.org\/licenses\/by\/3.0\/")");
}

BOOST_AUTO_TEST_CASE(escapes_table) {
    struct Case { std::string in, out; };
    const Case cases[] = {
        {"a\"b", R"("a\"b")"},
        {"a\\b", R"("a\\b")"},
        {"tab\there", R"("tab\there")"},
        {"line\nbreak", R"("line\nbreak")"},
        {std::string("\x01", 1), R"("\u0001")"},
        {"M\xC3\xBCller^J\xC3\xBCrgen", "\"M\xC3\xBCller^J\xC3\xBCrgen\""},  // U+00FC passes through
        {"\xC2\x85", R"("\u0085")"},           // U+0085 in Jettison's escaped C1 range
        {"\xE2\x80\x94", R"("\u2014")"},       // U+2014 in Jettison's escaped 2000-20FF range
        {"CHEST (THORAX) ", R"("CHEST (THORAX) ")"},  // trailing spaces kept
        {"", R"("")"},
    };
    for (const auto& c : cases) BOOST_TEST(JettisonJson::quote(c.in) == c.out);
}

BOOST_AUTO_TEST_CASE(nulls_are_omitted_and_order_kept) {
    JsonRow row{{"B", std::string("x")}, {"A", std::monostate{}}, {"C", std::int64_t{3}}, {"D", true},
                {"E", std::string("")}};
    BOOST_TEST(JettisonJson::object(row) == R"({"B":"x","C":3,"D":true,"E":""})");
    BOOST_TEST(JettisonJson::object({{"BodyPartExamined", std::monostate{}}}) == "{}");
}

BOOST_AUTO_TEST_CASE(numbers_are_bare_and_whole_doubles_lose_their_fraction) {
    BOOST_TEST(JettisonJson::value(std::int64_t{16357620}) == "16357620");
    BOOST_TEST(JettisonJson::value(463.0) == "463");
    BOOST_TEST(JettisonJson::value(1.5) == "1.5");
}

BOOST_AUTO_TEST_CASE(empty_result_is_an_empty_body_not_brackets) {
    BOOST_TEST(JettisonJson::array({}).empty());
    BOOST_TEST(JettisonJson::array({{{"Collection", std::string("A")}}, {{"Collection", std::string("B")}}}) ==
               R"([{"Collection":"A"},{"Collection":"B"}])");
}

BOOST_AUTO_TEST_CASE(date_formats_per_version) {
    BOOST_TEST(TciaDates::v1Timestamp("20000101") == "2000-01-01 00:00:00.0");
    BOOST_TEST(TciaDates::v1Timestamp("20111108080801") == "2011-11-08 08:08:01.0");
    BOOST_TEST(TciaDates::monthDayYear("19900619") == "06-19-1990");
    BOOST_TEST(TciaDates::monthDayYear("20150527171221") == "05-27-2015");
    BOOST_TEST(TciaDates::v1Timestamp("").empty());
}

BOOST_AUTO_TEST_CASE(date_parameters_per_endpoint) {
    BOOST_TEST(TciaDates::parseYearSlash("2010/08/16").value() == "20100816");
    BOOST_TEST(TciaDates::parseDaySlash("16/08/2010").value() == "20100816");
    BOOST_TEST(TciaDates::parseMonthDash("08-16-2010").value() == "20100816");
    // Each format rejects the others (the notorious trap of API.md 2.5).
    BOOST_TEST(!TciaDates::parseYearSlash("08-16-2010").has_value());
    BOOST_TEST(!TciaDates::parseMonthDash("2010/08/16").has_value());
    BOOST_TEST(!TciaDates::parseDaySlash("2010/08/16").has_value());
    BOOST_TEST(!TciaDates::parseMonthDash("16-08-2010"));  // month 16
    BOOST_TEST(!TciaDates::parseMonthDash("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
