#include "tests/support/ChildProcess.h"

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace bridge::test {

int spawnProcess(const std::vector<std::string>& args,
                 const std::vector<std::pair<std::string, std::string>>& env) {
    std::vector<std::string> argStrings = args;  // execv wants char*; prepared before fork
    std::vector<char*> argv;
    for (auto& a : argStrings) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

void waitUntilListening(int pid, unsigned short port, std::chrono::milliseconds timeout,
                        const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            Poco::Net::StreamSocket probe;
            probe.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(0, 200'000));
            return;
        } catch (...) {
            int status = 0;
            if (waitpid(pid, &status, WNOHANG) == pid) throw std::runtime_error(what + " exited early");
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
        }
    }
    stopProcess(pid);  // the caller's destructor will not run when its constructor throws
    throw std::runtime_error(what + " did not start listening");
}

void stopProcess(int pid) {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
}

}  // namespace bridge::test
