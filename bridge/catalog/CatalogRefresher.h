#pragma once
// Keeps a catalog current while the bridge runs: calls Catalog::refreshIncremental() every
// `interval` on its own thread (first call one interval after construction). A failed refresh
// (TCIA down) is reported to the log callback and retried at the next tick; it never stops the
// thread. Destruction cancels an in-flight refresh (between TCIA calls) and joins the thread.
// The catalog must outlive the refresher. Thread-safe accessors.

#include "bridge/catalog/Catalog.h"
#include "bridge/common/RequestContext.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace bridge {

class CatalogRefresher {
public:
    using Log = std::function<void(const std::string& message)>;

    CatalogRefresher(Catalog& catalog, std::chrono::milliseconds interval, Log log = {});
    ~CatalogRefresher();
    CatalogRefresher(const CatalogRefresher&) = delete;
    CatalogRefresher& operator=(const CatalogRefresher&) = delete;

    /// Refreshes completed successfully so far.
    std::size_t refreshes() const;
    /// Refreshes that failed so far.
    std::size_t failures() const;
    /// The result of the last successful refresh.
    RefreshResult lastResult() const;

private:
    void run();

    Catalog& catalog_;
    std::chrono::milliseconds interval_;
    Log log_;
    RequestContext context_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::size_t refreshes_ = 0, failures_ = 0;
    RefreshResult last_;
    std::thread thread_;
};

}  // namespace bridge
