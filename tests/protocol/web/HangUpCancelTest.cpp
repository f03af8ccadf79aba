// A client that closes its connection while its QIDO search waits on TCIA (issue 11 item 1):
// the real DicomWebServer over the real core in front of the TCIA emulator, whose fault plan
// answers every TCIA call with 503 and Retry-After: 3, so the bridge's TciaClient sits in a 3 s
// backoff. The client (a raw loopback socket) sends its request, waits for the first TCIA attempt
// and closes. Before the fix the bridge kept retrying for nobody until the retries ran out.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <sstream>
#include <thread>

#include "bridge/common/MetricsRegistry.h"
#include "bridge/retrieve/BridgeServices.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"
#include "web/DicomWebServer.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

struct HangUpFixture {
    EmulatorProcess emulator{{"--quiet"}};
    TempDir cacheDir;
    std::unique_ptr<BridgeServices> services;
    std::unique_ptr<web::DicomWebServer> server;

    HangUpFixture() {
        Config config;
        config.tcia = faultRetrySettings(emulator);  // guest: no token call
        config.tcia.maxRetries = 8;                  // 8 x 3 s of backoff if nothing stops it
        config.tcia.retryMaxDelay = 10s;             // Retry-After: 3 honoured whole
        config.cache.directory = cacheDir.path();
        config.dimse.enabled = false;
        config.web.port = 0;
        config.web.bindAddress = "127.0.0.1";
        services = makeBridgeServices(config);
        server = std::make_unique<web::DicomWebServer>(*services);
        server->start();
    }
};

/// TCIA calls the bridge gave up because their request context was cancelled, so far.
double cancelledTciaCalls() {
    std::istringstream text(metrics().render());
    double sum = 0;
    for (std::string line; std::getline(text, line);) {
        if (line.rfind("tcia_bridge_tcia_requests_total{", 0) != 0) continue;
        if (line.find("\"cancelled\"") == std::string::npos) continue;
        sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
}

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
        if (condition()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hang_up_cancel)

BOOST_FIXTURE_TEST_CASE(client_closing_during_tcia_backoff_stops_the_search, HangUpFixture) {
    BOOST_REQUIRE_NO_THROW(replaceFaults(emulator, "getPatientStudy:503:50:retry-after=3"));
    resetStats(emulator);
    const double cancelledBefore = cancelledTciaCalls();

    Poco::Net::StreamSocket client;
    client.connect(Poco::Net::SocketAddress("127.0.0.1", server->port()), Poco::Timespan(5, 0));
    const std::string request =
        "GET /dicom-web/studies?PatientID=TCGA-DM-0001 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/dicom+json\r\n\r\n";
    client.sendBytes(request.data(), static_cast<int>(request.size()));

    // The first TCIA attempt got its 503: the bridge now sleeps out Retry-After (3 s).
    BOOST_REQUIRE_MESSAGE(waitFor([&] { return totalCalls(emulator) >= 1; }, 20s), "the bridge never called TCIA");
    std::this_thread::sleep_for(200ms);  // not synchronisation: lets the attempt reach its backoff
    const auto closedAt = Clock::now();
    client.close();

    BOOST_TEST(waitFor([&] { return cancelledTciaCalls() > cancelledBefore; }, 5s),
               "the bridge did not cancel the TCIA call of the closed connection");
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - closedAt);
    BOOST_TEST_MESSAGE("client close to TCIA call cancelled: " << took.count() << " ms");
    BOOST_TEST(took < 1000ms, "the TCIA call stopped " << took.count() << " ms after the client left");

    // No further retries: the next one would have come 3 s after the first.
    const int callsAtClose = totalCalls(emulator);
    std::this_thread::sleep_for(4s);  // an observation window, not synchronisation
    BOOST_TEST(totalCalls(emulator) == callsAtClose, "the bridge kept calling TCIA for a client that left");
}

BOOST_AUTO_TEST_SUITE_END()
