#include "bridge/common/RequestContext.h"

#include "bridge/common/Error.h"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace bridge {

struct RequestContext::State {
    std::stop_source source;
    std::atomic<StopReason> reason{StopReason::None};
    std::string requestId;
    std::string caller;
    std::mutex mutex;  ///< guards deadline
    std::optional<Clock::time_point> deadline;
    /// child(): stops this state when the parent's stops. Declared last: destroyed first.
    std::unique_ptr<std::stop_callback<std::function<void()>>> parentLink;

    void stop(StopReason why) noexcept {
        StopReason none = StopReason::None;
        reason.compare_exchange_strong(none, why);
        source.request_stop();
    }
};

namespace {

/// One thread for every deadline of the process: sleeps until the earliest one and requests
/// stop on its context. Started on first use; stopped at exit.
class DeadlineTimer {
public:
    static DeadlineTimer& instance() {
        static DeadlineTimer timer;
        return timer;
    }
    void add(RequestContext::Clock::time_point when, std::weak_ptr<RequestContext::State> state) {
        {
            std::lock_guard lock(mutex_);
            if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
            due_.emplace(when, std::move(state));
        }
        changed_.notify_one();
    }
    ~DeadlineTimer() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_one();
        if (thread_.joinable()) thread_.join();
    }

private:
    using Clock = RequestContext::Clock;
    void run() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            if (due_.empty()) {
                changed_.wait(lock);
                continue;
            }
            const auto first = due_.begin();
            if (first->first > Clock::now()) {
                changed_.wait_until(lock, first->first);
                continue;
            }
            auto state = first->second.lock();
            due_.erase(first);
            if (state) state->stop(RequestContext::StopReason::DeadlineExceeded);
        }
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    std::multimap<Clock::time_point, std::weak_ptr<RequestContext::State>> due_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace

RequestContext::RequestContext() : state_(std::make_shared<State>()) {}

RequestContext::RequestContext(std::string requestId, std::string caller) : RequestContext() {
    state_->requestId = std::move(requestId);
    state_->caller = std::move(caller);
}

void RequestContext::cancel() const noexcept { state_->stop(StopReason::Cancelled); }

bool RequestContext::cancelled() const noexcept { return state_->source.stop_requested(); }

RequestContext::StopReason RequestContext::stopReason() const noexcept { return state_->reason.load(); }

std::stop_token RequestContext::stopToken() const noexcept { return state_->source.get_token(); }

void RequestContext::throwIfCancelled() const {
    if (!cancelled()) return;
    if (stopReason() == StopReason::DeadlineExceeded)
        throw BridgeError(ErrorCode::UpstreamTimeout, "request deadline passed");
    throw BridgeError(ErrorCode::Cancelled, "request cancelled by the caller");
}

const RequestContext& RequestContext::setDeadline(Clock::time_point deadline) const {
    {
        std::lock_guard lock(state_->mutex);
        if (state_->deadline && *state_->deadline <= deadline) return *this;
        state_->deadline = deadline;
    }
    DeadlineTimer::instance().add(deadline, state_);
    return *this;
}

std::optional<RequestContext::Clock::time_point> RequestContext::deadline() const {
    std::lock_guard lock(state_->mutex);
    return state_->deadline;
}

void RequestContext::sleepFor(Clock::duration delay) const {
    std::mutex mutex;
    std::condition_variable_any cv;
    std::unique_lock lock(mutex);
    cv.wait_for(lock, stopToken(), delay, [] { return false; });
    throwIfCancelled();
}

const std::string& RequestContext::requestId() const { return state_->requestId; }

const std::string& RequestContext::caller() const { return state_->caller; }

RequestContext RequestContext::child() const { return child(state_->requestId, state_->caller); }

RequestContext RequestContext::child(std::string requestId, std::string caller) const {
    RequestContext c(std::move(requestId), std::move(caller));
    if (auto d = deadline()) c.setDeadline(*d);
    std::weak_ptr<State> weakChild = c.state_;
    std::weak_ptr<State> weakParent = state_;
    // Registered on the parent's token; runs at once when the parent is already stopped.
    c.state_->parentLink = std::make_unique<std::stop_callback<std::function<void()>>>(
        state_->source.get_token(), std::function<void()>([weakChild, weakParent] {
            auto child = weakChild.lock();
            auto parent = weakParent.lock();
            if (child) child->stop(parent ? parent->reason.load() : StopReason::Cancelled);
        }));
    return c;
}

}  // namespace bridge
