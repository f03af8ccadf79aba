#pragma once
// `tcia-emulator serve`: a multi-threaded Poco HTTPServer answering
//   /nbia-api/services/{v1,v2,v4}/<endpoint>   the NBIA API (EndpointService)
//   /nbia-api/oauth/token, /nbia-api/services/oauth/token   OAuth2 password / refresh_token grant
//   /emulator/stats (GET; POST /emulator/stats/reset), /emulator/faults (GET, POST ?spec=, DELETE)
//   /v3/...          the IDC REST API v3 (IdcService) over the same data
//   /s3/{bucket}/... the IDC AWS buckets (ListObjectsV2, GetObject, HeadObject)
//   /emulator/idc/version (GET; POST ?idc_version=&idc_index_data_version=) the reported IDC version
// with fault injection and one stderr log line per request. start() returns once listening;
// stop() (or destruction) waits for the running requests.

#include "emulator/DataIndex.h"
#include "emulator/EndpointService.h"
#include "emulator/FaultPlan.h"
#include "emulator/IdcService.h"
#include "emulator/RequestStats.h"
#include "emulator/TokenRegistry.h"

#include <memory>
#include <string>
#include <vector>

namespace Poco::Net {
class HTTPServer;
}

namespace emulator {

struct ServerOptions {
    std::string bind = "127.0.0.1";
    unsigned short port = 0;  ///< 0 = any free port (see EmulatorServer::port())
    std::vector<std::string> faults;
    std::string tokenUser = "emulator-user";
    std::string tokenPassword = "emulator-password";
    int tokenLifetimeSeconds = 7199;
    int maxThreads = 32;
    bool quiet = false;
    // IDC face (/v3, /s3): reported version and the SQL time limit (API.md: 30 s).
    std::string idcVersion = "v24";
    std::string idcIndexDataVersion = "24.2.2";
    int idcSqlTimeoutMs = 30000;
    bool idcSynthetic = false;  ///< synthetic series in /v3/sql too (IdcCatalog::Options)
};

/// Shared state of the request handlers. Thread-safe members.
struct ServerState {
    std::shared_ptr<const DataIndex> index;
    std::unique_ptr<EndpointService> service;
    FaultPlan faults;
    RequestStats stats;
    std::unique_ptr<TokenRegistry> tokens;
    std::unique_ptr<idc::IdcService> idc;  ///< /v3 and, through its catalog, /s3
    bool quiet = false;
};

class EmulatorServer {
public:
    /// Throws std::invalid_argument on a bad fault spec.
    EmulatorServer(std::shared_ptr<const DataIndex> index, const ServerOptions& options);
    ~EmulatorServer();

    void start();
    void stop();
    unsigned short port() const;

private:
    std::shared_ptr<ServerState> state_;
    ServerOptions options_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace emulator
