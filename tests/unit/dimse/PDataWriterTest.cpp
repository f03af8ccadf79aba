// PDataWriter: a DIMSE message as P-DATA-TF PDUs (PS3.8 9.3.5), read back by an independent
// parser in this file -- from the plan, and from a socket that accepts only a few KB per write
// (partial writev).
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <cstdint>
#include <string>
#include <numeric>
#include <thread>
#include <vector>

#include "dimse/PDataWriter.h"

using namespace bridge::dimse;

namespace {

struct Pdv {
    std::uint8_t presId = 0;
    bool command = false;
    bool last = false;
    std::vector<std::uint8_t> data;
};

std::uint32_t be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

/// The PDVs of a byte stream of P-DATA-TF PDUs, one PDV per PDU (checked).
std::vector<Pdv> parsePdus(const std::vector<std::uint8_t>& stream) {
    std::vector<Pdv> out;
    std::size_t at = 0;
    while (at < stream.size()) {
        BOOST_REQUIRE_GE(stream.size() - at, 12u);
        BOOST_REQUIRE_EQUAL(stream[at], 0x04);
        BOOST_REQUIRE_EQUAL(stream[at + 1], 0x00);
        const std::uint32_t pduLength = be32(&stream[at + 2]);
        const std::uint32_t itemLength = be32(&stream[at + 6]);
        BOOST_REQUIRE_EQUAL(pduLength, itemLength + 4);
        BOOST_REQUIRE_GE(itemLength, 2u);
        BOOST_REQUIRE_LE(at + 6 + pduLength, stream.size());
        Pdv pdv;
        pdv.presId = stream[at + 10];
        const std::uint8_t mch = stream[at + 11];
        BOOST_REQUIRE_EQUAL(mch & ~0x03, 0);
        pdv.command = (mch & 0x01) != 0;
        pdv.last = (mch & 0x02) != 0;
        pdv.data.assign(stream.begin() + at + 12, stream.begin() + at + 6 + pduLength);
        out.push_back(std::move(pdv));
        at += 6 + pduLength;
    }
    return out;
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7 + i / 251);
    return v;
}

std::vector<std::uint8_t> flatten(const PDataPlan& plan) {
    std::vector<std::uint8_t> out;
    for (const iovec& v : plan.iov)
        out.insert(out.end(), static_cast<std::uint8_t*>(v.iov_base), static_cast<std::uint8_t*>(v.iov_base) + v.iov_len);
    return out;
}

/// Checks the PDVs carry `command` then `dataset` in fragments of at most `maxFragment` with the
/// right flags, for context `presId`.
void expectMessage(const std::vector<Pdv>& pdvs, std::uint8_t presId, const std::vector<std::uint8_t>& command,
                   const std::vector<std::uint8_t>& dataset, std::size_t maxFragment) {
    std::vector<std::uint8_t> gotCommand, gotDataset;
    bool commandDone = false, datasetDone = false;
    for (const Pdv& pdv : pdvs) {
        BOOST_CHECK_EQUAL(pdv.presId, presId);
        BOOST_CHECK_LE(pdv.data.size(), maxFragment);
        BOOST_CHECK(!pdv.data.empty());
        if (pdv.command) {
            BOOST_CHECK(!commandDone);
            BOOST_CHECK(gotDataset.empty());  // the command set comes first, whole
            gotCommand.insert(gotCommand.end(), pdv.data.begin(), pdv.data.end());
            commandDone = pdv.last;
        } else {
            BOOST_CHECK(commandDone);
            BOOST_CHECK(!datasetDone);
            gotDataset.insert(gotDataset.end(), pdv.data.begin(), pdv.data.end());
            datasetDone = pdv.last;
        }
    }
    BOOST_CHECK(commandDone);
    BOOST_CHECK_EQUAL(datasetDone, !dataset.empty());
    BOOST_CHECK(gotCommand == command);
    BOOST_CHECK(gotDataset == dataset);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(PDataWriterSuite)

BOOST_AUTO_TEST_CASE(plan_cuts_command_and_dataset_into_flagged_pdus) {
    const auto command = pattern(200, 1);
    for (std::size_t datasetSize : {std::size_t{0}, std::size_t{1}, std::size_t{16372}, std::size_t{16373},
                                    std::size_t{3 * 16372}, std::size_t{525'000}}) {
        const auto dataset = pattern(datasetSize, 9);
        const PDataPlan plan = planPData(5, command, dataset, 16372);
        BOOST_TEST_CONTEXT("dataset " << datasetSize) {
            const auto bytes = flatten(plan);
            BOOST_CHECK_EQUAL(bytes.size(), plan.totalBytes);
            const auto pdvs = parsePdus(bytes);
            BOOST_CHECK_EQUAL(pdvs.size(), 1 + (datasetSize + 16371) / 16372);
            expectMessage(pdvs, 5, command, dataset, 16372);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_command_longer_than_one_fragment_is_cut_too) {
    const auto command = pattern(100, 3);
    const auto dataset = pattern(95, 4);
    const auto pdvs = parsePdus(flatten(planPData(1, command, dataset, 32)));
    BOOST_CHECK_EQUAL(pdvs.size(), 4u + 3u);
    expectMessage(pdvs, 1, command, dataset, 32);
}

BOOST_AUTO_TEST_CASE(write_survives_partial_writes_on_a_small_socket_buffer) {
    int fds[2];
    BOOST_REQUIRE_EQUAL(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    const int small = 4096;
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    const auto command = pattern(180, 2);
    const auto dataset = pattern(2'000'003, 7);  // > IOV_MAX / 2 PDUs at this fragment size
    const std::size_t fragment = 1000;
    const std::size_t expected = planPData(3, command, dataset, fragment).totalBytes;

    std::vector<std::uint8_t> received;
    std::thread reader([&] {
        std::vector<std::uint8_t> chunk(1500);  // small reads: the writer blocks again and again
        while (received.size() < expected) {
            const ssize_t n = ::read(fds[1], chunk.data(), chunk.size());
            if (n <= 0) break;
            received.insert(received.end(), chunk.begin(), chunk.begin() + n);
        }
    });
    PDataPlan plan = planPData(3, command, dataset, fragment);
    BOOST_CHECK_GT(plan.iov.size(), std::size_t{IOV_MAX});
    const OFCondition cond = writeIov(fds[0], plan.iov);
    reader.join();
    ::close(fds[0]);
    ::close(fds[1]);
    BOOST_REQUIRE(cond.good());
    BOOST_REQUIRE_EQUAL(received.size(), expected);
    expectMessage(parsePdus(received), 3, command, dataset, fragment);
}

BOOST_AUTO_TEST_CASE(write_to_a_closed_peer_reports_an_io_error) {
    int fds[2];
    BOOST_REQUIRE_EQUAL(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ::close(fds[1]);
    const auto command = pattern(10, 1);
    PDataPlan plan = planPData(1, command, {}, 64);
    signal(SIGPIPE, SIG_IGN);
    const OFCondition cond = writeIov(fds[0], plan.iov);
    ::close(fds[0]);
    BOOST_CHECK(cond.bad());
    BOOST_CHECK(std::string(cond.text()).find("TCP I/O Error") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
