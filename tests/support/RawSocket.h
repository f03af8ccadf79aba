#pragma once
// A plain blocking TCP client socket for tests that must control the bytes on the wire (request
// smuggling, trickled headers): no HTTP library in between. Loopback only. Optionally bound to
// another loopback address (127.0.0.2 ...) so the server sees a different client. Not
// thread-safe; one owner.

#include <chrono>
#include <string>

namespace bridge::test {

class RawSocket {
public:
    /// Connects to 127.0.0.1:port from `localAddress` (any 127.x.y.z). Throws std::runtime_error
    /// when the connection cannot be made.
    explicit RawSocket(unsigned short port, const std::string& localAddress = "127.0.0.1");
    ~RawSocket();
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;

    /// Sends all of `bytes`; false when the peer has closed or reset the connection.
    bool send(const std::string& bytes);
    /// Reads until the peer closes (or resets) the connection or `timeout` passes; `closed`
    /// tells which. Returns everything read.
    std::string readUntilClosed(std::chrono::milliseconds timeout, bool& closed);
    /// Whether the peer closed (EOF or reset) within `timeout`; discards any data read.
    bool closedWithin(std::chrono::milliseconds timeout);

private:
    int fd_ = -1;
};

}  // namespace bridge::test
