// idc.tciaNames (the TCIA names of collections IDC names differently, joined on DOI) in the
// configuration file; and the shipped example still parses with its commented tciaNames line.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "bridge/common/Config.h"
#include "bridge/common/Error.h"

using namespace bridge;

BOOST_AUTO_TEST_SUITE(IdcConfig)

BOOST_AUTO_TEST_CASE(tcia_names_are_read_as_name_to_doi) {
    const Config c = parseConfig(
        R"({"source": "idc", "idc": {"tciaNames": {"Phantom-Mixed": "10.7937/TCIA.DEMO.PH03",
                                                    "CPTAC-SAR": "https://doi.org/10.7937/x"}}})");
    BOOST_TEST(c.idc.tciaNames.size() == 2u);
    BOOST_TEST(c.idc.tciaNames.at("Phantom-Mixed") == "10.7937/TCIA.DEMO.PH03");
    BOOST_TEST(c.idc.tciaNames.at("CPTAC-SAR") == "https://doi.org/10.7937/x");
    BOOST_TEST(parseConfig("{}").idc.tciaNames.empty());
}

BOOST_AUTO_TEST_CASE(tcia_names_must_be_an_object_of_strings) {
    BOOST_CHECK_THROW(parseConfig(R"({"idc": {"tciaNames": ["Phantom-Mixed"]}})"), std::exception);
    BOOST_CHECK_THROW(parseConfig(R"({"idc": {"tciaNames": {"Phantom-Mixed": 3}}})"), std::exception);
}

BOOST_AUTO_TEST_CASE(the_example_configuration_still_parses) {
    std::ifstream in(std::string(BRIDGE_SOURCE_DIR) + "/conf/tcia-bridge.example.json");
    std::stringstream text;
    text << in.rdbuf();
    BOOST_TEST(parseConfig(text.str()).idc.tciaNames.empty());
}

BOOST_AUTO_TEST_SUITE_END()
