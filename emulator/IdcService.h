#pragma once
// Transport-free IDC REST API v3 endpoints (API.md 3) over an IdcCatalog:
//   GET /v3/version, /v3/health, /v3/collections, /v3/collections/{id}
//   POST /v3/sql {"sql","max_rows"}, /v3/cohort/manifest {"filters","page","page_size",
//   "include_rows"}, /v3/cohort/counts {"terms","ranges"}; /v1/..., /v2/... answer 410.
// Errors {"error":{"code","message"}}; a malformed body gets FastAPI's 422 {"detail":[...]}.
// Thread-safe (the catalog is).

#include <memory>
#include <string>

#include "emulator/ApiExchange.h"
#include "emulator/IdcCatalog.h"

namespace emulator::idc {

class IdcService {
public:
    explicit IdcService(std::shared_ptr<IdcCatalog> catalog) : catalog_(std::move(catalog)) {}

    /// `path` is the full request path ("/v3/sql"); `body` the request body (POST).
    ApiResponse handle(const std::string& method, const std::string& path, const std::string& body) const;

    /// Fault/statistics name of a path: "v3/sql", "v3/collections", ... (no ':' so it can be
    /// used in a fault spec).
    static std::string endpointName(const std::string& path);

    IdcCatalog& catalog() const { return *catalog_; }

private:
    ApiResponse sql(const std::string& body) const;
    ApiResponse manifest(const std::string& body, bool countsOnly) const;
    ApiResponse collections() const;
    ApiResponse collection(const std::string& id) const;

    std::shared_ptr<IdcCatalog> catalog_;
};

/// {"error":{"code":code,"message":message}} with `status`.
ApiResponse idcError(int status, const std::string& code, const std::string& message);

}  // namespace emulator::idc
