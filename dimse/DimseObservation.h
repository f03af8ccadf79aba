#pragma once
// Metrics and audit records of finished DIMSE operations, in one place for FindScp, MoveScp,
// GetScp and the association loop: tcia_bridge_dimse_* metrics (MetricsRegistry.h) and one
// AuditLog record per C-FIND (Query) and per C-MOVE/C-GET (Begin Transferring at the first
// Pending, DICOM Instances Transferred at the final response). Thread-safe; never throws.

#include <cstdint>
#include <string>

#include "bridge/query/Query.h"
#include "bridge/retrieve/RetrieveService.h"
#include "dimse/DimseDependencies.h"
#include "dimse/DimseStatus.h"

namespace bridge::dimse {

/// "0000", "A700", ... Pure.
std::string statusHex(std::uint16_t status);

/// A finished C-ECHO / other command without audit: counts and times it.
void observeOperation(const char* operation, std::uint16_t status, double seconds) noexcept;

/// A finished C-FIND: metrics + audit "Query". `query` may be partially filled (bad identifier).
void observeFind(const DimseDependencies& deps, const AssociationInfo& info, const Query& query, std::uint64_t matches,
                 std::uint16_t status, const std::string& detail, double seconds) noexcept;

/// The first Pending of a C-MOVE/C-GET (sub-operations announced): audit "Begin Transferring".
void observeRetrieveBegin(const DimseDependencies& deps, const AssociationInfo& info, const RetrieveRequest& request,
                          const std::string& destination, std::uint64_t planned) noexcept;

/// A finished C-MOVE/C-GET: metrics + audit "DICOM Instances Transferred". `request` null when
/// the identifier could not be read.
void observeRetrieve(const DimseDependencies& deps, const AssociationInfo& info, const char* operation,
                     const RetrieveRequest* request, const std::string& destination, std::uint16_t status,
                     const SubOperationCounts& counts, const std::string& detail, double seconds) noexcept;

}  // namespace bridge::dimse
