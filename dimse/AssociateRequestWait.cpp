#include "dimse/AssociateRequestWait.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <thread>

namespace bridge::dimse {
namespace {

constexpr std::size_t kHeaderBytes = 6;  // PS3.8 9.3.1: type, reserved, 32-bit length
constexpr unsigned char kAssociateRequestType = 0x01;

/// Bytes readable now (without consuming them); -1 on error.
long availableBytes(int fd) {
    int n = 0;
    if (::ioctl(fd, FIONREAD, &n) != 0) return -1;
    return n;
}

}  // namespace

const char* describe(AssociateRequestWait result) {
    switch (result) {
        case AssociateRequestWait::Ready: return "A-ASSOCIATE-RQ received";
        case AssociateRequestWait::NotAssociateRequest: return "first PDU is not an A-ASSOCIATE-RQ";
        case AssociateRequestWait::TooLarge: return "A-ASSOCIATE-RQ larger than the bound";
        case AssociateRequestWait::Closed: return "peer closed the connection during negotiation";
        case AssociateRequestWait::DeadlineExpired:
            return "A-ASSOCIATE-RQ not complete within the negotiation deadline";
        case AssociateRequestWait::Stopped: return "server stopping";
    }
    return "?";
}

AssociateRequestWait awaitAssociateRequest(int fd, std::chrono::steady_clock::time_point deadline,
                                           std::size_t maxPduBytes, int stopFd) {
    using Clock = std::chrono::steady_clock;
    std::size_t needed = 0;  // whole PDU length once the header is known
    for (;;) {
        long available = availableBytes(fd);
        if (available < 0) return AssociateRequestWait::Closed;
        if (needed == 0 && available >= static_cast<long>(kHeaderBytes)) {
            unsigned char header[kHeaderBytes];
            ssize_t n = ::recv(fd, header, sizeof header, MSG_PEEK | MSG_DONTWAIT);
            if (n == static_cast<ssize_t>(kHeaderBytes)) {
                if (header[0] != kAssociateRequestType) return AssociateRequestWait::NotAssociateRequest;
                const std::uint32_t length = (std::uint32_t{header[2]} << 24) | (std::uint32_t{header[3]} << 16) |
                                             (std::uint32_t{header[4]} << 8) | std::uint32_t{header[5]};
                if (length > maxPduBytes) return AssociateRequestWait::TooLarge;
                needed = kHeaderBytes + length;
            }
        } else if (needed == 0 && available >= 1) {
            unsigned char type = 0;
            if (::recv(fd, &type, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && type != kAssociateRequestType)
                return AssociateRequestWait::NotAssociateRequest;
        }
        if (needed != 0 && available >= static_cast<long>(needed)) return AssociateRequestWait::Ready;

        const auto now = Clock::now();
        if (now >= deadline) return AssociateRequestWait::DeadlineExpired;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        // One sleep until the peer sends, the server stops (stopFd) or the deadline: no slices.
        pollfd pfds[2] = {{fd, POLLIN | POLLRDHUP, 0}, {stopFd, POLLIN, 0}};  // fd -1 is ignored
        const pollfd& pfd = pfds[0];
        int r = ::poll(pfds, 2, static_cast<int>(std::min<long long>(left + 1, INT_MAX)));
        if (r < 0 && errno != EINTR) return AssociateRequestWait::Closed;
        if (r > 0 && pfds[1].revents != 0) return AssociateRequestWait::Stopped;
        if (r > 0) {
            if (pfd.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) {
                // The peer is gone; what it sent may still be complete.
                long nowAvailable = availableBytes(fd);
                if (needed != 0 && nowAvailable >= static_cast<long>(needed)) return AssociateRequestWait::Ready;
                if (needed == 0 && nowAvailable >= static_cast<long>(kHeaderBytes)) continue;  // read header
                return AssociateRequestWait::Closed;
            }
            // Readable, but still short of the PDU: poll() reports that at once every time, so
            // pace the loop while nothing new arrives.
            if (availableBytes(fd) == available)
                std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling-guard: paces poll(2) on a partial PDU
        }
    }
}

}  // namespace bridge::dimse
