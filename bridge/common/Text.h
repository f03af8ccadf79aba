#pragma once
// Small pure text helpers shared by the core and the adapters. Thread-safe, no allocation
// beyond the returned string.

#include <string>
#include <string_view>

namespace bridge {

/// `text` without leading and trailing spaces (' ' only: DICOM value padding, PS3.5 6.2;
/// NUL, tabs and other blanks are kept).
std::string trimSpaces(std::string_view text);

}  // namespace bridge
