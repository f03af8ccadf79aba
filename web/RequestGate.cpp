#include "web/RequestGate.h"

namespace bridge::web {

bool RequestGate::enter() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (active_ < maxActive_) {
        ++active_;
        return true;
    }
    if (waiting_ >= maxWaiting_) {
        ++refused_;
        return false;
    }
    ++waiting_;
    freed_.wait(lock, [&] { return active_ < maxActive_; });
    --waiting_;
    ++active_;
    return true;
}

void RequestGate::leave() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        --active_;
    }
    freed_.notify_one();
}

int RequestGate::active() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return active_;
}

int RequestGate::waiting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_;
}

std::size_t RequestGate::refused() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return refused_;
}

}  // namespace bridge::web
