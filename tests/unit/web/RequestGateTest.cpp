#include "web/RequestGate.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace bridge::web;

BOOST_AUTO_TEST_SUITE(RequestGateTest)

BOOST_AUTO_TEST_CASE(admits_waits_and_refuses) {
    RequestGate gate(1, 1);
    BOOST_TEST(gate.enter());  // the one slot
    std::atomic<bool> waiterIn{false};
    std::thread waiter([&] {
        RequestGate::Ticket t(gate);  // waits for the slot
        waiterIn = t.admitted();
    });
    for (int i = 0; i < 200 && gate.waiting() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    BOOST_TEST(gate.waiting() == 1);
    BOOST_TEST(!gate.enter());  // no slot, no room to wait
    BOOST_TEST(gate.refused() == 1u);
    gate.leave();
    waiter.join();
    BOOST_TEST(waiterIn.load());
    BOOST_TEST(gate.active() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
