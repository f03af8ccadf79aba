#pragma once
// Test doubles of the core (QueryService, RetrieveService) and real-peer helpers for the DIMSE
// protocol tests: a storescp child process as C-MOVE destination (out of process: dcmnet's
// dcmExternalSocketHandle is process-global, see dimse/DimseServer.h), instance factories.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/scu.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bridge/common/Config.h"
#include "bridge/common/Error.h"
#include "bridge/query/QueryService.h"
#include "bridge/retrieve/BridgeServices.h"
#include "bridge/retrieve/RetrieveService.h"
#include "dimse/DimseServer.h"
#include "tests/support/TestSupport.h"

namespace bridge::test {

/// A small CT image (16x16, 16 bit) as Part-10 bytes in `xfer` (JPEG lossless SV1 possible).
DicomInstance makeCtInstance(const std::string& study, const std::string& series, const std::string& sop,
                             E_TransferSyntax xfer = EXS_LittleEndianExplicit,
                             const char* sopClassUid = nullptr);

/// The PixelData bytes of a Part-10 file (native encoding after decoding).
std::vector<std::uint8_t> pixelDataOfFile(const std::string& path);
std::vector<std::uint8_t> pixelDataOfInstance(const DicomInstance& instance);

class FakeQueryService : public QueryService {
public:
    std::vector<DicomRecord> records;
    bool truncate = false;
    std::chrono::milliseconds delayPerRecord{0};
    std::optional<ErrorCode> failWith;
    // What the last find() saw.
    std::mutex mutex;
    std::optional<Query> lastQuery;

    std::unique_ptr<FindCursor> find(const Query& query, const RequestContext& context) override;
};

class FakeRetrieveService : public RetrieveService {
public:
    std::vector<DicomInstance> instances;
    std::vector<std::string> failUids;  ///< reported as failed at End, not delivered
    std::chrono::milliseconds delayBeforeFirst{0};
    std::chrono::milliseconds delayBetween{0};
    std::optional<ErrorCode> planFailsWith;
    std::atomic<bool> streamCancelled{false};
    std::atomic<int> delivered{0};  ///< instances handed out by the streams
    /// The highest instance (1-based) a stream has been asked for: N means the caller is done
    /// with instance N - 1 (a C-MOVE asks for the next only once the last C-STORE was answered).
    std::atomic<int> requested{0};
    std::mutex mutex;
    std::optional<RetrieveRequest> lastRequest;

    RetrievePlan plan(const RetrieveRequest& request, const RequestContext& context) override;
    std::unique_ptr<InstanceStream> open(const RetrievePlan& plan, const RequestContext& context) override;
};

/// (tag, value) pairs of a C-FIND/C-MOVE/C-GET identifier, in order.
using IdentifierKeys = std::initializer_list<std::pair<DcmTagKey, const char*>>;

// One C-FIND / C-MOVE / C-GET over `scu`'s association, on the context proposed for `sopClass`,
// with an identifier of `keys`. Each BOOST_REQUIREs that DcmSCU completed the exchange and
// returns every response; the caller frees them (freeList). Block until the final response.
OFList<QRResponse*> runFind(DcmSCU& scu, const char* sopClass, IdentifierKeys keys);
OFList<RetrieveResponse*> runMove(DcmSCU& scu, const char* sopClass, const char* destination,
                                  IdentifierKeys keys);
OFList<RetrieveResponse*> runGet(DcmSCU& scu, const char* sopClass, IdentifierKeys keys);

/// Deletes the responses DcmSCU allocated and empties the list.
template <typename T>
void freeList(OFList<T*>& list) {
    for (auto* p : list) delete p;
    list.clear();
}

/// `storescp -aet AET -od DIR PORT` as a child process; killed on destruction. `nagle`: started
/// with TCP_NODELAY=0 (DCMTK's default without the variable: Nagle on), else TCP_NODELAY=1.
class StoreScpProcess {
public:
    StoreScpProcess(const std::string& aeTitle, const std::string& outputDir,
                    std::vector<std::string> extraArgs = {}, bool nagle = false);
    ~StoreScpProcess();
    unsigned short port() const { return port_; }
    int pid() const { return pid_; }
    /// Regular files in the output directory.
    std::vector<std::string> files() const;

private:
    std::string dir_;
    unsigned short port_;
    int pid_ = -1;
};

/// Sets `scu` up as AE "PACS" calling AE `called` at 127.0.0.1:port (blocking DIMSE, 120 s
/// timeout), proposes `sopClass` with Explicit VR LE next to any context the caller added before,
/// and negotiates the association. EC_IllegalCall when initNetwork fails.
OFCondition connectToBridge(DcmSCU& scu, unsigned short port, const char* sopClass, const char* called = "TCIA");

/// The real DimseServer over the real core (makeBridgeServices) in front of a TCIA emulator
/// child, with a storescp child as C-MOVE destination "DEST" (its files in `out`). The config:
/// faultRetrySettings(emulator), AE "TCIA" on port 0, pendingInterval 1 s, then `tweak`.
/// Destruction stops the server before the services, the storescp and the emulator.
struct EmulatorDimseFixture {
    EmulatorProcess emulator;
    TempDir cache;
    TempDir out;
    StoreScpProcess dest{"DEST", out.path()};
    Config config;
    std::unique_ptr<BridgeServices> services;
    std::unique_ptr<dimse::DimseServer> server;

    explicit EmulatorDimseFixture(std::vector<std::string> emulatorArgs = {"--quiet"},
                                  const std::function<void(Config&)>& tweak = {});
    ~EmulatorDimseFixture();
};

}  // namespace bridge::test
