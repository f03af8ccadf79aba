#pragma once
// Helpers for protocol and black-box tests: locate the build tree and the sample data,
// make temporary directories, and run the TCIA emulator as a child process on a free port.

#include <memory>
#include <string>
#include <vector>

namespace bridge::test {

/// The build tree (BRIDGE_BINARY_DIR) and the sample data the generate_sample_data fixture wrote.
std::string binaryDir();
std::string sourceDir();
std::string sampleDataDir();

/// A directory under /tmp removed (recursively) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// A free TCP port on 127.0.0.1 (bind to 0, read, close: racy but adequate for tests).
unsigned short freePort();

/// `tcia-emulator serve --data DIR --port N --bind 127.0.0.1 [extra...]` as a child process,
/// killed on destruction. Waits until the port accepts connections.
class EmulatorProcess {
public:
    explicit EmulatorProcess(std::vector<std::string> extraArgs = {}, std::string dataDir = sampleDataDir());
    ~EmulatorProcess();
    unsigned short port() const { return port_; }
    /// e.g. http://127.0.0.1:PORT/nbia-api/services/v4
    std::string baseUrl(const std::string& version = "v4") const;

private:
    unsigned short port_;
    int pid_ = -1;
};

}  // namespace bridge::test
