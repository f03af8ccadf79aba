#include "dimse/DimseObservation.h"

#include <cstdio>

#include "bridge/common/Logging.h"
#include "bridge/common/MetricsRegistry.h"
#include "bridge/retrieve/AuditDescription.h"

namespace bridge::dimse {
namespace {

AuditEvent baseEvent(AuditEvent::Type type, const AssociationInfo& info) {
    AuditEvent e;
    e.type = type;
    e.interface = "dimse";
    e.principal = info.callingAet;
    e.peer = info.peerAddress.substr(0, info.peerAddress.find(':'));
    e.target = info.calledAet;
    e.context = currentLogContext();
    return e;
}

}  // namespace

std::string statusHex(std::uint16_t status) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04X", status);
    return buf;
}

void observeOperation(const char* operation, std::uint16_t status, double seconds) noexcept {
    try {
        metrics().add("tcia_bridge_dimse_operations_total", {operation, statusHex(status)});
        metrics().observe("tcia_bridge_dimse_operation_duration_seconds", {operation}, seconds);
    } catch (...) {
    }
}

void observeFind(const DimseDependencies& deps, const AssociationInfo& info, const Query& query, std::uint64_t matches,
                 std::uint16_t status, const std::string& detail, double seconds) noexcept {
    observeOperation("C-FIND", status, seconds);
    if (!deps.audit) return;
    try {
        AuditEvent e = baseEvent(AuditEvent::Type::Query, info);
        describeQuery(e, query);
        e.status = statusHex(status);
        e.outcome = auditOutcomeForDimse(status);
        e.matches = matches;
        e.detail = detail;
        deps.audit->record(e);
    } catch (...) {
    }
}

void observeRetrieveBegin(const DimseDependencies& deps, const AssociationInfo& info, const RetrieveRequest& request,
                          const std::string& destination, std::uint64_t planned) noexcept {
    if (!deps.audit) return;
    try {
        AuditEvent e = baseEvent(AuditEvent::Type::BeginTransferring, info);
        describeRetrieve(e, request);
        e.destination = destination;
        e.status = statusHex(kStatusPending);
        e.outcome = 0;
        e.instances = planned;
        deps.audit->record(e);
    } catch (...) {
    }
}

void observeRetrieve(const DimseDependencies& deps, const AssociationInfo& info, const char* operation,
                     const RetrieveRequest* request, const std::string& destination, std::uint16_t status,
                     const SubOperationCounts& counts, const std::string& detail, double seconds) noexcept {
    observeOperation(operation, status, seconds);
    try {
        metrics().add("tcia_bridge_dimse_instances_total", {operation, "completed"}, static_cast<double>(counts.completed));
        metrics().add("tcia_bridge_dimse_instances_total", {operation, "failed"}, static_cast<double>(counts.failed));
        metrics().add("tcia_bridge_dimse_instances_total", {operation, "warning"}, static_cast<double>(counts.warning));
        if (!deps.audit) return;
        AuditEvent e = baseEvent(AuditEvent::Type::InstancesTransferred, info);
        if (request) describeRetrieve(e, *request);
        e.destination = destination;
        e.status = statusHex(status);
        e.outcome = auditOutcomeForDimse(status);
        e.instances = counts.completed + counts.warning;
        e.failed = counts.failed;
        e.detail = detail;
        deps.audit->record(e);
    } catch (...) {
    }
}

}  // namespace bridge::dimse
