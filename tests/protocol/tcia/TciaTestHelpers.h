#pragma once
// Shared helpers of the protocol_tcia tests: client settings tuned for fast retries and a Poco
// channel capturing the "tcia" log lines (the /emulator/stats counters: tests/support/EmulatorControl.h).

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridge/common/Config.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"

namespace bridge::test {

inline TciaSettings fastSettings(const EmulatorProcess& emulator, const std::string& version = "v4") {
    using namespace std::chrono_literals;
    return testClientSettings(emulator.baseUrl(version), version,
                              {.readTimeout = 10s, .maxRetries = 3, .retryBaseDelay = 20ms, .retryMaxDelay = 2000ms,
                               .connectTimeout = 2s});
}

/// Collects every message (debug and up) logged on the Poco loggers "bridge.tcia*" between
/// install() and uninstall() (HttpTransport, TciaClient, TokenProvider).
class LogCapture : public Poco::Channel {
public:
    static Poco::AutoPtr<LogCapture> install() {
        Poco::AutoPtr<LogCapture> capture(new LogCapture);
        // Create the loggers first: the static setters reach existing loggers of the prefix only.
        for (const char* name : {"bridge.tcia", "bridge.tcia.http", "bridge.tcia.token"}) Poco::Logger::get(name);
        Poco::Logger& logger = Poco::Logger::get("bridge.tcia");
        capture->previous_ = logger.getChannel();
        capture->previousLevel_ = logger.getLevel();
        Poco::Logger::setChannel("bridge.tcia", capture);
        Poco::Logger::setLevel("bridge.tcia", Poco::Message::PRIO_DEBUG);
        return capture;
    }
    void uninstall() {
        Poco::Logger::setChannel("bridge.tcia", previous_);
        Poco::Logger::setLevel("bridge.tcia", previousLevel_);
    }
    void log(const Poco::Message& msg) override {
        std::lock_guard lock(mutex_);
        lines_.push_back(msg.getText());
    }
    std::vector<std::string> lines() const {
        std::lock_guard lock(mutex_);
        return lines_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
    Poco::Channel::Ptr previous_;
    int previousLevel_ = Poco::Message::PRIO_INFORMATION;
};

}  // namespace bridge::test
