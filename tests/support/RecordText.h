#pragma once
// A DicomRecord as one line of text, `(gggg,eeee)=[value] ...` in tag order: what the tests that
// compare two readings of one header (the walk against DCMTK) print and compare.

#include <sstream>
#include <string>

#include "bridge/common/DicomRecord.h"

namespace bridge::test {

inline std::string recordText(const DicomRecord& record) {
    std::ostringstream s;
    for (const auto& [tag, value] : record.values()) s << tag.toString().c_str() << "=[" << value << "] ";
    return s.str();
}

}  // namespace bridge::test
