#pragma once
// Test helper (header-only): the ErrorCode a call fails with.

#include <functional>
#include <optional>

#include "bridge/common/Error.h"

namespace bridge::test {

/// Runs f; the code of the BridgeError it throws, nullopt when it returns normally. Other
/// exceptions propagate.
inline std::optional<ErrorCode> thrownCode(const std::function<void()>& f) {
    try {
        f();
    } catch (const BridgeError& e) {
        return e.code();
    }
    return std::nullopt;
}

/// Runs f; returns the code of the BridgeError it throws, or ErrorCode::Internal if it returns
/// normally (so asserting any other code also proves that f threw). Other exceptions propagate.
inline ErrorCode codeOf(const std::function<void()>& f) { return thrownCode(f).value_or(ErrorCode::Internal); }

}  // namespace bridge::test
