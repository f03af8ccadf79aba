#pragma once
// The one request context that flows through the core for every query and retrieve (issue 11):
//   * a stop signal (C++20 std::stop_source): cancel() -- a C-CANCEL, a closed HTTP connection,
//     shutdown -- or the deadline passing requests stop, and every waiter registered on
//     stopToken() wakes at once (std::condition_variable_any waits, std::stop_callback that
//     shuts a socket down). Nothing polls a flag;
//   * an optional deadline, enforced by one process-wide timer thread that requests stop when
//     it passes (so a deadline wakes waiters exactly like a context);
//   * the request/association id the log lines carry (LogScope on worker threads) and a short
//     description of the caller ("AE STORESCU from 10.0.0.7", "principal alice").
// The caller's collection scope travels with the typed request (Query::scope,
// RetrieveRequest::scope), which is where matching and planning read it.
//
// A RequestContext is a cheap handle to shared state: copies see the same stop signal. The
// adapter that owns a request creates one; work shared by several requests (single flight) runs
// under its own context -- child() links one to a parent when the shared work should stop with
// it. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace bridge {

class RequestContext {
public:
    using Clock = std::chrono::steady_clock;
    enum class StopReason { None, Cancelled, DeadlineExceeded };

    /// A fresh context: not stopped, no deadline, no id.
    RequestContext();
    /// A fresh context with a request id for the log lines and a caller description.
    explicit RequestContext(std::string requestId, std::string caller = {});

    // ---- stop signal ----
    /// Requests stop (reason Cancelled unless already stopped); wakes every waiter. noexcept.
    void cancel() const noexcept;
    /// True once stop was requested (cancel() or the deadline).
    bool cancelled() const noexcept;
    StopReason stopReason() const noexcept;
    /// The token to wait on (condition_variable_any::wait(lock, token, pred), stop_callback).
    std::stop_token stopToken() const noexcept;
    /// Throws BridgeError Cancelled ("request cancelled by the caller") or UpstreamTimeout
    /// ("request deadline passed") once stopped; otherwise returns.
    void throwIfCancelled() const;

    // ---- deadline ----
    /// Stop is requested at `deadline` (reason DeadlineExceeded). A later deadline than one
    /// already set is ignored (deadlines only tighten). Returns *this.
    const RequestContext& setDeadline(Clock::time_point deadline) const;
    const RequestContext& setTimeout(Clock::duration timeout) const { return setDeadline(Clock::now() + timeout); }
    std::optional<Clock::time_point> deadline() const;

    // ---- waiting (wakes on stop; never polls) ----
    /// Waits on `cv` until pred() or stop. Returns pred().
    template <class Lock, class Predicate>
    bool wait(std::condition_variable_any& cv, Lock& lock, Predicate pred) const {
        return cv.wait(lock, stopToken(), std::move(pred));
    }
    /// Waits on `cv` until pred(), stop or `timeout`. Returns pred().
    template <class Lock, class Rep, class Period, class Predicate>
    bool waitFor(std::condition_variable_any& cv, Lock& lock, std::chrono::duration<Rep, Period> timeout,
                 Predicate pred) const {
        return cv.wait_for(lock, stopToken(), timeout, std::move(pred));
    }
    /// Sleeps `delay`; throws (as throwIfCancelled) as soon as stop is requested.
    void sleepFor(Clock::duration delay) const;

    // ---- identity ----
    /// "h-12" / "a-3" / "" (the LogScope id of the request).
    const std::string& requestId() const;
    const std::string& caller() const;

    /// A new context with its own stop signal that is also stopped when this one is (never the
    /// other way round), with the same id, caller and deadline.
    RequestContext child() const;
    /// The same, under a request id and caller of its own (an operation under a server's
    /// lifetime context: the server's stop stops it).
    RequestContext child(std::string requestId, std::string caller) const;

    struct State;  ///< implementation detail (RequestContext.cpp)

private:
    std::shared_ptr<State> state_;
};

}  // namespace bridge
