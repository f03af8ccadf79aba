// Many associations negotiated at once, on real sockets, against the real DimseServer with both
// listeners (plain and DICOM TLS) over test doubles of the core:
//  * TLS peers that take a while (well within the ACSE timeout) between their TLS handshake and
//    their A-ASSOCIATE-RQ, arriving together, are all accepted: each connection's negotiation
//    runs on its own, none waits for another's;
//  * connections that open and stay silent (on either port) delay nobody: a burst of DCMTK
//    echoscu processes (with +tls and plain) all succeed while the silent ones are still
//    pending.
// The TLS peers in the first case are dcmnet requestors in this process whose transport layer
// pauses after the client-side handshake (a slow or descheduled client). Certificates come from
// the openssl CLI at test time.
#include <arpa/inet.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmlayer.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmtls/tlslayer.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>
#include <vector>

#include "dimse/DimseServer.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
using Clock = std::chrono::steady_clock;

namespace {

struct ConcurrencyFixture {
    TempDir dir;
    FakeQueryService query;
    FakeRetrieveService retrieve;
    std::unique_ptr<dimse::DimseServer> server;

    explicit ConcurrencyFixture(std::chrono::seconds acseTimeout) {
        const std::string script =
            "cd '" + dir.path() +
            "' && "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca "
            "&& "
            "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=bridge && "
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days "
            "1 && "
            "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=SCU && "
            "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days "
            "1";
        BOOST_REQUIRE(std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0);
        DimseSettings settings;
        settings.aeTitle = "TCIA";
        settings.port = 0;
        settings.tlsPort = 0;
        settings.acseTimeout = acseTimeout;
        settings.maxAssociations = 64;
        dimse::DimseDependencies deps;
        deps.query = &query;
        deps.retrieve = &retrieve;
        deps.isKnownCalledAet = [](const std::string&) { return false; };
        deps.scopeFor = [](const std::string&, const std::string&, const RequestContext&) { return CollectionScope{}; };
        deps.maxResults = 10;
        server = std::make_unique<dimse::DimseServer>(
            settings, deps, TlsSettings{file("server.pem"), file("server.key"), file("ca.pem")});
        server->start();
    }
    std::string file(const std::string& name) const { return dir.path() + "/" + name; }

