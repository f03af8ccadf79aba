#pragma once
// Writes a multipart/related body (RFC 2387, PS3.18 8.7.3) part by part onto a stream, so a
// WADO-RS response can send each instance or frame as soon as it is ready. A thin layer over
// Poco::Net::MultipartWriter (delimiters, part headers) that adds the boundary bound, each
// part's Content-Length, a flush per part and the part count. Not thread-safe; one writer per
// response. Does not own the stream.

#include <Poco/Net/MultipartWriter.h>

#include <cstddef>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace bridge::web {

class MultipartWriter {
public:
    /// `boundary` must be 1..70 characters (RFC 2046 5.1.1; Orthanc #165 shows viewers choke on longer).
    MultipartWriter(std::ostream& out, std::string boundary);

    /// A fresh random boundary (Poco's: "MIME_boundary_" + 16 hex digits, 30 characters, never
    /// quoted in the Content-Type).
    static std::string makeBoundary();

    /// The response Content-Type: multipart/related; type="<partType>"; boundary=<boundary>.
    std::string contentType(const std::string& partType) const;

    /// Writes one part with Content-Type, Content-Length (and optional extra headers, in order)
    /// and its bytes, then flushes. The CRLF that ends the part goes out with the next
    /// delimiter (RFC 2046 5.1.1: it belongs to the delimiter).
    void writePart(const std::string& partContentType, const void* data, std::size_t size,
                   const std::vector<std::pair<std::string, std::string>>& extraHeaders = {});

    /// Writes the closing delimiter; further writes are an error. Idempotent.
    void finish();

    std::size_t partCount() const noexcept { return parts_; }
    const std::string& boundary() const noexcept { return writer_.boundary(); }

private:
    std::ostream& out_;
    Poco::Net::MultipartWriter writer_;
    std::size_t parts_ = 0;
    bool finished_ = false;
};

}  // namespace bridge::web
