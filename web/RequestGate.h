#pragma once
// Admission control for the HTTP server: at most `maxActive` requests run at once, at most
// `maxWaiting` more wait for a slot; anything beyond is refused at once (the server answers
// 503 JSON). Thread-safe.

#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace bridge::web {

class RequestGate {
public:
    RequestGate(int maxActive, int maxWaiting) : maxActive_(maxActive < 1 ? 1 : maxActive), maxWaiting_(maxWaiting < 0 ? 0 : maxWaiting) {}

    /// Blocks while all slots are busy and there is room to wait; false = refused (overloaded).
    bool enter();
    /// Releases a slot taken by a successful enter().
    void leave();

    int active() const;
    int waiting() const;
    std::size_t refused() const;

    /// RAII slot.
    class Ticket {
    public:
        explicit Ticket(RequestGate& gate) : gate_(gate), admitted_(gate.enter()) {}
        ~Ticket() { if (admitted_) gate_.leave(); }
        Ticket(const Ticket&) = delete;
        Ticket& operator=(const Ticket&) = delete;
        bool admitted() const noexcept { return admitted_; }

    private:
        RequestGate& gate_;
        bool admitted_;
    };

private:
    mutable std::mutex mutex_;
    std::condition_variable freed_;
    int maxActive_;
    int maxWaiting_;
    int active_ = 0;
    int waiting_ = 0;
    std::size_t refused_ = 0;
};

}  // namespace bridge::web
