#include "bridge/tcia/RetryPolicy.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Exception.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace bridge::tcia {

std::chrono::milliseconds RetryPolicy::backoffCeiling(int attempt, std::chrono::milliseconds base,
                                                      std::chrono::milliseconds maxDelay) {
    if (attempt < 0) attempt = 0;
    if (base.count() <= 0) return std::chrono::milliseconds(0);
    long double ceiling = static_cast<long double>(base.count());
    for (int i = 0; i < attempt && ceiling < maxDelay.count(); ++i) ceiling *= 2;
    return std::chrono::milliseconds(
        static_cast<long long>(std::min<long double>(ceiling, maxDelay.count())));
}

std::chrono::milliseconds RetryPolicy::backoffDelay(int attempt, std::chrono::milliseconds base,
                                                    std::chrono::milliseconds maxDelay, double uniform01) {
    uniform01 = std::clamp(uniform01, 0.0, 1.0);
    auto ceiling = backoffCeiling(attempt, base, maxDelay);
    return std::chrono::milliseconds(static_cast<long long>(ceiling.count() * uniform01));
}

std::optional<std::chrono::milliseconds> RetryPolicy::parseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) {
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        if (value.size() > 9) return std::chrono::milliseconds(999'999'999LL * 1000);
        return std::chrono::milliseconds(std::stoll(std::string(value)) * 1000);
    }
    // IMF-fixdate only (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". Poco's parser alone is
    // lenient enough to accept "soon", so check the shape first.
    if (value.size() != 29 || value[3] != ',' || value.substr(26) != "GMT") return std::nullopt;
    try {
        int tzd = 0;
        Poco::DateTime when =
            Poco::DateTimeParser::parse(Poco::DateTimeFormat::HTTP_FORMAT, std::string(value), tzd);
        auto whenTp =
            std::chrono::system_clock::from_time_t(when.timestamp().epochTime()) - std::chrono::seconds(tzd);
        auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(whenTp - now);
        return std::max(delta, std::chrono::milliseconds(0));
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

bool RetryPolicy::isRetryableStatus(int status) { return status >= 500 || status == 429 || status == 408; }

}  // namespace bridge::tcia
