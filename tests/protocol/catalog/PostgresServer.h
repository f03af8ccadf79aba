#pragma once
// A throw-away PostgreSQL server for the catalog's PostgreSQL test: initdb into a temporary
// directory and `pg_ctl start` listening on a Unix socket only (listen_addresses=''), stopped
// and removed on destruction. PostgreSQL refuses to run as root, so when the test runs as root
// the server runs as the `postgres` system user (runuser). available() is false when the
// Debian server binaries are not installed.

#include <cstdlib>
#include <filesystem>
#include <string>

#include <pwd.h>
#include <unistd.h>

namespace bridge::test {

class PostgresServer {
public:
    static std::string binDir() {
        for (const char* v : {"17", "16", "15", "14", "13"}) {
            const std::string dir = std::string("/usr/lib/postgresql/") + v + "/bin";
            if (std::filesystem::exists(dir + "/initdb")) return dir;
        }
        return {};
    }
    static bool available() {
        if (binDir().empty()) return false;
        return geteuid() != 0 || getpwnam("postgres") != nullptr;
    }

    PostgresServer() {
        char pattern[] = "/tmp/catalog-pg-XXXXXX";
        dir_ = mkdtemp(pattern);
        std::string runAs;
        if (geteuid() == 0) {
            const passwd* pw = getpwnam("postgres");
            if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) return;
            runAs = "runuser -u postgres -- ";
        }
        const std::string bin = binDir();
        const std::string init = runAs + bin + "/initdb -D " + dir_ + "/data -A trust -U bridge > " + dir_ + "/initdb.log 2>&1";
        if (std::system(init.c_str()) != 0) return;
        stop_ = runAs + bin + "/pg_ctl -D " + dir_ + "/data -m immediate stop > /dev/null 2>&1";
        const std::string start = runAs + bin + "/pg_ctl -D " + dir_ + "/data -o \"-k " + dir_ +
                                  " -c listen_addresses='' -c fsync=off\" -w -l " + dir_ + "/server.log start > /dev/null 2>&1";
        started_ = std::system(start.c_str()) == 0;
    }
    ~PostgresServer() {
        if (!stop_.empty()) std::system(stop_.c_str());
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    bool started() const { return started_; }
    /// libpq connection string (Unix socket in the temporary directory).
    std::string connection() const { return "host=" + dir_ + " port=5432 user=bridge dbname=postgres"; }

private:
    std::string dir_;
    std::string stop_;
    bool started_ = false;
};

}  // namespace bridge::test
