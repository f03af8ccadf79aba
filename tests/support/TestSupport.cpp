#include "tests/support/TestSupport.h"

#include "tests/support/ChildProcess.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace bridge::test {

std::string binaryDir() {
    const char* env = std::getenv("BRIDGE_BINARY_DIR");
    return env ? env : BRIDGE_BINARY_DIR;
}
std::string sourceDir() {
    const char* env = std::getenv("BRIDGE_SOURCE_DIR");
    return env ? env : BRIDGE_SOURCE_DIR;
}
std::string sampleDataDir() { return binaryDir() + "/sample-data"; }

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bridge-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}
TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

unsigned short freePort() {
    Poco::Net::ServerSocket s(Poco::Net::SocketAddress("127.0.0.1", 0));
    return s.address().port();
}

EmulatorProcess::EmulatorProcess(std::vector<std::string> extraArgs, std::string dataDir) : port_(freePort()) {
    std::vector<std::string> args{binaryDir() + "/emulator/tcia-emulator", "serve", "--data", dataDir,
                                  "--port", std::to_string(port_), "--bind", "127.0.0.1"};
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    pid_ = spawnProcess(args);
    waitUntilListening(pid_, port_, std::chrono::seconds(30), "tcia-emulator");
}

EmulatorProcess::~EmulatorProcess() { stopProcess(pid_); }

std::string EmulatorProcess::baseUrl(const std::string& version) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/nbia-api/services/" + version;
}

}  // namespace bridge::test