    /// Polls (deadline 30 s) until the server counts `n` connections still negotiating.
    bool awaitNegotiating(int n) const {
        const auto deadline = Clock::now() + std::chrono::seconds(30);
        while (Clock::now() < deadline) {
            if (server->negotiatingConnections() == n) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }
};

/// A transport connection that delegates to a real one (owned) and, as a client, pauses for
/// `pause` after its TLS handshake before dcmnet sends the A-ASSOCIATE-RQ: a slow peer.
class PausingConnection : public DcmTransportConnection {
public:
    PausingConnection(DcmTransportConnection* inner, DcmNativeSocketType fd, std::chrono::milliseconds pause)
        : DcmTransportConnection(fd), inner_(inner), pause_(pause) {}
    ~PausingConnection() override { delete inner_; }
    OFCondition serverSideHandshake() override { return inner_->serverSideHandshake(); }
    OFCondition clientSideHandshake() override {
        OFCondition cond = inner_->clientSideHandshake();
        std::this_thread::sleep_for(pause_);  // the peer's own think time, not synchronisation
        return cond;
    }
    OFCondition renegotiate(const char* suite) override { return inner_->renegotiate(suite); }
    ssize_t read(void* buf, size_t n) override { return inner_->read(buf, n); }
    ssize_t write(void* buf, size_t n) override { return inner_->write(buf, n); }
    void close() override {
        inner_->close();
        setSocket(-1);
    }
    void closeTransportConnection() override {
        inner_->closeTransportConnection();
        setSocket(-1);
    }
    unsigned long getPeerCertificateLength() override { return inner_->getPeerCertificateLength(); }
    unsigned long getPeerCertificate(void* buf, unsigned long len) override {
        return inner_->getPeerCertificate(buf, len);
    }
    OFBool networkDataAvailable(int timeout) override { return inner_->networkDataAvailable(timeout); }
    OFBool isTransparentConnection() override { return inner_->isTransparentConnection(); }
    OFString& dumpConnectionParameters(OFString& s) override { return inner_->dumpConnectionParameters(s); }

private:
    DcmTransportConnection* inner_;
    std::chrono::milliseconds pause_;
};

class PausingLayer : public DcmTransportLayer {
public:
    PausingLayer(DcmTLSTransportLayer& tls, std::chrono::milliseconds pause) : tls_(tls), pause_(pause) {}
    DcmTransportConnection* createConnection(DcmNativeSocketType fd, OFBool secure) override {
        DcmTransportConnection* inner = tls_.createConnection(fd, secure);
        return inner ? new PausingConnection(inner, fd, pause_) : nullptr;
    }

private:
    DcmTLSTransportLayer& tls_;
    std::chrono::milliseconds pause_;
};

/// One TLS association (client certificate) whose A-ASSOCIATE-RQ follows the handshake after
/// `pause`, then a C-ECHO and a release. Returns "" on success, else what failed.
std::string slowTlsEcho(const ConcurrencyFixture& f, std::chrono::milliseconds pause) {
    DcmTLSTransportLayer tls(NET_REQUESTOR, nullptr, OFTrue);
    if (tls.setTLSProfile(TSP_Profile_BCP195_ND).bad() || tls.activateCipherSuites().bad() ||
        tls.setPrivateKeyFile(f.file("client.key").c_str(), DCF_Filetype_PEM).bad() ||
        tls.setCertificateFile(f.file("client.pem").c_str(), DCF_Filetype_PEM).bad() ||
        tls.addTrustedCertificateFile(f.file("ca.pem").c_str(), DCF_Filetype_PEM).bad())
        return "client TLS layer setup";
    tls.setCertificateVerification(DCV_requireCertificate);
    PausingLayer layer(tls, pause);
    T_ASC_Network* net = nullptr;
    if (ASC_initializeNetwork(NET_REQUESTOR, 0, 60, &net).bad()) return "ASC_initializeNetwork";
    std::string failure;
    T_ASC_Parameters* params = nullptr;
    T_ASC_Association* assoc = nullptr;
    const std::string peer = "127.0.0.1:" + std::to_string(f.server->tlsPort());
    const char* ts[] = {UID_LittleEndianExplicitTransferSyntax};
    OFCondition cond = ASC_setTransportLayer(net, &layer, 0);
    if (cond.good()) cond = ASC_createAssociationParameters(&params, 16384);
    if (cond.good()) cond = ASC_setAPTitles(params, "SLOWSCU", "TCIA", nullptr);
    if (cond.good()) cond = ASC_setTransportLayerType(params, OFTrue);
    if (cond.good()) cond = ASC_setPresentationAddresses(params, "localhost", peer.c_str());
    if (cond.good()) cond = ASC_addPresentationContext(params, 1, UID_VerificationSOPClass, ts, 1);
    if (cond.good()) cond = ASC_requestAssociation(net, params, &assoc);
    if (cond.bad()) {
        failure = std::string("association: ") + cond.text();
    } else if (ASC_countAcceptedPresentationContexts(params) != 1) {
        failure = "verification context not accepted";
    } else {
        DIC_US status = 0;
        DcmDataset* detail = nullptr;
        cond = DIMSE_echoUser(assoc, 1, DIMSE_BLOCKING, 0, &status, &detail);
        delete detail;
        if (cond.bad() || status != STATUS_Success) failure = std::string("C-ECHO: ") + cond.text();
        ASC_releaseAssociation(assoc);
    }
    if (assoc) {
        ASC_destroyAssociation(&assoc);
    } else if (params) {
        ASC_destroyAssociationParameters(&params);
    }
    ASC_dropNetwork(&net);
    return failure;
}

/// A TCP connection to 127.0.0.1:port that sends nothing; closed on destruction.
struct SilentConnection {
    int fd = -1;
    explicit SilentConnection(std::uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
        BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~SilentConnection() { ::close(fd); }
    /// Still open from the server's side: nothing to read and no end of stream.
    bool stillOpen() const {
        char c;
        ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
};

/// `timeout 200 echoscu ...` as a child process; its exit status (0 = C-ECHO succeeded).
int runEchoscu(const ConcurrencyFixture& f, bool tls, std::uint16_t port, int index) {
    std::string cmd = "timeout 200 echoscu -ta 150 -td 150 -aec TCIA -aet SCU" + std::to_string(index);
    if (tls)
        cmd += " +tls '" + f.file("client.key") + "' '" + f.file("client.pem") + "' +cf '" +
               f.file("ca.pem") + "'";
    cmd += " 127.0.0.1 " + std::to_string(port) + " > '" + f.file("echo" + std::to_string(index) + ".log") +
           "' 2>&1";
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 255;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(DimseConcurrentNegotiation)

BOOST_AUTO_TEST_CASE(slow_tls_peers_arriving_together_are_all_accepted) {
    // Each peer needs 40% of the ACSE timeout between handshake and A-ASSOCIATE-RQ: fine on its
    // own, and fine together only if no negotiation waits for another's.
    ConcurrencyFixture f(std::chrono::seconds(5));
    constexpr int kPeers = 4;
    std::vector<std::future<std::string>> peers;
    for (int i = 0; i < kPeers; ++i)
        peers.push_back(
            std::async(std::launch::async, [&f] { return slowTlsEcho(f, std::chrono::milliseconds(2000)); }));
    int accepted = 0;
    for (auto& p : peers) {
        const std::string failure = p.get();
        BOOST_TEST(failure.empty(), "slow TLS peer failed: " << failure);
        if (failure.empty()) ++accepted;
    }
    BOOST_TEST(accepted == kPeers);
    BOOST_TEST(f.awaitNegotiating(0));
}

BOOST_AUTO_TEST_CASE(silent_connections_delay_no_tls_or_plain_burst) {
    // Silent connections are dropped only at the ACSE timeout (60 s here, generous for a loaded
    // machine); a burst of real echoscu peers on both ports must be served completely before that.
    ConcurrencyFixture f(std::chrono::seconds(60));
    std::vector<std::unique_ptr<SilentConnection>> silent;
    for (int i = 0; i < 2; ++i) {
        silent.push_back(std::make_unique<SilentConnection>(f.server->tlsPort()));
        silent.push_back(std::make_unique<SilentConnection>(f.server->port()));
    }
    BOOST_REQUIRE(f.awaitNegotiating(4));
    constexpr int kPerPort = 12;
    const auto burstStart = Clock::now();
    std::vector<std::future<int>> echoes;
    for (int i = 0; i < 2 * kPerPort; ++i) {
        const bool tls = i % 2 == 0;
        const std::uint16_t port = tls ? f.server->tlsPort() : f.server->port();
        echoes.push_back(
            std::async(std::launch::async, [&f, tls, port, i] { return runEchoscu(f, tls, port, i); }));
    }
    int ok = 0;
    for (int i = 0; i < 2 * kPerPort; ++i) {
        const int rc = echoes[i].get();
        BOOST_TEST(rc == 0, (i % 2 == 0 ? "TLS" : "plain") << " echoscu #" << i << " exit " << rc << ", see "
                                                           << f.file("echo" + std::to_string(i) + ".log"));
        if (rc == 0) ++ok;
    }
    BOOST_TEST(ok == 2 * kPerPort);
    BOOST_TEST_MESSAGE(
        "burst of "
        << 2 * kPerPort << " echoscu took "
        << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - burstStart).count() << " ms");
    for (const auto& s : silent)
        BOOST_TEST(s->stillOpen(), "a silent connection was dropped before the burst ended");
    silent.clear();  // the server notices the closes and forgets them
    BOOST_TEST(f.awaitNegotiating(0));
}

BOOST_AUTO_TEST_CASE(many_plain_associations_at_once) {
    // The plain accept path alone: 32 echoscu at once, all served.
    ConcurrencyFixture f(std::chrono::seconds(30));
    constexpr int kPeers = 32;
    std::vector<std::future<int>> echoes;
    for (int i = 0; i < kPeers; ++i)
        echoes.push_back(
            std::async(std::launch::async, [&f, i] { return runEchoscu(f, false, f.server->port(), i); }));
    int ok = 0;
    for (auto& e : echoes) ok += e.get() == 0 ? 1 : 0;
    BOOST_TEST(ok == kPeers);
    BOOST_TEST(f.awaitNegotiating(0));
}

BOOST_AUTO_TEST_SUITE_END()
