#pragma once
// The audit trail: one JSON line per query and per retrieve, written by the adapters (dimse/,
// web/) through this one interface, in the spirit of DICOM PS3.15 Annex A.5 audit messages:
//
//   event "Query"                               EventID (110112, DCM, "Query"), action E
//   event "Begin Transferring DICOM Instances"  EventID (110102, DCM, ...), action E
//   event "DICOM Instances Transferred"         EventID (110104, DCM, ...), action R (read)
//
// with EventOutcomeIndicator 0 success, 4 minor failure (partial, cancelled, refused request),
// 8 serious failure, 12 major failure; the active participant (who: principal = calling AE
// title or HTTP principal, and the peer's network address), the called AE / route, and the
// participant objects (what: level, collection, study/series/instance UIDs, PatientID, counts
// and bytes). Never patient names. Example line:
//   {"time":"2026-12-06T18:40:01.123Z","event":"Query","eventId":"110112","action":"E",
//    "outcome":0,"interface":"dimse","principal":"ORTHANC","peer":"127.0.0.1","target":"TCIA",
//    "context":"a-3","level":"STUDY","collection":"LIDC-IDRI","status":"0000","matches":12}

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bridge/common/Config.h"

namespace bridge {

struct AuditEvent {
    enum class Type { Query, BeginTransferring, InstancesTransferred };
    Type type = Type::Query;
    int outcome = 0;          ///< EventOutcomeIndicator: 0, 4, 8 or 12
    std::string interface;    ///< "dimse" or "dicomweb"
    std::string principal;    ///< calling AE title, or HTTP principal ("" = anonymous)
    std::string peer;         ///< the peer's network address
    std::string target;       ///< called AE title, or the HTTP route
    std::string context;      ///< log context id (association / request), for correlation
    std::string level;        ///< PATIENT, STUDY, SERIES, IMAGE ("" unknown)
    std::vector<std::string> collections;
    std::string patientId;
    std::vector<std::string> studyUids;
    std::vector<std::string> seriesUids;
    std::vector<std::string> sopInstanceUids;  ///< at most a few (a single-instance retrieve)
    std::string destination;  ///< C-MOVE destination AE title
    std::string status;       ///< DIMSE status "0000"... or HTTP status "200"
    std::optional<std::uint64_t> matches;    ///< Query: responses sent
    std::optional<std::uint64_t> instances;  ///< transferred instances
    std::optional<std::uint64_t> failed;     ///< failed sub-operations
    std::optional<std::uint64_t> bytes;      ///< bytes sent
    std::string detail;       ///< error comment / message ("" none)
};

/// PS3.15 A.5 names and codes. Pure.
const char* auditEventName(AuditEvent::Type type);
const char* auditEventId(AuditEvent::Type type);
/// EventOutcomeIndicator of a DIMSE final status: 0000 -> 0; B000, FE00 and other warnings -> 4;
/// A7xx (resources), C000-CFFF (unable to process) -> 8; anything else -> 12. Pure.
int auditOutcomeForDimse(std::uint16_t status);
/// EventOutcomeIndicator of an HTTP status: 2xx/3xx -> 0, 4xx -> 4, 5xx -> 8. Pure.
int auditOutcomeForHttp(int status);
/// The JSON line (no newline) with `isoTime` as "time". Pure.
std::string auditJson(const AuditEvent& event, const std::string& isoTime);

/// Where the adapters send audit events. Implementations are thread-safe and never throw.
class AuditLog {
public:
    virtual ~AuditLog() = default;
    virtual void record(const AuditEvent& event) noexcept = 0;
};

/// Appends one line per event to a file (opened once in append mode; each line written and
/// flushed whole under a mutex). Write failures are logged once (bridge.audit) and counted,
/// never thrown at the caller.
class FileAuditLog : public AuditLog {
public:
    /// Throws BridgeError(InvalidArgument) naming audit.file when it cannot be opened.
    explicit FileAuditLog(const std::string& path);
    ~FileAuditLog() override;
    void record(const AuditEvent& event) noexcept override;

private:
    std::mutex mutex_;
    std::FILE* file_ = nullptr;
    bool warned_ = false;
};

/// FileAuditLog when settings.file is set, else nullptr (no audit trail).
std::shared_ptr<AuditLog> makeAuditLog(const AuditSettings& settings);

}  // namespace bridge
