#pragma once
// Bounds what one HTTP client can hold before any request handler runs (issue 9 finding 3,
// slowloris). Poco's HTTPServerConnection reads a request header with a per-read timeout
// only, so a client trickling one byte at a time held a pool thread for as long as it liked,
// and 160 such clients starved everybody else. The guard adds, per connection:
//  * admission: at most Limits::maxPerClient connections per client IP address at once
//    (0 = no limit); the server refuses one more with 503 JSON and closes it;
//  * a total deadline for each request header: Limits::headerTimeout from the connection's
//    start, and after each response Limits::keepAliveIdle + headerTimeout from its end. While a
//    request is being served there is no deadline (long WADO streams are fine). When a deadline
//    passes, a watchdog thread shuts the socket down (shutdown(2) on a dup'ed descriptor, which
//    wakes the blocked read; Poco itself stops connections this way), and Poco ends the
//    connection;
//  * hang-up detection while a request is served (issue 11 item 1): a handler registers the
//    request's cancel action (watchHangUp); the watchdog poll(2)s the connection's descriptor
//    for POLLRDHUP/POLLHUP/POLLERR -- the client closed its end -- and runs the action once, so
//    a QIDO or metadata request stops its TCIA search at once instead of finishing for nobody.
//    (A client that half-closes after its request, shutdown(SHUT_WR), counts as gone: HTTP/1.1
//    clients do not do that while waiting for an answer.) The watchdog sleeps in poll(2) on
//    those descriptors plus an eventfd that every change writes: signalled, no periodic wake-up.
// Thread-safe. Owned by DicomWebServer; must outlive every connection it admitted.

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace bridge::web {

class ClientConnectionGuard {
public:
    using Clock = std::chrono::steady_clock;
    struct Limits {
        int maxPerClient = 0;  ///< per client IP address; 0 = no limit
        std::chrono::milliseconds headerTimeout{15'000};
        std::chrono::milliseconds keepAliveIdle{10'000};
    };

    /// Starts the watchdog thread.
    explicit ClientConnectionGuard(Limits limits);
    /// Stops the watchdog thread (connections still admitted keep no deadline).
    ~ClientConnectionGuard();
    ClientConnectionGuard(const ClientConnectionGuard&) = delete;
    ClientConnectionGuard& operator=(const ClientConnectionGuard&) = delete;

    /// An admitted connection; gives its slot back (and forgets its deadline) when destroyed.
    class Lease {
    public:
        Lease(ClientConnectionGuard& guard, std::string key) : guard_(guard), key_(std::move(key)) {}
        ~Lease() { guard_.release(key_); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;

    private:
        ClientConnectionGuard& guard_;
        std::string key_;
    };

    /// Admits the connection of `socket` and arms its first header deadline. nullptr when its
    /// client already holds maxPerClient connections (or the peer is already gone).
    std::unique_ptr<Lease> admit(const Poco::Net::StreamSocket& socket);
    /// The header of a request on the connection from `peer` (ip:port) has been parsed: no
    /// deadline while it is served.
    void requestStarted(const Poco::Net::SocketAddress& peer);
    /// Its response is done: the next header is due within keepAliveIdle + headerTimeout.
    /// Forgets the request's hang-up action.
    void requestFinished(const Poco::Net::SocketAddress& peer);
    /// While the request on the connection from `peer` is served: run `onHangUp` once (on the
    /// watchdog thread, without the guard's lock) if the client closes the connection.
    void watchHangUp(const Poco::Net::SocketAddress& peer, std::function<void()> onHangUp);

    int connections() const;                 ///< admitted and open now
    std::size_t refusedConnections() const;  ///< over maxPerClient, since start
    std::size_t droppedSlowClients() const;  ///< header deadline passed, since start
    std::size_t hungUpRequests() const;      ///< clients gone mid-request (action run), since start

private:
    struct Connection {
        int fd = -1;  ///< dup of the connection's descriptor: stays valid until release()
        std::string client;
        std::optional<Clock::time_point> deadline;
        std::function<void()> onHangUp;  ///< set while a watched request is served
    };
    void release(const std::string& key);
    void arm(const std::string& key, std::optional<Clock::time_point> deadline);
    void watch();
    void wake();  ///< makes the watchdog rebuild its poll set (call with or without the lock)

    Limits limits_;
    mutable std::mutex mutex_;
    int wakeFd_ = -1;  ///< eventfd the watchdog polls besides the connections
    std::map<std::string, Connection> connections_;  ///< by peer "ip:port"
    std::map<std::string, int> perClient_;           ///< by peer ip
    std::size_t refused_ = 0;
    std::size_t dropped_ = 0;
    std::size_t hungUp_ = 0;
    bool stopping_ = false;
    std::thread watchdog_;
};

}  // namespace bridge::web
