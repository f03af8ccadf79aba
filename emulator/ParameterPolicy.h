#pragma once
// Which query parameters each NBIA endpoint accepts and requires, and the exact 400 texts the
// server sends (API.md 2.3, 5): v4 checks a strict, case-sensitive allow-list per endpoint;
// v1/v2 ignore unknown parameters. Pure functions; thread-safe.

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace emulator {

class ParameterPolicy {
public:
    /// The v4 allow-list of an endpoint (empty when the endpoint is unknown).
    static std::vector<std::string> v4AllowList(const std::string& endpoint);
    /// Parameters that must be present (same names for every version but `Date`/`fromDate`).
    static std::vector<std::string> required(const std::string& version, const std::string& endpoint);
    /// "Invalid query parameter: 'x'. Allowed parameters are: [a, b]" or nullopt when fine (v4 only).
    static std::optional<std::string> v4Violation(const std::string& endpoint,
                                                  const std::vector<std::pair<std::string, std::string>>& params);
    /// "A parameter, X is required for this API call." for the first missing one, or nullopt.
    static std::optional<std::string> missingRequired(const std::string& version, const std::string& endpoint,
                                                      const std::vector<std::pair<std::string, std::string>>& params);
};

}  // namespace emulator
