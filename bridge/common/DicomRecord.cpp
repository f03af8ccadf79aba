#include "bridge/common/DicomRecord.h"

namespace bridge {

const std::string& DicomRecord::get(const DcmTagKey& tag) const {
    static const std::string empty;
    auto it = values_.find(tag);
    return it == values_.end() ? empty : it->second;
}

std::optional<std::string> DicomRecord::find(const DcmTagKey& tag) const {
    auto it = values_.find(tag);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

}  // namespace bridge
