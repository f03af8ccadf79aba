#pragma once
// Pure retry arithmetic for TCIA calls: exponential backoff with full jitter
// (AWS Architecture Blog, "Exponential Backoff And Jitter": sleep = random(0, min(cap, base*2^n)))
// and HTTP Retry-After parsing (RFC 9110 section 10.2.3: delay-seconds or an HTTP-date).
// Everything here is a pure function of its arguments; thread-safe.

#include <chrono>
#include <optional>
#include <string_view>

namespace bridge::tcia {

class RetryPolicy {
public:
    /// The ceiling for retry number `attempt` (0 = first retry): min(maxDelay, base * 2^attempt).
    static std::chrono::milliseconds backoffCeiling(int attempt, std::chrono::milliseconds base,
                                                    std::chrono::milliseconds maxDelay);
    /// Full jitter: `uniform01` (in [0,1)) times the ceiling. The caller supplies the randomness.
    static std::chrono::milliseconds backoffDelay(int attempt, std::chrono::milliseconds base,
                                                  std::chrono::milliseconds maxDelay, double uniform01);
    /// Retry-After header value -> delay. Accepts delay-seconds ("120") and an IMF-fixdate
    /// ("Wed, 21 Oct 2015 07:28:00 GMT", relative to `now`, negative clamps to 0).
    /// Returns nullopt for an empty or unparsable value.
    static std::optional<std::chrono::milliseconds> parseRetryAfter(
        std::string_view value, std::chrono::system_clock::time_point now);
    /// Whether an HTTP status is worth retrying: 5xx and 429 (408 too: a server-side timeout).
    static bool isRetryableStatus(int status);
};

}  // namespace bridge::tcia
