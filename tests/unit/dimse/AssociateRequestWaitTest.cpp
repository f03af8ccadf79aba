// awaitAssociateRequest over a socketpair: complete, split, wrong type, too long, closed,
// trickled past the deadline, stopping.
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <thread>
#include <vector>

#include "dimse/AssociateRequestWait.h"
#include "dimse/StopSignal.h"

using namespace bridge::dimse;
using namespace std::chrono_literals;

namespace {

struct Pair {
    int ours = -1, theirs = -1;
    Pair() {
        int fds[2];
        BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        ours = fds[0];
        theirs = fds[1];
    }
    ~Pair() {
        ::close(ours);
        if (theirs >= 0) ::close(theirs);
    }
    void send(const std::vector<unsigned char>& bytes) const {
        BOOST_REQUIRE(::send(theirs, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
    }
    void closePeer() {
        ::close(theirs);
        theirs = -1;
    }
};

/// An A-ASSOCIATE-RQ header announcing `length` bytes, followed by `body` bytes of filler.
std::vector<unsigned char> pdu(std::uint32_t length, std::size_t body, unsigned char type = 0x01) {
    std::vector<unsigned char> v{type,
                                 0,
                                 static_cast<unsigned char>(length >> 24),
                                 static_cast<unsigned char>(length >> 16),
                                 static_cast<unsigned char>(length >> 8),
                                 static_cast<unsigned char>(length)};
    v.resize(6 + body, 0x20);
    return v;
}

AssociateRequestWait waitOn(const Pair& p, std::chrono::milliseconds budget, std::size_t max = 1024) {
    return awaitAssociateRequest(p.ours, std::chrono::steady_clock::now() + budget, max, -1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(AssociateRequestWaitSuite)

BOOST_AUTO_TEST_CASE(complete_pdu_is_ready_and_left_unread) {
    Pair p;
    p.send(pdu(100, 100));
    BOOST_TEST((waitOn(p, 5s) == AssociateRequestWait::Ready));
    unsigned char buf[200];
    BOOST_TEST(::recv(p.ours, buf, sizeof buf, MSG_DONTWAIT) == 106);  // nothing consumed
}

BOOST_AUTO_TEST_CASE(pdu_arriving_in_pieces_is_ready_when_whole) {
    Pair p;
    const auto bytes = pdu(300, 300);
    std::thread sender([&] {
        for (std::size_t i = 0; i < bytes.size(); i += 50) {
            std::vector<unsigned char> part(bytes.begin() + i, bytes.begin() + std::min(bytes.size(), i + 50));
            p.send(part);
            std::this_thread::sleep_for(10ms);
        }
    });
    BOOST_TEST((waitOn(p, 20s) == AssociateRequestWait::Ready));
    sender.join();
}

BOOST_AUTO_TEST_CASE(other_pdu_types_and_oversized_requests_are_refused_at_once) {
    {
        Pair p;
        p.send(pdu(10, 10, 0x04));  // P-DATA-TF before association
        BOOST_TEST((waitOn(p, 20s) == AssociateRequestWait::NotAssociateRequest));
    }
    {
        Pair p;
        p.send({0x07});  // first byte already tells
        BOOST_TEST((waitOn(p, 20s) == AssociateRequestWait::NotAssociateRequest));
    }
    {
        Pair p;
        p.send(pdu(0xFFFFFFFFu, 0));
        const auto start = std::chrono::steady_clock::now();
        BOOST_TEST((waitOn(p, 20s, 1024) == AssociateRequestWait::TooLarge));
        BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
    }
}

BOOST_AUTO_TEST_CASE(peer_closing_early_is_closed) {
    Pair p;
    p.send(pdu(100, 40));
    p.closePeer();
    BOOST_TEST((waitOn(p, 20s) == AssociateRequestWait::Closed));
}

BOOST_AUTO_TEST_CASE(trickle_is_cut_by_the_total_deadline) {
    // One byte every 100 ms keeps every single read "alive"; the total deadline still ends it.
    Pair p;
    std::atomic<bool> done{false};
    p.send(pdu(500, 0));
    std::thread trickler([&] {
        while (!done.load()) {
            ::send(p.theirs, " ", 1, MSG_NOSIGNAL);
            std::this_thread::sleep_for(100ms);
        }
    });
    const auto start = std::chrono::steady_clock::now();
    const auto result = waitOn(p, 1500ms);
    const auto took = std::chrono::steady_clock::now() - start;
    done = true;
    trickler.join();
    BOOST_TEST((result == AssociateRequestWait::DeadlineExpired));
    BOOST_TEST((took >= 1400ms));
    BOOST_TEST((took < 30s));  // generous: a loaded machine
}

BOOST_AUTO_TEST_CASE(stopping_ends_the_wait) {
    Pair p;
    StopSignal stop;
    std::thread stopper([&] {
        std::this_thread::sleep_for(200ms);  // lets the wait start; the result does not depend on it
        stop.request();
    });
    const auto result = awaitAssociateRequest(p.ours, std::chrono::steady_clock::now() + 60s, 1024, stop.fd());
    stopper.join();
    BOOST_TEST((result == AssociateRequestWait::Stopped));
}

BOOST_AUTO_TEST_CASE(a_partial_pdu_does_not_hide_the_stop) {
    Pair p;
    p.send(pdu(100, 10));  // header and part of the body: the wait paces on the rest
    StopSignal stop;
    stop.request();
    const auto start = std::chrono::steady_clock::now();
    const auto result = awaitAssociateRequest(p.ours, start + 60s, 1024, stop.fd());
    BOOST_TEST((result == AssociateRequestWait::Stopped));
    BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
}

BOOST_AUTO_TEST_SUITE_END()
