// The caller's scope resolution runs under the request's context (issue 11 item 1: the context
// carries caller and scope): AccessPolicy over the real core (makeBridgeServices: Catalog ->
// TciaClient) in front of the TCIA emulator, whose collection list answers only after 20 s
// (`getCollectionValues:slow`). Resolving a scope must read that list (fail closed: the public
// collections), so without the context it would wait the full 20 s; with it, a deadline or a
// cancel (C-CANCEL, HTTP hang-up) ends it at once, as an error -- never a scope built from a
// list that was not read.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include "bridge/common/Error.h"
#include "bridge/common/RequestContext.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/retrieve/BridgeServices.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"
#include "tests/support/ErrorCodeOf.h"
#include "tests/support/Elapsed.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

struct SlowListFixture {
    EmulatorProcess emulator{{"--quiet"}};
    TempDir cache;
    std::unique_ptr<BridgeServices> services;

    SlowListFixture() {
        Config config;
        config.tcia = faultRetrySettings(emulator);  // 20 s read timeout: room for the slow list
        config.tcia.maxRetries = 0;
        config.cache.directory = cache.path();
        config.catalog.refreshInterval = std::chrono::seconds(0);
        config.access.grantsByAet["Restricted-Demo"] = {"GRANTED"};
        services = makeBridgeServices(config);
        BOOST_REQUIRE(services->access);
        BOOST_REQUIRE_NO_THROW(replaceFaults(emulator, "getCollectionValues:slow:100:delay-ms=20000"));
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(scope_context)

BOOST_FIXTURE_TEST_CASE(the_deadline_ends_an_http_scope_resolution_waiting_on_tcia, SlowListFixture) {
    RequestContext context("scope-deadline", "HTTP from 127.0.0.1");
    context.setTimeout(500ms);
    const auto start = Clock::now();
    const auto code = thrownCode([&] { services->access->forHttp(std::nullopt, context); });
    const auto took = since(start);
    BOOST_TEST_MESSAGE("deadline 500 ms, scope resolution ended after " << took.count()
                                                                        << " ms (TCIA: 20 s)");
    BOOST_TEST((code == ErrorCode::UpstreamTimeout), "not reported as the deadline");
    BOOST_TEST(took < 3000ms);
}

BOOST_FIXTURE_TEST_CASE(a_cancel_ends_a_dimse_scope_resolution_waiting_on_tcia, SlowListFixture) {
    RequestContext context("scope-cancel", "AE PACS");
    auto resolution = std::async(std::launch::async, [&] {
        return thrownCode([&] { services->access->forDimse("PACS", "TCIA", context); });
    });
    // The stimulus, not a synchronisation: whether the cancel lands before or during the TCIA
    // call, the resolution must end as Cancelled; the bound is on cancel -> return.
    BOOST_TEST((resolution.wait_for(300ms) == std::future_status::timeout), "resolved without the slow list");
    const auto cancelledAt = Clock::now();
    context.cancel();
    BOOST_REQUIRE_MESSAGE(resolution.wait_for(10s) == std::future_status::ready,
                          "the cancel did not wake it");
    const auto took = since(cancelledAt);
    BOOST_TEST_MESSAGE("cancel to return: " << took.count() << " ms");
    BOOST_TEST((resolution.get() == ErrorCode::Cancelled));
    BOOST_TEST(took < 1000ms);
}

BOOST_FIXTURE_TEST_CASE(an_unstopped_context_still_resolves_once_tcia_answers, SlowListFixture) {
    // Control: the same policy with the fault gone resolves normally under a context.
    BOOST_REQUIRE_NO_THROW(replaceFaults(emulator, ""));
    RequestContext context("scope-ok");
    context.setTimeout(30s);
    CollectionScope scope;
    BOOST_REQUIRE_NO_THROW(scope = services->access->forDimse("PACS", "TCIA", context));
    BOOST_TEST(!scope.allows("Restricted-Demo"));
    BOOST_TEST(services->access->forDimse("GRANTED", "TCIA", context).allows("Restricted-Demo"));
}

BOOST_AUTO_TEST_SUITE_END()
