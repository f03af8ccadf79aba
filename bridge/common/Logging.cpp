#include "bridge/common/Logging.h"

#include "bridge/common/Text.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/oflog/appender.h>
#include <dcmtk/oflog/logger.h>
#include <dcmtk/oflog/oflog.h>
#include <dcmtk/oflog/spi/logevent.h>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include "bridge/common/Error.h"

namespace bridge {
namespace {

thread_local std::string tlsContext;


int pocoPriority(const std::string& level) {
    if (level == "trace") return Poco::Message::PRIO_TRACE;
    if (level == "debug") return Poco::Message::PRIO_DEBUG;
    if (level == "warn") return Poco::Message::PRIO_WARNING;
    if (level == "error") return Poco::Message::PRIO_ERROR;
    if (level == "fatal") return Poco::Message::PRIO_FATAL;
    return Poco::Message::PRIO_INFORMATION;
}

std::string levelName(int prio) {
    if (prio >= Poco::Message::PRIO_TRACE) return "trace";
    if (prio >= Poco::Message::PRIO_DEBUG) return "debug";
    if (prio >= Poco::Message::PRIO_NOTICE) return "info";
    if (prio >= Poco::Message::PRIO_WARNING) return "warn";
    if (prio >= Poco::Message::PRIO_ERROR) return "error";
    return "fatal";
}

dcmtk::log4cplus::LogLevel oflogLevel(const std::string& level) {
    if (level == "trace") return dcmtk::log4cplus::TRACE_LOG_LEVEL;
    if (level == "debug") return dcmtk::log4cplus::DEBUG_LOG_LEVEL;
    if (level == "warn") return dcmtk::log4cplus::WARN_LOG_LEVEL;
    if (level == "error") return dcmtk::log4cplus::ERROR_LOG_LEVEL;
    if (level == "fatal") return dcmtk::log4cplus::FATAL_LOG_LEVEL;
    return dcmtk::log4cplus::INFO_LOG_LEVEL;
}

std::string oflogLevelName(dcmtk::log4cplus::LogLevel l) {
    if (l >= dcmtk::log4cplus::FATAL_LOG_LEVEL) return "fatal";
    if (l >= dcmtk::log4cplus::ERROR_LOG_LEVEL) return "error";
    if (l >= dcmtk::log4cplus::WARN_LOG_LEVEL) return "warn";
    if (l >= dcmtk::log4cplus::INFO_LOG_LEVEL) return "info";
    if (l >= dcmtk::log4cplus::DEBUG_LOG_LEVEL) return "debug";
    return "trace";
}

/// The one sink: formats and writes whole lines (one fwrite + fflush under a mutex).
class LineSink {
public:
    LineSink(std::FILE* file, bool owned, std::string format) : file_(file), owned_(owned), format_(std::move(format)) {}
    ~LineSink() {
        if (owned_) std::fclose(file_);
    }
    void write(const std::string& level, const std::string& logger, const std::string& message) {
        std::string time = Poco::DateTimeFormatter::format(Poco::Timestamp(), "%Y-%m-%dT%H:%M:%S.%iZ");
        std::string line = formatLogLine(format_, time, level, logger, currentLogContext(), message) + "\n";
        std::lock_guard lock(mutex_);
        std::fwrite(line.data(), 1, line.size(), file_);
        std::fflush(file_);
    }

private:
    std::mutex mutex_;
    std::FILE* file_;
    bool owned_;
    std::string format_;
};

// Sinks replaced by a reconfiguration are kept alive (a thread may still be writing to one);
// at most one per SIGHUP, so the leak is bounded by the number of reloads.
std::mutex sinkMutex;
std::shared_ptr<LineSink> currentSink;

class PocoSinkChannel : public Poco::Channel {
public:
    explicit PocoSinkChannel(std::shared_ptr<LineSink> sink) : sink_(std::move(sink)) {}
    void log(const Poco::Message& msg) override { sink_->write(levelName(msg.getPriority()), msg.getSource(), msg.getText()); }

private:
    std::shared_ptr<LineSink> sink_;
};

class OflogSinkAppender : public dcmtk::log4cplus::Appender {
public:
    explicit OflogSinkAppender(std::shared_ptr<LineSink> sink) : sink_(std::move(sink)) {}
    ~OflogSinkAppender() override { destructorImpl(); }
    void close() override {}

protected:
    void append(const dcmtk::log4cplus::spi::InternalLoggingEvent& event) override {
        sink_->write(oflogLevelName(event.getLogLevel()), event.getLoggerName().c_str(), event.getMessage().c_str());
    }

private:
    std::shared_ptr<LineSink> sink_;
};

}  // namespace

const std::string& currentLogContext() { return tlsContext; }

LogScope::LogScope(std::string id) : previous_(std::move(tlsContext)) { tlsContext = std::move(id); }
LogScope::~LogScope() { tlsContext = std::move(previous_); }

std::string nextLogContextId(char prefix) {
    static std::atomic<unsigned long long> counters[26];
    int slot = (prefix >= 'a' && prefix <= 'z') ? prefix - 'a' : 25;
    return std::string(1, prefix) + "-" + std::to_string(++counters[slot]);
}

bool isLogLevel(const std::string& level) {
    return level == "trace" || level == "debug" || level == "info" || level == "warn" || level == "error" ||
           level == "fatal";
}

std::string formatLogLine(const std::string& format, const std::string& isoTime, const std::string& level,
                          const std::string& logger, const std::string& context, const std::string& message) {
    const std::string ctx = context.empty() ? "-" : context;
    if (format == "json") {
        return "{\"time\":\"" + isoTime + "\",\"level\":\"" + level + "\",\"logger\":" + jsonQuote(logger) +
               ",\"context\":" + jsonQuote(ctx) + ",\"message\":" + jsonQuote(message) + "}";
    }
    std::string text = message;
    for (auto& c : text)
        if (c == '\n' || c == '\r') c = ' ';
    std::string upper = Poco::toUpper(level);
    upper.resize(5, ' ');
    return isoTime + " " + upper + " " + logger + " [" + ctx + "] " + text;
}

void configureLogging(const LogSettings& log, const std::string& defaultLevel) {
    std::FILE* file = stderr;
    bool owned = false;
    if (log.sink == "file") {
        file = std::fopen(log.file.c_str(), "ae");
        if (!file)
            throw BridgeError(ErrorCode::InvalidArgument,
                              "config: log.file: cannot open " + log.file + " for appending: " + std::strerror(errno));
        owned = true;
    }
    auto sink = std::make_shared<LineSink>(file, owned, log.format);
    {
        std::lock_guard lock(sinkMutex);
        static std::vector<std::shared_ptr<LineSink>> retired;
        if (currentSink) retired.push_back(currentSink);
        currentSink = sink;
    }

    // Poco: every logger (existing and future children of the root) writes to the sink.
    Poco::AutoPtr<Poco::Channel> channel(new PocoSinkChannel(sink));
    Poco::Logger::root().setChannel(channel);
    Poco::Logger::setChannel("", channel);
    Poco::Logger::root().setLevel(pocoPriority(defaultLevel));
    Poco::Logger::setLevel("", pocoPriority(defaultLevel));

    // OFLog (DCMTK's log4cplus): the root logger's only appender forwards to the sink.
    OFLog::configure(static_cast<OFLogger::LogLevel>(oflogLevel(defaultLevel)));  // initialises log4cplus; its console appender is replaced
    dcmtk::log4cplus::Logger root = dcmtk::log4cplus::Logger::getRoot();
    root.removeAllAppenders();
    root.addAppender(dcmtk::log4cplus::SharedAppenderPtr(new OflogSinkAppender(sink)));
    root.setLogLevel(oflogLevel(defaultLevel));
    // dcmnet's own INFO lines (one per association/message) are noise at info level.
    if (defaultLevel == "info" && !log.levels.count("dcmtk"))
        OFLog::getLogger("dcmtk").setLogLevel(OFLogger::WARN_LOG_LEVEL);

    for (const auto& [component, level] : log.levels) {
        Poco::Logger::get(component).setLevel(pocoPriority(level));
        Poco::Logger::setLevel(component, pocoPriority(level));
        dcmtk::log4cplus::Logger::getInstance(component.c_str()).setLogLevel(oflogLevel(level));
    }
}

}  // namespace bridge
