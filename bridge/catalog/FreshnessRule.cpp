#include "bridge/catalog/FreshnessRule.h"

namespace bridge::catalog {

FreshnessRule::FreshnessRule(std::chrono::seconds ttl)
    : ttl_(ttl.count()), clock_([] {
          return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      }) {}

std::int64_t FreshnessRule::now() const {
    std::lock_guard<std::mutex> lock(clockMutex_);
    return clock_();
}

void FreshnessRule::setClock(std::function<std::int64_t()> nowSeconds) {
    std::lock_guard<std::mutex> lock(clockMutex_);
    clock_ = std::move(nowSeconds);
}

bool FreshnessRule::isFresh(std::int64_t at) const { return at > 0 && ttl_ > 0 && at + ttl_ > now(); }

std::optional<std::int64_t> FreshnessRule::staleUpTo() const {
    if (ttl_ <= 0) return std::nullopt;
    return now() - ttl_;
}

bool FreshnessRule::coversLevel(const CollectionState& c, QueryLevel level) {
    return c.harvested || (level != QueryLevel::Series && level != QueryLevel::Image && c.studiesAt > 0);
}

bool FreshnessRule::harvestAnswers(const CollectionState& c, QueryLevel level, Use use) const {
    if (use == Use::Scan) return coversLevel(c, level);
    return c.harvested && isFresh(c.freshAt);
}

}  // namespace bridge::catalog
