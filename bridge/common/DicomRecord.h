#pragma once
// A flat set of DICOM attributes in DICOM string form: the currency between the core and the
// adapters for query results. Values are exactly what would be encoded in the element
// (multi-values joined with '\', DA as YYYYMMDD, PN in its '^' / '=' form, IS/DS as text).
// A key present with an empty string means "zero-length value" (PS3.4: return key, unknown).
// The adapters turn a record into a DcmDataset (dimse/) or DICOM JSON (web/, via DCMTK).

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctagkey.h>

#include <map>
#include <optional>
#include <string>

namespace bridge {

struct TagLess {
    bool operator()(const DcmTagKey& a, const DcmTagKey& b) const noexcept {
        return a.getGroup() != b.getGroup() ? a.getGroup() < b.getGroup() : a.getElement() < b.getElement();
    }
};

class DicomRecord {
public:
    using Map = std::map<DcmTagKey, std::string, TagLess>;

    void set(const DcmTagKey& tag, std::string value) { values_[tag] = std::move(value); }
    bool has(const DcmTagKey& tag) const { return values_.count(tag) != 0; }
    /// Empty string when absent.
    const std::string& get(const DcmTagKey& tag) const;
    std::optional<std::string> find(const DcmTagKey& tag) const;
    void erase(const DcmTagKey& tag) { values_.erase(tag); }
    const Map& values() const noexcept { return values_; }
    Map& values() noexcept { return values_; }

private:
    Map values_;
};

}  // namespace bridge
