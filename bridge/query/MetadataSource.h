#pragma once
// Where the query engine gets TCIA metadata. Two implementations:
//   * TciaMetadataSource (bridge/query): straight to the TciaApi, no persistence; cannot scan.
//   * Catalog (bridge/catalog): SQLite/PostgreSQL, filled lazily and by `sync`; can scan
//     collections it has harvested completely.
// Thread-safe; blocking; throws BridgeError. Calls that may reach TCIA take the request's
// context: its stop signal ends them mid-retry (Cancelled / UpstreamTimeout for the deadline).

#include "bridge/common/RequestContext.h"
#include "bridge/common/DicomRecord.h"
#include "bridge/query/Query.h"
#include "bridge/tcia/Model.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bridge {

class MetadataSource {
public:
    virtual ~MetadataSource() = default;

    /// Every collection visible with the bridge's own TCIA credentials.
    virtual std::vector<std::string> collections(const RequestContext& context) = 0;
    /// The subset of collections() that only an authenticated (token) call sees.
    virtual std::set<std::string> restrictedCollections(const RequestContext& context) = 0;
    /// The collections TCIA lists WITHOUT credentials (the public ones), or nullopt when this
    /// source cannot tell. When set, AccessPolicy shows a caller nothing outside this set plus
    /// its grants (fail closed: a record of a collection missing here is hidden, whoever
    /// fetched or cached it). Throws BridgeError when it cannot be known yet (never guesses).
    /// (Additive to the contract.)
    virtual std::optional<std::set<std::string>> publicCollections(const RequestContext& context) {
        (void)context;
        return std::nullopt;
    }

    virtual std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter& filter, const RequestContext& context) = 0;
    virtual std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter& filter, const RequestContext& context) = 0;
    virtual std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& filter, const RequestContext& context) = 0;
    virtual std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid,
                                                     const RequestContext& context) = 0;

    /// Broad searches (no collection, patient or UID to narrow the TCIA call). Return nullopt
    /// when this source cannot answer without asking TCIA for everything: the engine then
    /// refuses with QueryTooBroad. An implementation may pre-filter with the query's keys but
    /// must never drop a record that matches; the engine re-applies exact PS3.4 matching.
    virtual std::optional<std::vector<tcia::PatientRecord>> scanPatients(const Query& query,
                                                                         const std::vector<std::string>& collections) {
        return std::nullopt;
    }
    virtual std::optional<std::vector<tcia::StudyRecord>> scanStudies(const Query& query,
                                                                      const std::vector<std::string>& collections) {
        return std::nullopt;
    }
    virtual std::optional<std::vector<tcia::SeriesRecord>> scanSeries(const Query& query,
                                                                      const std::vector<std::string>& collections) {
        return std::nullopt;
    }

    /// How incomplete a scan of `collections` at `level` would be right now: empty when the
    /// source holds everything a scan needs (or cannot scan partially at all, in which case
    /// scan*() returns nullopt); otherwise a sentence for the user naming the progress, and
    /// scan*() answers from the part it holds. Call it BEFORE the scan: coverage only grows,
    /// so a note read before is never more optimistic than the scan that follows.
    /// (Additive to the contract.)
    virtual std::string scanIncompleteness(QueryLevel level, const std::vector<std::string>& collections) {
        return {};
    }

    /// A number that changes whenever what this source answers may have changed (every write
    /// of stored metadata: lazy fill, harvest, refresh, restriction change). Answers built
    /// under one generation may be reused while it stays the same (plus a short age bound for
    /// writes made by another process). nullopt (the default): the source does not track
    /// changes -- every answer may differ, so nothing built from it may be cached. Cheap,
    /// non-blocking, thread-safe. (Additive to the contract.)
    virtual std::optional<std::uint64_t> generation() { return std::nullopt; }
};

/// Per-instance attributes known only from instances the bridge has already downloaded
/// (InstanceNumber, SOPClassUID, Rows, ...). Implemented by the instance cache (bridge/retrieve).
class InstanceAttributeSource {
public:
    virtual ~InstanceAttributeSource() = default;
    /// Records (one per cached instance of the series), or nullopt when the series is not cached.
    virtual std::optional<std::vector<class DicomRecord>> instanceAttributes(const std::string& seriesInstanceUid) = 0;
    /// Like instanceAttributes(), but an implementation may first bring the series into the
    /// cache (download it), so that per-instance keys are real for a series not cached yet. The
    /// series is one the caller's `scope` may see. Blocking; throws BridgeError (Cancelled when
    /// `context` fires). Default: no fetch. (Additive to the contract.)
    virtual std::optional<std::vector<class DicomRecord>> fetchInstanceAttributes(const std::string& seriesInstanceUid,
                                                                                 const CollectionScope& scope,
                                                                                 const RequestContext& context) {
        (void)scope;
        (void)context;
        return instanceAttributes(seriesInstanceUid);
    }
};

}  // namespace bridge
