#pragma once
// A shared, thread-safe cancellation flag. The adapter that owns a request creates it; the core
// polls it between units of work (one TCIA call, one instance). Cheap to copy.

#include <atomic>
#include <memory>

namespace bridge {

class CancelToken {
public:
    CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
    void cancel() const noexcept { flag_->store(true); }
    bool cancelled() const noexcept { return flag_->load(); }
    /// Throws BridgeError(Cancelled) when cancelled.
    void throwIfCancelled() const;

private:
    std::shared_ptr<std::atomic<bool>> flag_;
};

}  // namespace bridge
