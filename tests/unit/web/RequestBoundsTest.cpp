// The pure parsers and checks behind docs/limits.md (issue 9), table-driven: strict integers,
// the one UID check, the fan-out cap, the frame-list cap, WADO-URI render parameters, and the
// config keys of the HTTP bounds.
#include <boost/test/unit_test.hpp>

#include "bridge/common/Config.h"
#include "bridge/common/Error.h"
#include "bridge/common/Text.h"
#include "bridge/query/Query.h"
#include "web/ImageRenderer.h"
#include "web/WebRoute.h"

using namespace bridge;
using namespace bridge::web;

namespace {

template <class F>
bool invalidArgument(F&& f) {
    try {
        f();
    } catch (const BridgeError& e) {
        return e.code() == ErrorCode::InvalidArgument;
    }
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(RequestBounds)

BOOST_AUTO_TEST_CASE(parse_decimal_is_strict_and_never_wraps) {
    BOOST_TEST(*parseDecimal("0") == 0);
    BOOST_TEST(*parseDecimal("8192") == 8192);
    BOOST_TEST(*parseDecimal("99999999999") == 99999999999LL);
    for (const char* bad : {"", "-1", "+1", " 1", "1 ", "12abc", "0x10", "1e3", "1.5", "9999999999999999999"})
        BOOST_TEST(!parseDecimal(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(one_uid_check) {
    BOOST_TEST(isValidUid("1.2.840.10008.1.2"));
    BOOST_TEST(isValidUid(std::string(64, '1')));
    for (const std::string& bad : {std::string(), std::string(65, '1'), std::string("1.2.3a"),
                                   std::string("1.2 3"), std::string("1.2.3' OR 1=1")})
        BOOST_TEST(!isValidUid(bad), bad);
    BOOST_TEST(checkedUid("1.2.3", "objectUID") == "1.2.3");
    BOOST_TEST(invalidArgument([] { checkedUid("abc", "objectUID"); }));
}

BOOST_AUTO_TEST_CASE(fan_out_cap) {
    checkFanOut("StudyInstanceUID", 0);
    checkFanOut("StudyInstanceUID", kMaxFanOutValues);
    BOOST_TEST(invalidArgument([] { checkFanOut("StudyInstanceUID", kMaxFanOutValues + 1); }));
    try {
        checkFanOut("SeriesInstanceUID", 300);
    } catch (const BridgeError& e) {
        BOOST_TEST(std::string(e.what()) == "too many values in SeriesInstanceUID: 300 (at most " +
                                                std::to_string(kMaxFanOutValues) +
                                                " per request); split the request");
    }
}

BOOST_AUTO_TEST_CASE(frame_list_cap) {
    std::string atCap, overCap;
    for (std::size_t i = 0; i < kMaxFramesPerRequest; ++i) atCap += i ? ",1" : "1";
    overCap = atCap + ",1";
    BOOST_TEST(parseFrameList(atCap).size() == kMaxFramesPerRequest);
    BOOST_TEST(invalidArgument([&] { parseFrameList(overCap); }));
}

BOOST_AUTO_TEST_CASE(wado_uri_render_parameters) {
    RenderOptions o;
    parseWadoUriRenderParameters({{"rows", "64"},
                                  {"Columns", "48"},
                                  {"windowCenter", "40"},
                                  {"windowWidth", "400"},
                                  {"imageQuality", "80"},
                                  {"frameNumber", "2"}},
                                 o);
    BOOST_TEST(o.viewportHeight == 64);
    BOOST_TEST(o.viewportWidth == 48);
    BOOST_TEST(o.window->first == 40.0);
    BOOST_TEST(o.quality == 80);
    BOOST_TEST(o.frameNumber == 2);
    RenderOptions onlyRows;
    parseWadoUriRenderParameters({{"rows", "100"}}, onlyRows);
    BOOST_TEST(onlyRows.viewportWidth == kMaxRenderDimension);
    const std::string over = std::to_string(kMaxRenderDimension + 1);
    const std::vector<std::vector<std::pair<std::string, std::string>>> bad{
        {{"rows", over}},
        {{"columns", over}},
        {{"rows", "99999999999"}},
        {{"rows", "12abc"}},
        {{"rows", "0"}},
        {{"rows", "-5"}},
        {{"imageQuality", "101"}},
        {{"imageQuality", "0x10"}},
        {{"frameNumber", "0"}},
        {{"frameNumber", "1,2"}},
        {{"windowCenter", "40"}},
        {{"windowCenter", "a"}, {"windowWidth", "1"}},
        {{"windowCenter", "40"}, {"windowWidth", "0"}}};
    for (const auto& parameters : bad) {
        RenderOptions r;
        BOOST_TEST(invalidArgument([&] { parseWadoUriRenderParameters(parameters, r); }),
                   parameters.front().first + "=" + parameters.front().second);
    }
    // /rendered's viewport shares the bound.
    RenderOptions v;
    BOOST_TEST(invalidArgument([&] { parseRenderParameters({{"viewport", over + ",1"}}, v); }));
    parseRenderParameters({{"viewport", std::to_string(kMaxRenderDimension) + ",1"}}, v);
    BOOST_TEST(v.viewportWidth == kMaxRenderDimension);
}

BOOST_AUTO_TEST_CASE(http_bound_config_keys) {
    const Config defaults = parseConfig("{}");
    BOOST_TEST(defaults.web.headerTimeout.count() == 15);
    BOOST_TEST(defaults.web.maxConnectionsPerClient == 32);
    const Config c = parseConfig(R"({"web": {"headerTimeoutSeconds": 5, "maxConnectionsPerClient": 0}})");
    BOOST_TEST(c.web.headerTimeout.count() == 5);
    BOOST_TEST(c.web.maxConnectionsPerClient == 0);
    BOOST_TEST(invalidArgument([] { parseConfig(R"({"web": {"headerTimeoutSeconds": 0}})"); }));
    BOOST_TEST(invalidArgument([] { parseConfig(R"({"web": {"maxConnectionsPerClient": -1}})"); }));
}

BOOST_AUTO_TEST_SUITE_END()
