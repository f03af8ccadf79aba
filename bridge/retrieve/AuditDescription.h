#pragma once
// Fills the "what" of an audit record (AuditLog.h) from the core's request types, so both
// adapters describe queries and retrieves the same way: level, collection, PatientID and UIDs
// (never patient names or other matching keys). Pure.

#include "bridge/common/AuditLog.h"
#include "bridge/query/Query.h"
#include "bridge/retrieve/RetrieveService.h"

namespace bridge {

/// level, collections (the collection key), patientId, study/series/instance UIDs of a query.
void describeQuery(AuditEvent& event, const Query& query);
/// level, patientId (the first), study/series/instance UIDs of a retrieve request.
void describeRetrieve(AuditEvent& event, const RetrieveRequest& request);

}  // namespace bridge
