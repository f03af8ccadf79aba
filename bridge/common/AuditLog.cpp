#include "bridge/common/AuditLog.h"

#include <Poco/DateTimeFormatter.h>
#include <Poco/Logger.h>
#include <Poco/Timestamp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "bridge/common/Error.h"
#include "bridge/common/MetricsRegistry.h"
#include "bridge/common/Text.h"

namespace bridge {
namespace {

std::string q(const std::string& s) { return jsonQuote(s); }

std::string list(const std::vector<std::string>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + q(v[i]);
    return out + "]";
}

}  // namespace

const char* auditEventName(AuditEvent::Type type) {
    switch (type) {
        case AuditEvent::Type::Query: return "Query";
        case AuditEvent::Type::BeginTransferring: return "Begin Transferring DICOM Instances";
        case AuditEvent::Type::InstancesTransferred: return "DICOM Instances Transferred";
    }
    return "";
}

const char* auditEventId(AuditEvent::Type type) {
    switch (type) {
        case AuditEvent::Type::Query: return "110112";
        case AuditEvent::Type::BeginTransferring: return "110102";
        case AuditEvent::Type::InstancesTransferred: return "110104";
    }
    return "";
}

int auditOutcomeForDimse(std::uint16_t status) {
    if (status == 0x0000) return 0;
    if (status == 0xB000 || status == 0xFE00 || (status & 0xF000) == 0xB000 || status == 0x0001 || status == 0x0107)
        return 4;
    if ((status & 0xFF00) == 0xA700 || (status & 0xF000) == 0xC000 || (status & 0xFF00) == 0xA800 ||
        (status & 0xFF00) == 0xA900)
        return 8;
    return 12;
}

int auditOutcomeForHttp(int status) {
    if (status < 400) return 0;
    if (status < 500) return 4;
    return 8;
}

std::string auditJson(const AuditEvent& e, const std::string& isoTime) {
    const char* action = e.type == AuditEvent::Type::InstancesTransferred ? "R" : "E";
    std::string out = "{\"time\":" + q(isoTime) + ",\"event\":" + q(auditEventName(e.type)) +
                      ",\"eventId\":" + q(auditEventId(e.type)) + ",\"action\":" + q(action) +
                      ",\"outcome\":" + std::to_string(e.outcome) + ",\"interface\":" + q(e.interface) +
                      ",\"principal\":" + q(e.principal) + ",\"peer\":" + q(e.peer) + ",\"target\":" + q(e.target);
    if (!e.context.empty()) out += ",\"context\":" + q(e.context);
    if (!e.level.empty()) out += ",\"level\":" + q(e.level);
    if (!e.collections.empty()) out += ",\"collections\":" + list(e.collections);
    if (!e.patientId.empty()) out += ",\"patientId\":" + q(e.patientId);
    if (!e.studyUids.empty()) out += ",\"studyUids\":" + list(e.studyUids);
    if (!e.seriesUids.empty()) out += ",\"seriesUids\":" + list(e.seriesUids);
    if (!e.sopInstanceUids.empty()) out += ",\"sopInstanceUids\":" + list(e.sopInstanceUids);
    if (!e.destination.empty()) out += ",\"destination\":" + q(e.destination);
    out += ",\"status\":" + q(e.status);
    if (e.matches) out += ",\"matches\":" + std::to_string(*e.matches);
    if (e.instances) out += ",\"instances\":" + std::to_string(*e.instances);
    if (e.failed) out += ",\"failed\":" + std::to_string(*e.failed);
    if (e.bytes) out += ",\"bytes\":" + std::to_string(*e.bytes);
    if (!e.detail.empty()) out += ",\"detail\":" + q(e.detail.substr(0, 512));
    return out + "}";
}

FileAuditLog::FileAuditLog(const std::string& path) {
    file_ = std::fopen(path.c_str(), "ae");
    if (!file_)
        throw BridgeError(ErrorCode::InvalidArgument,
                          "config: audit.file: cannot open " + path + " for appending: " + std::strerror(errno));
}

FileAuditLog::~FileAuditLog() {
    if (file_) std::fclose(file_);
}

void FileAuditLog::record(const AuditEvent& event) noexcept {
    try {
        std::string line =
            auditJson(event, Poco::DateTimeFormatter::format(Poco::Timestamp(), "%Y-%m-%dT%H:%M:%S.%iZ")) + "\n";
        bool ok;
        {
            std::lock_guard lock(mutex_);
            ok = std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0;
            if (!ok && !warned_) {
                warned_ = true;
                Poco::Logger::get("bridge.audit").error("cannot write the audit file: %s", std::string(std::strerror(errno)));
            }
        }
        metrics().add("tcia_bridge_audit_events_total",
                      {auditEventName(event.type), ok ? std::to_string(event.outcome) : "write-failed"});
    } catch (...) {
    }
}

std::shared_ptr<AuditLog> makeAuditLog(const AuditSettings& settings) {
    if (settings.file.empty()) return nullptr;
    return std::make_shared<FileAuditLog>(settings.file);
}

}  // namespace bridge
