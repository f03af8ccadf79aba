#include "emulator/FaultPlan.h"
#include "emulator/ParameterPolicy.h"
#include "emulator/TokenRegistry.h"

#include <boost/test/unit_test.hpp>

#include <thread>

using namespace emulator;

BOOST_AUTO_TEST_SUITE(ParameterPolicySuite)

BOOST_AUTO_TEST_CASE(v4_rejects_unknown_and_miscased_names_with_the_server_text) {
    auto v = ParameterPolicy::v4Violation("getPatient", {{"Collection", "X"}, {"PatientID", "Y"}});
    BOOST_REQUIRE(v);
    BOOST_TEST(*v == "Invalid query parameter: 'PatientID'. Allowed parameters are: [Collection, PatientId, format]");
    v = ParameterPolicy::v4Violation("getSeries", {{"collection", "X"}});
    BOOST_REQUIRE(v);
    BOOST_TEST(v->rfind("Invalid query parameter: 'collection'.", 0) == 0);
    BOOST_TEST(!ParameterPolicy::v4Violation("getSeries", {{"Collection", "X"}, {"format", "json"}}).has_value());
    BOOST_TEST(!ParameterPolicy::v4Violation("getImage", {{"SeriesInstanceUID", "1"}, {"IncludeMD5", "Yes"}}).has_value());
    BOOST_TEST(ParameterPolicy::v4Violation("getImageWithMD5Hash", {{"SeriesInstanceUID", "1"}, {"IncludeMD5", "Yes"}}).has_value());
}

BOOST_AUTO_TEST_CASE(required_parameters_per_version) {
    auto m = ParameterPolicy::missingRequired("v1", "getSOPInstanceUIDs", {});
    BOOST_REQUIRE(m);
    BOOST_TEST(*m == "A parameter, SeriesInstanceUID is required for this API call.");
    m = ParameterPolicy::missingRequired("v1", "NewPatientsInCollection", {{"Collection", "A"}});
    BOOST_REQUIRE(m);
    BOOST_TEST(*m == "A parameter, Date is required for this API call.");
    m = ParameterPolicy::missingRequired("v4", "NewPatientsInCollection", {{"Collection", "A"}});
    BOOST_REQUIRE(m);
    BOOST_TEST(*m == "A parameter, fromDate is required for this API call.");
    BOOST_TEST(!ParameterPolicy::missingRequired("v1", "getSeries", {}).has_value());
}

BOOST_AUTO_TEST_CASE(fault_specs_parse_and_count_down) {
    FaultPlan plan;
    plan.add(FaultPlan::parse("getImage:truncate:2"));
    plan.add(FaultPlan::parse("getPatientStudy:429:1:retry-after=3"));
    auto f = plan.take("getPatientStudy");
    BOOST_REQUIRE(f);
    BOOST_TEST(f->kind == "429");
    BOOST_TEST(f->option("retry-after", 1) == 3);
    BOOST_TEST(!plan.take("getPatientStudy").has_value());
    BOOST_TEST(plan.take("GETIMAGE").has_value());  // endpoint names match case-insensitively
    BOOST_TEST(plan.take("getImage").has_value());
    BOOST_TEST(!plan.take("getImage").has_value());
    plan.add(FaultPlan::parse("*:slow:1:delay-ms=10"));
    BOOST_TEST(plan.take("getSeries")->option("delay-ms", 0) == 10);
    BOOST_TEST(FaultPlan::parse("getSeries:drop").remaining == 1);
    for (const char* bad : {"getSeries", "getSeries:explode:1", "getSeries:200:1", "getSeries:500:x",
                            "getSeries:500:0", "getSeries:500:1:novalue"})
        BOOST_CHECK_THROW(FaultPlan::parse(bad), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(tokens_grant_expire_and_refresh) {
    TokenRegistry tokens("u", "p", 1);
    BOOST_TEST(!tokens.passwordGrant("u", "wrong").has_value());
    auto granted = tokens.passwordGrant("u", "p");
    BOOST_REQUIRE(granted);
    const auto access = [](const std::string& json, const std::string& key) {
        const auto at = json.find("\"" + key + "\":\"") + key.size() + 4;
        return json.substr(at, json.find('"', at) - at);
    };
    const std::string token = access(granted->json, "access_token");
    BOOST_TEST(granted->json.find("\"expires_in\":1") != std::string::npos);
    BOOST_TEST(static_cast<int>(tokens.check(token)) == static_cast<int>(TokenRegistry::Access::Granted));
    auto guest = tokens.passwordGrant("nbia_guest", "");
    BOOST_REQUIRE(guest);
    BOOST_TEST(static_cast<int>(tokens.check(access(guest->json, "access_token"))) ==
               static_cast<int>(TokenRegistry::Access::Guest));
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    BOOST_TEST(static_cast<int>(tokens.check(token)) == static_cast<int>(TokenRegistry::Access::Invalid));
    const std::string refresh = access(granted->json, "refresh_token");
    auto renewed = tokens.refreshGrant(refresh);
    BOOST_REQUIRE(renewed);
    BOOST_TEST(static_cast<int>(tokens.check(access(renewed->json, "access_token"))) ==
               static_cast<int>(TokenRegistry::Access::Granted));
    BOOST_TEST(!tokens.refreshGrant(refresh));  // rotated: single use
}

BOOST_AUTO_TEST_SUITE_END()
