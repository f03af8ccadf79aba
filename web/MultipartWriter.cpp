#include "web/MultipartWriter.h"

#include "bridge/common/Error.h"

#include <random>

namespace bridge::web {

MultipartWriter::MultipartWriter(std::ostream& out, std::string boundary) : out_(out), boundary_(std::move(boundary)) {
    if (boundary_.empty() || boundary_.size() > 70)
        throw BridgeError(ErrorCode::Internal, "multipart boundary must be 1..70 characters");
}

std::string MultipartWriter::makeBoundary() {
    static const char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<int> pick(0, sizeof(kAlphabet) - 2);
    std::string b;
    for (int i = 0; i < 32; ++i) b += kAlphabet[pick(rng)];
    return b;
}

std::string MultipartWriter::contentType(const std::string& partType) const {
    return "multipart/related; type=\"" + partType + "\"; boundary=" + boundary_;
}

void MultipartWriter::writePart(const std::string& partContentType, const void* data, std::size_t size,
                                const std::vector<std::pair<std::string, std::string>>& extraHeaders) {
    if (finished_) throw BridgeError(ErrorCode::Internal, "multipart body already finished");
    out_ << "--" << boundary_ << "\r\nContent-Type: " << partContentType << "\r\n";
    out_ << "Content-Length: " << size << "\r\n";
    for (const auto& [name, value] : extraHeaders) out_ << name << ": " << value << "\r\n";
    out_ << "\r\n";
    out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    out_ << "\r\n";
    out_.flush();
    ++parts_;
}

void MultipartWriter::finish() {
    if (finished_) return;
    finished_ = true;
    out_ << "--" << boundary_ << "--\r\n";
    out_.flush();
}

}  // namespace bridge::web
