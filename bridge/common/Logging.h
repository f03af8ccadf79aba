#pragma once
// One logging system for the whole process. Components log through Poco loggers (bridge.tcia,
// bridge.retrieve, bridge.web, ...) or DCMTK's OFLog (bridge.dimse.*, dcmtk.*); configureLogging()
// sends both into one sink: console (stderr) or an append-only file, as text or JSON lines, with
// a level per component (logger-name prefix). OFLog events reach the sink through a log4cplus
// appender, so DCMTK's own messages land in the same place and format.
//
// Each line carries the id of the request or association it belongs to: the adapters open a
// LogScope ("h-<n>" per HTTP request, "a-<n>" per DIMSE association) on the thread that serves
// it; lines written on that thread while the scope lives carry the id ("-" outside any scope).
//
// Privacy: operational log lines never carry patient names (the adapters log levels, UIDs,
// counts and AE titles; audit records go to the audit file, see AuditLog.h).

#include <map>
#include <string>

#include "bridge/common/Config.h"

namespace bridge {

/// The request/association id of this thread ("" when none). Cheap; thread-local.
const std::string& currentLogContext();

/// Sets this thread's log context for its lifetime and restores the previous one afterwards.
class LogScope {
public:
    explicit LogScope(std::string id);
    ~LogScope();
    LogScope(const LogScope&) = delete;
    LogScope& operator=(const LogScope&) = delete;

private:
    std::string previous_;
};

/// A new process-unique id "<prefix>-<n>" (n counts from 1 per prefix letter). Thread-safe.
std::string nextLogContextId(char prefix);

/// One formatted log line without the trailing newline. `format` "text" or "json"; `level` one
/// of trace, debug, info, warn, error, fatal; `isoTime` e.g. 2026-12-06T18:40:01.123Z. Pure.
std::string formatLogLine(const std::string& format, const std::string& isoTime, const std::string& level,
                          const std::string& logger, const std::string& context, const std::string& message);

/// True for trace, debug, info, warn, error, fatal. Pure.
bool isLogLevel(const std::string& level);

/// Installs the sink for Poco and OFLog according to `log` with default level `defaultLevel`
/// (Config::logLevel), replacing any previous sink (safe to call again, e.g. on SIGHUP).
/// Throws BridgeError(InvalidArgument) when log.file cannot be opened for appending.
void configureLogging(const LogSettings& log, const std::string& defaultLevel);

}  // namespace bridge
