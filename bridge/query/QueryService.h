#pragma once
// The one query engine behind C-FIND and QIDO-RS.
//
// find() validates the Query, plans the TCIA calls (what TCIA can filter goes into the REST call;
// the rest is filtered locally with PS3.4 matching), and returns a cursor. The adapter pulls
// results at its own pace (one C-FIND Pending per record, one JSON array element per record).

#include "bridge/common/RequestContext.h"
#include "bridge/common/DicomRecord.h"
#include "bridge/query/Query.h"

#include <memory>
#include <optional>
#include <string>

namespace bridge {

class FindCursor {
public:
    virtual ~FindCursor() = default;
    /// Next matching record, or nullopt at the end. Blocking. Throws BridgeError
    /// (Cancelled when the token fires, Upstream* when TCIA fails mid-way).
    /// Each record holds exactly the query's keys (empty when unknown) plus
    /// QueryRetrieveLevel (0008,0052), SpecificCharacterSet (0008,0005; "ISO_IR 192" when any
    /// value is not ASCII) and InstanceAvailability (0008,0056) = "ONLINE". RetrieveAETitle is
    /// the DIMSE adapter's to add; RetrieveURL the web adapter's.
    virtual std::optional<DicomRecord> next() = 0;
    /// True once next() stopped early because of Query::limit or the configured result cap
    /// while more matches existed.
    virtual bool truncated() const = 0;
    /// Non-empty when the answer comes from a catalog that is still being harvested and may
    /// therefore miss matches, e.g. "catalog harvest in progress: 37 of 135 collections;
    /// results may be incomplete". Known as soon as find() returned (before the first next()).
    /// Adapters must pass it on (QIDO: Warning 299; C-FIND: final A700 + ErrorComment): a
    /// partial answer is never a silent success. (Additive to the contract.)
    virtual std::string incompleteness() const { return {}; }
};

class QueryService {
public:
    virtual ~QueryService() = default;
    /// Throws BridgeError(InvalidArgument) for a malformed query (bad level for the model,
    /// unique key missing at a higher level in Patient Root, bad range syntax...),
    /// BridgeError(QueryTooBroad) when answering needs all of TCIA and the catalog cannot.
    virtual std::unique_ptr<FindCursor> find(const Query& query, const RequestContext& context) = 0;
};

}  // namespace bridge
