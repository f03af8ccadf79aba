#pragma once
// Single flight for identical concurrent lazy fills (internal to bridge/catalog): while one
// caller (the leader) computes the answer for a key, every other caller of the same key (a
// follower) waits for the leader's result instead of asking TCIA again.
//
//  * A follower waits with its own RequestContext (RequestContext::wait): when it is cancelled
//    or its deadline passes it leaves at once with that error; the leader carries on.
//  * Nothing is cached here: the flight is gone when the leader finishes, so a leader's failure
//    is never handed to a later caller. Followers already waiting get the leader's error, except
//    when the leader was cancelled (its own caller went away): then they start over, one of
//    them leading.
//  * The leader runs the work on its own thread and context.

#include "bridge/common/Error.h"
#include "bridge/common/RequestContext.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace bridge::catalog {

template <class T>
class SingleFlight {
public:
    /// Returns work()'s result, computed once for all concurrent callers of `key`. Throws what
    /// work() threw, or BridgeError(Cancelled/...) from `context` while waiting as a follower.
    T run(const std::string& key, const RequestContext& context, const std::function<T()>& work) {
        for (;;) {
            std::shared_ptr<Flight> flight;
            bool leader = false;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                auto& slot = flights_[key];
                if (!slot) {
                    slot = std::make_shared<Flight>();
                    leader = true;
                }
                flight = slot;
            }
            if (leader) return lead(key, *flight, work);
            std::unique_lock<std::mutex> lock(flight->mutex);
            const FollowerCount counted(followers_);
            if (!context.wait(flight->cv, lock, [&] { return flight->done; })) context.throwIfCancelled();
            if (flight->value) return *flight->value;
            if (!leaderCancelled(flight->error)) std::rethrow_exception(flight->error);
            // The leader's caller went away: try again (one of the waiting followers leads).
        }
    }

    /// Keys in flight now. For tests and gauges.
    std::size_t inFlight() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return flights_.size();
    }
    /// Callers waiting for a leader now. For tests and gauges.
    std::size_t followers() const noexcept { return followers_.load(); }

private:
    struct Flight {
        std::mutex mutex;
        std::condition_variable_any cv;
        bool done = false;
        std::shared_ptr<const T> value;
        std::exception_ptr error;
    };

    T lead(const std::string& key, Flight& flight, const std::function<T()>& work) {
        std::shared_ptr<const T> value;
        std::exception_ptr error;
        try {
            value = std::make_shared<const T>(work());
        } catch (...) {
            error = std::current_exception();
        }
        {
            // Gone from the map before it is published: a caller arriving now starts afresh.
            std::lock_guard<std::mutex> lock(mutex_);
            flights_.erase(key);
        }
        {
            std::lock_guard<std::mutex> lock(flight.mutex);
            flight.done = true;
            flight.value = value;
            flight.error = error;
        }
        flight.cv.notify_all();
        if (error) std::rethrow_exception(error);
        return *value;
    }

    static bool leaderCancelled(const std::exception_ptr& error) {
        try {
            std::rethrow_exception(error);
        } catch (const BridgeError& e) {
            return e.code() == ErrorCode::Cancelled;
        } catch (...) {
            return false;
        }
    }

    struct FollowerCount {
        explicit FollowerCount(std::atomic<std::size_t>& n) : n_(n) { ++n_; }
        ~FollowerCount() { --n_; }
        std::atomic<std::size_t>& n_;
    };

    mutable std::mutex mutex_;
    std::atomic<std::size_t> followers_{0};
    std::map<std::string, std::shared_ptr<Flight>> flights_;
};

}  // namespace bridge::catalog
