#include "tests/support/TestSupport.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

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
    pid_ = fork();
    if (pid_ == 0) {
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            Poco::Net::StreamSocket probe;
            probe.connect(Poco::Net::SocketAddress("127.0.0.1", port_), Poco::Timespan(0, 200'000));
            return;
        } catch (...) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) throw std::runtime_error("tcia-emulator exited early");
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    throw std::runtime_error("tcia-emulator did not start listening");
}

EmulatorProcess::~EmulatorProcess() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
}

std::string EmulatorProcess::baseUrl(const std::string& version) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/nbia-api/services/" + version;
}

}  // namespace bridge::test
