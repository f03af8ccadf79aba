#pragma once
// Helpers for tests that drive a TCIA emulator child (EmulatorProcess): one plain HTTP exchange
// with it, its /emulator/stats counters, and TciaSettings that fail fast against it.
// All functions block on one loopback HTTP request; none keeps state, so any thread may call them.

#include <json/value.h>

#include <string>

#include "bridge/common/Config.h"
#include "tests/support/TestSupport.h"

namespace bridge::test {

/// One HTTP/1.1 request without a body to 127.0.0.1:port; returns the response body whatever the
/// status. Throws Poco exceptions on connection failures.
std::string httpBody(unsigned short port, const std::string& method, const std::string& path);

/// GET /emulator/stats as JSON: {"total", "endpoints":{name:count}, "getImageBySeries":{uid:count},
/// "unfilteredGetSeries"}. Throws std::runtime_error if the body is not JSON.
Json::Value emulatorStats(const EmulatorProcess& emulator);

/// Requests the emulator answered for one endpoint (e.g. "getSeries") since start or last reset.
int endpointCount(const EmulatorProcess& emulator, const std::string& endpoint);

/// Requests the emulator answered in total since start or last reset.
int totalCalls(const EmulatorProcess& emulator);

/// POST /emulator/stats/reset: zero every counter.
void resetStats(const EmulatorProcess& emulator);

/// How a test's TCIA client waits and retries; each caller names its own values.
struct TestClientTiming {
    std::chrono::milliseconds readTimeout;
    int maxRetries;
    std::chrono::milliseconds retryBaseDelay;
    std::chrono::milliseconds retryMaxDelay;
    std::chrono::milliseconds connectTimeout = TciaSettings{}.connectTimeout;
};

/// TciaSettings for a test client of `baseUrl` speaking API `version`, with `timing`; the rest as
/// TciaSettings' defaults. The one builder behind the named settings below and the fake
/// servers' settingsFor().
TciaSettings testClientSettings(std::string baseUrl, std::string version, const TestClientTiming& timing);

/// TciaSettings aimed at the emulator for tests that count calls: one retry, 10-50 ms backoff,
/// 2 s connect / 10 s read timeouts.
TciaSettings singleRetrySettings(const EmulatorProcess& emulator, const std::string& version = "v4");

/// TciaSettings (v4) for fault-injection tests: two retries with 20-200 ms backoff (so a one-off
/// fault is absorbed and a lasting one fails quickly) and a 20 s read timeout (room for `slow`).
TciaSettings faultRetrySettings(const EmulatorProcess& emulator);

/// Replaces the emulator's runtime faults: DELETE /emulator/faults, then (unless `spec` is
/// empty) POST /emulator/faults?spec=SPEC. Throws like httpBody.
void replaceFaults(const EmulatorProcess& emulator, const std::string& spec);

}  // namespace bridge::test
