#include "web/ClientConnectionGuard.h"

#include <Poco/Exception.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>
#include <vector>

namespace bridge::web {

ClientConnectionGuard::ClientConnectionGuard(Limits limits)
    : limits_(limits), wakeFd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), watchdog_([this] { watch(); }) {}

ClientConnectionGuard::~ClientConnectionGuard() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake();
    watchdog_.join();
    if (wakeFd_ >= 0) ::close(wakeFd_);
}

void ClientConnectionGuard::wake() {
    const std::uint64_t one = 1;
    if (wakeFd_ >= 0 && ::write(wakeFd_, &one, sizeof one) < 0) {
        // EAGAIN: the counter is already non-zero, the watchdog wakes anyway
    }
}

std::unique_ptr<ClientConnectionGuard::Lease> ClientConnectionGuard::admit(
    const Poco::Net::StreamSocket& socket) {
    Poco::Net::SocketAddress peer;
    try {
        peer = socket.peerAddress();
    } catch (const Poco::Exception&) {
        return nullptr;  // already disconnected
    }
    const std::string key = peer.toString();
    const std::string client = peer.host().toString();
    std::lock_guard lock(mutex_);
    int& count = perClient_[client];
    if (limits_.maxPerClient > 0 && count >= limits_.maxPerClient) {
        if (count == 0) perClient_.erase(client);
        ++refused_;
        return nullptr;
    }
    ++count;
    Connection c;
    c.fd = ::dup(socket.impl()->sockfd());
    c.client = client;
    c.deadline = Clock::now() + limits_.headerTimeout;
    connections_[key] = c;
    wake();
    return std::make_unique<Lease>(*this, key);
}

void ClientConnectionGuard::release(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(key);
    if (it == connections_.end()) return;
    if (it->second.fd >= 0) ::close(it->second.fd);
    auto client = perClient_.find(it->second.client);
    if (client != perClient_.end() && --client->second <= 0) perClient_.erase(client);
    connections_.erase(it);
    wake();  // its descriptor is closed: out of the poll set
}

void ClientConnectionGuard::arm(const std::string& key, std::optional<Clock::time_point> deadline) {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(key);
    if (it == connections_.end()) return;
    it->second.deadline = deadline;
    wake();
}

void ClientConnectionGuard::requestStarted(const Poco::Net::SocketAddress& peer) {
    arm(peer.toString(), std::nullopt);
}

void ClientConnectionGuard::requestFinished(const Poco::Net::SocketAddress& peer) {
    std::function<void()> forgotten;  // destroyed outside the lock
    {
        std::lock_guard lock(mutex_);
        auto it = connections_.find(peer.toString());
        if (it != connections_.end()) forgotten = std::move(it->second.onHangUp);
        if (it != connections_.end()) it->second.onHangUp = nullptr;
    }
    arm(peer.toString(), Clock::now() + limits_.keepAliveIdle + limits_.headerTimeout);
}

void ClientConnectionGuard::watchHangUp(const Poco::Net::SocketAddress& peer, std::function<void()> onHangUp) {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(peer.toString());
    if (it == connections_.end() || it->second.fd < 0) return;
    it->second.onHangUp = std::move(onHangUp);
    wake();
}

std::size_t ClientConnectionGuard::hungUpRequests() const {
    std::lock_guard lock(mutex_);
    return hungUp_;
}

int ClientConnectionGuard::connections() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(connections_.size());
}

std::size_t ClientConnectionGuard::refusedConnections() const {
    std::lock_guard lock(mutex_);
    return refused_;
}

std::size_t ClientConnectionGuard::droppedSlowClients() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

void ClientConnectionGuard::watch() {
    std::unique_lock lock(mutex_);
    std::vector<pollfd> fds;
    std::vector<std::string> keys;  ///< connection of fds[i + 1]
    while (!stopping_) {
        const auto now = Clock::now();
        std::optional<Clock::time_point> next;
        fds.assign(1, pollfd{wakeFd_, POLLIN, 0});
        keys.clear();
        for (auto& [key, c] : connections_) {
            if (c.deadline) {
                if (*c.deadline <= now) {
                    // Wakes the pool thread blocked in Poco's header read; it then ends the
                    // connection and releases the lease (which closes our descriptor).
                    if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);
                    c.deadline.reset();
                    ++dropped_;
                } else if (!next || *c.deadline < *next) {
                    next = *c.deadline;
                }
            }
            // POLLIN is not asked for: a pipelined next request must not wake us.
            if (c.onHangUp && c.fd >= 0) {
                fds.push_back(pollfd{c.fd, POLLRDHUP, 0});
                keys.push_back(key);
            }
        }
        int timeoutMs = -1;
        if (next)
            timeoutMs = static_cast<int>(
                std::chrono::ceil<std::chrono::milliseconds>(*next - now).count());
        lock.unlock();
        const int ready = ::poll(fds.data(), fds.size(), timeoutMs);
        if (ready > 0 && (fds[0].revents & POLLIN)) {
            std::uint64_t value = 0;
            if (::read(wakeFd_, &value, sizeof value) < 0) {
                // EAGAIN: another reader cannot exist; nothing to drain
            }
        }
        std::vector<std::function<void()>> hangUps;
        lock.lock();
        if (ready > 0) {
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (!(fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR))) continue;
                auto it = connections_.find(keys[i - 1]);
                // Still the same connection and request (a released descriptor is never polled
                // again: release() wakes us and the set is rebuilt).
                if (it == connections_.end() || it->second.fd != fds[i].fd || !it->second.onHangUp) continue;
                hangUps.push_back(std::move(it->second.onHangUp));
                it->second.onHangUp = nullptr;
                ++hungUp_;
            }
        }
        if (!hangUps.empty()) {
            lock.unlock();
            for (auto& action : hangUps) {
                try {
                    action();
                } catch (...) {
                }
            }
            hangUps.clear();
            lock.lock();
        }
    }
}

}  // namespace bridge::web
