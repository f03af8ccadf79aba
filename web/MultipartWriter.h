#pragma once
// Writes a multipart/related body (RFC 2387, PS3.18 8.7.3) part by part onto a stream, so a
// WADO-RS response can send each instance or frame as soon as it is ready. Not thread-safe;
// one writer per response. Does not own the stream.

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

    /// A fresh random boundary of 32 alphanumerics.
    static std::string makeBoundary();

    /// The response Content-Type: multipart/related; type="<partType>"; boundary=<boundary>.
    std::string contentType(const std::string& partType) const;

    /// Writes one part with Content-Type (and optional extra headers) and its bytes, then flushes.
    void writePart(const std::string& partContentType, const void* data, std::size_t size,
                   const std::vector<std::pair<std::string, std::string>>& extraHeaders = {});

    /// Writes the closing delimiter; further writes are an error. Idempotent.
    void finish();

    std::size_t partCount() const noexcept { return parts_; }
    const std::string& boundary() const noexcept { return boundary_; }

private:
    std::ostream& out_;
    std::string boundary_;
    std::size_t parts_ = 0;
    bool finished_ = false;
};

}  // namespace bridge::web
