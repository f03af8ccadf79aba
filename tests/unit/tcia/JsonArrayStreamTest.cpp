#include "bridge/tcia/JsonArrayStream.h"
#include "bridge/common/Error.h"
#include "bridge/tcia/TciaJsonParser.h"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace bridge;
using namespace bridge::tcia;

namespace {

struct Split {
    std::vector<std::string> elements;
    std::vector<std::string> wholeBodies;
};

/// Feeds `body` in chunks of `chunk` bytes (every chunking must give the same elements).
Split split(const std::string& body, std::size_t chunk, std::size_t maxElement = 1u << 20) {
    Split out;
    JsonArrayStream s(
        [&](std::string_view e, bool whole) { (whole ? out.wholeBodies : out.elements).emplace_back(e); }, maxElement);
    for (std::size_t i = 0; i < body.size(); i += chunk) s.feed(body.data() + i, std::min(chunk, body.size() - i));
    s.finish();
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(JsonArrayStreamTest)

BOOST_AUTO_TEST_CASE(elements_whatever_the_chunking) {
    struct Case {
        std::string body;
        std::vector<std::string> elements;
    };
    const std::vector<Case> cases{
        {"", {}},
        {"[]", {}},
        {" [ ] \n", {}},
        {"[{}]", {"{}"}},
        {"[{\"a\":1},{\"b\":[1,2,{\"c\":\"]\"}]}]", {"{\"a\":1}", "{\"b\":[1,2,{\"c\":\"]\"}]}"}},
        // Strings holding structure characters and escaped quotes do not end an element.
        {"[{\"n\":\"x,}\\\"]y\"} , {\"n\":\"\\\\\"}]", {"{\"n\":\"x,}\\\"]y\"}", "{\"n\":\"\\\\\"}"}},
        {"[\"COLL-A\",\"COLL-B\"]", {"\"COLL-A\"", "\"COLL-B\""}},
        {"\xEF\xBB\xBF[1, 2]", {"1", "2"}},  // byte order mark
        {"[\n  {\"PatientID\" : \"P1\"} ,\n  {\"PatientID\":\"P2\"}\n]\n", {"{\"PatientID\" : \"P1\"}", "{\"PatientID\":\"P2\"}"}},
    };
    for (const auto& c : cases)
        for (std::size_t chunk : {1u, 2u, 3u, 7u, 4096u}) {
            const auto got = split(c.body, chunk);
            BOOST_TEST(got.elements == c.elements, "body " << c.body << " chunk " << chunk);
            BOOST_TEST(got.wholeBodies.empty());
        }
}

BOOST_AUTO_TEST_CASE(a_body_that_is_not_an_array_is_handed_over_whole) {
    const auto text = split("A parameter, Collection is required for this API call.", 5);
    BOOST_TEST(text.elements.empty());
    BOOST_REQUIRE(text.wholeBodies.size() == 1u);
    BOOST_TEST(text.wholeBodies[0] == "A parameter, Collection is required for this API call.");
    // The caller's parser then decides: TCIA's error sentence is UpstreamBadResponse.
    BOOST_CHECK_THROW(parseSeries(text.wholeBodies[0], ApiVersion::V4), BridgeError);
}

BOOST_AUTO_TEST_CASE(bounds_and_broken_bodies_fail_clearly) {
    BOOST_CHECK_THROW(split("[{\"a\":\"" + std::string(100, 'x') + "\"}]", 16, 64), BridgeError);  // element too long
    BOOST_CHECK_THROW(split(std::string(100, 'x'), 16, 64), BridgeError);                           // non-array too long
    BOOST_CHECK_THROW(split("[{\"a\":1},{\"b\":", 4), BridgeError);                                // cut off mid-array
    BOOST_CHECK_THROW(split("[1]x", 1), BridgeError);                                              // text after the array
    BOOST_CHECK_THROW(split("[1}]", 1), BridgeError);                                              // unbalanced
}

BOOST_AUTO_TEST_CASE(batches_parse_like_the_whole_body) {
    // Re-joined batches of elements parse to the same records as the whole answer.
    std::string body = "[";
    for (int i = 0; i < 25; ++i)
        body += std::string(i ? "," : "") + "{\"SeriesInstanceUID\":\"1.2." + std::to_string(i) +
                "\",\"Collection\":\"C\",\"Modality\":\"CT\",\"SeriesDescription\":\"a, \\\"b\\\" ]\"}";
    body += "]";
    const auto whole = parseSeries(body, ApiVersion::V4);
    std::vector<SeriesRecord> batched;
    std::string batch;
    int inBatch = 0;
    auto flush = [&] {
        if (!inBatch) return;
        for (auto& r : parseSeries(batch + "]", ApiVersion::V4)) batched.push_back(r);
        batch.clear();
        inBatch = 0;
    };
    JsonArrayStream s([&](std::string_view e, bool) {
        batch += inBatch ? "," : "[";
        batch.append(e);
        if (++inBatch == 4) flush();
    });
    for (std::size_t i = 0; i < body.size(); i += 13) s.feed(body.data() + i, std::min<std::size_t>(13, body.size() - i));
    s.finish();
    flush();
    BOOST_REQUIRE(batched.size() == whole.size());
    for (std::size_t i = 0; i < whole.size(); ++i) {
        BOOST_TEST(batched[i].seriesInstanceUid == whole[i].seriesInstanceUid);
        BOOST_TEST(batched[i].seriesDescription == whole[i].seriesDescription);
    }
}

BOOST_AUTO_TEST_SUITE_END()
