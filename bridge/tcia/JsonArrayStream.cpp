#include "bridge/tcia/JsonArrayStream.h"

#include "bridge/common/Error.h"

#include <cctype>

namespace bridge::tcia {

JsonArrayStream::JsonArrayStream(ElementCallback onElement, std::size_t maxElementBytes)
    : onElement_(std::move(onElement)), maxElementBytes_(maxElementBytes) {}

void JsonArrayStream::append(char c) {
    if (current_.size() >= maxElementBytes_)
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "TCIA answer has an element longer than " + std::to_string(maxElementBytes_) + " bytes");
    current_.push_back(c);
}

void JsonArrayStream::deliver() {
    std::size_t end = current_.size();
    while (end > 0 && std::isspace(static_cast<unsigned char>(current_[end - 1]))) --end;
    std::size_t begin = 0;
    while (begin < end && std::isspace(static_cast<unsigned char>(current_[begin]))) ++begin;
    if (end > begin) {
        ++elements_;
        onElement_(std::string_view(current_).substr(begin, end - begin), false);
    }
    current_.clear();
}

void JsonArrayStream::feed(const char* data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
        const char c = data[i];
        switch (mode_) {
            case Mode::Start:
                if (std::isspace(static_cast<unsigned char>(c))) continue;
                if (c == '\xEF' || c == '\xBB' || c == '\xBF') continue;  // UTF-8 byte order mark
                if (c == '[') {
                    mode_ = Mode::InArray;
                } else {
                    mode_ = Mode::NotArray;
                    append(c);
                }
                continue;
            case Mode::NotArray:
                append(c);
                continue;
            case Mode::Done:
                if (!std::isspace(static_cast<unsigned char>(c)))
                    throw BridgeError(ErrorCode::UpstreamBadResponse, "TCIA answer has text after its JSON array");
                continue;
            case Mode::InArray:
                break;
        }
        if (inString_) {
            append(c);
            if (escaped_)
                escaped_ = false;
            else if (c == '\\')
                escaped_ = true;
            else if (c == '"')
                inString_ = false;
            continue;
        }
        if (depth_ == 0 && (c == ',' || c == ']')) {
            deliver();
            if (c == ']') mode_ = Mode::Done;
            continue;
        }
        if (c == '"') inString_ = true;
        if (c == '{' || c == '[') ++depth_;
        if (c == '}' || c == ']') {
            if (depth_ == 0) throw BridgeError(ErrorCode::UpstreamBadResponse, "TCIA answer is not well-formed JSON");
            --depth_;
        }
        if (depth_ == 0 && current_.empty() && std::isspace(static_cast<unsigned char>(c))) continue;
        append(c);
    }
}

void JsonArrayStream::finish() {
    if (mode_ == Mode::InArray) throw BridgeError(ErrorCode::UpstreamBadResponse, "TCIA answer ended inside its JSON array");
    if (mode_ == Mode::NotArray) {
        onElement_(current_, true);
        current_.clear();
    }
    mode_ = Mode::Done;
}

}  // namespace bridge::tcia
