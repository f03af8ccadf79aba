// POST /emulator/faults?spec=... without a body and without Content-Length (what `curl -X POST
// URL` sends) is answered at once. Before the fix the emulator read the "body" until the client
// closed the connection: the call hung for the server's 60 s timeout.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <boost/test/unit_test.hpp>
#include <chrono>

#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"

using namespace bridge::test;

BOOST_AUTO_TEST_CASE(post_faults_without_content_length_is_answered_at_once) {
    EmulatorProcess emulator({"--quiet"});
    Poco::Net::StreamSocket socket;
    socket.connect(Poco::Net::SocketAddress("127.0.0.1", emulator.port()), Poco::Timespan(10, 0));
    socket.setReceiveTimeout(Poco::Timespan(10, 0));
    const std::string request =
        "POST /emulator/faults?spec=getImage:slow:1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    std::string answer;
    char buffer[4096];
    try {
        int n;
        while ((n = socket.receiveBytes(buffer, sizeof buffer)) > 0)
            answer.append(buffer, static_cast<std::size_t>(n));
    } catch (const Poco::TimeoutException&) {
        BOOST_FAIL("no answer within 10 s");
    }
    BOOST_TEST(answer.rfind("HTTP/1.1 200", 0) == 0u);
    BOOST_TEST(answer.find("\"kind\":\"slow\"") != std::string::npos);
}
