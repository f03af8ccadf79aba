#pragma once
// PS3.4 C.2.2.2 attribute matching, implemented once for C-FIND and QIDO-RS.
//
// A Matcher is one compiled matching key: built (and validated) from a QueryKey, then applied to
// record values. Pure: no I/O, no shared state; a Matcher is immutable after construction and may
// be used from several threads. Strings are UTF-8 on both sides (the adapters convert from the
// request's SpecificCharacterSet).
//
// Semantics (PS3.4 C.2.2.2, with the leniency PACS users expect):
//  * Universal matching (C.2.2.2.3): an empty value, or a value that is only `*`.
//  * Single value (C.2.2.2.1): exact. Leading/trailing spaces (and UI's trailing NUL) are padding
//    and ignored. Case-sensitive, except
//      - PN: case-insensitive unless MatchOptions::caseSensitivePersonNames (Weasis and most
//        viewers send upper-case names; Orthanc's CaseSensitivePN defaults to false too);
//      - BodyPartExamined, Manufacturer, ManufacturerModelName and the collection
//        (ClinicalTrialProtocolID): case-insensitive, because TCIA itself compares those
//        filters case-insensitively (API.md 2.4) and its data mixes "Chest"/"CHEST".
//    A PN record value also matches through each of its '='-separated component groups and
//    without trailing empty components ("DOE^JOHN^^^" matches "DOE^JOHN"; PS3.5 6.2.1).
//    Modality and other CS values compare exactly. Numeric VRs (IS, DS, US, UL, SS, SL, FL, FD)
//    compare numerically when both sides are numbers ("4" matches "04" and "4.0").
//    Case-insensitive comparison is Unicode-aware (Cyrillic, Greek, Latin-1 ... via Poco::Unicode).
//  * Wildcard (C.2.2.2.4): `*` = any sequence, `?` = exactly one character (one code point, not
//    one byte). PS3.4 forbids wildcards for UI, DA, TM, DT and binary/numeric VRs; we accept
//    them anyway and apply them to the string form (lenient, like Orthanc).
//  * List (C.2.2.2.2 UID list, C.2.2.2.8 multiple values): `\`-separated alternatives; the key
//    matches when any alternative matches. Accepted for every string VR (`CT\MR`).
//  * Range (C.2.2.2.5) for DA, TM and DT: `A-B`, `A-` and `-B`, inclusive. DA also accepts the
//    legacy ACR-NEMA form YYYY.MM.DD, TM the form HH:MM:SS. A partial upper TM/DT bound covers
//    its whole precision ("-12" includes 12:59:59.999999; "-2001" for DT includes all of 2001).
//    `-` alone is treated as universal.
//  * Validation: malformed ranges, invalid dates/times and UI values that are not UIDs (digits
//    and dots, <= 64 characters; wildcards excepted, see above) throw
//    BridgeError(InvalidArgument) naming the key and the value.
//  * Multi-valued record values (e.g. ModalitiesInStudy "CT\SEG") match when any of their
//    values matches ("CT" matches "CT\SEG").
//  * Missing values (the Orthanc issue #90 question). Two cases are distinguished:
//      - the record has the attribute with an empty value (TCIA knows it and it is blank):
//        only universal matching matches it;
//      - the record does not have the attribute at all, i.e. the bridge cannot know it (TCIA
//        does not provide AccessionNumber, StudyTime, ReferringPhysicianName, per-instance
//        attributes of a series not cached ...): it matches any key. Refusing would hide every
//        TCIA study from a PACS whose standard query carries, say, an AccessionNumber filter;
//        the alternative "never matches" would make such keys useless. This is the lenient
//        choice; the value is still returned empty.
//  * Fuzzy matching (QIDO fuzzymatching=true, PS3.18 8.3.4.1 leaves it to the implementation):
//    for PN keys only, a value without wildcards (a trailing `*` is ignored) matches when the
//    whole name or any of its components (split at `^`, `=`, space and comma) starts with the
//    value, case-insensitively whatever caseSensitivePersonNames says. "joh" matches
//    "Doe^John". Values with inner wildcards fall back to case-insensitive wildcard matching.

#include "bridge/common/DicomRecord.h"
#include "bridge/query/Query.h"

#include <optional>
#include <string>
#include <vector>

namespace bridge {

/// How a key is interpreted, after parsing.
enum class MatchKind { Universal, SingleValue, Wildcard, List, Range };

struct MatchOptions {
    bool caseSensitivePersonNames = false;
    bool fuzzyMatching = false;
};

/// One compiled matching key. Immutable; thread-safe to share.
class Matcher {
public:
    /// Compiles and validates. key.vr EVR_UNKNOWN is looked up in the DCMTK data dictionary.
    /// Throws BridgeError(InvalidArgument) naming the key for a malformed range or date.
    explicit Matcher(const QueryKey& key, const MatchOptions& options = {});

    const DcmTagKey& tag() const noexcept { return tag_; }
    DcmEVR vr() const noexcept { return vr_; }
    MatchKind kind() const noexcept { return kind_; }
    bool isUniversal() const noexcept { return kind_ == MatchKind::Universal; }

    /// When the key is one exact value (single value, no wildcard, no range): that value,
    /// trimmed. What can be pushed into an exact TCIA filter.
    std::optional<std::string> exactValue() const;
    /// When every alternative is an exact value (single value or list of them, e.g. a UID
    /// list): the values, trimmed, de-duplicated, in request order. Empty otherwise.
    std::vector<std::string> exactValues() const;

    /// Matches one record value; nullopt = the attribute is unknown to the bridge (matches).
    bool matches(const std::optional<std::string>& recordValue) const;
    /// Matches the record's value of tag() (absent = unknown = matches).
    bool matches(const DicomRecord& record) const { return matches(record.find(tag_)); }

    /// Human-readable name of a tag for error messages: "StudyDate (0008,0020)".
    static std::string describe(const DcmTagKey& tag);

private:
    enum class Compare { Exact, CaseInsensitive, Numeric, Date, Time, DateTime };
    struct Alternative {
        MatchKind kind = MatchKind::SingleValue;  ///< SingleValue, Wildcard or Range
        std::string text;      ///< trimmed (normalised for DA/TM/DT single values)
        std::u32string folded; ///< code points, lower-cased when comparing case-insensitively
        std::string low, high; ///< normalised range bounds; empty = open
    };

    Alternative parseAlternative(const std::string& text) const;
    bool matchesOne(const Alternative& alternative, const std::string& recordValue) const;

    DcmTagKey tag_;
    DcmEVR vr_ = EVR_UNKNOWN;
    MatchKind kind_ = MatchKind::Universal;
    Compare compare_ = Compare::Exact;
    bool fuzzy_ = false;
    std::vector<Alternative> alternatives_;
};

/// Convenience for one-off checks and tests: Matcher(key, options).matches(recordValue).
bool matchValue(const QueryKey& key, const std::optional<std::string>& recordValue, const MatchOptions& options = {});

}  // namespace bridge
