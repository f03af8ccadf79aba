#pragma once
// Test helper (header-only): how long ago a steady-clock instant was, in milliseconds.

#include <chrono>

namespace bridge::test {

inline std::chrono::milliseconds since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace bridge::test
