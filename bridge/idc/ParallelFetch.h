#pragma once
// parallelFetch: n fetches on a bounded number of pool workers, results handed to one consumer
// (on the calling thread) one at a time or in batches. IdcClient's object and header GETs run
// on it; it knows nothing of HTTP.

#include <Poco/Runnable.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "bridge/common/Error.h"
#include "bridge/common/RequestContext.h"

namespace bridge::idc {

/// A task for the shared pool (Poco::ThreadPool runs Runnables, not lambdas).
struct PoolTask : Poco::Runnable {
    std::function<void()> body;
    void run() override { body(); }
};

/// Runs fetch(i) for i in [0, n) on up to `parallel` workers taken from `pool` and hands each
/// result to consume() on the calling thread, in completion order. At most `parallel` results
/// wait. Slow start: fetch(0) runs alone until it returns, then all workers run -- N objects
/// started at once share the bandwidth (and, on a loaded host, the CPU) and all complete late,
/// which delays the first instance at the destination by a factor of up to N; the cost is one
/// object's time of less parallelism per series. Workers the pool cannot give (all its threads
/// busy with other series) are not waited for: the series runs on fewer, and with none at all
/// the calling thread fetches one object at a time itself, so a full pool slows a download down
/// but never blocks it. The first exception (from a worker or consume) stops the workers and
/// propagates once every worker has returned.
///
/// Batches: with `batch` > 1, consume() gets up to `batch` results at once -- after the first
/// result (alone, for the time to the first instance), it waits up to `gather` for more to
/// arrive, and takes what is there then. A failed result is handed over alone (its exception).
/// The workers refill the `parallel` waiting places while consume() holds a batch, so up to
/// parallel (fetching) + parallel (waiting) + batch (being consumed) results exist at once.
template <class Result>
void parallelFetch(std::size_t n, int parallel, Poco::ThreadPool& pool,
                   const std::function<Result(std::size_t)>& fetch,
                   const std::function<void(std::vector<std::pair<std::size_t, Result>>&&)>& consume,
                   const RequestContext* context, std::size_t batch = 1,
                   std::chrono::milliseconds gather = std::chrono::milliseconds(0)) {
    if (n == 0) return;
    struct Item {
        std::size_t index;
        std::optional<Result> result;
        std::exception_ptr error;
    };
    // One mutex; two wait queues, so that a wake reaches only a thread that can go on (one
    // condition variable for all of them woke every worker at each result: ~8 futex calls and
    // a mutex fight per object, on a host where each costs microseconds). The workers wait on
    // `room` (a place in `ready`, or the first result: slow start) -- a plain condition
    // variable, no stop token needed: the consumer stops them. The consumer waits on `arrival`
    // (stop-aware through its context) for `consumerNeeds` results, and is woken only when
    // that many are there, a worker failed outside fetch() or the last worker returned.
    std::mutex mutex;
    std::condition_variable room;
    std::condition_variable_any arrival;
    std::deque<Item> ready;
    std::atomic<std::size_t> next{0};
    bool stop = false;        // under mutex
    bool lost = false;        // a worker died outside fetch() (allocation failure), under mutex
    std::size_t running = 0;  // workers started and not yet returned, under mutex
    std::size_t consumerNeeds = 0;  // under mutex: results the waiting consumer wants (0: not waiting)
    const std::size_t window = static_cast<std::size_t>(std::max(1, parallel));
    const std::size_t wanted = std::min(n, window);
    bool firstArrived = false;  // under mutex
    auto work = [&](bool opener) {
        if (!opener) {  // slow start: the first object alone (see above)
            std::unique_lock lock(mutex);
            room.wait(lock, [&] { return stop || firstArrived; });
            if (stop) return;
        }
        for (;;) {
            {
                std::unique_lock lock(mutex);
                room.wait(lock, [&] { return stop || ready.size() < window; });
                if (stop) return;
            }
            if (context && context->cancelled()) return;
            const std::size_t i = next++;
            if (i >= n) return;
            Item item{i, std::nullopt, nullptr};
            try {
                item.result = fetch(i);
            } catch (...) {
                item.error = std::current_exception();
            }
            bool wakeConsumer = false;
            bool opened = false;
            {
                std::lock_guard lock(mutex);
                ready.push_back(std::move(item));
                wakeConsumer = consumerNeeds > 0 && ready.size() >= consumerNeeds;
                opened = !firstArrived;
                firstArrived = true;
            }
            // Outside the lock (the woken thread need not wait for it); the frame outlives this
            // worker: the consumer waits for `running` to reach 0 before it returns.
            if (wakeConsumer) arrival.notify_one();
            if (opened) room.notify_all();
        }
    };
    auto stopAndWait = [&] {
        std::unique_lock lock(mutex);
        stop = true;
        room.notify_all();
        arrival.wait(lock, [&] { return running == 0; });  // workers reference this frame
    };
    // A started task lives in `tasks` until this frame ends (reserved: push_back cannot throw
    // after a start); whatever throws while workers are being started stops those already
    // running before it propagates -- they reference this frame.
    std::vector<std::unique_ptr<PoolTask>> tasks;
    try {
        tasks.reserve(wanted);
        for (std::size_t w = 0; w < wanted; ++w) {
            auto task = std::make_unique<PoolTask>();
            task->body = [&, opener = w == 0] {
                bool died = false;
                try {
                    work(opener);
                } catch (...) {
                    died = true;  // only an allocation failure can land here: its item is missing
                }
                std::lock_guard lock(mutex);  // notify under the lock: the frame may end right after
                --running;
                if (died) lost = true;
                if (died || running == 0) arrival.notify_all();  // stopAndWait waits for running == 0
            };
            tasks.push_back(std::move(task));
            {
                std::lock_guard lock(mutex);
                ++running;
            }
            const auto notStarted = [&] {
                {
                    std::lock_guard lock(mutex);
                    --running;
                }
                tasks.pop_back();
            };
            bool started = false;
            try {
                pool.start(*tasks.back());
                started = true;
            } catch (const Poco::Exception&) {  // NoThreadAvailableException: the pool is busy
            } catch (...) {
                notStarted();
                throw;
            }
            if (!started) {
                notStarted();
                break;
            }
        }
    } catch (...) {
        stopAndWait();
        throw;
    }
    const bool inline_ = tasks.empty();
    // Takes the front of `ready`; wakes the workers when it was full (they wait for a place then).
    const auto take = [&](std::unique_lock<std::mutex>& lock, std::size_t count,
                          std::vector<std::pair<std::size_t, Result>>& got) {
        const bool wasFull = ready.size() >= window;
        std::exception_ptr error;
        while (!ready.empty() && got.size() < count) {
            Item& front = ready.front();
            if (front.error) {
                if (!got.empty()) break;  // handed over alone, next turn
                error = front.error;
                ready.pop_front();
                break;
            }
            got.emplace_back(front.index, std::move(*front.result));
            ready.pop_front();
        }
        lock.unlock();
        if (wasFull) room.notify_all();
        if (error) std::rethrow_exception(error);
    };
    try {
        for (std::size_t done = 0; done < n;) {
            std::vector<std::pair<std::size_t, Result>> got;
            if (inline_) {
                if (context) context->throwIfCancelled();
                const std::size_t i = next++;
                got.emplace_back(i, fetch(i));
            } else {
                std::unique_lock lock(mutex);
                const auto arrived = [&] { return !ready.empty() || lost; };
                consumerNeeds = 1;
                const bool any = context ? context->wait(arrival, lock, arrived) : (arrival.wait(lock, arrived), true);
                consumerNeeds = 0;
                if (!any) context->throwIfCancelled();
                if (ready.empty()) throw BridgeError(ErrorCode::Internal, "an IDC fetch worker failed");
                // The first result alone; later ones gathered up to `want` for up to `gather`.
                // Never more than the window: the workers stop at `window` waiting results.
                const std::size_t want = done == 0 ? 1 : std::min({std::max<std::size_t>(batch, 1), window, n - done});
                if (want > 1 && ready.size() < want && !ready.front().error && gather.count() > 0) {
                    const auto enough = [&] { return ready.size() >= want || lost || stop; };
                    consumerNeeds = want;
                    if (context)
                        context->waitFor(arrival, lock, gather, enough);
                    else
                        arrival.wait_for(lock, gather, enough);
                    consumerNeeds = 0;
                }
                take(lock, want, got);
            }
            done += got.size();
            consume(std::move(got));
        }
    } catch (...) {
        stopAndWait();
        throw;
    }
    stopAndWait();
}

}  // namespace bridge::idc
