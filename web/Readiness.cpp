#include "web/Readiness.h"

#include "bridge/common/MetricsRegistry.h"

#include <exception>

namespace bridge::web {

ReadinessProbe::ReadinessProbe(std::function<std::string()> catalogOpen, std::function<void()> probeTcia,
                               std::chrono::seconds fresh)
    : catalogOpen_(std::move(catalogOpen)), probeTcia_(std::move(probeTcia)), fresh_(fresh) {}

std::string ReadinessProbe::check() {
    if (catalogOpen_) {
        std::string why = catalogOpen_();
        if (!why.empty()) return why;
    }
    const auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const double last = metrics().value("tcia_bridge_tcia_last_success_timestamp_seconds", {});
    if (last > 0 && now - last <= static_cast<double>(fresh_.count())) return {};
    if (!probeTcia_) return "TCIA has not answered in the last " + std::to_string(fresh_.count()) + " s";
    std::unique_lock lock(probing_, std::try_to_lock);
    if (!lock.owns_lock()) return "TCIA probe in progress";
    try {
        probeTcia_();
        return {};
    } catch (const std::exception& e) {
        return std::string("TCIA not answering: ") + e.what();
    }
}

}  // namespace bridge::web
