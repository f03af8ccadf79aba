#include "bridge/catalog/CatalogRefresher.h"

#include "bridge/common/Error.h"

namespace bridge {

CatalogRefresher::CatalogRefresher(Catalog& catalog, std::chrono::milliseconds interval, Log log)
    : catalog_(catalog), interval_(interval), log_(std::move(log)), thread_([this] { run(); }) {}

CatalogRefresher::~CatalogRefresher() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    context_.cancel();
    wake_.notify_all();
    thread_.join();
}

void CatalogRefresher::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
        lock.unlock();
        try {
            RefreshResult r = catalog_.refreshIncremental(context_);
            if (log_ && !r.collections.empty())
                log_("catalog refresh since " + r.fromDate + ": " + std::to_string(r.series) + " series, " +
                     std::to_string(r.studies) + " studies, " + std::to_string(r.patients) + " patients in " +
                     std::to_string(r.collections.size()) + " collections");
            lock.lock();
            ++refreshes_;
            last_ = std::move(r);
        } catch (const std::exception& e) {
            if (log_ && !context_.cancelled()) log_(std::string("catalog refresh failed: ") + e.what());
            lock.lock();
            ++failures_;
        }
    }
}

std::size_t CatalogRefresher::refreshes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return refreshes_;
}

std::size_t CatalogRefresher::failures() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failures_;
}

RefreshResult CatalogRefresher::lastResult() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_;
}

}  // namespace bridge
