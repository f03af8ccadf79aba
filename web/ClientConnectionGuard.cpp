#include "web/ClientConnectionGuard.h"

#include <Poco/Exception.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bridge::web {

ClientConnectionGuard::ClientConnectionGuard(Limits limits)
    : limits_(limits), watchdog_([this] { watch(); }) {}

ClientConnectionGuard::~ClientConnectionGuard() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    watchdog_.join();
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
    changed_.notify_all();
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
}

void ClientConnectionGuard::arm(const std::string& key, std::optional<Clock::time_point> deadline) {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(key);
    if (it == connections_.end()) return;
    it->second.deadline = deadline;
    changed_.notify_all();
}

void ClientConnectionGuard::requestStarted(const Poco::Net::SocketAddress& peer) {
    arm(peer.toString(), std::nullopt);
}

void ClientConnectionGuard::requestFinished(const Poco::Net::SocketAddress& peer) {
    arm(peer.toString(), Clock::now() + limits_.keepAliveIdle + limits_.headerTimeout);
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
    while (!stopping_) {
        const auto now = Clock::now();
        auto next = now + std::chrono::seconds(1);
        for (auto& [key, c] : connections_) {
            if (!c.deadline) continue;
            if (*c.deadline <= now) {
                // Wakes the pool thread blocked in Poco's header read; it then ends the
                // connection and releases the lease (which closes our descriptor).
                if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);
                c.deadline.reset();
                ++dropped_;
            } else if (*c.deadline < next) {
                next = *c.deadline;
            }
        }
        changed_.wait_until(lock, next);
    }
}

}  // namespace bridge::web
