#pragma once
// One HTTP request of the emulator: routing, bearer-token check, fault injection, the answer
// (streamed ZIP for getImage), per-endpoint counting and the stderr log line. Created per
// request by the server's factory; runs on a Poco server thread; blocks while streaming.

#include <Poco/Net/HTTPRequestHandler.h>

#include <memory>

namespace emulator {

struct ServerState;
struct ApiResponse;
struct Fault;

class EmulatorRequestHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit EmulatorRequestHandler(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

private:
    int handleApi(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                  const std::string& version, const std::string& endpoint);
    int handleToken(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
    int handleAdmin(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                    const std::string& path);
    /// /v1, /v2, /v3: the IDC REST API (IdcService), with faults.
    int handleIdc(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                  const std::string& path);
    /// /s3/{bucket}/[key]: ListObjectsV2, GetObject, HeadObject, with faults (S3 XML errors).
    int handleS3(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                 const std::string& path);
    int send(Poco::Net::HTTPServerResponse& response, const ApiResponse& answer, const Fault* fault);
    int sendStreamed(Poco::Net::HTTPServerResponse& response, const ApiResponse& answer);
    int streamZip(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                  const ApiResponse& answer, const Fault* fault);
    /// Fault "corrupt": makes one data entry disagree with md5hashes.csv (see FaultPlan.h).
    static void corruptEntry(ApiResponse& answer, const Fault& fault);

    std::shared_ptr<ServerState> state_;
};

}  // namespace emulator
