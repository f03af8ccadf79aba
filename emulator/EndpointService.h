#pragma once
// The NBIA "Search" and download endpoints over a DataIndex, transport-free: one ApiRequest in,
// one ApiResponse out (getImage answers carry a ZIP plan the HTTP layer streams). Reproduces
// API.md: per-version columns and order, omitted NULLs, Jettison escaping, date formats, v4
// allow-lists, case-insensitive exact filters, shuffled object lists (deterministic per request),
// sorted value lists, empty body for no result, restricted collections only when authorized.
// Stateless apart from the shared immutable index: thread-safe.

#include "emulator/ApiExchange.h"
#include "emulator/DataIndex.h"
#include "emulator/JsonRow.h"

#include <memory>

namespace emulator {

class EndpointService {
public:
    explicit EndpointService(std::shared_ptr<const DataIndex> index);

    /// Answers one call. Never throws for bad input (400/500 answers instead).
    ApiResponse handle(const ApiRequest& request) const;

    /// Row builders (public for unit tests): one series as getSeries emits it per version.
    static JsonRow seriesRow(const std::string& version, const SeriesRecord& r);
    static JsonRow updatedSeriesRowV1(const SeriesRecord& r);
    static JsonRow patientRow(const std::string& version, const SeriesRecord& r);
    static JsonRow studyRow(const std::string& version, const SeriesRecord& r, std::int64_t seriesCount);
    static JsonRow seriesMetaDataRowV1(const SeriesRecord& r);
    static JsonRow seriesMetadataRowV4(const SeriesRecord& r);
    /// The `%08d.dcm` / NewFileNames `<acq>-<inst>.dcm` names of a series' files, in ZIP order.
    static std::vector<std::pair<std::string, const InstanceRecord*>> zipNames(
        const std::vector<InstanceRecord>& instances, bool newFileNames, const std::string& seed);

private:
    std::shared_ptr<const DataIndex> index_;
};

}  // namespace emulator
