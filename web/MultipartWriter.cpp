#include "web/MultipartWriter.h"

#include "bridge/common/Error.h"

#include <Poco/Net/MediaType.h>
#include <Poco/Net/MessageHeader.h>

namespace bridge::web {
namespace {

const std::string& checkedBoundary(const std::string& boundary) {
    if (boundary.empty() || boundary.size() > 70)
        throw BridgeError(ErrorCode::Internal, "multipart boundary must be 1..70 characters");
    return boundary;
}

}  // namespace

MultipartWriter::MultipartWriter(std::ostream& out, std::string boundary) : out_(out), writer_(out, checkedBoundary(boundary)) {}

std::string MultipartWriter::makeBoundary() { return Poco::Net::MultipartWriter::createBoundary(); }

std::string MultipartWriter::contentType(const std::string& partType) const {
    // MediaType quotes `type` (it holds a '/'); the boundary is a token and stays bare.
    Poco::Net::MediaType type("multipart", "related");
    type.setParameter("type", partType);
    type.setParameter("boundary", boundary());
    return type.toString();
}

void MultipartWriter::writePart(const std::string& partContentType, const void* data, std::size_t size,
                                const std::vector<std::pair<std::string, std::string>>& extraHeaders) {
    if (finished_) throw BridgeError(ErrorCode::Internal, "multipart body already finished");
    Poco::Net::MessageHeader header;
    header.set("Content-Type", partContentType);
    header.set("Content-Length", std::to_string(size));
    for (const auto& [name, value] : extraHeaders) header.add(name, value);
    writer_.nextPart(header);
    out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    out_.flush();
    ++parts_;
}

void MultipartWriter::finish() {
    if (finished_) return;
    finished_ = true;
    // Poco's close() starts with the CRLF that ends a part; with no part there is none to end.
    if (parts_ == 0)
        out_ << "--" << boundary() << "--\r\n";
    else
        writer_.close();
    out_.flush();
}

}  // namespace bridge::web
