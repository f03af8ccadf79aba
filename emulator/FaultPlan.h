#pragma once
// Injected failures for tests: `ENDPOINT:KIND:COUNT[:key=value...]`, e.g. getImage:truncate:2,
// getSeries:500:1, getPatientStudy:429:1:retry-after=1, getImage:slow:1:delay-ms=3000,
// getSeries:drop:1. ENDPOINT "*" matches every API endpoint. KIND is an HTTP status (400-599),
// "truncate" (end the body early: getImage cuts the ZIP mid-entry; option bytes=N and
// mode=reset to reset the connection instead of ending the chunked body), "slow"
// (delay-ms=N before answering; spread between ZIP entries for getImage) or "drop" (close the
// connection without an answer) or "corrupt" (getImage: one data entry -- option entry=N,
// 0-based among the DICOM entries, default the middle one -- no longer matches its MD5 in
// md5hashes.csv; what=bytes (default) flips its last byte before zipping, so the ZIP CRC is
// consistent and only the MD5 tells, as when TCIA's stored file rotted; what=hash changes the
// hash in md5hashes.csv instead). Each matching call consumes one count. Thread-safe.
// The IDC face uses the same rules with ENDPOINTs v3/sql, v3/version, v3/collections,
// v3/collection, v3/cohort/manifest, v3/cohort/counts, v3/health, ListObjectsV2, GetObject,
// HeadObject (see emulator/README.md, "The IDC face").

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace emulator {

/// One parsed fault rule.
struct Fault {
    std::string endpoint;
    std::string kind;
    int remaining = 1;
    std::map<std::string, std::string> options;

    int option(const std::string& key, int fallback) const;
};

class FaultPlan {
public:
    /// Parses one spec; throws std::invalid_argument with a readable message when malformed.
    static Fault parse(const std::string& spec);

    void add(const Fault& fault);
    void clear();
    /// Consumes and returns the first rule matching the endpoint (case-insensitive), if any.
    std::optional<Fault> take(const std::string& endpoint);
    /// The pending rules as JSON (for GET /emulator/faults).
    std::string toJson() const;

private:
    mutable std::mutex mutex_;
    std::vector<Fault> faults_;
};

}  // namespace emulator
